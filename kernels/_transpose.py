"""A square block of one SIMD register's width transposed in registers: 16 x 16 float32
values (8 x 8 float64), for the packing passes of the conv kernels.

A transpose written as numba loops (``dst[j, i] = src[i, j]``) compiles to one scalar
load and one scalar store per value, because LLVM does not turn it into shuffles. Here
:func:`transpose_block` loads the block's rows as ``n`` vectors of ``n`` lanes, swaps
them into columns in ``log2 n`` rounds of two-source shuffles, and stores ``n``
vectors: 16 loads, 64 shuffles and 16 stores for 256 float32 values. Round ``d`` (``n /
2``, ..., 2, 1) swaps, in every ``2d x 2d`` block, the top-right ``d x d`` block with the
bottom-left one; after the rounds every value ``(i, j)`` sits at ``(j, i)``.

With ``NUMBA_DISABLE_JIT=1``, or called from Python, it is a plain loop with the same
result.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

#: Bytes of one SIMD register (512-bit), the width of a block's row.
VECTOR_BYTES = 64


def block_size(itemsize: int) -> int:
    """Rows (and columns) of a block of values of ``itemsize`` bytes: 16 for float32.

    >>> block_size(4), block_size(8)
    (16, 8)
    """
    return VECTOR_BYTES // itemsize


def transpose_block(src, src_start, src_stride, dst, dst_start, dst_stride):
    """Write the transpose of an ``n x n`` block (``n`` = :func:`block_size`) of the flat
    array ``src`` into the flat array ``dst``: ``dst[dst_start + j dst_stride + i] =
    src[src_start + i src_stride + j]`` for ``0 <= i, j < n``. Both arrays have one
    dtype; strides and starts are in elements; nothing is bounds-checked in a kernel.

    >>> import numpy as np
    >>> src, dst = np.arange(256, dtype=np.float32), np.zeros(256, np.float32)
    >>> transpose_block(src, 0, 16, dst, 0, 16)
    >>> bool((dst.reshape(16, 16) == src.reshape(16, 16).T).all())
    True
    """
    n = block_size(src.itemsize)
    for i in range(n):
        for j in range(n):
            dst[dst_start + j * dst_stride + i] = src[src_start + i * src_stride + j]


def _swap_masks(n: int, d: int) -> tuple:
    """The shuffle masks of round ``d`` for a row ``i`` (bit ``d`` clear) and its partner
    ``i + d``: lanes ``0..n-1`` pick from row ``i``, ``n..2n-1`` from row ``i + d``."""
    upper = [n + c - d if c & d else c for c in range(n)]
    lower = [n + c if c & d else c + d for c in range(n)]
    return upper, lower


@intrinsic
def _transpose_block_simd(typingctx, src, src_start, src_stride, dst, dst_start, dst_stride):
    if not (isinstance(src, types.Array) and isinstance(dst, types.Array) and src.dtype == dst.dtype
            and isinstance(src.dtype, types.Float)):
        return None

    def codegen(context, builder, signature, args):
        src_v, src_start_v, src_stride_v, dst_v, dst_start_v, dst_stride_v = args
        lane = context.get_value_type(signature.args[0].dtype)
        itemsize = context.get_abi_sizeof(lane)
        n = block_size(itemsize)
        vector = ir.VectorType(lane, n)
        src_data = context.make_array(signature.args[0])(context, builder, src_v).data
        dst_data = context.make_array(signature.args[3])(context, builder, dst_v).data

        def row(data, start, stride, i):
            index = builder.add(start, builder.mul(stride, ir.IntType(64)(i)))
            return builder.bitcast(builder.gep(data, [index]), vector.as_pointer())

        rows = [builder.load(row(src_data, src_start_v, src_stride_v, i), align=itemsize)
                for i in range(n)]
        d = n // 2
        while d >= 1:
            upper, lower = (ir.Constant(ir.VectorType(ir.IntType(32), n), m) for m in _swap_masks(n, d))
            swapped = list(rows)
            for i in (i for i in range(n) if not i & d):
                swapped[i] = builder.shuffle_vector(rows[i], rows[i + d], upper)
                swapped[i + d] = builder.shuffle_vector(rows[i], rows[i + d], lower)
            rows, d = swapped, d // 2
        for i in range(n):
            builder.store(rows[i], row(dst_data, dst_start_v, dst_stride_v, i), align=itemsize)
        return context.get_dummy_value()

    return types.void(src, types.intp, types.intp, dst, types.intp, types.intp), codegen


@overload(transpose_block, inline="always")
def _transpose_block_jit(src, src_start, src_stride, dst, dst_start, dst_stride):
    def impl(src, src_start, src_stride, dst, dst_start, dst_stride):
        _transpose_block_simd(src, src_start, src_stride, dst, dst_start, dst_stride)

    return impl
