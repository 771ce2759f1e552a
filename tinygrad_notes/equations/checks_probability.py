"""Checks of eq. 1.1-1.18 and the Beta distribution: each mean and variance three ways,
closed form, exact sum or numerical integral, and Monte Carlo with a seeded generator
(passing within 5 standard errors of the sample size used).
"""

from __future__ import annotations

import math

import numpy as np

from . import probability as pr
from .compare import EXACT, Tally
from .registry import register

SAMPLES = 200_000
# Simpson's rule on smooth integrands over these ranges is accurate far beyond this.
INTEGRAL = dict(rtol=1e-9, atol=1e-12)


def _rng(label: str) -> np.random.Generator:
    return np.random.default_rng(sum(ord(ch) * 31 ** i for i, ch in enumerate(label)) % 2 ** 32)


def _mc_moments(tally, x, mean, var, name):
    """Monte Carlo mean and variance of samples ``x`` vs the closed form, within 5 SE."""
    m, v = x.mean(), x.var(ddof=1)
    m4 = np.mean((x - m) ** 4)
    tally.monte_carlo(m, mean, math.sqrt(v / x.size), f"{name} mean")
    tally.monte_carlo(v, var, math.sqrt(max(m4 - v * v, 1e-300) / x.size), f"{name} variance")


def _mc_probability(tally, hits, p, name):
    """A Monte Carlo frequency vs the probability ``p``, within 5 SE."""
    n = hits.size
    tally.monte_carlo(hits.mean(), p, math.sqrt(max(p * (1 - p), 1e-12) / n), name)


# ---------------------------------------------------------------- definitions (eq. 1.1-1.3)
def _discrete_example(rng):
    return rng.normal(0, 3, 6).round(2), rng.dirichlet(np.ones(6))


def check_eq_1_1():
    """E(X) as a sum (random discrete X) and as an integral (density 2x on [0, 1])."""
    tally, rng = Tally(), _rng("eq. 1.1")
    values, probs = _discrete_example(rng)
    mean, _, _ = pr.discrete_moments(values, probs)
    x = rng.choice(values, size=SAMPLES, p=probs)
    tally.monte_carlo(x.mean(), mean, x.std() / math.sqrt(SAMPLES), "discrete mean")
    total, integral_mean, _ = pr.continuous_moments(lambda t: 2 * t, 0.0, 1.0)
    tally.close(integral_mean, 2 / 3, **INTEGRAL, name="int x 2x dx", kind="integral")
    u = np.sqrt(rng.random(SAMPLES))  # inverse CDF of the density 2x
    tally.monte_carlo(u.mean(), 2 / 3, u.std() / math.sqrt(SAMPLES), "continuous mean")
    return tally.result()


def check_eq_1_2():
    """Var(X) as a sum and as an integral, vs Monte Carlo."""
    tally, rng = Tally(), _rng("eq. 1.2")
    values, probs = _discrete_example(rng)
    mean, var, _ = pr.discrete_moments(values, probs)
    _mc_moments(tally, rng.choice(values, size=SAMPLES, p=probs), mean, var, "discrete")
    _, _, integral_var = pr.continuous_moments(lambda t: 2 * t, 0.0, 1.0)
    tally.close(integral_var, 1 / 18, **INTEGRAL, name="int (x - 2/3)^2 2x dx", kind="integral")
    _mc_moments(tally, np.sqrt(rng.random(SAMPLES)), 2 / 3, 1 / 18, "continuous")
    return tally.result()


def check_eq_1_3():
    """Var(X) = E(X^2) - E(X)^2 on random discrete distributions."""
    tally, rng = Tally(), _rng("eq. 1.3")
    for _ in range(20):
        values, probs = _discrete_example(rng)
        _, by_definition, by_moments = pr.discrete_moments(values, probs)
        tally.close(by_moments, by_definition, **EXACT, name="E(X^2) - E(X)^2", kind="eq. 1.2")
    return tally.result()


# ---------------------------------------------------------------- discrete distributions
def check_eq_1_4():
    """Eq. 1.4: the Bernoulli pmf sums to 1 and P(X = 1) = p in simulation."""
    tally, rng = Tally(), _rng("eq. 1.4")
    for p in (0.3, 0.85):
        tally.close(pr.bernoulli_pmf([0, 1], p).sum(), 1.0, **EXACT, name="sums to 1", kind="sum")
        _mc_probability(tally, rng.random(SAMPLES) < p, float(pr.bernoulli_pmf(1, p)), f"P(X = 1), p = {p}")
    return tally.result()


