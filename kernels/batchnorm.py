"""Batch normalization (section 3.3.3): training forward (Algorithm 1), the fused backward
(eqs. 3.22-3.23) and the inference forward (eq. 3.24), on ``x`` of shape (N, C, M).

The caller views (N, C) input as (N, C, 1) and (N, C, H, W) as (N, C, H W); the
statistics are per channel, over the m = N M values of that channel.

Sums run over blocks of at most :data:`BLOCK` values of a row, in the data's dtype; the
blocks' sums are added in float64 (where the forward streams y, a block is summed in
register lanes, see below, within the same bound). float32 data thus get float32
statistics, as in PyTorch: a block of k values sums with at most k - 1 roundings (an
error of at most (k - 1) 2^-24 of the sum of their magnitudes, about sqrt(k) 2^-24 in
practice), and the error does not grow with m beyond one block's. Summing float32 values in float64 costs a
conversion per value, which the hot loops cannot hide: one thread summed an L2-resident
float32 row at 26-31 GB/s in float64 and at 51-61 GB/s in float32, and on the Xeon
below, float32 block sums took 0.85x the forward+backward time of float64 sums on
bn-large, 0.95x on bn-small and 0.95-0.96x on (64, 256, 14 x 14) (kernels alone,
interleaved turns). (N, C) input, where a channel's values are strided, keeps float64
sums.

Memory traffic is the cost. Each kernel reads a group of channels twice, the second
time from cache:

* forward: one pass sums x for the mean and variance (shifted by the channel's first
  value, so that a large mean does not cancel the variance away), and a second writes
  ``y = gamma xhat + beta``. The passes are pipelined: the loop that writes a row of
  one group also sums the matching row of the next group, so that reads from memory
  and writes overlap. When the arrays do not fit in the last-level cache (the part a
  process can count on, :func:`._caches.usable_cache_bytes`), y goes out with streaming
  stores instead, one whole cache line at a time, each line written after a line of
  the next group's row is read and added into accumulators held in registers
  (:func:`_stream_lines_and_sum`, :mod:`._lanes`). The forward alone takes about as
  long either way, but a plain store leaves y's lines dirty in the L3 for the backward
  to write back: on bn-large, forward+backward took 0.94-1.01x (median of five runs
  0.97x) the time with y streamed on a Zen 4 with a 32 MB L3 (kernels alone, 20-40
  interleaved turns a run). Against streaming a whole group and summing the next one
  after it, the line-by-line pipeline took 0.83-0.86x the forward's time and
  0.91-0.93x the forward+backward's on bn-large, on the Xeon below (kernels alone,
  medians of 30 interleaved turns, three runs). Streamed or not, a channel's sums are the
  same bits wherever its group starts; the two ways of summing round differently.
* backward: one pass sums ``dy`` and ``dy (x - mean)`` (eq. 3.22 gives dbeta and
  dgamma), a second writes dx from eq. 3.23 collapsed to
  ``dx = gamma / sigma (dy - dbeta / m - xhat dgamma / m)``. When the arrays do not fit
  in the last-level cache, dx goes out with streaming stores (:mod:`._stream`). The
  backward is not pipelined: the next group's dy and x would have to stay in the L2
  beside this group's, and on bn-large (a channel 401 KB an array, four of them in a 2 MB
  L2) the forward's line-by-line pipeline, written for dx, took 0.97-0.98x the
  backward's time (medians of two runs; quartiles 0.92-1.01), not worth its code.

On a 2-core Xeon virtual machine whose L3 sysfs gives as 300 MB, y and dx both streamed
took, against both plain, 0.71-0.82x the forward+backward time on bn-large (three arrays
77 MB), 0.99x at (24, 64, 56 x 56) (58 MB), 1.10-1.24x from 48 MB down and 1.27x on
bn-small (25 MB): hence the L3 capped at 64 MB.

Both passes go through a group in memory order: for each item n, the group's channels
are one contiguous run. How many channels a group has (:func:`group_channels`, sizes
read by :mod:`._caches`) depends on where the second pass can find them:

* On AMD's EPYCs (Zen 4, Zen 5: 1 MB of L2, an L3 shared by a few cores and near), one
  channel alone is a row of M values followed by a jump of C M, which the hardware
  prefetchers follow badly. A group's run is made at least :data:`RUN_BYTES` long, and
  the group no larger than fits, twice over (the forward's group being written and the
  next one being summed; the backward's dy and x), in a core's L2 plus a quarter of its
  thread's share of the L3. Larger groups lose their lines before the second pass reads
  them: on bn-large, (32, 64, 56 x 56) float32, two threads, a new batch every call,
  groups of 16 channels took 1.17-1.20x the time of groups of 2-3 in the backward and
  1.15-1.19x in the forward; on bn-small, (64, 32, 32 x 32), groups of 3-4 took
  1.04-1.12x the time of groups of 8 in the backward (ratios of medians, variants taking
  turns in one process).
  Where x and dy fit together in the usable L3, the second pass finds them there
  whatever the group's size, and small groups only cut the runs short: each thread then
  takes its channels as one slice and one group (:func:`whole_slices`). On a Zen 4 (1
  MB of L2, 32 MB of L3), forward+backward, kernels alone, against two slices a thread
  in groups sized as above: 0.79-0.90x on bn-small (16 channels a group against 8,
  five runs; forward 0.91x, backward 0.92x), 0.72-0.82x on (128, 32, 32 x 32), 0.87x
  on (32, 128, 28 x 28), 0.92x on (64, 256, 14 x 14), 0.95x on (16, 32, 32 x 32); where
  they do not fit, 1.00x at (24, 64, 56 x 56) and 1.03-1.08x on bn-large, which keep
  the rule above (medians of 12-40 interleaved turns).
* On Intel's Xeon (2 MB of L2, an L3 spread over the whole socket's mesh and slow to
  reach from one core), the second pass must find its group in the L2: the group is as
  large as fits, twice over, in a quarter of it (:data:`L2_SHARE`). Forward+backward,
  against groups sized as on the EPYCs: 0.83-0.87x on bn-small (1 channel against 8),
  0.97-1.00x on bn-large (1 against 3), 0.87x on (64, 256, 14 x 14) (5 against 42);
  groups of one 784-byte row took 1.23x there.

Channel groups are split across the kernel threads as native jobs
(:func:`._threads.run_sliced`): each kernel takes its slices of channels itself, so the
threads do not wait on each other for the GIL; against slices handed out from Python,
bn-small's forward+backward took 0.96-0.98x the time (kernels alone, medians of 30
interleaved turns, three runs) and bn-large's 0.99x. (N, C) input, where a channel's
values are strided, runs row by row instead, with C accumulators.
"""

