"""Run a ``nogil`` kernel over slices of a range on a few Python threads.

Why not numba's ``prange``: its OpenMP workers spin-wait after a parallel region, and
OpenBLAS's workers (the conv GEMMs) spin-wait after a GEMM; on a small machine the two
pools take turns stealing each other's cores (measured: a prange kernel alternating with
a GEMM ran 2x slower than the two apart).

The pool's threads do spin, but briefly and only between kernels: after a job, each
watches the job counter for :data:`SPIN_SECONDS` with the GIL released
(:mod:`._spin`) before it sleeps on a condition variable, and the caller, its own
slices done, watches the workers' counters the same way. Waking a sleeping thread is
slow on these virtual machines: handing an empty kernel to a thread that slept on a
queue, as a ``ThreadPoolExecutor`` does, and waiting for it took 42-49 us; a kernel is
usually called again within tens of microseconds (the next op of the same step).

One caller at a time uses the pool; a call made while another thread's call runs, or
from inside a slice (a chunk's kernel that splits again), runs on the calling thread
alone. The pool is made again in a child process after ``fork``.

The thread count is ``NUMBA_NUM_THREADS`` when set, else the CPUs this process may use.
"""

from __future__ import annotations

import itertools
import os
import threading

import numpy as np

from ._spin import ticks_per_second, wait_until

_pool = None
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

#: Slices per thread: more slices than threads lets a thread that runs ahead (its core
#: not shared with another process) take over the work of one that lags.
SLICES_PER_THREAD = 4
#: How long a pool thread watches for the next job, and the caller for the workers to
#: finish, before sleeping (see the module docstring).
SPIN_SECONDS = 2e-4


def thread_count() -> int:
    """How many threads a split kernel uses (``NUMBA_NUM_THREADS`` or the usable CPUs)."""
    return _THREADS


class _Pool:
    """``workers`` threads that run the caller's job alongside it.

    ``counters[0]`` numbers the jobs handed out; ``counters[1 + i]`` is the last job
    worker ``i`` finished. Every worker takes part in every job (finding no slice left
    is a job done), so the caller waits for all of them."""

    def __init__(self, workers: int):
        self.counters = np.zeros(1 + workers, np.int64)
        self.budget = int(SPIN_SECONDS * ticks_per_second())
        self.wake = threading.Condition()
        self.sleepers = 0
        self.caller_asleep = False
        self.busy = threading.Lock()
        self.job = None
        for i in range(workers):
            threading.Thread(target=self._serve, args=(i,), daemon=True, name=f"tinygrad_notes-kernel-{i}").start()

    def _serve(self, i: int) -> None:
        done = 0
        counters = self.counters
        while True:
            if not wait_until(counters, 0, 1, done, False, self.budget):
                with self.wake:
                    self.sleepers += 1
                    while counters[0] == done:
                        self.wake.wait()
                    self.sleepers -= 1
            done = int(counters[0])
            self.job()
            with self.wake:
                counters[1 + i] = done
                if self.caller_asleep:
                    self.wake.notify_all()

    def run(self, job) -> None:
        """Run ``job()`` on the calling thread and on every worker; return when all are
        done. ``job`` must not raise (see :func:`run_split`)."""
        counters = self.counters
        self.job = job
        with self.wake:
            number = int(counters[0]) + 1
            counters[0] = number
            if self.sleepers:
                self.wake.notify_all()
        job()
        if not wait_until(counters, 1, len(counters), number, True, self.budget):
            with self.wake:
                self.caller_asleep = True
                while np.any(counters[1:] != number):
                    self.wake.wait()
                self.caller_asleep = False
        self.job = None


def _get_pool() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = _Pool(thread_count() - 1)
    return _pool


def _forget_pool_after_fork() -> None:
    """In a forked child the pool's threads do not exist: the next call makes a new pool."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_after_fork)


def run_split(kernel, n: int, args: tuple, min_per_thread: int = 1,
              slices_per_thread: int = SLICES_PER_THREAD) -> None:
    """Call ``kernel(*args, lo, hi)`` over ``[0, n)`` cut into contiguous slices.

    The slices (``slices_per_thread`` per thread, at most ``n``) are handed out one at a
    time to the calling thread and the pool's threads (dynamic, so a busy core slows the
    call down instead of stalling it); a kernel that pays a start-up cost per slice asks
    for fewer. With one thread, or fewer than ``2 * min_per_thread`` items, it is one
    plain call; so is a call made from inside a slice or while another thread's call
    holds the pool. The first exception a slice raises is raised here, once every
    thread has stopped taking slices.
    """
    threads = min(thread_count(), n // max(1, min_per_thread))
    if threads <= 1 or getattr(_inside, "active", False):
        kernel(*args, 0, n)
        return
    pool = _get_pool()
    if not pool.busy.acquire(blocking=False):
        kernel(*args, 0, n)
        return
    try:
        parts = min(n, threads * max(1, slices_per_thread))
        bounds = [n * p // parts for p in range(parts + 1)]
        counter = itertools.count()  # next() on it is atomic under the GIL
        errors = []

        def work():
            _inside.active = True
            try:
                while not errors and (p := next(counter)) < parts:
                    kernel(*args, bounds[p], bounds[p + 1])
            except BaseException as error:  # handed to the caller: a worker must not die
                errors.append(error)
            finally:
                _inside.active = False

        pool.run(work)
    finally:
        pool.busy.release()
    if errors:
        raise errors[0]


#: How many fixed slices :func:`sum_over_slices` cuts a range into.
SUM_SLICES = 8


def sum_over_slices(part, n: int, slices: int = SUM_SLICES) -> tuple:
    """The element-wise sums of ``part(lo, hi)`` (a tuple of arrays) over
    ``min(n, slices)`` fixed contiguous slices of ``[0, n)``, run on the kernel threads
    and added in slice order.

    The slices and the order of the additions depend on ``n`` alone, so the result has
    the same bits whatever the thread count, the order in which the threads finish, or
    whether the pool was busy (floating-point addition is not associative: parts added
    as the threads handed them back gave different dW bits in 17 of 50 repeated calls).

    >>> sum_over_slices(lambda lo, hi: (np.arange(lo, hi).sum(keepdims=True),), 10)
    (array([45]),)
    """
    count = max(1, min(n, slices))
    bounds = [n * p // count for p in range(count + 1)]
    results = [None] * count

    def run(lo, hi):
        for s in range(lo, hi):
            results[s] = part(bounds[s], bounds[s + 1])

    run_split(run, count, (), slices_per_thread=-(-count // thread_count()))
    total = tuple(np.array(a, copy=True) for a in results[0])
    for result in results[1:]:
        for acc, a in zip(total, result):
            acc += a
    return total