def check_eq_1_5():
    """Eq. 1.5: Bernoulli E, E(X^2), Var: closed form vs exact sum vs Monte Carlo."""
    tally, rng = Tally(), _rng("eq. 1.5")
    for p in (0.3, 0.85):
        mean, second, var = pr.bernoulli_moments(p)
        s_mean, s_var, s_var2 = pr.discrete_moments([0, 1], pr.bernoulli_pmf([0, 1], p))
        tally.close(mean, s_mean, **EXACT, name="E", kind="exact sum")
        tally.close(second, s_var + s_mean ** 2, **EXACT, name="E(X^2)", kind="exact sum")
        tally.close(var, s_var, **EXACT, name="Var", kind="exact sum")
        _mc_moments(tally, (rng.random(SAMPLES) < p).astype(float), mean, var, f"p = {p}")
    return tally.result()


def check_eq_1_6():
    """Eq. 1.6: the binomial pmf sums to 1, is the n-fold sum of Bernoullis, and matches
    simulated frequencies."""
    tally, rng = Tally(), _rng("eq. 1.6")
    for n, p in ((10, 0.3), (25, 0.6)):
        k = np.arange(n + 1)
        pmf = pr.binomial_pmf(k, n, p)
        tally.close(pmf.sum(), 1.0, **EXACT, name="sums to 1", kind="sum")
        tally.close(pmf, pr.sum_of_bernoullis_pmf(n, p), **EXACT, name="sum of Bernoullis", kind="convolution")
        x = rng.binomial(n, p, SAMPLES)
        for j in k[pmf > 1e-3]:
            _mc_probability(tally, x == j, pmf[j], f"P(X = {j}), n = {n}")
    return tally.result()


def check_eq_1_7():
    """Eq. 1.7: binomial E, Var: closed form vs the pmf directly (the Todo) vs Monte Carlo."""
    tally, rng = Tally(), _rng("eq. 1.7")
    for n, p in ((10, 0.3), (25, 0.6)):
        mean, var = pr.binomial_moments(n, p)
        k = np.arange(n + 1)
        s_mean, s_var, _ = pr.discrete_moments(k, pr.binomial_pmf(k, n, p))
        tally.close(mean, s_mean, **EXACT, name="E by the pmf", kind="exact sum")
        tally.close(var, s_var, **EXACT, name="Var by the pmf", kind="exact sum")
        _mc_moments(tally, rng.binomial(n, p, SAMPLES).astype(float), mean, var, f"B({n}, {p})")
    return tally.result()


ERRATUM_1_8 = ("f(k; lambda) = e^(-lambda) lambda^k / k!: the Poisson pmf has the single parameter lambda; "
               "the n of f(k; n, lambda) appears nowhere on the right-hand side")


def check_eq_1_8():
    """Eq. 1.8: the Poisson pmf sums to 1 and matches simulated frequencies; as printed it
    ignores its n."""
    tally, rng = Tally(), _rng("eq. 1.8")
    spurious = True
    for lam in (0.7, 4.0, 30.0):
        k = pr.poisson_support(lam)
        pmf = pr.poisson_pmf(k, lam)
        tally.close(pmf.sum(), 1.0, **EXACT, name=f"sums to 1, lambda = {lam}", kind="sum")
        for n in (1, 10, 1000):
            spurious &= np.array_equal(pr.poisson_pmf_as_printed(k, n, lam), pmf)
        x = rng.poisson(lam, SAMPLES)
        for j in k[pmf > 1e-3][:12]:
            _mc_probability(tally, x == j, pmf[j], f"P(X = {j}), lambda = {lam}")
    return tally.result(erratum=ERRATUM_1_8 if spurious else None)


def check_eq_1_9():
    """Eq. 1.9: Poisson E, E(X^2), Var: closed form vs exact (truncated) sum vs Monte Carlo."""
    tally, rng = Tally(), _rng("eq. 1.9")
    for lam in (0.7, 4.0, 30.0):
        mean, second, var = pr.poisson_moments(lam)
        k = pr.poisson_support(lam)
        s_mean, s_var, _ = pr.discrete_moments(k, pr.poisson_pmf(k, lam))
        tally.close(mean, s_mean, **EXACT, name="E", kind="exact sum")
        tally.close(second, s_var + s_mean ** 2, **EXACT, name="E(X^2)", kind="exact sum")
        tally.close(var, s_var, **EXACT, name="Var", kind="exact sum")
        _mc_moments(tally, rng.poisson(lam, SAMPLES).astype(float), mean, var, f"lambda = {lam}")
    return tally.result()