from __future__ import annotations

import numpy as np

from ._caches import cpu_vendor, usable_cache_bytes
from ._jit import REDUCTION_MATH, jit
from ._lanes import add_shifted, add_shifted_last, lane_count, merge, total, zeros
from ._stream import LINE, STREAMING, affine_line, dx_line, store_fence, whole_lines
from ._threads import run_sliced, take_slice, thread_count

#: Below this many elements a kernel runs on the calling thread alone.
MIN_ELEMENTS_PER_THREAD = 1 << 16
#: Slices per thread for the (N, C, M) kernels where groups are sized by runs and caches
#: (one where :func:`whole_slices`): fewer than :mod:`._threads`' default, because the
#: forward sums the first group of every slice with no write to overlap.
PLANE_SLICES_PER_THREAD = 2


#: The shortest contiguous run (bytes) of a group's rows per item, where groups are sized
#: for long runs: shorter runs start a new prefetch stream too often (see the module
#: docstring).
RUN_BYTES = 32 << 10
#: The share of a core's L2 that two arrays' worth of a group fills, where groups are
#: sized to stay in the L2 (Intel; see the module docstring).
L2_SHARE = 4
#: Values per block of a row's sums: each block is summed in the data's dtype, the block
#: sums in float64 (see the module docstring).
BLOCK = 4096


def _groups_stay_in_l2():
    """Whether channel groups are sized to stay in the L2 (Intel) rather than for long
    runs (AMD, and any other CPU); see the module docstring."""
    return cpu_vendor() == "GenuineIntel"


def whole_slices(x):
    """Whether each kernel thread takes its channels of ``x`` (N, C, M) as one slice and
    one group: where groups are sized for long runs (not Intel) and x and dy fit together
    in the usable L3, so that the second pass finds them there whatever the group's size
    (see the module docstring)."""
    return not _groups_stay_in_l2() and not exceeds_cache(x, 2)


