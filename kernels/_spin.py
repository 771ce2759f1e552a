"""Waiting on a counter without the GIL and without sleeping, and the atomic counter
operations the kernel threads (:mod:`._threads`) hand work out with.

A thread that sleeps (on a lock, a queue or the GIL) is woken by the kernel, and on the
project's virtual machines that took tens of microseconds: handing an empty kernel to
a sleeping pool thread and waiting for it cost 42-49 us, against 0.4 us for calling
it. :func:`wait_until` instead re-reads an ``int64`` counter in a jitted loop, with the
GIL released, for a bounded time: a thread that is already awake sees a change within
a few hundred nanoseconds.

:data:`SPINNING` is False where the loop cannot be built (not x86-64, or numba's JIT
disabled for debugging); :func:`wait_until` then only checks once and callers sleep.
:func:`fetch_add` and :func:`store_release` are atomic wherever numba's JIT is on
(:data:`ATOMIC`); with it disabled they are plain reads and writes, for one thread.
"""

from __future__ import annotations

import functools
import platform
import time

import numba
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._jit import jit

#: Whether :func:`wait_until` spins (x86-64 with numba's JIT on).
SPINNING = platform.machine().lower() in ("x86_64", "amd64") and not numba.config.DISABLE_JIT
#: Whether :func:`fetch_add` and :func:`store_release` are atomic (numba's JIT on).
ATOMIC = not numba.config.DISABLE_JIT


def _element(context, builder, signature, args):
    array, index = args[:2]
    return builder.gep(context.make_array(signature.args[0])(context, builder, array).data, [index])


def _int64_array(counters):
    return isinstance(counters, types.Array) and counters.dtype == types.int64


@intrinsic
def _load_acquire(typingctx, counters, index):
    """``counters[index]`` read as an atomic acquire load: re-read on every call, never
    hoisted out of a loop, and ordered before the loads that follow it."""
    if not _int64_array(counters):
        return None

    def codegen(context, builder, signature, args):
        return builder.load_atomic(_element(context, builder, signature, args), "acquire", 8)

    return types.int64(counters, types.intp), codegen


@intrinsic
def _store_release(typingctx, counters, index, value):
    """``counters[index] = value`` as an atomic release store: the stores before it are
    seen by any thread that sees it."""
    if not _int64_array(counters):
        return None

    def codegen(context, builder, signature, args):
        builder.store_atomic(args[2], _element(context, builder, signature, args), "release", 8)
        return context.get_dummy_value()

    return types.void(counters, types.intp, types.int64), codegen


@intrinsic
def _fetch_add(typingctx, counters, index, value):
    """``counters[index] += value`` as one atomic step; returns the value before."""
    if not _int64_array(counters):
        return None

    def codegen(context, builder, signature, args):
        return builder.atomic_rmw("add", _element(context, builder, signature, args), args[2], "seq_cst")

    return types.int64(counters, types.intp, types.int64), codegen


@jit
def store_release(counters, index, value):
    """``counters[index] = value`` (an int64 array), seen by other threads after every
    store this thread made before it (:data:`ATOMIC`)."""
    if ATOMIC:
        _store_release(counters, index, value)
    else:
        counters[index] = value


@jit
def fetch_add(counters, index, value):
    """Add ``value`` to ``counters[index]`` (an int64 array) in one step that no other
    thread's can split (:data:`ATOMIC`); returns the value before.

    >>> import numpy as np
    >>> counters = np.array([5], np.int64)
    >>> fetch_add(counters, 0, 2), counters
    (5, array([7]))
    """
    if ATOMIC:
        return _fetch_add(counters, index, value)
    old = int(counters[index])
    counters[index] = old + value
    return old


@intrinsic
def _pause(typingctx):
    """The ``pause`` instruction: tells the core this is a spin loop."""

    def codegen(context, builder, signature, args):
        pause = builder.module.declare_intrinsic("llvm.x86.sse2.pause", fnty=ir.FunctionType(ir.VoidType(), []))
        builder.call(pause, [])
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def _ticks(typingctx):
    """The CPU's time-stamp counter (``llvm.readcyclecounter``)."""

    def codegen(context, builder, signature, args):
        read = builder.module.declare_intrinsic("llvm.readcyclecounter", fnty=ir.FunctionType(ir.IntType(64), []))
        return builder.call(read, [])

    return types.int64(), codegen


