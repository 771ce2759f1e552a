"""Probability and statistics (notes 1.1-1.2, eq. 1.1-1.18, and the Beta distribution of
the Todo list), in numpy and the standard library: pmfs and pdfs, closed-form moments,
moments by exact sums and numerical integrals, sample statistics and Bayes' rule.
"""

from __future__ import annotations

import math

import numpy as np


# ---------------------------------------------------------------- definitions
def discrete_moments(values, probs) -> tuple[float, float, float]:
    """Eq. 1.1-1.3 for a discrete variable: ``(E(X), Var(X) by eq. 1.2, E(X^2) - E(X)^2 by eq. 1.3)``."""
    values, probs = np.asarray(values, dtype=np.float64), np.asarray(probs, dtype=np.float64)
    mean = float(np.sum(values * probs))
    return mean, float(np.sum((values - mean) ** 2 * probs)), float(np.sum(values ** 2 * probs) - mean ** 2)


def simpson(f, lo: float, hi: float, intervals: int = 20000, smooth_ends: bool = False) -> float:
    """The integral of ``f`` (vectorized) over [lo, hi] by composite Simpson's rule.

    ``smooth_ends`` integrates in u with x = lo + (hi - lo)(1 - cos(pi u))/2, which turns
    an endpoint behaviour (x - lo)^s into u^(2s + 1): Simpson's rule then stays accurate
    for densities like Beta(a, b) whose derivatives blow up at 0 or 1.
    """
    intervals += intervals % 2
    u = np.linspace(0.0, 1.0, intervals + 1)
    weights = np.ones(intervals + 1)
    weights[1:-1:2], weights[2:-1:2] = 4.0, 2.0
    if smooth_ends:
        x = lo + (hi - lo) * (1.0 - np.cos(np.pi * u)) / 2
        values = f(x) * (hi - lo) * np.pi / 2 * np.sin(np.pi * u)
    else:
        values = f(lo + (hi - lo) * u) * (hi - lo)
    return float(np.sum(weights * values) / (3 * intervals))


def continuous_moments(pdf, lo: float, hi: float, intervals: int = 20000,
                       smooth_ends: bool = False) -> tuple[float, float, float]:
    """Eq. 1.1-1.2 for a continuous variable by numerical integration over [lo, hi]:
    ``(integral of f, E(X) = int x f, Var(X) = int (x - E)^2 f)``."""
    total = simpson(pdf, lo, hi, intervals, smooth_ends)
    mean = simpson(lambda x: x * pdf(x), lo, hi, intervals, smooth_ends)
    return total, mean, simpson(lambda x: (x - mean) ** 2 * pdf(x), lo, hi, intervals, smooth_ends)


# ---------------------------------------------------------------- discrete
def bernoulli_pmf(k, p: float):
    """Eq. 1.4: f(k; p) = p for k = 1, q = 1 - p for k = 0."""
    k = np.asarray(k)
    return np.where(k == 1, p, np.where(k == 0, 1.0 - p, 0.0))


def bernoulli_moments(p: float) -> tuple[float, float, float]:
    """Eq. 1.5: ``(E(X) = p, E(X^2) = p, Var(X) = p q)``."""
    return p, p, p * (1.0 - p)


def binomial_pmf(k, n: int, p: float):
    """Eq. 1.6: f(k; n, p) = C(n, k) p^k (1 - p)^(n - k)."""
    return np.array([math.comb(n, int(j)) * p ** int(j) * (1.0 - p) ** (n - int(j)) for j in np.ravel(k)])


def binomial_moments(n: int, p: float) -> tuple[float, float]:
    """Eq. 1.7: ``(E(X) = n p, Var(X) = n p (1 - p))``."""
    return n * p, n * p * (1.0 - p)


def sum_of_bernoullis_pmf(n: int, p: float):
    """The pmf of X_1 + ... + X_n for independent Bernoulli(p) (the derivation of eq. 1.7),
    by convolving eq. 1.4 with itself n times."""
    pmf = np.array([1.0])
    for _ in range(n):
        pmf = np.convolve(pmf, [1.0 - p, p])
    return pmf


def poisson_pmf(k, lam: float):
    """Eq. 1.8, corrected signature f(k; lambda) = e^(-lambda) lambda^k / k! (log space, so
    large k do not overflow)."""
    k = np.asarray(k, dtype=np.float64)
    log_factorial = np.array([math.lgamma(j + 1.0) for j in np.ravel(k)]).reshape(k.shape)
    return np.exp(-lam + k * math.log(lam) - log_factorial)


