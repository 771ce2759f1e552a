"""Batch normalization over chunks of items, for x and dy that fit in the last-level cache:
the training forward (Algorithm 1, eqs. 3.19-3.20) and the fused backward (eqs.
3.22-3.23) on ``x`` of shape (N, C, M), as :mod:`.batchnorm` calls them.

Each item ``x[n]`` is one contiguous run of C M values. Both passes of a kernel go
through the items in chunks of :func:`item_chunk` items, and every kernel thread takes
the next chunk that no thread has taken (one atomic step), so the threads share the work
whatever their speed:

1. the first pass sums each chunk's rows, channel by channel, into that chunk's own row of
   ``partial`` (rows summed by :mod:`._bn_rows`, as the channel-group kernels sum them);
2. once every chunk is summed (the threads wait for the last one, spinning), each thread
   adds the chunks' sums in chunk order and works out every channel's coefficients; the
   thread that summed the last chunk stores the statistics (mean, var, invstd;
   dgamma, dbeta);
3. the second pass writes each chunk's rows (y, or dx), reading x and dy again, from the
   cache, with plain stores: streaming stores were no faster here on (128, 32, 32 x 32),
   whose three arrays do not fit in the L3 (0.97-1.06x), and on rows of 784 bytes, (64,
   256, 14 x 14), streamed rows took 1.8x the time (a row's head and tail are stored
   plainly, its whole lines streamed).

The chunks are fixed by the shape alone and added in order, so the numbers do not depend
on the thread count or on which thread took which chunk. The kernels allocate nothing
(their scratch comes from the caller, a slot a thread): a kernel that failed half-way
would leave the others waiting for its chunk.

Against channel groups (:mod:`.batchnorm`), the runs are whole items (128 KB on bn-small
against the groups' 32-64 KB) and no thread waits for another at the end of a slice: on
a 2-core Zen 4 (1 MB of L2, 32 MB of L3), with two slices a thread the threads' last
slices ended 60-90 us apart on bn-small's backward (median; 150 us at the third
quartile); :mod:`.batchnorm`'s module docstring has the timings.
"""

from __future__ import annotations

import numpy as np

from ._bn_rows import BLOCK, _affine, _backward_coefficients, _dx, _dy_sums, _forward_coefficients, add_row_sums
from ._jit import REDUCTION_MATH, jit
from ._spin import SPINNING, fetch_add, spin_until
from ._threads import hand_out, wait_for_workers

#: The bytes of one array that a chunk of items holds at least: chunks of whole items,
#: about as long as a prefetcher needs to run at full speed.
CHUNK_BYTES = 256 << 10
#: The slots of a kernel's ``work`` counters: chunks taken in the first pass, chunks
#: summed, chunks taken in the second pass, threads that joined (each thread's scratch
#: slot).
TAKEN, SUMMED, WRITTEN, JOINED = 0, 1, 2, 3
#: A spin without end: the chunks a thread waits for are being summed by another thread.
_FOREVER = 1 << 62


