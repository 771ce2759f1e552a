"""The register-lane sums of kernels/_lanes.py: jitted, they give the bits of the numpy
expressions they stand for, and the bits of a row's sums do not depend on what the
loop streams alongside."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_notes.kernels import _bn_rows as rows_module
from tinygrad_notes.kernels import _lanes
from tinygrad_notes.kernels._stream import STREAMING, store_fence


def _row(dtype, size, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(size) * 3 + 40).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [3, 16, 37, 100, 2 * 4096 + 37])
def test_row_sums_jitted_give_the_bits_of_numpy(dtype, size):
    """A row's shifted sums (eqs. 3.19-3.20) as the streamed forward takes them: the
    jitted loop (vector instructions, no fast-math) against the same function run by
    Python on numpy arrays; and both within float32's error of float64 sums."""
    q = _row(dtype, size, size)
    pivot, zero = q[0], dtype(0)
    args = (q, q, 0, 0, zero, zero, zero, q, pivot)
    jitted = rows_module._stream_lines_and_sum(*args)
    python = getattr(rows_module._stream_lines_and_sum, "py_func", rows_module._stream_lines_and_sum)
    assert jitted == python(*args)
    d = q.astype(np.float64) - np.float64(pivot)
    bound = size * np.finfo(dtype).eps
    assert abs(jitted[0] - d.sum()) <= bound * np.abs(d).sum()
    assert abs(jitted[1] - (d * d).sum()) <= 2 * bound * (d * d).sum()


@pytest.mark.parametrize("offset", [0, 1, 5, 15])
def test_streamed_writes_leave_the_sums_alone(offset):
    """Streaming a row of y alongside, from any alignment, changes neither the sums nor
    the numbers written (against numpy's ``(p - hi) a + b``)."""
    if not STREAMING:
        pytest.skip("streaming stores are emitted only by numba's JIT on x86-64; the kernels then store plainly")
    q, p = _row(np.float32, 300, 1), _row(np.float32, 300 + offset, 2)[offset:]
    hi, a, b = np.float32(40), np.float32(0.5), np.float32(-1)
    alone = rows_module._stream_lines_and_sum(q, q, 0, 0, hi, a, b, q, q[0])
    out = np.zeros_like(p)
    assert rows_module._stream_row_and_sum(p, out, hi, a, b, q, q[0]) == alone
    store_fence()
    np.testing.assert_allclose(out, (p - hi) * a + b, rtol=1e-6, atol=1e-6)


def test_the_last_line_adds_only_its_last_values():
    a = np.arange(20, dtype=np.float32)
    acc, acc2 = _lanes.add_shifted_last(_lanes.zeros(a), _lanes.zeros(a), a, 4, np.float32(1))
    assert acc.tolist() == [0.0] * 12 + [15.0, 16.0, 17.0, 18.0]
    assert acc2.tolist() == [0.0] * 12 + [225.0, 256.0, 289.0, 324.0]
    assert _lanes.total(acc) == 66.0
