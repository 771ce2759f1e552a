"""The kernel threads (kernels/_threads.py): every slice runs once, on several threads at
once, errors reach the caller, and the pool survives sleeping, nesting, other callers
and fork."""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time

import numpy as np
import pytest

import tinygrad_notes.kernels._threads as threads_module
from tinygrad_notes.kernels._jit import jit
from tinygrad_notes.kernels._spin import (
    CALLER_ASLEEP, NEW_JOB, SPINNING, TIMED_OUT, announce_and_wait, fetch_add, ticks_per_second, wait_until,
)
from tinygrad_notes.kernels._threads import run_sliced, run_split, sum_over_slices, take_slice, thread_count


def _counting_kernel(hits):
    def kernel(lo, hi):
        hits[lo:hi] += 1
    return kernel


@pytest.mark.parametrize("n, slices", [(1, 4), (2, 1), (7, 4), (64, 2), (1000, 4)])
def test_every_index_is_covered_once(n, slices):
    for _ in range(20):  # back to back, while the workers still spin
        hits = np.zeros(n, np.int64)
        run_split(_counting_kernel(hits), n, (), slices_per_thread=slices)
        assert hits.tolist() == [1] * n


def test_a_call_after_the_workers_went_to_sleep_completes():
    hits = np.zeros(100, np.int64)
    run_split(_counting_kernel(hits), 100, ())
    time.sleep(20 * threads_module.SPIN_SECONDS + 0.01)  # past the spin: the workers sleep
    run_split(_counting_kernel(hits), 100, ())
    assert hits.tolist() == [2] * 100


def test_the_pool_runs_a_job_on_all_its_threads_at_once():
    """Each of the three threads waits, in its part of the job, until all three have
    entered: this returns only if the job ran on three threads at the same time."""
    pool = threads_module._Pool(2)
    arrived = threading.Barrier(3, timeout=10)
    names = []

    def job(ticket):
        names.append(threading.current_thread().name)
        arrived.wait()

    for _ in range(3):
        names.clear()
        pool.run(job)
        assert len(set(names)) == 3


def test_a_pool_that_never_spins_still_hands_out_and_collects_jobs(monkeypatch):
    monkeypatch.setattr(threads_module, "SPIN_SECONDS", 0.0)
    pool = threads_module._Pool(1)
    assert pool.budget == 0
    seen = []
    for i in range(50):
        pool.run(lambda ticket, i=i: seen.append(i))
    assert sorted(seen) == sorted(list(range(50)) * 2)


def test_an_error_in_a_slice_reaches_the_caller_and_the_pool_goes_on():
    def kernel(lo, hi):
        if lo <= 5 < hi:
            raise ValueError("slice with 5")

    with pytest.raises(ValueError, match="slice with 5"):
        run_split(kernel, 16, ())
    hits = np.zeros(16, np.int64)
    run_split(_counting_kernel(hits), 16, ())
    assert hits.tolist() == [1] * 16


def test_a_call_from_inside_a_slice_runs_on_that_thread():
    inner = []

    def outer(lo, hi):
        run_split(lambda a, b: inner.append((threading.get_ident(), a, b)), 10, ())
        outer_ids.append(threading.get_ident())

    outer_ids = []
    run_split(outer, 4, ())
    assert len(inner) == 4 and all((a, b) == (0, 10) for _, a, b in inner)
    assert sorted(i for i, _, _ in inner) == sorted(outer_ids)


def _on_threads(call, count):
    """Run ``call(k)`` for k in ``range(count)``, each on a thread of its own, and join them."""
    callers = [threading.Thread(target=call, args=(k,)) for k in range(count)]
    for t in callers:
        t.start()
    for t in callers:
        t.join(timeout=60)


def test_threads_calling_at_once_all_get_their_whole_range():
    results = {}

    def call(key):
        hits = np.zeros(500, np.int64)
        for _ in range(30):
            run_split(_counting_kernel(hits), 500, ())
        results[key] = hits

    _on_threads(call, 4)
    assert sorted(results) == [0, 1, 2, 3]
    assert all(h.tolist() == [30] * 500 for h in results.values())


def _split_in_child(queue):
    hits = np.zeros(64, np.int64)
    run_split(_counting_kernel(hits), 64, ())
    queue.put(hits.tolist())


def test_a_forked_child_gets_a_pool_of_its_own():
    run_split(_counting_kernel(np.zeros(8, np.int64)), 8, ())  # the parent's pool exists
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_split_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == [1] * 64


