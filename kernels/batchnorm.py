"""Batch normalization (section 3.3.3): training forward (Algorithm 1), the fused backward
(eqs. 3.22-3.23) and the inference forward (eq. 3.24), on ``x`` of shape (N, C, M).

The caller views (N, C) input as (N, C, 1) and (N, C, H, W) as (N, C, H W); the
statistics are per channel, over the m = N M values of that channel. Sums are kept in
float64 whatever the data's dtype.

Memory traffic is the cost, so each pass is fused:

* forward: per channel, one pass sums x for the mean and variance (shifted by the
  channel's first value, so that a large mean does not cancel the variance away), and a
  second pass writes ``y = gamma xhat + beta``; one channel's values fit in a core's L2
  cache, so the second read of x does not go back to memory;
* backward: per channel, one pass sums ``dy`` and ``dy (x - mean)`` (eq. 3.22 gives
  dbeta and dgamma), a second writes dx from eq. 3.23 collapsed to
  ``dx = gamma / sigma (dy - dbeta / m - xhat dgamma / m)``.

The two passes are pipelined across channels: the loop that writes channel c also
reads channel c + 1 for its sums, so that reads from memory and writes to it overlap
(measured on bn-large, (32, 64, 56 x 56) float32: the forward 15-20% faster than summing
a channel and then writing it). The first channel of a slice has nothing to write yet;
its rows go through the same loop into a scratch row, so that every channel's sums are
computed by the same code and the numbers do not depend on how the channels are split.

Channels are split across the kernel threads (:mod:`._threads`). (N, C) input, where a
channel's values are strided, runs row by row instead, with C accumulators.
"""

from __future__ import annotations

import numpy as np

from ._jit import REDUCTION_MATH, jit
from ._threads import run_split

#: Below this many elements a kernel runs on the calling thread alone.
MIN_ELEMENTS_PER_THREAD = 1 << 16
#: Slices per thread for the (N, C, M) kernels: fewer than :mod:`._threads`' default,
#: because the first channel of every slice is read without a write to overlap it with.
PLANE_SLICES_PER_THREAD = 2


@jit(fastmath=REDUCTION_MATH)
def _normalize_row_and_sum(src, dst, hi, a, b, ahead, pivot):
    """``dst = (src - hi) a + b``, and the sums of ``ahead - pivot`` and of its square
    (float64): one row written while the next channel's row is read."""
    s = 0.0
    s2 = 0.0
    for k in range(src.size):
        dst[k] = (src[k] - hi) * a + b
        v = np.float64(ahead[k]) - pivot
        s += v
        s2 += v * v
    return s, s2


@jit(fastmath=REDUCTION_MATH)
def _forward_coefficients(pivot, s, s2, m, c, gamma, beta, eps, mean, var, invstd, like):
    """Algorithm 1 (eqs. 3.19-3.20) for channel ``c`` from the sums of its ``m`` values
    shifted by ``pivot``: stores its mean, biased variance and ``1 / sqrt(var + eps)``,
    and returns ``(hi, a, b)`` in ``like``'s dtype with ``y = (x - hi) a + b``; the mean
    is split as ``hi + lo`` so that ``x - hi`` rounds once."""
    d = s / m
    v = max(s2 / m - d * d, 0.0)
    mu = pivot + d
    inv = 1.0 / np.sqrt(v + eps)
    mean[c], var[c], invstd[c] = mu, v, inv
    scale = gamma[c] * inv
    kind = like.dtype.type
    hi = kind(mu)
    return hi, kind(scale), kind(beta[c] - (mu - np.float64(hi)) * scale)


@jit(fastmath=REDUCTION_MATH)
def _forward_train_planes(x, gamma, beta, eps, y, mean, var, invstd, c_lo, c_hi):
    N, _, M = x.shape
    m = N * M
    # Channel c_lo's sums come from the same row function as every other channel's (its
    # rows written to a scratch row), so the numbers do not depend on where slices start.
    scratch = np.empty(M, x.dtype)
    hi, a, b = x[0, c_lo, 0], x.dtype.type(gamma[c_lo]), x.dtype.type(beta[c_lo])
    for c in range(c_lo - 1, c_hi):
        if c + 1 < c_hi:  # write channel c while reading channel c + 1's sums
            pivot = np.float64(x[0, c + 1, 0])
            s = 0.0
            s2 = 0.0
            for n in range(N):
                dst = y[n, c] if c >= c_lo else scratch
                r, r2 = _normalize_row_and_sum(x[n, max(c, c_lo)], dst, hi, a, b, x[n, c + 1], pivot)
                s += r
                s2 += r2
            hi, a, b = _forward_coefficients(pivot, s, s2, m, c + 1, gamma, beta, eps, mean, var, invstd, x)
        else:
            for n in range(N):
                src, dst = x[n, c], y[n, c]
                for k in range(M):
                    dst[k] = (src[k] - hi) * a + b