# ---------------------------------------------------------------- continuous distributions
def _continuous(label, cases, pdf, moments, support, sampler, extra=None, smooth_ends=False):
    """A check of a density: it integrates to 1, its moments by integral equal the
    closed form, and samples agree with both."""
    def check():
        tally, rng = Tally(), _rng(label)
        for params in cases:
            lo, hi = support(*params)
            total, mean, var = pr.continuous_moments(lambda x: pdf(x, *params), lo, hi, smooth_ends=smooth_ends)
            closed = moments(*params)
            tally.close(total, 1.0, **INTEGRAL, name=f"{params} integrates to 1", kind="integral")
            tally.close(mean, closed[0], **INTEGRAL, name=f"{params} E", kind="integral")
            tally.close(var, closed[-1], **INTEGRAL, name=f"{params} Var", kind="integral")
            _mc_moments(tally, sampler(rng, *params), closed[0], closed[-1], str(params))
            if extra is not None:
                extra(tally, rng, *params)
        return tally.result()
    return check


def _uniform_second_moment(tally, rng, a, b):
    second = pr.simpson(lambda x: x * x * pr.uniform_pdf(x, a, b), a, b)
    tally.close(pr.uniform_moments(a, b)[1], second, **INTEGRAL, name="E(X^2)", kind="integral")


def _normal_one_sigma(tally, rng, mu, sigma2):
    s = math.sqrt(sigma2)
    p = pr.simpson(lambda x: pr.normal_pdf(x, mu, sigma2), mu - s, mu + s)
    tally.close(p, math.erf(1 / math.sqrt(2)), **INTEGRAL, name="P(|X - mu| < sigma)", kind="integral")
    _mc_probability(tally, np.abs(rng.normal(mu, s, SAMPLES) - mu) < s, p, "P(|X - mu| < sigma)")


def _exponential_cdf(tally, rng, lam):
    p = pr.simpson(lambda x: pr.exponential_pdf(x, lam), 0.0, 1.0 / lam)
    tally.close(p, 1 - math.exp(-1), **INTEGRAL, name="P(X <= 1/lambda)", kind="integral")
    _mc_probability(tally, rng.exponential(1 / lam, SAMPLES) <= 1 / lam, p, "P(X <= 1/lambda)")


_UNIFORM = ((-1.0, 3.0), (2.0, 2.5))
_NORMAL = ((0.0, 1.0), (-2.0, 6.25))
_EXPONENTIAL = ((0.5,), (3.0,))
_BETA = ((2.0, 5.0), (3.5, 1.5), (1.0, 1.0))

check_eq_1_11 = _continuous("eq. 1.11", _UNIFORM, pr.uniform_pdf, pr.uniform_moments, lambda a, b: (a, b),
                            lambda rng, a, b: rng.uniform(a, b, SAMPLES), _uniform_second_moment)
check_eq_1_12 = _continuous("eq. 1.12", _NORMAL, pr.normal_pdf, pr.normal_moments,
                            lambda mu, s2: (mu - 14 * math.sqrt(s2), mu + 14 * math.sqrt(s2)),
                            lambda rng, mu, s2: rng.normal(mu, math.sqrt(s2), SAMPLES), _normal_one_sigma)
check_eq_1_14 = _continuous("eq. 1.14", _EXPONENTIAL, pr.exponential_pdf, pr.exponential_moments,
                            lambda lam: (0.0, 60.0 / lam), lambda rng, lam: rng.exponential(1 / lam, SAMPLES),
                            _exponential_cdf)
check_beta = _continuous("Beta", _BETA, pr.beta_pdf, pr.beta_moments, lambda a, b: (0.0, 1.0),
                         lambda rng, a, b: rng.beta(a, b, SAMPLES), smooth_ends=True)


def check_eq_1_10():
    """The uniform density integrates to 1 and gives an interval its length's share."""
    tally, rng = Tally(), _rng("eq. 1.10")
    for a, b in _UNIFORM:
        tally.close(pr.simpson(lambda x: pr.uniform_pdf(x, a, b), a, b), 1.0, **INTEGRAL, name="integral",
                    kind="integral")
        c, d = a + 0.2 * (b - a), a + 0.45 * (b - a)
        share = pr.simpson(lambda x: pr.uniform_pdf(x, a, b), c, d)
        tally.close(share, (d - c) / (b - a), **INTEGRAL, name="P(c <= X <= d)", kind="integral")
        x = rng.uniform(a, b, SAMPLES)
        _mc_probability(tally, (x >= c) & (x <= d), share, "P(c <= X <= d)")
        tally.require(np.all(pr.uniform_pdf([a - 1e-9, b + 1e-9], a, b) == 0), "0 outside [a, b]")
    return tally.result()


