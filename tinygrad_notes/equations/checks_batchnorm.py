"""Checks of Algorithm 1 and eq. 3.19-3.24 (batch normalization, notes 3.3.3).

Cases are (m, d) feature batches and (N, C, H, W) image batches, with a small and a large
eps; the cost is L = sum(y * R) for a fixed random R, so dL/dy = R.
"""

from __future__ import annotations

import functools

import numpy as np

from ..tape import grad
from ..value import Value
from . import batchnorm as bn
from .compare import EXACT, NUMERIC, Tally, numeric_grad
from .registry import register
from .tape_cnn import batch_norm_implementations, batch_norm_parts, functional_cnn

# (shape of x, eps)
CASES = (((8, 3), 1e-5), ((5, 4), 0.5), ((2, 3, 3, 4), 1e-5), ((4, 2, 2, 3), 1e-2))


def _rows_case(index):
    shape, eps = CASES[index]
    rng = np.random.default_rng(300 + index)
    x = 2.0 + 3.0 * rng.standard_normal(shape)
    c = shape[1]
    return x, 1.0 + 0.5 * rng.standard_normal(c), rng.standard_normal(c), rng.standard_normal(shape), eps


@functools.lru_cache(maxsize=None)
def computed(index: int) -> dict:
    """Closed forms, every tape batch norm and central differences for case ``index``."""
    x, gamma, beta, projection, eps = _rows_case(index)
    rows, dy = bn.to_rows(x), bn.to_rows(projection)
    y, mu, var, x_hat = bn.batchnorm_forward(rows, gamma, beta, eps)
    closed = dict(y=bn.from_rows(y, x.shape), mu=mu, var=var, x_hat=bn.from_rows(x_hat, x.shape),
                  **dict(zip(("d_gamma", "d_beta"), bn.batchnorm_param_grads(dy, x_hat))))
    back = bn.batchnorm_backward(dy, rows, gamma, eps)
    closed.update(d_x=bn.from_rows(back["d_x"], x.shape), d_xhat=bn.from_rows(back["d_xhat"], x.shape),
                  d_var=back["d_var"], d_mu=back["d_mu"],
                  d_mu_printed=bn.eq_3_23_mu_first_line_as_printed(dy, rows, gamma, eps))

    def cost(x, gamma, beta):
        y = bn.batchnorm_forward(bn.to_rows(x), gamma, beta, eps)[0]
        return float((bn.from_rows(y, x.shape) * projection).sum())

    numeric = dict(zip(("d_x", "d_gamma", "d_beta"), numeric_grad(cost, [x, gamma, beta])))
    tapes = {}
    for name, impl in batch_norm_implementations().items():
        xv, gv, bv = Value(x), Value(gamma), Value(beta)
        yv = impl(xv, gv, bv, eps)
        gx, gg, gb = grad(yv, [xv, gv, bv], grad=projection)
        tapes[name] = dict(y=yv.data, d_x=gx, d_gamma=gg, d_beta=gb)
    xv, gv, bv = Value(x), Value(gamma), Value(beta)
    yv, mu_v, var_v, xhat_v = batch_norm_parts(xv, gv, bv, eps)
    d_mu, d_var, d_xhat = grad(yv, [mu_v, var_v, xhat_v], grad=projection)
    parts = dict(mu=mu_v.data.reshape(-1), var=var_v.data.reshape(-1), x_hat=xhat_v.data, d_mu=d_mu.reshape(-1),
                 d_var=d_var.reshape(-1), d_xhat=d_xhat)
    return dict(closed=closed, numeric=numeric, tapes=tapes, parts=parts, rows=rows, eps=eps)


def _tapes(tally, i, keys, numeric=True):
    c = computed(i)
    for key in keys:
        for name, tape in c["tapes"].items():
            tally.close(c["closed"][key], tape[key], **EXACT, name=f"case {i} {key} vs {name}", kind=name)
        if numeric:
            tally.close(c["closed"][key], c["numeric"][key], **NUMERIC, name=f"case {i} {key} vs numeric",
                        kind="numeric")


