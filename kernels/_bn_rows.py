"""One row of one channel: the sums and the writes that the batchnorm kernels
(:mod:`.batchnorm`, :mod:`.batchnorm_items`) are made of, and the per-channel
coefficients between them (Algorithm 1, eqs. 3.19-3.20; eqs. 3.22-3.23).

A row is summed in blocks of at most :data:`BLOCK` values, each block in the data's
dtype, the blocks' sums returned in float64 (see :mod:`.batchnorm` for the error bound);
where the output is streamed, the forward sums a row line by line in register lanes
(:func:`_stream_lines_and_sum`, :mod:`._lanes`), within the same bound. Every kernel sums
a row through :func:`row_sums` or the fused loops here, so that a channel's sums are the
same bits whichever kernel, group or chunk of items it comes from.
"""

from __future__ import annotations

import numpy as np

from ._jit import REDUCTION_MATH, jit
from ._lanes import add_shifted, add_shifted_last, lane_count, merge, total, zeros
from ._stream import LINE, affine_line, dx_line, whole_lines

#: Values per block of a row's sums: each block is summed in the data's dtype, the block
#: sums in float64 (see the module docstring).
BLOCK = 4096


@jit(fastmath=REDUCTION_MATH)
def _dy_sums(g, a, hi):
    """``sum dy`` and ``sum dy (x - hi)`` (eq. 3.22) over one block of a row, summed in the
    data's dtype and returned as float64."""
    s = g.dtype.type(0)
    sx = g.dtype.type(0)
    for k in range(g.size):
        s += g[k]
        sx += g[k] * (a[k] - hi)
    return np.float64(s), np.float64(sx)


@jit(fastmath=REDUCTION_MATH)
def _affine(p, out, hi, k1, k2):
    """``out = (p - hi) k1 + k2``: the forward's ``gamma xhat + beta`` (eqs. 3.20, 3.24)."""
    for k in range(out.size):
        out[k] = (p[k] - hi) * k1 + k2