def check_eq_1_13():
    """The exponential density integrates to 1 and vanishes for x < 0."""
    tally = Tally()
    for (lam,) in _EXPONENTIAL:
        tally.close(pr.simpson(lambda x: pr.exponential_pdf(x, lam), 0.0, 60.0 / lam), 1.0, **INTEGRAL,
                    name="integral", kind="integral")
        tally.require(np.all(pr.exponential_pdf([-5.0, -1e-9], lam) == 0), "0 for x < 0")
    return tally.result()


# ---------------------------------------------------------------- samples (eq. 1.15-1.17)
_REPLICATIONS = 100_000
# (name, sampler, mean, variance, fourth central moment)
_POPULATIONS = (
    ("N(1, 4)", lambda rng, size: rng.normal(1.0, 2.0, size), 1.0, 4.0),
    ("Exponential(2)", lambda rng, size: rng.exponential(0.5, size), 0.5, 0.25),
)


def _replicate(label, n):
    rng = _rng(f"{label} n={n}")
    for name, sampler, mean, var in _POPULATIONS:
        yield name, sampler(rng, (_REPLICATIONS, n)), mean, var


def check_eq_1_15():
    """E[X_bar] = E(X) and Var[X_bar] = Var(X)/n over many samples of size n."""
    tally = Tally()
    for n in (2, 5):
        for name, x, mean, var in _replicate("eq. 1.15", n):
            _mc_moments(tally, pr.sample_mean(x), mean, var / n, f"{name}, n = {n}: X_bar")
    return tally.result()


def check_eq_1_16():
    """S^2 with 1/(n - 1) is unbiased; it is numpy's var(ddof=1)."""
    tally = Tally()
    for n in (2, 5):
        for name, x, _, var in _replicate("eq. 1.16", n):
            s2 = pr.sample_variance(x)
            tally.close(s2, np.var(x, axis=-1, ddof=1), **EXACT, name="ddof=1", kind="numpy")
            tally.monte_carlo(s2.mean(), var, s2.std() / math.sqrt(s2.size), f"{name}, n = {n}: E[S^2]")
    return tally.result()


def check_eq_1_17():
    """The proof's steps by simulation: E[X_bar^2] = Var/n + E^2, E[S^2] = Var, and the
    1/n estimator's mean is (n - 1)/n Var, measurably below Var."""
    tally = Tally()
    for n in (2, 5):
        for name, x, mean, var in _replicate("eq. 1.17", n):
            xbar2 = pr.sample_mean(x) ** 2
            tally.monte_carlo(xbar2.mean(), var / n + mean ** 2, xbar2.std() / math.sqrt(xbar2.size),
                              f"{name}, n = {n}: E[X_bar^2]")
            biased = pr.biased_variance(x)
            se = biased.std() / math.sqrt(biased.size)
            tally.monte_carlo(biased.mean(), (n - 1) / n * var, se, f"{name}, n = {n}: E[(1/n) sum]")
            tally.require(var - biased.mean() > 5 * se, f"{name}, n = {n}: the 1/n estimator is biased")
            tally.close(pr.sample_variance(x), n / (n - 1) * biased, **EXACT, name="S^2 = n/(n-1) biased",
                        kind="n/(n-1)")
    return tally.result()


# ---------------------------------------------------------------- Bayes (eq. 1.18)
BAYES_THETA = np.array([0.2, 0.5, 0.8])  # three coins' probabilities of heads
BAYES_PRIOR = np.array([0.5, 0.3, 0.2])
BAYES_FLIPS, BAYES_HEADS = 10, 7


def check_eq_1_18():
    """Which of three coins was flipped, after 7 heads in 10 flips: eq. 1.18 vs the joint
    table of every (coin, sequence of flips) and vs simulation."""
    tally, rng = Tally(), _rng("eq. 1.18")
    likelihood = np.array([pr.binomial_pmf([BAYES_HEADS], BAYES_FLIPS, t)[0] for t in BAYES_THETA])
    post = pr.posterior(BAYES_PRIOR, likelihood)
    tally.close(post.sum(), 1.0, **EXACT, name="sums to 1", kind="sum")
    # every sequence of flips, one by one: P(theta, sequence) summed over sequences with 7 heads
    sequences = (np.arange(2 ** BAYES_FLIPS)[:, None] >> np.arange(BAYES_FLIPS)) & 1
    heads = sequences.sum(axis=1)
    joint = np.array([p * np.prod(np.where(sequences[heads == BAYES_HEADS] == 1, t, 1 - t), axis=1).sum()
                      for t, p in zip(BAYES_THETA, BAYES_PRIOR)])
    tally.close(post, joint / joint.sum(), **EXACT, name="joint table", kind="joint table")
    coins = rng.choice(3, size=2 * SAMPLES, p=BAYES_PRIOR)
    observed = rng.binomial(BAYES_FLIPS, BAYES_THETA[coins]) == BAYES_HEADS
    for c in range(3):
        _mc_probability(tally, coins[observed] == c, post[c], f"P(coin {c} | 7 heads)")
    return tally.result()