def check_algorithm_1():
    """Algorithm 1: y against every tape batch norm; mu_B, sigma_B^2, x_hat against the tape's own."""
    tally = Tally()
    for i in range(len(CASES)):
        _tapes(tally, i, ("y",), numeric=False)
        c = computed(i)
        for key in ("mu", "var", "x_hat"):
            tally.close(c["closed"][key], c["parts"][key], **EXACT, name=f"case {i} {key} vs tape", kind="tape parts")
    return tally.result()


def check_eq_3_19():
    """x_hat = (x - E x) / sqrt(Var x) over the batch has mean 0 and variance 1 (eps = 0)."""
    tally = Tally()
    for i in range(len(CASES)):
        mean, var, _ = bn.normalized_moments(computed(i)["rows"], eps=0.0)
        tally.zero(mean, 1.0, 1e-14, name=f"case {i} mean", kind="mean 0")
        tally.close(var, np.ones_like(var), **EXACT, name=f"case {i} variance", kind="variance 1")
    return tally.result()


def check_eq_3_20():
    """gamma = sqrt(sigma_B^2 + eps), beta = mu_B undo the normalization: BN gives back x."""
    tally = Tally()
    for i in range(len(CASES)):
        c = computed(i)
        rows, eps = c["rows"], c["eps"]
        mu, var = rows.mean(axis=0), rows.var(axis=0)
        y = bn.batchnorm_forward(rows, np.sqrt(var + eps), mu, eps)[0]
        tally.close(y, rows, **EXACT, name=f"case {i} identity", kind="identity")
    return tally.result()


def check_eq_3_21():
    """E[x_hat] = 0 and Var[x_hat] = sigma_B^2 / (sigma_B^2 + eps), ~1 for small eps."""
    tally = Tally()
    for i in range(len(CASES)):
        c = computed(i)
        mean, var, predicted = bn.normalized_moments(c["rows"], c["eps"])
        tally.zero(mean, 1.0, 1e-14, name=f"case {i} mean", kind="mean 0")
        tally.close(var, predicted, **EXACT, name=f"case {i} variance", kind="variance")
        gap = float(np.max(np.abs(var - 1.0)))
        tally.require(gap <= c["eps"] / float(np.min(c["closed"]["var"])), f"case {i}: |Var - 1| <= eps / sigma^2")
    return tally.result()


def check_eq_3_22():
    """Eq. 3.22: dL/dgamma and dL/dbeta against every tape and central differences."""
    tally = Tally()
    for i in range(len(CASES)):
        _tapes(tally, i, ("d_gamma", "d_beta"))
    return tally.result()


ERRATUM_3_23 = ("the first line of dL/dmu_B needs sum_i: dL/dmu_B = sum_i dL/dx_hat_i dx_hat_i/dmu_B + "
                "dL/dsigma_B^2 dsigma_B^2/dmu_B (the second line has it)")


def check_eq_3_23():
    """Eq. 3.23: dL/dx against every tape and central differences, each line against the tape's
    gradient of that quantity; the first line of dL/dmu_B as printed against the tape."""
    tally = Tally()
    printed_wrong = True
    for i in range(len(CASES)):
        _tapes(tally, i, ("d_x",))
        c = computed(i)
        for key in ("d_xhat", "d_var", "d_mu"):
            tally.close(c["closed"][key], c["parts"][key], **EXACT, name=f"case {i} {key} vs tape", kind="tape parts")
        printed_wrong &= not np.allclose(c["closed"]["d_mu_printed"], c["parts"]["d_mu"], rtol=1e-3)
    return tally.result(erratum=ERRATUM_3_23 if printed_wrong else None)


