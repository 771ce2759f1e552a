"""Waiting on a counter without the GIL and without sleeping, for the kernel threads
(:mod:`._threads`).

A thread that sleeps (on a lock, a queue or the GIL) is woken by the kernel, and on the
project's virtual machines that took tens of microseconds: handing an empty kernel to
a sleeping pool thread and waiting for it cost 42-49 us, against 0.4 us for calling
it. :func:`wait_until` instead re-reads an ``int64`` counter in a jitted loop, with the
GIL released, for a bounded time: a thread that is already awake sees a change within
a few hundred nanoseconds.

:data:`SPINNING` is False where the loop cannot be built (not x86-64, or numba's JIT
disabled for debugging); :func:`wait_until` then only checks once and callers sleep.
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


@intrinsic
def _load_acquire(typingctx, counters, index):
    """``counters[index]`` read as an atomic acquire load: re-read on every call, never
    hoisted out of a loop, and ordered before the loads that follow it."""
    if not (isinstance(counters, types.Array) and counters.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        array, position = args
        data = context.make_array(signature.args[0])(context, builder, array).data
        return builder.load_atomic(builder.gep(data, [position]), "acquire", 8)

    return types.int64(counters, types.intp), codegen


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
def _spin(counters, lo, hi, value, equal, budget):
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
    return _spin(counters, lo, hi, value, equal, budget)


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
