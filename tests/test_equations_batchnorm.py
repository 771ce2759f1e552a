"""Batch normalization (Algorithm 1, eq. 3.19-3.24): closed forms vs the tape's batch
norms vs central differences; the erratum of eq. 3.23; eq. 3.24 by simulation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_notes import Value, grad
from tinygrad_notes.equations import batchnorm as bn
from tinygrad_notes.equations.checks_batchnorm import check_eq_3_24
from tinygrad_notes.equations.compare import EXACT, NUMERIC, numeric_grad
from tinygrad_notes.equations.tape_cnn import batch_norm_implementations, batch_norm_parts, functional_cnn

IMPLS = batch_norm_implementations()


def _problem(shape, eps, seed):
    rng = np.random.default_rng(seed)
    x = 1.0 + 2.0 * rng.standard_normal(shape)
    c = shape[1]
    return x, 1.0 + 0.3 * rng.standard_normal(c), rng.standard_normal(c), rng.standard_normal(shape), eps


def _closed(x, gamma, beta, dy, eps):
    rows = bn.to_rows(x)
    y, _, _, x_hat = bn.batchnorm_forward(rows, gamma, beta, eps)
    d_gamma, d_beta = bn.batchnorm_param_grads(bn.to_rows(dy), x_hat)
    d_x = bn.batchnorm_backward(bn.to_rows(dy), rows, gamma, eps)["d_x"]
    return bn.from_rows(y, x.shape), bn.from_rows(d_x, x.shape), d_gamma, d_beta


shapes = st.one_of(st.tuples(st.integers(2, 9), st.integers(1, 4)),
                   st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)))


@settings(max_examples=20)
@given(shapes, st.sampled_from([1e-5, 1e-2, 0.5]), st.integers(0, 999))
def test_closed_forms_match_every_tape_batch_norm(shape, eps, seed):
    """Algorithm 1, eq. 3.22 and eq. 3.23 vs the engine's batch_norm and a composition."""
    if np.prod(shape) // shape[1] < 2:
        shape = (2,) + tuple(shape[1:])
    x, gamma, beta, dy, eps = _problem(shape, eps, seed)
    y, d_x, d_gamma, d_beta = _closed(x, gamma, beta, dy, eps)
    for impl in IMPLS.values():
        xv, gv, bv = Value(x), Value(gamma), Value(beta)
        yv = impl(xv, gv, bv, eps)
        np.testing.assert_allclose(yv.data, y, **EXACT)
        for closed, taped in zip((d_x, d_gamma, d_beta), grad(yv, [xv, gv, bv], grad=dy)):
            np.testing.assert_allclose(closed, taped, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", [(6, 3), (2, 2, 3, 2)])
def test_against_central_differences(shape):
    x, gamma, beta, dy, eps = _problem(shape, 1e-3, seed=1)
    _, d_x, d_gamma, d_beta = _closed(x, gamma, beta, dy, eps)

    def cost(x, gamma, beta):
        return float((_closed(x, gamma, beta, dy, eps)[0] * dy).sum())

    for closed, numeric in zip((d_x, d_gamma, d_beta), numeric_grad(cost, [x, gamma, beta])):
        np.testing.assert_allclose(closed, numeric, **NUMERIC)


def test_each_line_of_eq_3_23_is_the_tapes_gradient_of_that_quantity():
    x, gamma, beta, dy, eps = _problem((7, 3), 0.1, seed=2)
    lines = bn.batchnorm_backward(dy, x, gamma, eps)
    xv = Value(x)
    y, mu, var, x_hat = batch_norm_parts(xv, Value(gamma), Value(beta), eps)
    d_mu, d_var, d_xhat, d_x = grad(y, [mu, var, x_hat, xv], grad=dy)
    np.testing.assert_allclose(lines["d_xhat"], d_xhat, **EXACT)
    np.testing.assert_allclose(lines["d_var"], d_var.ravel(), **EXACT)
    np.testing.assert_allclose(lines["d_mu"], d_mu.ravel(), **EXACT)
    np.testing.assert_allclose(lines["d_x"], d_x, **EXACT)


def test_eq_3_23_mu_first_line_needs_a_sum():
    """ERRATUM eq. 3.23: without sum_i the first line of dL/dmu_B is not dL/dmu_B for any i."""
    x, gamma, beta, dy, eps = _problem((6, 2), 1e-5, seed=3)
    printed = bn.eq_3_23_mu_first_line_as_printed(dy, x, gamma, eps)
    xv = Value(x)
    y, mu, _, _ = batch_norm_parts(xv, Value(gamma), Value(beta), eps)
    (d_mu,) = grad(y, [mu], grad=dy)
    assert printed.shape == x.shape
    assert not np.any(np.isclose(printed, d_mu.ravel(), rtol=1e-3))
    np.testing.assert_allclose(printed.sum(axis=0), d_mu.ravel(), **EXACT)


def test_eq_3_21_normalized_moments():
    x, *_ = _problem((50, 3), 0.0, seed=4)
    for eps in (0.0, 1e-5, 1.0):
        mean, var, predicted = bn.normalized_moments(x, eps)
        np.testing.assert_allclose(mean, 0.0, atol=1e-15)
        np.testing.assert_allclose(var, predicted, **EXACT)
        assert np.all(var <= 1.0 + 1e-15)
    assert np.allclose(bn.normalized_moments(x, 0.0)[1], 1.0, rtol=1e-14)


def test_eq_3_24_population_estimates():
    """m/(m-1) E(sigma_B^2) is unbiased (5 standard errors), E(sigma_B^2) is not."""
    result = check_eq_3_24()
    assert result.passed, result.detail


@pytest.mark.skipif(functional_cnn() is None, reason="tinygrad_notes.functional_cnn is not there yet")
def test_engine_inference_is_eq_3_24():
    rng = np.random.default_rng(5)
    x, gamma, beta = rng.standard_normal((4, 3, 2, 2)), rng.standard_normal(3), rng.standard_normal(3)
    mu, var = rng.standard_normal(3), 0.5 + rng.random(3)
    y = functional_cnn().batch_norm(Value(x), Value(gamma), Value(beta), mu, var, training=False, eps=1e-3)
    expected = bn.from_rows(bn.batchnorm_inference(bn.to_rows(x), gamma, beta, mu, var, 1e-3), x.shape)
    np.testing.assert_allclose(y.data, expected, **EXACT)


@pytest.mark.skipif(functional_cnn() is None, reason="tinygrad_notes.functional_cnn is not there yet")
def test_float32_engine_batch_norm_against_float64_closed_form():
    x, gamma, beta, dy, eps = _problem((3, 4, 3, 3), 1e-5, seed=6)
    y, d_x, d_gamma, d_beta = _closed(x, gamma, beta, dy, eps)
    xv, gv, bv = (Value(a.astype(np.float32)) for a in (x, gamma, beta))
    yv = functional_cnn().batch_norm(xv, gv, bv, np.zeros(4, np.float32), np.ones(4, np.float32), eps=eps)
    assert yv.dtype == np.float32
    np.testing.assert_allclose(yv.data, y, rtol=1e-5, atol=1e-5)
    for closed, taped in zip((d_x, d_gamma, d_beta), grad(yv, [xv, gv, bv], grad=dy.astype(np.float32))):
        assert taped.dtype == np.float32
        np.testing.assert_allclose(taped, closed, rtol=1e-4, atol=1e-4)


def test_rows_round_trip():
    x = np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5)
    rows = bn.to_rows(x)
    assert rows.shape == (40, 3)
    np.testing.assert_array_equal(rows[:, 1], np.sort(x[:, 1].ravel()))
    np.testing.assert_array_equal(bn.from_rows(rows, x.shape), x)