def poisson_pmf_as_printed(k, n, lam: float):
    """Eq. 1.8 as printed, f(k; n, lambda) = e^(-lambda) lambda^k / k!: ``n`` is a parameter
    that the right-hand side never uses."""
    del n  # the printed formula has no n in it
    return poisson_pmf(k, lam)


def poisson_moments(lam: float) -> tuple[float, float, float]:
    """Eq. 1.9: ``(E(X) = lambda, E(X^2) = lambda + lambda^2, Var(X) = lambda)``."""
    return lam, lam + lam ** 2, lam


def poisson_support(lam: float) -> np.ndarray:
    """0..K with K far enough in the tail that the rest of the mass is below 1e-17."""
    return np.arange(int(lam + 12 * math.sqrt(lam) + 40))


# ---------------------------------------------------------------- continuous
def uniform_pdf(x, a: float, b: float):
    """Eq. 1.10: 1 / (b - a) on [a, b], 0 outside."""
    x = np.asarray(x, dtype=np.float64)
    return np.where((x >= a) & (x <= b), 1.0 / (b - a), 0.0)


def uniform_moments(a: float, b: float) -> tuple[float, float, float]:
    """Eq. 1.11: ``(E(X) = (a + b)/2, E(X^2) = (a^2 + b^2 + a b)/3, Var(X) = (a - b)^2/12)``."""
    return (a + b) / 2, (a * a + b * b + a * b) / 3, (a - b) ** 2 / 12


def normal_pdf(x, mu: float, sigma2: float):
    """Eq. 1.12: exp(-(x - mu)^2 / (2 sigma^2)) / sqrt(2 pi sigma^2)."""
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-((x - mu) ** 2) / (2 * sigma2)) / np.sqrt(2 * np.pi * sigma2)


def normal_moments(mu: float, sigma2: float) -> tuple[float, float]:
    """After eq. 1.12: ``(E(X) = mu, Var(X) = sigma^2)``."""
    return mu, sigma2


def exponential_pdf(x, lam: float):
    """Eq. 1.13: lambda e^(-lambda x) for x >= 0, 0 for x < 0."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x >= 0, lam * np.exp(-lam * np.abs(x)), 0.0)


def exponential_moments(lam: float) -> tuple[float, float]:
    """Eq. 1.14: ``(E(X) = 1/lambda, Var(X) = 1/lambda^2)``."""
    return 1.0 / lam, 1.0 / lam ** 2


def beta_pdf(x, a: float, b: float):
    """The Beta(a, b) density (the notes' Todo): x^(a-1) (1 - x)^(b-1) / B(a, b) on [0, 1],
    for a, b >= 1 (the density is then finite at the ends)."""
    x = np.asarray(x, dtype=np.float64)
    log_b = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    inside = (x > 0) & (x < 1)
    safe = np.where(inside, x, 0.5)
    dens = np.exp((a - 1) * np.log(safe) + (b - 1) * np.log1p(-safe) - log_b)
    at_ends = np.where(x == 0, float(a == 1), 0.0) + np.where(x == 1, float(b == 1), 0.0)
    return np.where(inside, dens, at_ends / math.exp(log_b))


def beta_moments(a: float, b: float) -> tuple[float, float]:
    """``(E(X) = a/(a + b), Var(X) = a b / ((a + b)^2 (a + b + 1)))`` of Beta(a, b)."""
    return a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))


# ---------------------------------------------------------------- samples
def sample_mean(x, axis=-1):
    """Eq. 1.15: X_bar = (1/n) sum_i X_i."""
    return np.mean(x, axis=axis)


def sample_variance(x, axis=-1):
    """Eq. 1.16: S^2 = (1/(n - 1)) sum_i (X_i - X_bar)^2, unbiased by eq. 1.17."""
    x = np.asarray(x)
    n = x.shape[axis]
    return np.sum((x - np.mean(x, axis=axis, keepdims=True)) ** 2, axis=axis) / (n - 1)


def biased_variance(x, axis=-1):
    """(1/n) sum_i (X_i - X_bar)^2, whose expectation is (n - 1)/n Var(X) by eq. 1.17."""
    x = np.asarray(x)
    n = x.shape[axis]
    return np.sum((x - np.mean(x, axis=axis, keepdims=True)) ** 2, axis=axis) / n


# ---------------------------------------------------------------- Bayes
def posterior(prior, likelihood):
    """Eq. 1.18: P(theta | x) = P(x | theta) P(theta) / P(x), P(x) = sum_theta P(x | theta) P(theta).

    >>> posterior([0.5, 0.5], [0.25, 0.75]).tolist()
    [0.25, 0.75]
    """
    joint = np.asarray(likelihood, dtype=np.float64) * np.asarray(prior, dtype=np.float64)
    return joint / joint.sum()