def item_chunk(x):
    """Items per chunk of ``x`` (N, C, M): at least one, and enough that a chunk of one
    array holds at least :data:`CHUNK_BYTES` (2 items on bn-small, 128 KiB each)."""
    item = max(1, x.shape[1] * x.shape[2] * x.itemsize)
    return max(1, -(-CHUNK_BYTES // item))


def scratch(x, chunk, slots, coefficients, statistics, rows=False):
    """The work counters and the scratch of ``slots`` threads for a kernel on ``x``
    (N, C, M) in chunks of ``chunk`` items: ``(work, partial, coefficients, statistics,
    rows)``, with the chunks' sums ``partial`` (chunks, 2, C) and, per slot,
    ``coefficients`` arrays of C values of x's dtype, ``statistics`` float64 arrays of C
    values (where a thread that does not store the statistics writes them) and, with
    ``rows`` (the forward), a block of a row (else an empty one)."""
    N, C, M = x.shape
    return (np.zeros(4, np.int64), np.empty((-(-N // chunk), 2, C)), np.empty((slots, coefficients, C), x.dtype),
            np.empty((slots, statistics, C)), np.empty((slots, min(M, BLOCK) if rows else 0), x.dtype))


@jit(inline="always")
def _take(work, which, chunks):
    """The next chunk of the pass whose counter is ``work[which]``, and whether there was
    one left."""
    q = fetch_add(work, which, 1)
    return q, q < chunks


@jit(inline="always")
def _summed(work, chunks):
    """Count a chunk summed; True for the thread that summed the last one."""
    return fetch_add(work, SUMMED, 1) == chunks - 1


@jit(inline="always")
def _wait_for_sums(work, chunks):
    if SPINNING:  # without spinning (numba's JIT off) one thread runs the kernel alone
        spin_until(work, SUMMED, SUMMED + 1, chunks, True, _FOREVER)


@jit
def _chunk_totals(partial, c):
    """Channel ``c``'s two sums, the chunks' added in chunk order (not fast-math, whatever
    the caller: so the order holds)."""
    total = 0.0
    total2 = 0.0
    for q in range(partial.shape[0]):
        total += partial[q, 0, c]
        total2 += partial[q, 1, c]
    return total, total2


@jit
def forward_train_items(counters, bounds, ticket, work, chunk, x, gamma, beta, eps, partial, coefficients,
                        statistics, rows, y, mean, var, invstd):
    """Algorithm 1 (eqs. 3.19-3.20) on all of ``x`` by chunks of ``chunk`` items (see the
    module docstring); a native job of :func:`._threads.run_sliced` (``bounds`` unused).
    Not fast-math: the rows' sums are those of the channel-group kernels."""
    N, C, M = x.shape
    m = N * M
    chunks = partial.shape[0]
    hand_out(counters, ticket)
    slot = fetch_add(work, JOINED, 1)
    last = False
    q, more = _take(work, TAKEN, chunks)
    while more:
        s, s2 = partial[q, 0], partial[q, 1]
        s[:] = 0.0
        s2[:] = 0.0
        for n in range(q * chunk, min(N, (q + 1) * chunk)):
            for c in range(C):
                add_row_sums(x, n, c, False, rows[slot], s, s2, c)
        last = _summed(work, chunks) or last
        q, more = _take(work, TAKEN, chunks)
    _wait_for_sums(work, chunks)
    hi, a, b = coefficients[slot, 0], coefficients[slot, 1], coefficients[slot, 2]
    if last:
        to_mean, to_var, to_invstd = mean, var, invstd
    else:
        to_mean, to_var, to_invstd = statistics[slot, 0], statistics[slot, 1], statistics[slot, 2]
    for c in range(C):
        total, total2 = _chunk_totals(partial, c)
        hi[c], a[c], b[c] = _forward_coefficients(np.float64(x[0, c, 0]), total, total2, m, c, gamma, beta, eps,
                                                  to_mean, to_var, to_invstd, x)
    q, more = _take(work, WRITTEN, chunks)
    while more:
        for n in range(q * chunk, min(N, (q + 1) * chunk)):
            for c in range(C):
                _affine(x[n, c], y[n, c], hi[c], a[c], b[c])
        q, more = _take(work, WRITTEN, chunks)
    wait_for_workers(counters, ticket)


@jit(fastmath=REDUCTION_MATH)
def backward_items(counters, bounds, ticket, work, chunk, dy, x, gamma, mean, invstd, train, partial, coefficients,
                   statistics, dx, dgamma, dbeta):
    """Eqs. 3.22-3.23 on all of ``x`` by chunks of ``chunk`` items (see the module
    docstring); a native job of :func:`._threads.run_sliced` (``bounds`` unused)."""
    N, C, M = x.shape
    m = N * M
    chunks = partial.shape[0]
    hand_out(counters, ticket)
    slot = fetch_add(work, JOINED, 1)
    hi = coefficients[slot, 0]
    for c in range(C):
        hi[c] = mean[c]  # rounded to x's dtype: the mean's split, hi + lo
    last = False
    q, more = _take(work, TAKEN, chunks)
    while more:
        s, sx = partial[q, 0], partial[q, 1]
        s[:] = 0.0
        sx[:] = 0.0
        for n in range(q * chunk, min(N, (q + 1) * chunk)):
            for c in range(C):
                for k0 in range(0, M, BLOCK):
                    k1 = k0 + BLOCK
                    r, rx = _dy_sums(dy[n, c, k0:k1], x[n, c, k0:k1], hi[c])
                    s[c] += r
                    sx[c] += rx
        last = _summed(work, chunks) or last
        q, more = _take(work, TAKEN, chunks)
    _wait_for_sums(work, chunks)
    c1, c2, c0 = coefficients[slot, 1], coefficients[slot, 2], coefficients[slot, 3]
    to_dgamma, to_dbeta = (dgamma, dbeta) if last else (statistics[slot, 0], statistics[slot, 1])
    for c in range(C):
        total, total_x = _chunk_totals(partial, c)
        c1[c], c2[c], c0[c] = _backward_coefficients(total, total_x, hi[c], m, c, gamma, mean, invstd, train,
                                                     to_dgamma, to_dbeta, x)
    q, more = _take(work, WRITTEN, chunks)
    while more:
        for n in range(q * chunk, min(N, (q + 1) * chunk)):
            for c in range(C):
                _dx(dy[n, c], x[n, c], dx[n, c], hi[c], c1[c], c2[c], c0[c])
        q, more = _take(work, WRITTEN, chunks)
    wait_for_workers(counters, ticket)