def group_channels(x):
    """Channels per group for ``x`` (N, C, M); at least one.

    The forward holds two groups of x in cache (the one being written, the next being
    summed), the backward one group each of dy and x. Where groups stay in the L2
    (Intel), as many channels as fit, two arrays' worth, in ``1 / L2_SHARE`` of a core's
    L2: on a 2 MB L2, 1 channel on bn-large and on bn-small. Elsewhere, all of them where
    x and dy fit in the usable L3 (:func:`whole_slices`: the kernels then cap a group at
    their slice, one a thread); else enough that each item's run of the group's rows is
    at least :data:`RUN_BYTES` long, but no more than fit, two arrays' worth, in a core's
    L2 plus a quarter of this thread's share of the usable L3
    (:func:`._caches.usable_cache_bytes`): on bn-large, a 12.25 KiB row, 3 channels."""
    N, C, M = x.shape
    channel = max(1, 2 * N * M * x.itemsize)
    if _groups_stay_in_l2():
        return max(1, usable_cache_bytes(2) // L2_SHARE // channel)
    if whole_slices(x):
        return max(1, C)
    row = max(1, M * x.itemsize)
    budget = usable_cache_bytes(2) + usable_cache_bytes(3) // (4 * thread_count())
    return max(1, min(-(-RUN_BYTES // row), budget // channel))


def exceeds_cache(x, arrays):
    """Whether ``arrays`` arrays like ``x``, read and written together, do not fit in the
    usable part of the last-level cache (so that what a kernel writes will not stay
    there)."""
    return x.nbytes * arrays > usable_cache_bytes(3)


def _streams_output(x):
    """Whether a (N, C, M) kernel writes its output (y, dx) with streaming stores: where
    they can be emitted and three arrays like ``x`` do not fit in the last-level cache
    (the backward's dy, x and dx; the forward's x and y, and the dy to come; see the
    module docstring)."""
    return STREAMING and exceeds_cache(x, 3)


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


@jit
def _sum_group(x, s, s2, c_lo, g0, g1, stream):
    """Add each row's shifted sums of channels ``[g0, g1)`` into ``s``, ``s2``: the first
    group of a slice, summed as every later group will be (by
    :func:`_stream_lines_and_sum` where the output is streamed, else by the fused block
    loop, writing into a scratch block), so that a channel's sums, rounding included, do
    not depend on where groups start."""
    zero = x.dtype.type(0)
    scratch = np.empty(0 if stream else min(x.shape[2], BLOCK), x.dtype)
    for n in range(x.shape[0]):
        for c in range(g0, g1):
            if stream:
                r, r2 = _stream_lines_and_sum(x[n, c], x[n, c], 0, 0, zero, zero, zero, x[n, c], x[0, c, 0])
                s[c - c_lo] += r
                s2[c - c_lo] += r2
                continue
            for k0 in range(0, x.shape[2], BLOCK):
                k1 = k0 + BLOCK
                r, r2 = _normalize_block_and_sum(x[n, c, k0:k1], scratch, zero, zero, zero, x[n, c, k0:k1],
                                                 x[0, c, 0])
                s[c - c_lo] += r
                s2[c - c_lo] += r2


@jit
def _write_group_and_sum_next(x, y, hi, a, b, s, s2, c_lo, g0, g1, n0, n1, stream):
    """``y = (x - hi) a + b`` for the channels ``[g0, g1)`` (their coefficients at
    ``c - c_lo``), while the rows of the next group ``[n0, n1)`` are summed into ``s``,
    ``s2``: each row written goes with the matching row of the next group (see the
    module docstring)."""
    N, _, M = x.shape
    if stream:
        for n in range(N):
            for c in range(g0, g1):
                i = c - c_lo
                ahead = n0 + c - g0
                if ahead < n1:
                    r, r2 = _stream_row_and_sum(x[n, c], y[n, c], hi[i], a[i], b[i], x[n, ahead],
                                                x[0, ahead, 0])
                    s[ahead - c_lo] += r
                    s2[ahead - c_lo] += r2
                else:
                    _affine_row(x[n, c], y[n, c], hi[i], a[i], b[i], True)
    else:
        for n in range(N):
            for c in range(g0, g1):
                i = c - c_lo
                ahead = n0 + c - g0
                if ahead < n1:
                    for k0 in range(0, M, BLOCK):
                        k1 = k0 + BLOCK
                        r, r2 = _normalize_block_and_sum(x[n, c, k0:k1], y[n, c, k0:k1], hi[i], a[i], b[i],
                                                         x[n, ahead, k0:k1], x[0, ahead, 0])
                        s[ahead - c_lo] += r
                        s2[ahead - c_lo] += r2
                else:
                    _affine(x[n, c], y[n, c], hi[i], a[i], b[i])


@jit
def _forward_train_planes(counters, bounds, ticket, x, gamma, beta, eps, group, stream, y, mean, var, invstd):
    """Algorithm 1 on the slices of channels ``[c_lo, c_hi)`` that this thread takes
    (:func:`._threads.take_slice`), a group at a time (see the module docstring)."""
    N, _, M = x.shape
    m = N * M
    c_lo, c_hi = take_slice(counters, bounds, ticket)
    while c_lo < c_hi:
        width = c_hi - c_lo
        s = np.zeros(width)
        s2 = np.zeros(width)
        hi = np.empty(width, x.dtype)
        a = np.empty(width, x.dtype)
        b = np.empty(width, x.dtype)
        g0, g1 = c_lo, min(c_hi, c_lo + group)
        _sum_group(x, s, s2, c_lo, g0, g1, stream)
        while g0 < c_hi:
            for c in range(g0, g1):
                i = c - c_lo
                hi[i], a[i], b[i] = _forward_coefficients(np.float64(x[0, c, 0]), s[i], s2[i], m, c, gamma, beta,
                                                          eps, mean, var, invstd, x)
            n0, n1 = g1, min(c_hi, g1 + group)  # the next group: summed while this one is written
            _write_group_and_sum_next(x, y, hi, a, b, s, s2, c_lo, g0, g1, n0, n1, stream)
            g0, g1 = n0, n1
        if stream:
            store_fence()
        c_lo, c_hi = take_slice(counters, bounds, ticket)


@jit(fastmath=REDUCTION_MATH)
def _forward_train_rows(counters, bounds, ticket, x, gamma, beta, eps, y, mean, var, invstd):
    """Algorithm 1 for (N, C) input, on the slices of channels ``[c_lo, c_hi)`` that this
    thread takes (:func:`._threads.take_slice`), row by row."""
    N = x.shape[0]
    c_lo, c_hi = take_slice(counters, bounds, ticket)
    while c_lo < c_hi:
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
        c_lo, c_hi = take_slice(counters, bounds, ticket)


def _split(kernel, x, args, slices_per_thread=PLANE_SLICES_PER_THREAD):
    """Run ``kernel`` over x's channels on the kernel threads (:func:`._threads.run_sliced`)."""
    N, C, M = x.shape
    per_channel = max(N * M, 1)
    run_sliced(kernel, C, args, min_per_thread=max(1, MIN_ELEMENTS_PER_THREAD // per_channel),
               slices_per_thread=slices_per_thread)


def _plane_slices(x):
    """Slices per thread for the (N, C, M) training kernels: one where
    :func:`whole_slices`, else :data:`PLANE_SLICES_PER_THREAD`."""
    return 1 if whole_slices(x) else PLANE_SLICES_PER_THREAD


@jit
def _blend(running, batch, momentum, factor):
    """``running = (1 - momentum) running + momentum factor batch``, in place, computed in
    float64 and rounded once to ``running``'s dtype."""
    for c in range(running.size):
        running[c] = (1.0 - momentum) * np.float64(running[c]) + momentum * factor * batch[c]


@jit
def _blend_both(running_mean, running_var, mean, var, momentum, factor):
    """:func:`_blend` of the running mean (factor 1) and the running variance (``factor``)."""
    _blend(running_mean, mean, momentum, 1.0)
    _blend(running_var, var, momentum, factor)


def batchnorm_forward_train(x, gamma, beta, eps, running_mean=None, running_var=None, momentum=0.1):
    """Algorithm 1 (eqs. 3.19-3.20) on ``x`` (N, C, M): returns ``(y, mean, var, invstd)``.

    ``mean`` and ``var`` are the batch statistics (the variance biased, divided by m),
    ``invstd = 1 / sqrt(var + eps)``; all three float64 of shape (C,). ``gamma`` and
    ``beta`` may be float32 or float64. The running statistics, float ndarrays of shape
    (C,) when given, are updated in place:
    ``running = (1 - momentum) running + momentum batch``, with the batch variance made
    unbiased by ``m / (m - 1)`` for the m = N M values of a channel (eq. 3.24, eq. 1.17).

    >>> import numpy as np
    >>> x = np.array([[[1.0]], [[3.0]]])
    >>> running_var = np.ones(1)
    >>> y, mean, var, invstd = batchnorm_forward_train(x, np.ones(1), np.zeros(1), 0.0,
    ...                                                running_var=running_var, momentum=0.5)
    >>> y.ravel(), mean, var, running_var
    (array([-1.,  1.]), array([2.]), array([1.]), array([1.5]))
    """
    N, C, M = x.shape
    m = N * M
    if C and not m:
        raise ValueError(f"batchnorm_forward_train: input {x.shape} has no values per channel; "
                         f"the batch mean and variance are undefined")
    if running_var is not None and m < 2:
        raise ValueError(f"batchnorm_forward_train: input {x.shape} has {m} value per channel; the "
                         f"unbiased variance for running_var needs at least two")
    y = np.empty_like(x)
    mean, var, invstd = np.empty(C), np.empty(C), np.empty(C)
    if C and M == 1:
        _split(_forward_train_rows, x, (x, gamma, beta, float(eps), y, mean, var, invstd))
    elif C:
        _split(_forward_train_planes, x, (x, gamma, beta, float(eps), group_channels(x), _streams_output(x),
                                          y, mean, var, invstd), _plane_slices(x))
    if running_mean is not None and running_var is not None:  # a layer's call: one dispatch
        _blend_both(running_mean, running_var, mean, var, float(momentum), m / (m - 1))
    elif running_mean is not None:
        _blend(running_mean, mean, float(momentum), 1.0)
    elif running_var is not None:
        _blend(running_var, var, float(momentum), m / (m - 1))
    return y, mean, var, invstd


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


@jit(fastmath=REDUCTION_MATH)
def _backward_planes(counters, bounds, ticket, dy, x, gamma, mean, invstd, train, group, stream, dx, dgamma, dbeta):
    """Eqs. 3.22-3.23 on the slices of channels ``[c_lo, c_hi)`` that this thread takes
    (:func:`._threads.take_slice`), a group at a time (see the module docstring)."""
    N, _, M = x.shape
    m = N * M
    c_lo, c_hi = take_slice(counters, bounds, ticket)
    while c_lo < c_hi:
        width = c_hi - c_lo
        s = np.zeros(width)
        sx = np.zeros(width)
        hi = np.empty(width, x.dtype)
        c1 = np.empty(width, x.dtype)
        c2 = np.empty(width, x.dtype)
        c0 = np.empty(width, x.dtype)
        for g0 in range(c_lo, c_hi, group):
            g1 = min(c_hi, g0 + group)
            for c in range(g0, g1):
                hi[c - c_lo] = mean[c]  # rounded to x's dtype: the mean's split, hi + lo
            for n in range(N):
                for c in range(g0, g1):
                    for k0 in range(0, M, BLOCK):
                        k1 = k0 + BLOCK
                        r, rx = _dy_sums(dy[n, c, k0:k1], x[n, c, k0:k1], hi[c - c_lo])
                        s[c - c_lo] += r
                        sx[c - c_lo] += rx
            for c in range(g0, g1):
                i = c - c_lo
                c1[i], c2[i], c0[i] = _backward_coefficients(s[i], sx[i], hi[i], m, c, gamma, mean, invstd, train,
                                                             dgamma, dbeta, x)
            for n in range(N):
                for c in range(g0, g1):
                    i = c - c_lo
                    _dx_row(dy[n, c], x[n, c], dx[n, c], hi[i], c1[i], c2[i], c0[i], stream)
        if stream:
            store_fence()
        c_lo, c_hi = take_slice(counters, bounds, ticket)


@jit(fastmath=REDUCTION_MATH)
def _backward_rows(counters, bounds, ticket, dy, x, gamma, mean, invstd, train, dx, dgamma, dbeta):
    """Eqs. 3.22-3.23 for (N, C) input, on the slices of channels ``[c_lo, c_hi)`` that
    this thread takes (:func:`._threads.take_slice`), row by row."""
    N = x.shape[0]
    c_lo, c_hi = take_slice(counters, bounds, ticket)
    while c_lo < c_hi:
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
        c_lo, c_hi = take_slice(counters, bounds, ticket)


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
    if x.shape[2] == 1:
        _split(_backward_rows, x, (dy, x, gamma, mean, invstd, bool(training), dx, dgamma, dbeta))
    else:
        _split(_backward_planes, x, (dy, x, gamma, mean, invstd, bool(training), group_channels(x),
                                     _streams_output(x),
                                     dx, dgamma, dbeta), _plane_slices(x))
    return dx, dgamma, dbeta


@jit(fastmath=REDUCTION_MATH)
def _forward_infer_planes(counters, bounds, ticket, x, scale, shift, y):
    """Eq. 3.24 on the slices of channels ``[c_lo, c_hi)`` that this thread takes
    (:func:`._threads.take_slice`)."""
    zero = x.dtype.type(0)
    c_lo, c_hi = take_slice(counters, bounds, ticket)
    while c_lo < c_hi:
        for n in range(x.shape[0]):
            for c in range(c_lo, c_hi):
                _affine(x[n, c], y[n, c], zero, scale[c], shift[c])
        c_lo, c_hi = take_slice(counters, bounds, ticket)


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
    _split(_forward_infer_planes, x, (x, scale.astype(x.dtype), shift.astype(x.dtype), y))
    return y, invstd