@pytest.mark.skipif(not SPINNING, reason="the spin loop needs x86-64 and numba's JIT")
def test_wait_until_sees_another_thread_change_the_counters_and_gives_up_after_its_budget():
    counters = np.zeros(2, np.int64)
    per_second = ticks_per_second()

    def bump():
        time.sleep(0.01)
        counters[1] = 7
        time.sleep(0.01)
        counters[0] = 7

    worker = threading.Thread(target=bump)
    worker.start()
    assert wait_until(counters, 0, 2, 7, True, int(5.0 * per_second))
    worker.join()
    assert counters.tolist() == [7, 7]
    start = time.perf_counter()
    assert not wait_until(counters, 0, 2, 7, False, int(0.02 * per_second))
    assert 0.015 < time.perf_counter() - start < 1.0


def test_without_spinning_wait_until_only_looks_once(monkeypatch):
    import tinygrad_notes.kernels._spin as spin_module

    monkeypatch.setattr(spin_module, "SPINNING", False)
    counters = np.array([1, 1], np.int64)
    assert spin_module.wait_until(counters, 0, 2, 1, True, 10 ** 9)
    assert not spin_module.wait_until(counters, 0, 2, 2, True, 10 ** 9)
    assert not spin_module.wait_until(counters, 0, 2, 1, True, 0)


def test_the_thread_count_is_at_least_one():
    assert thread_count() >= 1


def _order_sensitive_part(lo, hi):
    """float32 parts whose total depends on the order they are added in."""
    values = np.array([1e8 if i % 3 == 0 else 3.0 - 1e8 * (i % 3 == 1) for i in range(lo, hi)], np.float32)
    return (np.array([values.sum(dtype=np.float32)], np.float32), np.arange(lo, hi).sum(keepdims=True))