def check_eq_3_24(batches: int = 20000, m: int = 4, mu0: float = 1.5, sd0: float = 2.0):
    """Population estimates from many mini-batches (5 standard errors), and inference."""
    tally = Tally()
    rng = np.random.default_rng(324)
    samples = rng.normal(mu0, sd0, size=(batches, m))
    means, variances = samples.mean(axis=1), samples.var(axis=1)  # sigma_B^2 with 1/m, as Algorithm 1
    mu, var = bn.population_estimates(means, variances, m)
    se_mu = means.std(ddof=1) / np.sqrt(batches)
    se_var = m / (m - 1) * variances.std(ddof=1) / np.sqrt(batches)
    tally.monte_carlo(mu, mu0, se_mu, "mu = E(mu_B)")
    tally.monte_carlo(var, sd0 ** 2, se_var, "sigma^2 = m/(m-1) E(sigma_B^2)")
    biased = abs(variances.mean() - sd0 ** 2)
    tally.require(biased > 5 * se_var, "without m/(m-1) the estimate is biased")
    # Inference with fixed statistics, on the tape.
    x = rng.normal(mu0, sd0, size=(6, 3, 2, 2))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    mus, vars_ = rng.standard_normal(3), 1.0 + rng.random(3)
    eps = 1e-5
    expected = bn.from_rows(bn.batchnorm_inference(bn.to_rows(x), gamma, beta, mus, vars_, eps), x.shape)
    module = functional_cnn()
    if module is not None:
        xv = Value(x)
        y = module.batch_norm(xv, Value(gamma), Value(beta), mus.copy(), vars_.copy(), training=False, eps=eps)
        tally.close(y.data, expected, **EXACT, name="inference vs tape batch_norm", kind="tape batch_norm")
        (gx,) = grad(y, [xv], grad=np.ones_like(x))
        slope = np.broadcast_to((gamma / np.sqrt(vars_ + eps)).reshape(1, 3, 1, 1), x.shape)
        tally.close(gx, slope, **EXACT, name="inference dy/dx vs tape batch_norm", kind="tape batch_norm")
        # the engine's running statistics, after one batch with momentum 1, are eq. 3.24's
        batch = rng.normal(mu0, sd0, size=(m, 3))
        running_mean, running_var = np.zeros(3), np.ones(3)
        module.batch_norm(Value(batch), Value(gamma), Value(beta), running_mean, running_var, training=True,
                          momentum=1.0, eps=eps)
        mean_b, var_b = bn.population_estimates(batch.mean(axis=0, keepdims=True), batch.var(axis=0, keepdims=True),
                                                m)
        tally.close(running_mean, mean_b, **EXACT, name="running mean", kind="tape batch_norm")
        tally.close(running_var, var_b, **EXACT, name="running var = m/(m-1) sigma_B^2", kind="tape batch_norm")
    xv = Value(x)
    shape = (1, 3, 1, 1)
    y = Value(gamma).reshape(shape) * (xv - mus.reshape(shape)) / np.sqrt(vars_ + eps).reshape(shape) \
        + Value(beta).reshape(shape)
    tally.close(y.data, expected, **EXACT, name="inference vs tape composition", kind="tape composition")
    return tally.result()


_CASES = "on (m, d) and (N, C, H, W) batches, eps 1e-5 to 0.5"
register("Algorithm 1", "3.3.3", f"mu_B, sigma_B^2 (1/m), x_hat, y = gamma x_hat + beta vs tape, {_CASES}",
         bn.batchnorm_forward, check_algorithm_1)
register("eq. 3.19", "3.3.3", "x_hat = (x - E x) / sqrt(Var x) has batch mean 0 and variance 1",
         bn.normalized_moments, check_eq_3_19)
register("eq. 3.20", "3.3.3", "gamma = sqrt(sigma_B^2 + eps), beta = mu_B recover the identity y = x",
         bn.batchnorm_forward, check_eq_3_20)
register("eq. 3.21", "3.3.3", "E[x_hat] = 0 and Var[x_hat] = sigma_B^2/(sigma_B^2 + eps) ~ 1",
         bn.normalized_moments, check_eq_3_21)
register("eq. 3.22", "3.3.3", "dL/dgamma = sum dL/dy x_hat, dL/dbeta = sum dL/dy vs tape and central differences",
         bn.batchnorm_param_grads, check_eq_3_22)
register("eq. 3.23", "3.3.3", "dL/dx via dL/dx_hat, dL/dsigma_B^2, dL/dmu_B vs tape (each line) and central "
         "differences", bn.batchnorm_backward, check_eq_3_23)
register("eq. 3.24", "3.3.3", "mu = E(mu_B), sigma^2 = m/(m-1) E(sigma_B^2) by simulation (5 SE); inference "
         "BN(x) and running statistics vs tape", bn.population_estimates, check_eq_3_24)