@jit
def ticks():
    """The time-stamp counter now (0 where :data:`SPINNING` is False)."""
    if SPINNING:
        return _ticks()
    return 0


@jit
def spin_until(counters, lo, hi, value, equal, budget):
    """:func:`wait_until` in native code (x86-64 with numba's JIT on): for jitted callers."""
    start = _ticks()
    while True:
        waiting = False
        for i in range(lo, hi):
            if (_load_acquire(counters, i) == value) != equal:
                waiting = True
                break
        if not waiting:
            return True
        if _ticks() - start > budget:
            return False
        for _ in range(16):
            _pause()


def wait_until(counters, lo, hi, value, equal, budget):
    """Spin, without the GIL, until every one of ``counters[lo:hi]`` (an int64 array)
    equals ``value`` (``equal``) or differs from it (not ``equal``), for at most
    ``budget`` time-stamp ticks (:func:`ticks_per_second`). Returns True when it came
    true, False when the budget ran out (the caller then sleeps) and, at once, where
    :data:`SPINNING` is False.

    >>> import numpy as np
    >>> wait_until(np.array([3, 3], np.int64), 0, 2, 3, True, 10 ** 9)
    True
    >>> wait_until(np.array([3, 4], np.int64), 0, 2, 3, True, 0)
    False
    """
    if not SPINNING or budget <= 0:
        return bool(budget > 0 and all((counters[lo:hi] == value) == equal))
    return spin_until(counters, lo, hi, value, equal, budget)


#: What :func:`announce_and_wait` saw: a new job, the caller asleep, or its budget spent.
NEW_JOB, CALLER_ASLEEP, TIMED_OUT = 1, 2, 0


@jit
def _announce_and_spin(counters, slot, done, job, asleep, budget):
    _store_release(counters, slot, done)
    start = _ticks()
    while True:
        if _load_acquire(counters, job) != done:
            return NEW_JOB
        if _load_acquire(counters, asleep) != 0:
            return CALLER_ASLEEP
        if _ticks() - start > budget:
            return TIMED_OUT
        for _ in range(16):
            _pause()


def announce_and_wait(counters, slot, done, job, asleep, budget):
    """A kernel thread's end of a job: ``counters[slot] = done`` (the job it finished),
    stored with the GIL already released, then a spin of at most ``budget`` ticks until
    ``counters[job]`` differs from ``done`` (:data:`NEW_JOB`) or ``counters[asleep]``
    is set (:data:`CALLER_ASLEEP`, the caller stopped spinning); :data:`TIMED_OUT`
    otherwise, at once where :data:`SPINNING` is False.

    Announcing from inside the spin means the thread holds no GIL when the caller sees
    it done: a caller that takes the GIL back while a worker still runs Python sleeps on
    it, and waking up cost tens of microseconds (see the module docstring).

    >>> import numpy as np
    >>> counters = np.array([4, 0, 0], np.int64)
    >>> announce_and_wait(counters, 2, 3, 0, 1, 10 ** 9), counters
    (1, array([4, 0, 3]))
    """
    if not SPINNING or budget <= 0:
        store_release(counters, slot, done)
        if counters[job] != done:
            return NEW_JOB
        return CALLER_ASLEEP if counters[asleep] else TIMED_OUT
    return _announce_and_spin(counters, slot, done, job, asleep, budget)


@functools.lru_cache(maxsize=None)
def ticks_per_second() -> float:
    """The time-stamp counter's rate, measured once against ``time.perf_counter`` over
    about 2 ms (0.0 where :data:`SPINNING` is False)."""
    if not SPINNING:
        return 0.0
    ticks()  # compiled or loaded before the measurement
    t0, c0 = time.perf_counter(), ticks()
    time.sleep(0.002)
    t1, c1 = time.perf_counter(), ticks()
    return max(0.0, (c1 - c0) / (t1 - t0))