_MC = "closed form vs exact sum vs Monte Carlo (5 SE)"
_INT = "closed form vs numerical integral vs Monte Carlo (5 SE)"
register("eq. 1.1", "1.1.1", "E(X) = sum x P(x) and int x f(x) dx vs Monte Carlo (5 SE)", pr.discrete_moments,
         check_eq_1_1)
register("eq. 1.2", "1.1.1", "Var(X) as a sum and as an integral vs Monte Carlo (5 SE)", pr.continuous_moments,
         check_eq_1_2)
register("eq. 1.3", "1.1.1", "Var(X) = E(X^2) - E(X)^2 vs eq. 1.2 on 20 discrete distributions",
         pr.discrete_moments, check_eq_1_3)
register("eq. 1.4", "1.1.2", "Bernoulli pmf sums to 1; P(X = 1) vs Monte Carlo", pr.bernoulli_pmf, check_eq_1_4)
register("eq. 1.5", "1.1.2", f"Bernoulli E = p, E(X^2) = p, Var = pq: {_MC}", pr.bernoulli_moments, check_eq_1_5)
register("eq. 1.6", "1.1.2", "binomial pmf sums to 1, = n-fold sum of Bernoullis, vs Monte Carlo frequencies",
         pr.binomial_pmf, check_eq_1_6)
register("eq. 1.7", "1.1.2", f"binomial E = np, Var = np(1-p): {_MC}", pr.binomial_moments, check_eq_1_7)
register("eq. 1.8", "1.1.2", "Poisson pmf sums to 1, vs Monte Carlo frequencies; its parameters",
         pr.poisson_pmf, check_eq_1_8)
register("eq. 1.9", "1.1.2", f"Poisson E = lambda, E(X^2) = lambda + lambda^2, Var = lambda: {_MC}",
         pr.poisson_moments, check_eq_1_9)
register("eq. 1.10", "1.1.3", "uniform pdf integrates to 1; P(c <= X <= d) by integral and Monte Carlo",
         pr.uniform_pdf, check_eq_1_10)
register("eq. 1.11", "1.1.3", f"uniform E = (a+b)/2, E(X^2), Var = (a-b)^2/12: {_INT}", pr.uniform_moments,
         check_eq_1_11)
register("eq. 1.12", "1.1.3", f"normal pdf integrates to 1, E = mu, Var = sigma^2, P(|X-mu|<sigma): {_INT}",
         pr.normal_moments, check_eq_1_12)
register("eq. 1.13", "1.1.3", "exponential pdf integrates to 1, 0 for x < 0", pr.exponential_pdf, check_eq_1_13)
register("eq. 1.14", "1.1.3", f"exponential E = 1/lambda, Var = 1/lambda^2, P(X <= 1/lambda): {_INT}",
         pr.exponential_moments, check_eq_1_14)
register("eq. 1.15", "1.1.4", "E[X_bar] = E(X), Var[X_bar] = Var(X)/n: 100k samples of n = 2, 5 (5 SE)",
         pr.sample_mean, check_eq_1_15)
register("eq. 1.16", "1.1.4", "E[S^2] = Var(X) with 1/(n-1): 100k samples of n = 2, 5 (5 SE)", pr.sample_variance,
         check_eq_1_16)
register("eq. 1.17", "1.1.4", "E[X_bar^2] = Var/n + E^2; the 1/n estimator's mean is (n-1)/n Var (5 SE)",
         pr.biased_variance, check_eq_1_17)
register("eq. 1.18", "1.2", "posterior of 3 coins after 7/10 heads: Bayes vs joint table vs simulation",
         pr.posterior, check_eq_1_18)
register("Beta", "1.1.3+", f"Beta(a, b) E = a/(a+b), Var = ab/((a+b)^2(a+b+1)): {_INT}", pr.beta_moments,
         check_beta)