@jit(fastmath=REDUCTION_MATH)
def _affine_row(p, out, hi, k1, k2, stream):
    """:func:`_affine` over one row; with ``stream``, the row's whole cache lines are
    written by the same formula as streaming stores (:mod:`._stream`)."""
    if not stream:
        _affine(p, out, hi, k1, k2)
        return
    start, end = whole_lines(out)
    _affine(p[:start], out[:start], hi, k1, k2)
    for k in range(start, end, LINE // out.itemsize):
        affine_line(p, out, k, hi, k1, k2)
    _affine(p[end:], out[end:], hi, k1, k2)


@jit(fastmath=REDUCTION_MATH)
def _dx(p, q, out, hi, k1, k2, k0):
    """``out = k1 p + k2 (q - hi) + k0``: eq. 3.23 with p = dy, q = x."""
    for k in range(out.size):
        out[k] = k1 * p[k] + k2 * (q[k] - hi) + k0


@jit(fastmath=REDUCTION_MATH)
def _dx_row(p, q, out, hi, k1, k2, k0, stream):
    """:func:`_dx` over one row; with ``stream``, the row's whole cache lines are written
    by the same formula as streaming stores (:mod:`._stream`)."""
    if not stream:
        _dx(p, q, out, hi, k1, k2, k0)
        return
    start, end = whole_lines(out)
    _dx(p[:start], q[:start], out[:start], hi, k1, k2, k0)
    for k in range(start, end, LINE // out.itemsize):
        dx_line(p, q, out, k, hi, k1, k2, k0)
    _dx(p[end:], q[end:], out[end:], hi, k1, k2, k0)


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
def _normalize_block_and_sum(src, dst, hi, a, b, ahead, pivot):
    """``dst = (src - hi) a + b``, and the sums of ``ahead - pivot`` and of its square,
    summed in the data's dtype and returned as float64: one block of a row written
    while a block of the next group is read."""
    s = src.dtype.type(0)
    s2 = src.dtype.type(0)
    for k in range(src.size):
        dst[k] = (src[k] - hi) * a + b
        v = ahead[k] - pivot
        s += v
        s2 += v * v
    return np.float64(s), np.float64(s2)


@jit(inline="always")
def _stream_lines_and_sum(p, out, start, writes, hi, a, b, q, pivot):
    """The shifted sums of the row ``q``, ``sum (q - pivot)`` and ``sum (q - pivot)^2``
    (eqs. 3.19-3.20), returned as float64, while ``writes`` lines of
    ``out = (p - hi) a + b`` are streamed from ``start``, one after each line of ``q``
    is read, so that reads and writes go to memory together (see the module
    docstring). In blocks of :data:`BLOCK` values, each line goes to one of four pairs of
    register accumulators in turn (:mod:`._lanes`); the values after the last whole line
    go into the last block's fourth pair; a block's pairs are merged, and their lanes
    added in float64. Not fast-math: every streamed row's sums, and the sums of a
    slice's first group (``writes = 0``), are the same bits. numba inlines it into its
    callers (a call per row took 1.8x the time of the inlined loop on rows of 196
    values), so they must not be fast-math either: its float64 additions would take
    their flags."""
    L = lane_count(q.itemsize)
    whole = q.size // L
    s = 0.0
    s2 = 0.0
    for t0 in range(0, whole, BLOCK // L):
        t1 = min(whole, t0 + BLOCK // L)
        a0 = b0 = a1 = b1 = a2 = b2 = a3 = b3 = zeros(q)
        t = t0
        while t + 4 <= t1:
            if t < writes:
                affine_line(p, out, start + t * L, hi, a, b)
            a0, b0 = add_shifted(a0, b0, q, t * L, pivot)
            if t + 1 < writes:
                affine_line(p, out, start + (t + 1) * L, hi, a, b)
            a1, b1 = add_shifted(a1, b1, q, (t + 1) * L, pivot)
            if t + 2 < writes:
                affine_line(p, out, start + (t + 2) * L, hi, a, b)
            a2, b2 = add_shifted(a2, b2, q, (t + 2) * L, pivot)
            if t + 3 < writes:
                affine_line(p, out, start + (t + 3) * L, hi, a, b)
            a3, b3 = add_shifted(a3, b3, q, (t + 3) * L, pivot)
            t += 4
        for u in range(t, t1):  # at most three lines
            if u < writes:
                affine_line(p, out, start + u * L, hi, a, b)
            if u == t:
                a0, b0 = add_shifted(a0, b0, q, u * L, pivot)
            elif u == t + 1:
                a1, b1 = add_shifted(a1, b1, q, u * L, pivot)
            else:
                a2, b2 = add_shifted(a2, b2, q, u * L, pivot)
        if t1 == whole and whole * L < q.size:
            a3, b3 = add_shifted_last(a3, b3, q, q.size - whole * L, pivot)
        s += total(merge(merge(a0, a1), merge(a2, a3)))
        s2 += total(merge(merge(b0, b1), merge(b2, b3)))
    if whole == 0:  # a row shorter than a line
        for k in range(q.size):
            v = q[k] - pivot
            s += np.float64(v)
            s2 += np.float64(v * v)
    return s, s2


@jit(inline="always")
def _stream_row_and_sum(p, out, hi, a, b, q, pivot):
    """``out = (p - hi) a + b`` over one row, streamed, while the row ``q`` of the next
    group is summed (:func:`_stream_lines_and_sum`); returns q's sums."""
    start, end = whole_lines(out)
    _affine(p[:start], out[:start], hi, a, b)
    sums = _stream_lines_and_sum(p, out, start, (end - start) // lane_count(out.itemsize), hi, a, b, q, pivot)
    _affine(p[end:], out[end:], hi, a, b)
    return sums


@jit(inline="always")
def add_row_sums(x, n, c, stream, scratch, s, s2, i):
    """Add the shifted sums of row ``x[n, c]`` (shifted by the channel's first value
    ``x[0, c, 0]``) into ``s[i]`` and ``s2[i]``, as the forward sums a row that it does
    not write: line by line in register lanes where the output is streamed (the row's
    total added once), else by the fused block loop writing into ``scratch`` (at least
    ``min(M, BLOCK)`` values, each block's sums added as they come). Inlined, so its
    caller must not be fast-math (see :func:`_stream_lines_and_sum`)."""
    zero = x.dtype.type(0)
    pivot = x[0, c, 0]
    if stream:
        r, r2 = _stream_lines_and_sum(x[n, c], x[n, c], 0, 0, zero, zero, zero, x[n, c], pivot)
        s[i] += r
        s2[i] += r2
        return
    for k0 in range(0, x.shape[2], BLOCK):
        k1 = k0 + BLOCK
        r, r2 = _normalize_block_and_sum(x[n, c, k0:k1], scratch, zero, zero, zero, x[n, c, k0:k1], pivot)
        s[i] += r
        s2[i] += r2


@jit(fastmath=REDUCTION_MATH)
def _backward_coefficients(s, sx, hi, m, c, gamma, mean, invstd, train, dgamma, dbeta, like):
    """Eq. 3.22 for channel ``c`` (stores dgamma, dbeta) and eq. 3.23's dx as
    ``dx = c1 dy + c2 (x - hi) + c0``, from ``s = sum dy`` and ``sx = sum dy (x - hi)``:
    returns ``(c1, c2, c0)`` in ``like``'s dtype. ``hi`` is the mean rounded to that
    dtype (split as in the forward, ``mean = hi + lo``), so that ``x - hi`` rounds once."""
    inv = invstd[c]
    mu = mean[c]
    kind = like.dtype.type
    sx -= (mu - np.float64(hi)) * s
    dgamma[c] = sx * inv
    dbeta[c] = s
    k1 = gamma[c] * inv
    if train:  # eq. 3.23: dx = k1 (dy - dbeta / m - xhat dgamma / m)
        k2 = -k1 * inv * dgamma[c] / m
        k0 = -k1 * s / m
    else:  # eq. 3.24 is affine in x: dx = gamma / sigma dy
        k2 = 0.0
        k0 = 0.0
    return kind(k1), kind(k2), kind(k0 - k2 * (mu - np.float64(hi)))
