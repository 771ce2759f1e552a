"""Streaming (non-temporal) stores, for the batchnorm kernels' outputs (the forward's y,
the backward's dx) when they are too large to stay in cache.

A plain store first reads the cache line it writes into (the line is "read for
ownership") and leaves it dirty in cache, to be written back when it is evicted, in the
middle of whatever runs next. A non-temporal store sends a whole 64-byte line to memory
without reading it, as ``memcpy`` does for large copies. Measured on bn-large's
backward, (32, 64, 56 x 56) float32, two threads, channels in groups of 16: 2.8-2.9 ms
with plain stores, 2.0-2.3 ms streamed; in the groups of 3 used since, plain stores took
1.13-1.14x the streamed time (a new batch every call or the same one), 1.03-1.05x on
the AMD EPYC (Zen 4) of later sessions. Streaming is no faster as such there: filling
the bn-large array with plain stores took 0.61x the time of streaming it (numpy's
``fill`` against a loop of :func:`dx_line` stores, two threads). What it
saves is the write-back of dirty lines later on (see :mod:`.batchnorm`).

:func:`dx_line` and :func:`affine_line` compute one line of eq. 3.23's dx and of the
forward's y with the same operations, in the same order, as the scalar loops that write
a row's head and tail, so a streamed row holds exactly the numbers of an unstreamed one
(both with the fast-math flags :data:`._jit.REDUCTION_MATH`, which a line's
instructions carry whatever the flags of the loop that calls it). Streamed stores are
weakly ordered: a kernel that streamed calls :func:`store_fence` before it returns.

:data:`STREAMING` is False where the stores cannot be emitted (not x86-64, or numba's
JIT disabled for debugging); callers then store plainly.
"""

from __future__ import annotations

import platform

import numba
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._jit import REDUCTION_MATH, jit

#: Bytes per streamed store: one cache line, one 512-bit register.
LINE = 64
#: Whether the streamed stores (:func:`dx_line`, :func:`affine_line`, :func:`store_fence`) may be
#: used: x86-64 with numba's JIT on.
STREAMING = platform.machine().lower() in ("x86_64", "amd64") and not numba.config.DISABLE_JIT


def line_pointer(context, builder, array_type, array, index):
    """``(pointer, vector type)``: the line (``LINE`` bytes) of ``array`` from element
    ``index``, as a pointer to an LLVM vector (for the intrinsics here and in
    :mod:`._lanes`)."""
    data = context.make_array(array_type)(context, builder, array).data
    lane = context.get_value_type(array_type.dtype)
    vector = ir.VectorType(lane, LINE // context.get_abi_sizeof(lane))
    return builder.bitcast(builder.gep(data, [index]), vector.as_pointer()), vector


def splat(builder, vector, scalar):
    """The LLVM ``vector`` type filled with ``scalar``."""
    undef = ir.Constant(vector, ir.Undefined)
    zeros = ir.Constant(ir.VectorType(ir.IntType(32), vector.count), [0] * vector.count)
    return builder.shuffle_vector(builder.insert_element(undef, scalar, ir.IntType(32)(0)), undef, zeros)


def _line_math(instruction):
    """Give a float instruction the scalar loops' fast-math flags (numba's fast-math pass
    only flags the instructions that have none)."""
    instruction.flags.extend(sorted(REDUCTION_MATH))
    return instruction


def _store_streamed(builder, value, pointer):
    store = builder.store(value, pointer, align=LINE)
    store.set_metadata("nontemporal", builder.module.add_metadata([ir.IntType(32)(1)]))


def _same_dtype(*arrays):
    return all(isinstance(a, types.Array) for a in arrays) and len({a.dtype for a in arrays}) == 1


@intrinsic
def dx_line(typingctx, p, q, out, start, hi, k1, k2, k0):
    """One cache line of ``out = k1 p + k2 (q - hi) + k0`` from ``start``, streamed."""
    if not _same_dtype(p, q, out):
        return None

    def codegen(context, builder, signature, args):
        p_v, q_v, out_v, start_v, hi_v, k1_v, k2_v, k0_v = args
        p_line, vector = line_pointer(context, builder, signature.args[0], p_v, start_v)
        q_line, _ = line_pointer(context, builder, signature.args[1], q_v, start_v)
        target, _ = line_pointer(context, builder, signature.args[2], out_v, start_v)
        fill = lambda scalar: splat(builder, vector, scalar)  # noqa: E731
        first = _line_math(builder.fmul(fill(k1_v), builder.load(p_line, align=1)))
        shifted = _line_math(builder.fsub(builder.load(q_line, align=1), fill(hi_v)))
        second = _line_math(builder.fmul(fill(k2_v), shifted))
        value = _line_math(builder.fadd(_line_math(builder.fadd(first, second)), fill(k0_v)))
        _store_streamed(builder, value, target)
        return context.get_dummy_value()

    dtype = out.dtype if isinstance(out, types.Array) else None
    return types.void(p, q, out, types.intp, dtype, dtype, dtype, dtype), codegen


@intrinsic
def affine_line(typingctx, p, out, start, hi, a, b):
    """One cache line of ``out = (p - hi) a + b`` from ``start``, streamed."""
    if not _same_dtype(p, out):
        return None

    def codegen(context, builder, signature, args):
        p_v, out_v, start_v, hi_v, a_v, b_v = args
        p_line, vector = line_pointer(context, builder, signature.args[0], p_v, start_v)
        target, _ = line_pointer(context, builder, signature.args[1], out_v, start_v)
        fill = lambda scalar: splat(builder, vector, scalar)  # noqa: E731
        shifted = _line_math(builder.fsub(builder.load(p_line, align=1), fill(hi_v)))
        value = _line_math(builder.fadd(_line_math(builder.fmul(shifted, fill(a_v))), fill(b_v)))
        _store_streamed(builder, value, target)
        return context.get_dummy_value()

    dtype = out.dtype if isinstance(out, types.Array) else None
    return types.void(p, out, types.intp, dtype, dtype, dtype), codegen


@intrinsic
def _sfence(typingctx):
    def codegen(context, builder, signature, args):
        fence = builder.module.declare_intrinsic("llvm.x86.sse.sfence", fnty=ir.FunctionType(ir.VoidType(), []))
        builder.call(fence, [])
        return context.get_dummy_value()

    return types.void(), codegen


@jit
def store_fence():
    """Order this thread's streamed stores before whatever it does next (``sfence``)."""
    if STREAMING:
        _sfence()


@jit
def whole_lines(row):
    """``(start, end)``: the elements of ``row`` that fill whole cache lines, the ones a
    caller may stream; the head before ``start`` and the tail from ``end`` are stored
    plainly (all of the row is head when it ends before its first line boundary)."""
    offset = row.ctypes.data % LINE
    start = min(0 if offset == 0 else (LINE - offset) // row.itemsize, row.size)
    lanes = LINE // row.itemsize
    return start, start + (row.size - start) // lanes * lanes
