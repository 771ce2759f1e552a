"""Run a ``nogil`` kernel over slices of a range on a few Python threads.

Why not numba's ``prange``: its OpenMP workers spin-wait after a parallel region, and
OpenBLAS's workers (the conv GEMMs) spin-wait after a GEMM; on a small machine the two
pools take turns stealing each other's cores (measured: a prange kernel alternating with
a GEMM ran 2x slower than the two apart). Pool threads that block on a queue do not spin,
and several callers may share the pool safely.

The thread count is ``NUMBA_NUM_THREADS`` when set, else the CPUs this process may use.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _detect_threads() -> int:
    env = os.environ.get("NUMBA_NUM_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


_THREADS = _detect_threads()
_inside = threading.local()  # .active: this thread is running a slice of a run_split


def thread_count() -> int:
    """How many threads a split kernel uses (``NUMBA_NUM_THREADS`` or the usable CPUs)."""
    return _THREADS


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, thread_count() - 1),
                                       thread_name_prefix="tinygrad_notes-kernel")
    return _pool


#: Slices per thread: more slices than threads lets a thread that runs ahead (its core
#: not shared with another process) take over the work of one that lags.
SLICES_PER_THREAD = 4


def run_split(kernel, n: int, args: tuple, min_per_thread: int = 1,
              slices_per_thread: int = SLICES_PER_THREAD) -> None:
    """Call ``kernel(*args, lo, hi)`` over ``[0, n)`` cut into contiguous slices.

    The slices (``slices_per_thread`` per thread, at most ``n``) are handed out one at a
    time to the calling thread and the pool's threads (dynamic, so a busy core slows the
    call down instead of stalling it); a kernel that pays a start-up cost per slice asks
    for fewer. With
    one thread, or fewer than ``2 * min_per_thread`` items, it is one plain call; so is a
    call made from inside a slice (a chunk's kernel that splits again), because the
    pool's threads are busy with the outer slices and waiting for them would deadlock.
    """
    threads = min(thread_count(), n // max(1, min_per_thread))
    if threads <= 1 or getattr(_inside, "active", False):
        kernel(*args, 0, n)
        return
    parts = min(n, threads * max(1, slices_per_thread))
    bounds = [n * p // parts for p in range(parts + 1)]
    counter = itertools.count()  # next() on it is atomic under the GIL

    def work():
        _inside.active = True
        try:
            while (p := next(counter)) < parts:
                kernel(*args, bounds[p], bounds[p + 1])
        finally:
            _inside.active = False

    pool = _get_pool()
    futures = [pool.submit(work) for _ in range(threads - 1)]
    try:
        work()
    finally:
        for f in futures:
            f.result()
