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

The GIL is a lock too: a thread that wants it while another holds it sleeps, and is
woken as slowly. The workers run Python between kernels (to take a slice, to call
the next one), and so does the caller, so the pool keeps them from wanting the GIL at
the same moment:

* a worker announces a job done from inside its spin, with the GIL released
  (:func:`._spin.announce_and_wait`), so that the caller, seeing it, takes a free GIL;
* a native job (:func:`run_sliced`) is a jitted kernel that takes its slices itself,
  in one atomic step each (:func:`take_slice`): the caller hands it out from inside
  its own call, when it no longer holds the GIL, and a worker takes slices until none
  is left without returning to Python. (A worker that also waited for the next job
  inside the kernel would keep the job's arrays referenced after the caller returned:
  the tape then copies a gradient it could have kept, see ``tinygrad_notes.tape._store_grad``.)
* the caller's native job ends in native code too: its last :func:`take_slice`, the one
  that finds no slice left, waits there, spinning without the GIL, until every worker
  has announced the job done. A worker back from its last slice needs the GIL to return
  to Python, and it used to find the caller holding it, between the caller's own last
  slice and its wait in Python, and sleep on it. On bn-small's forward+backward through
  the tape this took the caller's voluntary context switches from 0.26 to 0.05 a step
  and the worker's from 1.17 to 0.47; an empty native job took 14-20 us instead of
  58 us, warm; bn-small's and bn-large's own times moved within the noise (the
  counts from ``/proc/self/task/*/status``).

Measured on the 2-core virtual machine by ``python -m benchmarks.thread_handoff`` (32
items in 4 slices, time over the ideal; medians, three runs): items of 4-5 us, 16-27
us through :func:`run_split` and 9-12 us through :func:`run_sliced`; items of 41-45
us, 52-75 us and 18-72 us (there the 4 slices' imbalance dominates, and the runs
scatter). Before workers announced from their spin, the same calls took 31-33 and
72-125 us over, and an empty job 27-31 us (now 16-20 through :func:`run_split`; a
native job that ends before the worker has started gains nothing). With the caller
waiting for the workers in native code, on a 2-core Zen 4 (three runs): an empty native
job 5.6-5.8 us over, items of 5 us -1 to 5 us, items of 46-48 us 49-86 us (run_split
in the same runs: 23-29, 19-23 and 64-84 us). Batchnorm's kernels run as native jobs.

One caller at a time uses the pool; a call made while another thread's call runs, or
from inside a slice (a chunk's kernel that splits again), runs on the calling thread
alone. The pool is made again in a child process after ``fork``.

The thread count is ``NUMBA_NUM_THREADS`` when set, else the CPUs this process may use.
"""

from __future__ import annotations

import functools
import itertools
import os
import threading

import numpy as np

from ._jit import jit
from ._spin import (
    ATOMIC, NEW_JOB, SPINNING, announce_and_wait, fetch_add, spin_until, store_release, ticks_per_second,
    wait_until,
)

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


#: Where :class:`_Pool` keeps its counters: the number of the last job handed out, the
#: next slice of a native job (:func:`take_slice`), whether the caller sleeps waiting for
#: the workers, and from ``DONE`` on, the last job each worker finished.
JOB, NEXT, ASLEEP, DONE = 0, 1, 2, 3


@jit
def _publish(counters, number):
    store_release(counters, NEXT, 0)
    store_release(counters, JOB, number)


class _Pool:
    """``workers`` threads that run the caller's job alongside it.

    Every worker takes part in every job (finding no slice left is a job done), so the
    caller waits for all of them. A worker announces a job done from its spin, the GIL
    released (:func:`._spin.announce_and_wait`); a native job is handed out from native
    code too (:meth:`run`), so that neither thread reaches for the GIL while the other
    runs Python."""

    def __init__(self, workers: int):
        self.counters = np.zeros(DONE + workers, np.int64)
        self.budget = int(SPIN_SECONDS * ticks_per_second())
        self.wake = threading.Condition()
        self.sleepers = 0
        self.busy = threading.Lock()
        self.job = None
        for i in range(workers):
            threading.Thread(target=self._serve, args=(i,), daemon=True, name=f"tinygrad_notes-kernel-{i}").start()

    def _serve(self, i: int) -> None:
        done = 0
        counters = self.counters
        ticket = np.zeros(1, np.int64)
        while True:
            if announce_and_wait(counters, DONE + i, done, JOB, ASLEEP, self.budget) != NEW_JOB:
                with self.wake:
                    if counters[ASLEEP]:
                        self.wake.notify_all()
                    self.sleepers += 1
                    while counters[JOB] == done:
                        self.wake.wait()
                    self.sleepers -= 1
            done = int(counters[JOB])
            self.job(ticket)

    def run(self, job, native: bool = False) -> None:
        """Run ``job(ticket)`` on the calling thread and on every worker; return when all
        are done. ``job`` must not raise (see :func:`run_split`). The ``ticket`` is what a
        native job gives :func:`take_slice`: a native job is handed out by the caller's
        own call, from its first :func:`take_slice`, while every worker spins."""
        counters = self.counters
        number = int(counters[JOB]) + 1
        self.job = job
        if native and not self.sleepers:
            ticket = np.array([number, number, self.budget], np.int64)
            job(ticket)
            if counters[JOB] != number:  # the job failed before it could hand itself out
                with self.wake:
                    _publish(counters, number)
                    self.wake.notify_all()
            elif not ticket[1]:  # the caller's last take_slice saw every worker done
                self.job = None
                return
            spun = ticket[1] < 0  # it spun its budget out: a worker sleeps
        else:
            with self.wake:
                _publish(counters, number)
                if self.sleepers:
                    self.wake.notify_all()
            job(np.zeros(1, np.int64))
            spun = False
        if spun or not wait_until(counters, DONE, len(counters), number, True, self.budget):
            with self.wake:
                counters[ASLEEP] = 1
                self.wake.notify_all()  # a worker that fell asleep as a native job went out
                while np.any(counters[DONE:] != number):
                    self.wake.wait()
                counters[ASLEEP] = 0
        self.job = None


def _get_pool() -> _Pool:
    global _pool
    if _pool is not None:
        return _pool
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

        def work(ticket):
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


@jit
def take_slice(counters, bounds, ticket):
    """The next slice ``(lo, hi)`` of a native job (:func:`run_sliced`), taken from
    ``counters`` in one atomic step; ``(0, 0)`` once none is left.

    ``ticket`` is the calling thread's int64 array from :meth:`_Pool.run`. The caller's
    is ``[number, number, budget]``: its first call hands the job out
    (:func:`hand_out`); the call that finds no slice left waits for the workers
    (:func:`wait_for_workers`). A worker's ticket holds 0."""
    hand_out(counters, ticket)
    p = fetch_add(counters, NEXT, 1)
    if p + 1 < bounds.size:
        return bounds[p], bounds[p + 1]
    wait_for_workers(counters, ticket)
    return 0, 0


@jit
def hand_out(counters, ticket):
    """The caller's first call publishes the job's number from ``ticket[0]``, from native
    code, handing the job to the spinning workers, and sets ``ticket[0]`` to 0; later
    calls, and a worker's, do nothing. A native job that does not take slices with
    :func:`take_slice` calls this first and :func:`wait_for_workers` last."""
    if ticket[0]:
        _publish(counters, ticket[0])
        ticket[0] = 0


@jit
def wait_for_workers(counters, ticket):
    """The caller waits, still in native code, up to ``ticket[2]`` ticks for every worker
    to announce the job ``ticket[1]`` done, and sets ``ticket[1]`` to 0 when they did,
    -1 when the budget ran out (:meth:`_Pool.run` then waits in Python, or sleeps). A
    worker's ticket, and one that already waited, do nothing."""
    if ticket.size > 2 and ticket[1] > 0 and SPINNING:
        ticket[1] = 0 if spin_until(counters, DONE, counters.size, ticket[1], True, ticket[2]) else -1


@functools.lru_cache(maxsize=256)
def _bounds(n: int, parts: int) -> np.ndarray:
    bounds = np.array([n * p // parts for p in range(parts + 1)], np.int64)
    bounds.setflags(write=False)
    return bounds


def run_sliced(sliced, n: int, args: tuple, min_per_thread: int = 1,
               slices_per_thread: int = SLICES_PER_THREAD) -> None:
    """Call ``sliced(counters, bounds, ticket, *args)`` on the calling thread and the
    pool's threads: a jitted kernel that runs, for as long as :func:`take_slice`
    gives it one, a slice ``[lo, hi)`` of ``[0, n)``, as in

        lo, hi = take_slice(counters, bounds, ticket)
        while lo < hi:
            kernel(*args, lo, hi)
            lo, hi = take_slice(counters, bounds, ticket)

    The slices are :func:`run_split`'s (with its rules for one thread, nested calls and
    a busy pool), but they are handed out in native code: the job goes to the workers
    once the caller's kernel runs without the GIL, and a worker takes its slices, and
    waits for the next job, without it (see the module docstring). With numba's JIT
    disabled, the calling thread runs every slice.
    """
    threads = min(thread_count(), n // max(1, min_per_thread))
    pool = _get_pool() if threads > 1 and ATOMIC and not getattr(_inside, "active", False) else None
    if pool is None or not pool.busy.acquire(blocking=False):
        sliced(np.zeros(DONE, np.int64), _bounds(n, 1), np.zeros(1, np.int64), *args)
        return
    bounds = _bounds(n, min(n, threads * max(1, slices_per_thread)))
    errors = []

    def work(ticket):
        try:
            sliced(pool.counters, bounds, ticket, *args)
        except BaseException as error:  # handed to the caller: a worker must not die
            errors.append(error)
            pool.counters[NEXT] = len(bounds)  # no more slices for anyone

    try:
        pool.run(work, native=True)
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
