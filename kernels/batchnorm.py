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
time from cache (or, where x and dy fit in the L3, a chunk of items: see below):

* forward: one pass sums x for the mean and variance (shifted by the channel's first
  value, so that a large mean does not cancel the variance away), and a second writes
  ``y = gamma xhat + beta``. The passes are pipelined: the loop that writes a row of
  one group also sums the matching row of the next group, so that reads from memory
  and writes overlap. When the arrays do not fit in the last-level cache (the part a
  process can count on, :func:`._caches.usable_cache_bytes`), y goes out with streaming
  stores instead, one whole cache line at a time, each line written after a line of
  the next group's row is read and added into accumulators held in registers
  (:func:`._bn_rows._stream_lines_and_sum`, :mod:`._lanes`). The forward alone takes
  about as long either way, but a plain store leaves y's lines dirty in the L3 for the
  backward to write back: on bn-large, forward+backward took 0.94-1.01x (median of five runs
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
  Where x and dy fit together in the usable L3, the second pass finds them there in
  any order, and groups only cut the runs short and leave a thread idle at the end of
  its last slice: the kernels of :mod:`.batchnorm_items` then go through x by chunks of
  whole items, which the threads take as they come (:func:`by_items`). On a Zen 4 (1 MB
  of L2, 32 MB of L3), forward+backward, kernels alone, against the channel groups of
  the session before: 0.75-0.91x on bn-small, 0.71x on (128, 32, 32 x 32), 0.86x on
  (32, 128, 28 x 28), 0.85x on (16, 32, 32 x 32) and 0.42x on (64, 256, 14 x 14), whose
  784-byte rows the groups streamed (medians of 15-40 interleaved turns). One slice and
  one group a thread, tried first, gave 0.79-0.90x on bn-small and 0.92x on (64, 256,
  14 x 14). Where x and dy do not fit, bn-large, (24, 64, 56 x 56), whole items took
  1.15x and one group a thread 1.00-1.08x: they keep the rule above.
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

from ._bn_rows import (
    BLOCK, _affine, _affine_row, _backward_coefficients, _dx_row, _dy_sums, _forward_coefficients,
    _normalize_block_and_sum, _stream_row_and_sum, add_row_sums,
)
from ._caches import cpu_vendor, usable_cache_bytes
from ._jit import REDUCTION_MATH, jit
from ._stream import STREAMING, store_fence
from ._threads import run_sliced, take_slice, thread_count
from .batchnorm_items import backward_items, forward_train_items, item_chunk
from .batchnorm_items import scratch as items_scratch

#: Below this many elements a kernel runs on the calling thread alone.
MIN_ELEMENTS_PER_THREAD = 1 << 16
#: Slices per thread for the (N, C, M) kernels: fewer than :mod:`._threads`' default,
#: because the forward sums the first group of every slice with no write to overlap.
PLANE_SLICES_PER_THREAD = 2


#: The shortest contiguous run (bytes) of a group's rows per item, where groups are sized
#: for long runs: shorter runs start a new prefetch stream too often (see the module
#: docstring).
RUN_BYTES = 32 << 10
#: The share of a core's L2 that two arrays' worth of a group fills, where groups are
#: sized to stay in the L2 (Intel; see the module docstring).
L2_SHARE = 4


def _groups_stay_in_l2():
    """Whether channel groups are sized to stay in the L2 (Intel) rather than for long
    runs (AMD, and any other CPU); see the module docstring."""
    return cpu_vendor() == "GenuineIntel"


def by_items(x):
    """Whether the training kernels go through ``x`` (N, C, M) by chunks of whole items
    (:mod:`.batchnorm_items`) rather than by channel groups: where groups would be sized
    for long runs (not Intel) and x and dy fit together in the usable L3, so that the
    second pass finds them there whatever the order (see the module docstring)."""
    return not _groups_stay_in_l2() and not exceeds_cache(x, 2)


def group_channels(x):
    """Channels per group for ``x`` (N, C, M); at least one.

    The forward holds two groups of x in cache (the one being written, the next being
    summed), the backward one group each of dy and x. Where groups stay in the L2
    (Intel), as many channels as fit, two arrays' worth, in ``1 / L2_SHARE`` of a core's
    L2: on a 2 MB L2, 1 channel on bn-large and on bn-small. Elsewhere, enough that each
    item's run of the group's rows is at least :data:`RUN_BYTES` long, but no more than
    fit, two arrays' worth, in a core's L2 plus a quarter of this thread's share of the
    usable L3 (:func:`._caches.usable_cache_bytes`): on bn-large, a 12.25 KiB row, this
    gives 3 channels (arrays that fit in the L3 go by items instead, :func:`by_items`)."""
    N, _, M = x.shape
    channel = max(1, 2 * N * M * x.itemsize)
    if _groups_stay_in_l2():
        return max(1, usable_cache_bytes(2) // L2_SHARE // channel)
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


@jit
def _sum_group(x, s, s2, c_lo, g0, g1, stream):
    """Add each row's shifted sums of channels ``[g0, g1)`` into ``s``, ``s2``: the first
    group of a slice, summed as every later group will be
    (:func:`._bn_rows.add_row_sums`), so that a channel's sums, rounding included, do
    not depend on where groups start."""
    scratch = np.empty(0 if stream else min(x.shape[2], BLOCK), x.dtype)
    for n in range(x.shape[0]):
        for c in range(g0, g1):
            add_row_sums(x, n, c, stream, scratch, s, s2, c - c_lo)


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


def _split(kernel, x, args):
    """Run ``kernel`` over x's channels on the kernel threads (:func:`._threads.run_sliced`)."""
    N, C, M = x.shape
    per_channel = max(N * M, 1)
    run_sliced(kernel, C, args, min_per_thread=max(1, MIN_ELEMENTS_PER_THREAD // per_channel),
               slices_per_thread=PLANE_SLICES_PER_THREAD)


def _by_chunks(kernel, x, chunk, args):
    """Run a :mod:`.batchnorm_items` kernel on x in chunks of ``chunk`` items on the
    kernel threads; the scratch in ``args`` has a slot for each of
    :func:`._threads.thread_count` threads."""
    N, C, M = x.shape
    per_chunk = max(chunk * C * M, 1)
    run_sliced(kernel, -(-N // chunk), args, min_per_thread=max(1, MIN_ELEMENTS_PER_THREAD // per_chunk),
               slices_per_thread=1)


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
    elif C and by_items(x):
        chunk = item_chunk(x)
        work, partial, coefficients, statistics, rows = items_scratch(x, chunk, thread_count(), 3, 3, rows=True)
        _by_chunks(forward_train_items, x, chunk, (work, chunk, x, gamma, beta, float(eps), partial, coefficients,
                                                   statistics, rows, y, mean, var, invstd))
    elif C:
        _split(_forward_train_planes, x, (x, gamma, beta, float(eps), group_channels(x), _streams_output(x),
                                          y, mean, var, invstd))
    if running_mean is not None and running_var is not None:  # a layer's call: one dispatch
        _blend_both(running_mean, running_var, mean, var, float(momentum), m / (m - 1))
    elif running_mean is not None:
        _blend(running_mean, mean, float(momentum), 1.0)
    elif running_var is not None:
        _blend(running_var, var, float(momentum), m / (m - 1))
    return y, mean, var, invstd


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
    elif by_items(x):
        chunk = item_chunk(x)
        work, partial, coefficients, statistics, _ = items_scratch(x, chunk, thread_count(), 4, 2)
        _by_chunks(backward_items, x, chunk, (work, chunk, dy, x, gamma, mean, invstd, bool(training), partial,
                                              coefficients, statistics, dx, dgamma, dbeta))
    else:
        _split(_backward_planes, x, (dy, x, gamma, mean, invstd, bool(training), group_channels(x),
                                     _streams_output(x),
                                     dx, dgamma, dbeta))
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