@jit(fastmath=REDUCTION_MATH)
def _forward_train_rows(x, gamma, beta, eps, y, mean, var, invstd, c_lo, c_hi):
    N = x.shape[0]
    width = c_hi - c_lo
    pivot = np.empty(width)
    s = np.zeros(width)
    s2 = np.zeros(width)
    for c in range(width):
        pivot[c] = x[0, c_lo + c, 0]
    for n in range(N):
        for c in range(width):
            v = np.float64(x[n, c_lo + c, 0]) - pivot[c]
            s[c] += v
            s2[c] += v * v
    scale = np.empty(width)
    shift = np.empty(width)
    for c in range(width):
        d = s[c] / N
        v = max(s2[c] / N - d * d, 0.0)
        inv = 1.0 / np.sqrt(v + eps)
        mean[c_lo + c], var[c_lo + c], invstd[c_lo + c] = pivot[c] + d, v, inv
        scale[c] = gamma[c_lo + c] * inv
        shift[c] = beta[c_lo + c] - mean[c_lo + c] * scale[c]
    for n in range(N):
        for c in range(width):
            y[n, c_lo + c, 0] = x[n, c_lo + c, 0] * scale[c] + shift[c]


def _split(kernel, x, args):
    N, C, M = x.shape
    per_channel = max(N * M, 1)
    run_split(kernel, C, args, min_per_thread=max(1, MIN_ELEMENTS_PER_THREAD // per_channel),
              slices_per_thread=PLANE_SLICES_PER_THREAD)


def batchnorm_forward_train(x, gamma, beta, eps):
    """Algorithm 1 (eqs. 3.19-3.20) on ``x`` (N, C, M): returns ``(y, mean, var, invstd)``.

    ``mean`` and ``var`` are the batch statistics (the variance biased, divided by m),
    ``invstd = 1 / sqrt(var + eps)``; all three float64 of shape (C,).

    >>> import numpy as np
    >>> x = np.array([[[1.0]], [[3.0]]])
    >>> y, mean, var, invstd = batchnorm_forward_train(x, np.ones(1), np.zeros(1), 0.0)
    >>> y.ravel(), mean, var
    (array([-1.,  1.]), array([2.]), array([1.]))
    """
    C = x.shape[1]
    y = np.empty_like(x)
    mean, var, invstd = np.empty(C), np.empty(C), np.empty(C)
    N, C, M = x.shape
    if C and not N * M:
        raise ValueError(f"batchnorm_forward_train: input {x.shape} has no values per channel; "
                         f"the batch mean and variance are undefined")
    if C:  # the kernels read each slice's first channel before their loop
        kernel = _forward_train_rows if M == 1 else _forward_train_planes
        _split(kernel, x, (x, gamma, beta, float(eps), y, mean, var, invstd))
    return y, mean, var, invstd


@jit(fastmath=REDUCTION_MATH)
def _dx_row_and_sum(g, a, out, hi, c1, c2, c0, g_ahead, a_ahead, mu):
    """``out = c1 g + c2 (a - hi) + c0`` (eq. 3.23), and the next channel's row's
    ``sum dy`` and ``sum dy (x - mu)`` (eq. 3.22) in float64."""
    s = 0.0
    sx = 0.0
    for k in range(g.size):
        out[k] = c1 * g[k] + c2 * (a[k] - hi) + c0
        gv = np.float64(g_ahead[k])
        s += gv
        sx += gv * (np.float64(a_ahead[k]) - mu)
    return s, sx


@jit(fastmath=REDUCTION_MATH)
def _backward_coefficients(s, sx, m, c, gamma, mean, invstd, train, dgamma, dbeta, like):
    """Eq. 3.22 for channel ``c`` (stores dgamma, dbeta) and eq. 3.23's dx as
    ``dx = c1 dy + c2 (x - hi) + c0``: returns ``(hi, c1, c2, c0)`` in ``like``'s dtype,
    the mean split as in the forward."""
    inv = invstd[c]
    dgamma[c] = sx * inv
    dbeta[c] = s
    k1 = gamma[c] * inv
    if train:  # eq. 3.23: dx = k1 (dy - dbeta / m - xhat dgamma / m)
        k2 = -k1 * inv * dgamma[c] / m
        k0 = -k1 * s / m
    else:  # eq. 3.24 is affine in x: dx = gamma / sigma dy
        k2 = 0.0
        k0 = 0.0
    mu = mean[c]
    kind = like.dtype.type
    hi = kind(mu)
    return hi, kind(k1), kind(k2), kind(k0 - k2 * (mu - np.float64(hi)))


@jit(fastmath=REDUCTION_MATH)
def _backward_planes(dy, x, gamma, mean, invstd, train, dx, dgamma, dbeta, c_lo, c_hi):
    N, _, M = x.shape
    m = N * M
    scratch = np.empty(M, x.dtype)  # as in the forward: channel c_lo's pass writes here
    kind = x.dtype.type
    hi, c1, c2, c0 = x[0, c_lo, 0], kind(gamma[c_lo]), kind(invstd[c_lo]), kind(mean[c_lo])
    for c in range(c_lo - 1, c_hi):
        if c + 1 < c_hi:  # write channel c's dx while reading channel c + 1's sums
            mu = mean[c + 1]
            s = 0.0
            sx = 0.0
            for n in range(N):
                out = dx[n, c] if c >= c_lo else scratch
                w = max(c, c_lo)
                r, rx = _dx_row_and_sum(dy[n, w], x[n, w], out, hi, c1, c2, c0, dy[n, c + 1], x[n, c + 1], mu)
                s += r
                sx += rx
            hi, c1, c2, c0 = _backward_coefficients(s, sx, m, c + 1, gamma, mean, invstd, train, dgamma, dbeta, x)
        else:
            for n in range(N):
                g, a, out = dy[n, c], x[n, c], dx[n, c]
                for k in range(M):
                    out[k] = c1 * g[k] + c2 * (a[k] - hi) + c0


@jit(fastmath=REDUCTION_MATH)
def _backward_rows(dy, x, gamma, mean, invstd, train, dx, dgamma, dbeta, c_lo, c_hi):
    N = x.shape[0]
    width = c_hi - c_lo
    s = np.zeros(width)
    sx = np.zeros(width)
    for n in range(N):
        for c in range(width):
            gv = np.float64(dy[n, c_lo + c, 0])
            s[c] += gv
            sx[c] += gv * (np.float64(x[n, c_lo + c, 0]) - mean[c_lo + c])
    k0 = np.empty(width)
    k1 = np.empty(width)
    k2 = np.empty(width)
    for c in range(width):
        inv = invstd[c_lo + c]
        dgamma[c_lo + c] = sx[c] * inv
        dbeta[c_lo + c] = s[c]
        k1[c] = gamma[c_lo + c] * inv
        if train:
            k2[c] = -k1[c] * inv * dgamma[c_lo + c] / N
            k0[c] = -k1[c] * s[c] / N - k2[c] * mean[c_lo + c]
        else:
            k2[c] = 0.0
            k0[c] = 0.0
    for n in range(N):
        for c in range(width):
            dx[n, c_lo + c, 0] = k1[c] * dy[n, c_lo + c, 0] + k2[c] * x[n, c_lo + c, 0] + k0[c]


def batchnorm_backward(dy, x, gamma, mean, invstd, training=True):
    """Fused backward: ``(dx, dgamma, dbeta)`` for the upstream ``dy`` (N, C, M).

    eq. 3.22: ``dgamma = sum dy xhat``, ``dbeta = sum dy``; eq. 3.23 for dx, whose
    dL/dmu and dL/dvar terms collapse to ``gamma / sigma (dy - dbeta/m - xhat dgamma/m)``.
    ``mean`` and ``invstd`` are what the forward used: the batch's in training, the
    running statistics in inference (``training=False``), where dx is ``gamma/sigma dy``.
    dgamma and dbeta come back float64.

    >>> import numpy as np
    >>> x = np.array([[[1.0]], [[3.0]]])
    >>> dx, dg, db = batchnorm_backward(np.array([[[1.0]], [[0.0]]]), x, np.ones(1),
    ...                                 np.array([2.0]), np.array([1.0]))
    >>> dx.ravel(), dg, db
    (array([0., 0.]), array([-1.]), array([1.]))
    """
    C = x.shape[1]
    dx = np.empty_like(x)
    if not x.size:  # sums over no values (the kernels read each slice's first value)
        return dx, np.zeros(C), np.zeros(C)
    dgamma, dbeta = np.empty(C), np.empty(C)
    kernel = _backward_rows if x.shape[2] == 1 else _backward_planes
    _split(kernel, x, (dy, x, gamma, mean, invstd, bool(training), dx, dgamma, dbeta))
    return dx, dgamma, dbeta


@jit
def _affine(x, scale, shift, y, c_lo, c_hi):
    N, _, M = x.shape
    for n in range(N):
        for c in range(c_lo, c_hi):
            a, b = scale[c], shift[c]
            src, dst = x[n, c], y[n, c]
            for k in range(M):
                dst[k] = src[k] * a + b


def batchnorm_forward_infer(x, gamma, beta, running_mean, running_var, eps):
    """Eq. 3.24: ``y = gamma (x - mu) / sqrt(sigma^2 + eps) + beta`` with the running
    statistics; one pass, ``y = x scale + shift``. Returns ``(y, invstd)``.

    >>> import numpy as np
    >>> y, _ = batchnorm_forward_infer(np.array([[[4.0]]]), np.ones(1), np.zeros(1),
    ...                                np.array([2.0]), np.array([4.0]), 0.0)
    >>> y.ravel()
    array([1.])
    """
    invstd = 1.0 / np.sqrt(np.asarray(running_var, np.float64) + eps)
    scale = np.asarray(gamma, np.float64) * invstd
    shift = np.asarray(beta, np.float64) - np.asarray(running_mean, np.float64) * scale
    y = np.empty_like(x)
    _split(_affine, x, (x, scale.astype(x.dtype), shift.astype(x.dtype), y))
    return y, invstd
