"""Accumulators that live in registers: a small array with a size fixed at compile time.

An array made with ``np.empty`` inside a numba kernel lives on the heap, where LLVM must
keep every update in memory. :func:`register_tile` makes one on the stack (an LLVM
``alloca``) whose size is known when the kernel compiles. Once the loops over it are
unrolled, LLVM keeps each element in a register and turns the loops into SIMD
instructions: the inner loop of :mod:`.conv2d_direct` then holds all its partial sums
in registers for the whole reduction. With ``NUMBA_DISABLE_JIT=1`` it is a plain numpy
array, so the kernels still run (slowly) as Python.
"""

from __future__ import annotations

import numpy as np
from numba import carray, types
from numba.core import cgutils
from numba.extending import intrinsic, overload


def register_tile(rows, lanes, like):
    """A ``(rows, lanes)`` array of ``like``'s dtype whose contents are undefined;
    inside a kernel ``rows`` and ``lanes`` must be compile-time constants.

    >>> register_tile(2, 4, np.zeros(1, np.float32)).shape
    (2, 4)
    """
    return np.empty((rows, lanes), like.dtype)


def _literal(t) -> bool:
    return isinstance(t, types.IntegerLiteral)


@intrinsic(prefer_literal=True)
def _stack_buffer(typingctx, rows, lanes, like):
    if not (_literal(rows) and _literal(lanes)):
        return None
    size = rows.literal_value * lanes.literal_value

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once(builder, context.get_value_type(like.dtype), size=size)

    return types.CPointer(like.dtype)(rows, lanes, like), codegen


@overload(register_tile, prefer_literal=True, inline="always")
def _register_tile_jit(rows, lanes, like):
    if not (_literal(rows) and _literal(lanes)):
        return None

    def impl(rows, lanes, like):
        return carray(_stack_buffer(rows, lanes, like), (rows, lanes))

    return impl
