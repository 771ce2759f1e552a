"""Probability and statistics (eq. 1.1-1.18, Beta): closed forms vs exact sums and
integrals (tight), and the Monte Carlo checks (5 standard errors)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_notes import equations
from tinygrad_notes.equations import probability as pr

MONTE_CARLO = ["eq. 1.1", "eq. 1.2", "eq. 1.4", "eq. 1.5", "eq. 1.6", "eq. 1.7", "eq. 1.9", "eq. 1.10",
               "eq. 1.11", "eq. 1.12", "eq. 1.14", "eq. 1.15", "eq. 1.16", "eq. 1.17", "eq. 1.18", "Beta"]


@pytest.mark.parametrize("label", MONTE_CARLO)
def test_monte_carlo_checks_pass(label):
    result = equations.lookup(label).check()
    assert result.passed, result.detail
    assert "Monte Carlo max |z|" in result.detail


def test_poisson_pmf_has_one_parameter():
    """ERRATUM eq. 1.8: the printed f(k; n, lambda) does not depend on n; with lambda
    alone it is a distribution with mean and variance lambda."""
    for lam in (0.3, 2.0, 17.5, 80.0):
        k = pr.poisson_support(lam)
        pmf = pr.poisson_pmf(k, lam)
        for n in (0, 1, 7, 10 ** 6):
            np.testing.assert_array_equal(pr.poisson_pmf_as_printed(k, n, lam), pmf)
        assert pmf.sum() == pytest.approx(1.0, rel=1e-13)
        mean, var, _ = pr.discrete_moments(k, pmf)
        assert mean == pytest.approx(lam, rel=1e-12) and var == pytest.approx(lam, rel=1e-11)


@settings(max_examples=25)
@given(st.integers(1, 40), st.floats(0.01, 0.99))
def test_binomial_moments_by_the_pmf(n, p):
    """eq. 1.7 by the Todo's other route, the pmf directly, and eq. 1.6 = n Bernoullis."""
    k = np.arange(n + 1)
    pmf = pr.binomial_pmf(k, n, p)
    np.testing.assert_allclose(pmf, pr.sum_of_bernoullis_pmf(n, p), rtol=1e-10, atol=1e-15)
    mean, var, var2 = pr.discrete_moments(k, pmf)
    assert (mean, var) == pytest.approx(pr.binomial_moments(n, p), rel=1e-10)
    assert var2 == pytest.approx(var, rel=1e-9, abs=1e-12)


@settings(max_examples=15)
@given(st.floats(1.0, 6.0), st.floats(1.0, 6.0))
def test_beta_moments_by_integration(a, b):
    total, mean, var = pr.continuous_moments(lambda x: pr.beta_pdf(x, a, b), 0.0, 1.0, smooth_ends=True)
    assert total == pytest.approx(1.0, rel=1e-8)
    assert (mean, var) == pytest.approx(pr.beta_moments(a, b), rel=1e-8)


@pytest.mark.parametrize("a, b", [(-1.0, 3.0), (0.0, 1e-3), (5.0, 50.0)])
def test_uniform_moments_by_integration(a, b):
    total, mean, var = pr.continuous_moments(lambda x: pr.uniform_pdf(x, a, b), a, b)
    closed = pr.uniform_moments(a, b)
    assert (total, mean, var) == pytest.approx((1.0, closed[0], closed[2]), rel=1e-10)
    assert closed[1] - closed[0] ** 2 == pytest.approx(closed[2], rel=1e-9)


def test_normal_and_exponential_moments_by_integration():
    for mu, s2 in ((0.0, 1.0), (3.0, 0.01), (-5.0, 40.0)):
        s = math.sqrt(s2)
        got = pr.continuous_moments(lambda x: pr.normal_pdf(x, mu, s2), mu - 14 * s, mu + 14 * s)
        assert got == pytest.approx((1.0, *pr.normal_moments(mu, s2)), rel=1e-10, abs=1e-12)
    for lam in (0.1, 1.0, 9.0):
        got = pr.continuous_moments(lambda x: pr.exponential_pdf(x, lam), 0.0, 60.0 / lam)
        assert got == pytest.approx((1.0, *pr.exponential_moments(lam)), rel=1e-9)


def test_bernoulli_moments():
    for p in (0.0, 0.2, 1.0):
        mean, var, var2 = pr.discrete_moments([0, 1], pr.bernoulli_pmf([0, 1], p))
        e, e2, v = pr.bernoulli_moments(p)
        assert (e, e2, v) == pytest.approx((mean, var + mean ** 2, var), abs=1e-15)


def test_sample_variance_is_n_over_n_minus_1_times_the_biased_one():
    x = np.random.default_rng(0).standard_normal((100, 6))
    np.testing.assert_allclose(pr.sample_variance(x), 6 / 5 * pr.biased_variance(x), rtol=1e-14)
    np.testing.assert_allclose(pr.sample_mean(x), x.mean(axis=1), rtol=1e-14)


def test_bayes_posterior_by_hand():
    """Eq. 1.18 on a disease test: prior 1%, sensitivity 90%, false positives 5%."""
    post = pr.posterior([0.01, 0.99], [0.90, 0.05])
    assert post[0] == pytest.approx(0.009 / (0.009 + 0.0495), rel=1e-14)
    assert post.sum() == pytest.approx(1.0, rel=1e-15)
