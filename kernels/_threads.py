"""Run a ``nogil`` kernel over slices of a range on a few Python threads.

Why not numba's ``prange``: its OpenMP workers spin-wait after a parallel region, and
OpenBLAS's workers (the conv GEMMs) spin-wait after a GEMM; on a small machine the two
pools take turns stealing each other's cores (measured: a prange kernel alternating with
a GEMM ran 2x slower than the two apart). Pool threads that block on a queue do not spin,
and several callers may share the pool safely.

The thread count is ``NUMBA_NUM_THREADS`` when set, else the CPUs this process may use.
"""

from __future__ import annotations

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


def run_split(kernel, n: int, args: tuple, min_per_thread: int = 1) -> None:
    """Call ``kernel(*args, lo, hi)`` over ``[0, n)`` cut into contiguous slices.

    The calling thread runs the first slice itself; the others go to the pool. With one
    thread, or fewer than ``2 * min_per_thread`` items, it is one plain call.
    """
    parts = min(thread_count(), n // max(1, min_per_thread))
    if parts <= 1:
        kernel(*args, 0, n)
        return
    bounds = [n * p // parts for p in range(parts + 1)]
    pool = _get_pool()
    futures = [pool.submit(kernel, *args, bounds[p], bounds[p + 1]) for p in range(1, parts)]
    try:
        kernel(*args, bounds[0], bounds[1])
    finally:
        for f in futures:
            f.result()
