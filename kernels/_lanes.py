"""Per-channel sums one SIMD register at a time, with the accumulators kept in registers,
for the (N, C, M) batchnorm kernels (:mod:`.batchnorm`).

A :class:`Lanes` value is one 64-byte vector: 16 float32 or 8 float64 lanes
(:func:`lane_count`). The sums of a row walk it in lines of that many values from its
first value; :func:`add_shifted` adds one line of ``x - pivot`` and its square into two
accumulators (the forward's sums, eqs. 3.19-3.20), :func:`add_shifted_last` the
values after the last whole line, :func:`merge` adds two accumulators and
:func:`total` an accumulator's lanes, in float64.

Inside a jitted loop the accumulators are plain values (LLVM vectors), so they stay in
registers however the loop is written: the loop may store a line of another array
between two additions (a streamed row of y, :mod:`._stream`) without the sums
going through memory. The additions are written out here as vector instructions, one
per line, in the order the caller gives, and exact (IEEE, none of the caller's
fast-math flags: no reordering, no fused multiply-add), so a row's sums are the same
bits whatever loop they are called from.

From Python, or with ``NUMBA_DISABLE_JIT=1``, a Lanes value is a numpy array and the
functions are numpy expressions with the same operations, giving the same bits.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, overload, register_model

from ._stream import LINE, line_pointer, splat


class Lanes(types.Type):
    """numba's type of a Lanes value: a vector of ``LINE`` bytes of ``dtype``."""

    def __init__(self, dtype):
        self.dtype = dtype
        super().__init__(name=f"Lanes({dtype})")