def test_sum_over_slices_adds_fixed_slices_in_order_on_any_thread():
    n = 50
    bounds = [n * p // 8 for p in range(9)]
    parts = [_order_sensitive_part(bounds[p], bounds[p + 1]) for p in range(8)]
    expected = parts[0][0].copy()
    for part in parts[1:]:
        expected += part[0]
    for _ in range(20):
        total, indices = sum_over_slices(_order_sensitive_part, n)
        assert total.tobytes() == expected.tobytes() and indices.tolist() == [n * (n - 1) // 2]
    nested = []
    run_split(lambda lo, hi: nested.append(sum_over_slices(_order_sensitive_part, n)), 2, ())
    assert all(t.tobytes() == expected.tobytes() for t, _ in nested)  # on one thread, the pool busy


def test_sum_over_slices_of_fewer_items_than_slices():
    total, = sum_over_slices(lambda lo, hi: (np.array([hi - lo, 1]),), 3)
    assert total.tolist() == [3, 3]


@jit
def _count_slice(hits, taken, lo, hi):
    for i in range(lo, hi):
        hits[i] += 1
    fetch_add(taken, 0, hi - lo)


@jit
def _count_sliced(counters, bounds, ticket, hits, taken):
    lo, hi = take_slice(counters, bounds, ticket)
    while lo < hi:
        _count_slice(hits, taken, lo, hi)
        lo, hi = take_slice(counters, bounds, ticket)


@jit
def _fail_on_five(lo, hi):
    if lo <= 5 < hi:
        raise ValueError("slice with 5")


@jit
def _fail_on_five_sliced(counters, bounds, ticket):
    lo, hi = take_slice(counters, bounds, ticket)
    while lo < hi:
        _fail_on_five(lo, hi)
        lo, hi = take_slice(counters, bounds, ticket)


def _run_counting(n, slices=4):
    hits, taken = np.zeros(n, np.int64), np.zeros(1, np.int64)
    run_sliced(_count_sliced, n, (hits, taken), slices_per_thread=slices)
    return hits, int(taken[0])


@pytest.mark.parametrize("n, slices", [(1, 4), (2, 1), (7, 4), (64, 2), (1000, 4)])
def test_a_native_job_covers_every_index_once(n, slices):
    for _ in range(50):  # back to back: the workers take their jobs in their spin
        hits, taken = _run_counting(n, slices)
        assert hits.tolist() == [1] * n and taken == n


def test_native_and_python_jobs_in_turns_sleeping_or_not():
    for i in range(60):
        hits, taken = _run_counting(100)
        assert hits.tolist() == [1] * 100 and taken == 100
        python_hits = np.zeros(100, np.int64)
        run_split(_counting_kernel(python_hits), 100, ())
        assert python_hits.tolist() == [1] * 100
        if i % 20 == 19:
            time.sleep(20 * threads_module.SPIN_SECONDS + 0.01)  # past the spin: the workers sleep


def test_an_error_in_a_native_slice_reaches_the_caller_and_the_pool_goes_on():
    with pytest.raises(ValueError, match="slice with 5"):
        run_sliced(_fail_on_five_sliced, 16, ())
    hits, taken = _run_counting(16)
    assert hits.tolist() == [1] * 16 and taken == 16


def test_a_native_job_that_fails_before_it_starts_does_not_hang_the_pool():
    with pytest.raises(Exception):  # numba finds no kernel for a string argument
        run_sliced(_count_sliced, 16, ("not an array", np.zeros(1, np.int64)))
    hits, taken = _run_counting(16)
    assert hits.tolist() == [1] * 16 and taken == 16


def test_a_native_job_inside_a_slice_or_from_several_threads_gets_its_whole_range():
    inner = []
    run_split(lambda lo, hi: inner.append(_run_counting(10)), 4, ())
    assert len(inner) == 4 and all(h.tolist() == [1] * 10 and t == 10 for h, t in inner)
    results = {}

    def call(key):
        results[key] = [_run_counting(300) for _ in range(30)]

    _on_threads(call, 4)
    assert sorted(results) == [0, 1, 2, 3]
    assert all(h.tolist() == [1] * 300 and t == 300 for runs in results.values() for h, t in runs)


def test_a_native_job_keeps_no_reference_to_its_arrays_once_it_returned():
    """The tape keeps a gradient without copying it only when nothing else refers to it:
    a worker must not hold the job's arguments after the call."""
    hits, taken = np.zeros(1000, np.int64), np.zeros(1, np.int64)
    before = sys.getrefcount(hits)
    for _ in range(20):
        run_sliced(_count_sliced, 1000, (hits, taken), slices_per_thread=4)
        assert sys.getrefcount(hits) == before
    assert hits.tolist() == [20] * 1000


def test_fetch_add_from_threads_at_once_loses_no_addition():
    """Every slice adds its length to one shared counter: the total is exact only if no
    two threads' additions were interleaved."""
    n = 20000
    for _ in range(20):
        hits, taken = _run_counting(n, slices=64)
        assert taken == n


def test_announce_and_wait_stores_the_job_done_and_says_what_it_saw():
    per_second = ticks_per_second()
    counters = np.array([4, 0, 0], np.int64)
    assert announce_and_wait(counters, 2, 3, 0, 1, int(0.5 * per_second) or 1) == NEW_JOB
    assert counters.tolist() == [4, 0, 3]
    counters = np.array([3, 1, 0], np.int64)
    assert announce_and_wait(counters, 2, 3, 0, 1, int(0.5 * per_second) or 1) == CALLER_ASLEEP
    counters = np.array([3, 0, 0], np.int64)
    start = time.perf_counter()
    assert announce_and_wait(counters, 2, 3, 0, 1, int(0.02 * per_second)) == TIMED_OUT
    assert counters.tolist() == [3, 0, 3]
    if SPINNING:
        assert 0.015 < time.perf_counter() - start < 1.0


def test_the_callers_last_take_slice_waits_for_the_workers_and_says_whether_they_finished():
    """The caller's ticket ``[number, number, budget]``: its first take_slice publishes the
    job, its last one (no slice left) waits for every worker's done counter and sets
    ``ticket[1]`` to 0 when they all finished, -1 when its budget ran out. Without spinning
    (numba's JIT off) it does not wait and leaves the waiting to Python."""
    done, per_second = threads_module.DONE, ticks_per_second()
    counters = np.zeros(done + 1, np.int64)  # one worker
    bounds = np.array([0, 4], np.int64)
    counters[done] = 7  # the worker finished job 7 already
    budget = int(0.5 * per_second) or 1
    ticket = np.array([7, 7, budget], np.int64)
    assert tuple(take_slice(counters, bounds, ticket)) == (0, 4)
    assert counters[threads_module.JOB] == 7 and ticket[0] == 0
    assert tuple(take_slice(counters, bounds, ticket)) == (0, 0)
    assert ticket.tolist() == [0, 0 if SPINNING else 7, budget]

    counters[done] = 7  # job 8 goes out, and the worker never finishes it
    ticket = np.array([8, 8, int(0.02 * per_second) or 1], np.int64)
    start = time.perf_counter()
    assert tuple(take_slice(counters, bounds, ticket)) == (0, 4)
    assert tuple(take_slice(counters, bounds, ticket)) == (0, 0)
    assert ticket[1] == (-1 if SPINNING else 8)
    if SPINNING:
        assert 0.015 < time.perf_counter() - start < 1.0
    worker_ticket = np.zeros(1, np.int64)
    assert tuple(take_slice(counters, bounds, worker_ticket)) == (0, 0)  # a worker never waits
