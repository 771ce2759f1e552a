"""Batch normalization (notes 3.3.3), in numpy: Algorithm 1, eq. 3.21-3.24.

The notes normalize each feature over a mini-batch of m values. ``x`` is (m, d): one
sample per row, one feature per column. A convolutional (N, C, H, W) batch becomes
(N*H*W, C) rows with :func:`to_rows` (a channel's statistics are over N, H and W).
"""

from __future__ import annotations

import numpy as np


def to_rows(x):
    """(N, C, H, W) -> (N*H*W, C): one feature per column; 2-D input is returned as is."""
    x = np.asarray(x)
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def from_rows(rows, shape):
    """The inverse of :func:`to_rows` for an array of ``shape``."""
    if len(shape) == 2:
        return rows
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return np.moveaxis(rows.reshape(moved), -1, 1)


def batchnorm_forward(x, gamma, beta, eps: float = 1e-5):
    """Algorithm 1: mu_B = mean, sigma_B^2 = (1/m) sum (x_i - mu_B)^2 (the biased variance),
    x_hat = (x - mu_B) / sqrt(sigma_B^2 + eps), y = gamma x_hat + beta.

    Returns ``(y, mu, var, x_hat)``.
    """
    m = x.shape[0]
    mu = x.sum(axis=0) / m
    var = ((x - mu) ** 2).sum(axis=0) / m
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta, mu, var, x_hat


def normalized_moments(x, eps: float = 1e-5):
    """Eq. 3.21: the batch mean and variance of x_hat, and the variance the derivation
    predicts, sigma_B^2 / (sigma_B^2 + eps) (which is ~1 when eps << sigma_B^2)."""
    _, _, var, x_hat = batchnorm_forward(x, 1.0, 0.0, eps)
    return x_hat.mean(axis=0), x_hat.var(axis=0), var / (var + eps)


def batchnorm_param_grads(dy, x_hat):
    """Eq. 3.22: dL/dgamma = sum_i dL/dy_i x_hat_i, dL/dbeta = sum_i dL/dy_i."""
    return (dy * x_hat).sum(axis=0), dy.sum(axis=0)


def batchnorm_backward(dy, x, gamma, eps: float = 1e-5) -> dict:
    """Eq. 3.23 line by line: dL/dx_hat, dL/dsigma_B^2, dL/dmu_B and dL/dx_i."""
    m = x.shape[0]
    mu = x.sum(axis=0) / m
    var = ((x - mu) ** 2).sum(axis=0) / m
    d_xhat = dy * gamma
    d_var = -0.5 * (d_xhat * (x - mu)).sum(axis=0) * (var + eps) ** -1.5
    d_mu = -(d_xhat / np.sqrt(var + eps)).sum(axis=0) - d_var * 2.0 / m * (x - mu).sum(axis=0)
    d_x = d_xhat / np.sqrt(var + eps) + 2.0 / m * d_var * (x - mu) + d_mu / m
    return dict(d_xhat=d_xhat, d_var=d_var, d_mu=d_mu, d_x=d_x)


def eq_3_23_mu_first_line_as_printed(dy, x, gamma, eps: float = 1e-5):
    """The first line of dL/dmu_B in eq. 3.23 as printed, without a sum over i:
    dL/dx_hat_i dx_hat_i/dmu_B + dL/dsigma^2 dsigma^2/dmu_B, one value per sample i."""
    m = x.shape[0]
    mu = x.sum(axis=0) / m
    var = ((x - mu) ** 2).sum(axis=0) / m
    d = batchnorm_backward(dy, x, gamma, eps)
    return d["d_xhat"] * (-1.0 / np.sqrt(var + eps)) + d["d_var"] * (-2.0 / m * (x - mu).sum(axis=0))


def population_estimates(batch_means, batch_vars, m: int):
    """Eq. 3.24: mu = E(mu_B), sigma^2 = m/(m-1) E(sigma_B^2) over the mini-batches (the
    notes' n is the mini-batch size m, as in eq. 1.17)."""
    return np.mean(batch_means, axis=0), m / (m - 1) * np.mean(batch_vars, axis=0)


def batchnorm_inference(x, gamma, beta, mu, var, eps: float = 1e-5):
    """Eq. 3.24: BN(x) = gamma (x - mu) / sqrt(sigma^2 + eps) + beta with fixed mu, sigma^2."""
    return gamma * (x - mu) / np.sqrt(var + eps) + beta