@register_model(Lanes)
class _LanesModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        lane = dmm.lookup(fe_type.dtype).get_value_type()
        super().__init__(dmm, fe_type, ir.VectorType(lane, LINE * 8 // fe_type.dtype.bitwidth))


def lane_count(itemsize):
    """Values of ``itemsize`` bytes in one Lanes value: 16 for float32, 8 for float64.

    >>> lane_count(4), lane_count(8)
    (16, 8)
    """
    return LINE // itemsize


def zeros(like):
    """A Lanes value of zeros, of ``like``'s dtype.

    >>> zeros(np.ones(3, np.float32)).shape
    (16,)
    """
    return np.zeros(lane_count(like.itemsize), like.dtype)


def add_shifted(acc, acc2, a, start, pivot):
    """``(acc + v, acc2 + v v)`` for the line ``v = a[start:start + L] - pivot``. Not
    bounds-checked in a kernel: the caller keeps ``start + L <= a.size``.

    >>> acc, acc2 = add_shifted(zeros(np.ones(1)), zeros(np.ones(1)), np.arange(8.0), 0, 1.0)
    >>> float(acc.sum()), float(acc2.sum())
    (20.0, 92.0)
    """
    v = a[start:start + acc.size] - pivot
    return acc + v, acc2 + v * v


def add_shifted_last(acc, acc2, a, count, pivot):
    """:func:`add_shifted` for the last ``count`` values of ``a`` (``0 < count < L``, and
    ``a`` at least L long): the last line of ``a`` is read, and its lanes before the last
    ``count`` add zero, so that nothing past ``a``'s end is read.

    >>> acc, acc2 = add_shifted_last(zeros(np.ones(1)), zeros(np.ones(1)), np.arange(10.0), 2, 1.0)
    >>> acc.tolist(), float(acc2.sum())
    ([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0, 8.0], 113.0)
    """
    v = a[a.size - acc.size:] - pivot
    v[:acc.size - count] = 0
    return acc + v, acc2 + v * v


def merge(acc, other):
    """``acc + other``, lane by lane.

    >>> merge(np.ones(2), np.arange(2.0))
    array([1., 2.])
    """
    return acc + other


def total(acc):
    """The lanes of ``acc`` added in float64 as a tree: the first half plus the second,
    lane by lane, until one is left.

    >>> total(np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    10.0
    """
    t = acc.astype(np.float64)
    while t.size > 1:
        t = t[:t.size // 2] + t[t.size // 2:]
    return float(t[0])


# ---------------------------------------------------------------------------- numba's side
def _vector_type(context, dtype):
    return context.data_model_manager.lookup(Lanes(dtype)).get_value_type()


def _load_line(context, builder, array_type, array, start):
    return builder.load(line_pointer(context, builder, array_type, array, start)[0], align=1)


def _exact(instruction):
    """Mark a float instruction so that numba's fast-math pass, which flags only the
    instructions that have none, leaves it exact: ``arcp`` (reciprocals allowed) changes
    nothing in an addition, subtraction or multiplication."""
    instruction.flags.append("arcp")
    return instruction


def _float_arrays(*arrays):
    return (all(isinstance(a, types.Array) for a in arrays) and len({a.dtype for a in arrays}) == 1
            and isinstance(arrays[0].dtype, types.Float))


@intrinsic
def _zeros(typingctx, like):
    if not _float_arrays(like):
        return None

    def codegen(context, builder, signature, args):
        return ir.Constant(_vector_type(context, signature.args[0].dtype), None)

    return Lanes(like.dtype)(like), codegen


def _lanes_and_array(acc, acc2, a):
    return isinstance(acc, Lanes) and acc == acc2 and _float_arrays(a) and a.dtype == acc.dtype


def _shifted_sums(context, builder, signature, acc, acc2, line, pivot, keep=None):
    """``(acc + v, acc2 + v v)`` for ``v = line - pivot``, the lanes not in ``keep`` (a
    mask, when given) zero."""
    v = _exact(builder.fsub(line, splat(builder, line.type, pivot)))
    if keep is not None:
        v = builder.select(keep, v, ir.Constant(line.type, None))
    sums = (_exact(builder.fadd(acc, v)), _exact(builder.fadd(acc2, _exact(builder.fmul(v, v)))))
    return context.make_tuple(builder, signature.return_type, sums)


@intrinsic
def _add_shifted(typingctx, acc, acc2, a, start, pivot):
    if not _lanes_and_array(acc, acc2, a):
        return None

    def codegen(context, builder, signature, args):
        acc_v, acc2_v, a_v, start_v, pivot_v = args
        line = _load_line(context, builder, signature.args[2], a_v, start_v)
        return _shifted_sums(context, builder, signature, acc_v, acc2_v, line, pivot_v)

    return types.UniTuple(acc, 2)(acc, acc2, a, types.intp, a.dtype), codegen


@intrinsic
def _add_shifted_last(typingctx, acc, acc2, a, count, pivot):
    if not _lanes_and_array(acc, acc2, a):
        return None

    def codegen(context, builder, signature, args):
        acc_v, acc2_v, a_v, count_v, pivot_v = args
        lanes = acc_v.type.count
        size = cgutils.unpack_tuple(builder, context.make_array(signature.args[2])(context, builder, a_v).shape)[0]
        line = _load_line(context, builder, signature.args[2], a_v, builder.sub(size, size.type(lanes)))
        index = ir.VectorType(count_v.type, lanes)
        first = splat(builder, index, builder.sub(count_v.type(lanes), count_v))
        keep = builder.icmp_unsigned(">=", ir.Constant(index, list(range(lanes))), first)
        return _shifted_sums(context, builder, signature, acc_v, acc2_v, line, pivot_v, keep)

    return types.UniTuple(acc, 2)(acc, acc2, a, types.intp, a.dtype), codegen


@intrinsic
def _merge(typingctx, acc, other):
    if not (isinstance(acc, Lanes) and acc == other):
        return None

    def codegen(context, builder, signature, args):
        return _exact(builder.fadd(*args))

    return acc(acc, other), codegen


@intrinsic
def _total(typingctx, acc):
    if not isinstance(acc, Lanes):
        return None

    def codegen(context, builder, signature, args):
        (t,) = args
        if t.type.element != ir.DoubleType():
            t = builder.fpext(t, ir.VectorType(ir.DoubleType(), t.type.count))
        while t.type.count > 1:
            half = t.type.count // 2
            low = builder.shuffle_vector(t, t, ir.Constant(ir.VectorType(ir.IntType(32), half), list(range(half))))
            high = builder.shuffle_vector(t, t, ir.Constant(ir.VectorType(ir.IntType(32), half),
                                                            list(range(half, 2 * half))))
            t = _exact(builder.fadd(low, high))
        return builder.extract_element(t, ir.IntType(32)(0))

    return types.float64(acc), codegen


@overload(zeros, inline="always")
def _zeros_jit(like):
    return lambda like: _zeros(like)


@overload(add_shifted, inline="always")
def _add_shifted_jit(acc, acc2, a, start, pivot):
    return lambda acc, acc2, a, start, pivot: _add_shifted(acc, acc2, a, start, pivot)


@overload(add_shifted_last, inline="always")
def _add_shifted_last_jit(acc, acc2, a, count, pivot):
    return lambda acc, acc2, a, count, pivot: _add_shifted_last(acc, acc2, a, count, pivot)


@overload(merge, inline="always")
def _merge_jit(acc, other):
    return lambda acc, other: _merge(acc, other)


@overload(total, inline="always")
def _total_jit(acc):
    return lambda acc: _total(acc)


@overload(lane_count, inline="always")
def _lane_count_jit(itemsize):
    return lambda itemsize: LINE // itemsize
