"""The in-register block transpose (kernels/_transpose.py) against numpy's, called from
a jitted kernel (the shuffle code) and from Python (the plain loop)."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_notes.kernels._jit import jit
from tinygrad_notes.kernels._transpose import block_size, transpose_block


@jit
def _transpose_in_kernel(src, src_start, src_stride, dst, dst_start, dst_stride):
    transpose_block(src, src_start, src_stride, dst, dst_start, dst_stride)


@pytest.mark.parametrize("call", [_transpose_in_kernel, transpose_block], ids=["jitted", "python"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_block_lands_transposed_and_nothing_else_is_written(call, dtype):
    n = block_size(np.dtype(dtype).itemsize)
    rng = np.random.default_rng(1)
    src_stride, dst_stride, src_start, dst_start = 3 * n + 5, 2 * n + 1, 7, 11
    src = rng.standard_normal(src_start + n * src_stride).astype(dtype)
    dst = np.full(dst_start + n * dst_stride, -1.0, dtype)
    call(src, src_start, src_stride, dst, dst_start, dst_stride)
    block = np.lib.stride_tricks.as_strided(src[src_start:], (n, n), (src_stride * src.itemsize, src.itemsize))
    written = np.lib.stride_tricks.as_strided(dst[dst_start:], (n, n), (dst_stride * dst.itemsize, dst.itemsize))
    np.testing.assert_array_equal(written, block.T)
    untouched = np.ones(dst.size, bool)
    for j in range(n):
        untouched[dst_start + j * dst_stride:dst_start + j * dst_stride + n] = False
    assert (dst[untouched] == -1.0).all()
