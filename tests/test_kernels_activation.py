"""The ReLU kernels give numpy's numbers bit for bit, NaNs, infinities and -0.0 included,
and the relu op takes them for large arrays."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_notes import Value
from tinygrad_notes.kernels import activation, relu_backward, relu_forward
from tinygrad_notes.ops import activation as relu_op


def _awkward(n, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n).astype(dtype)
    specials = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45], dtype)
    x[rng.integers(0, n, 64)] = rng.choice(specials, 64)
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 17, 1000, 70001])
def test_relu_kernels_match_numpy(monkeypatch, dtype, n):
    monkeypatch.setattr(activation, "MIN_ELEMENTS_PER_THREAD", 64)  # split even the small ones
    x, g = _awkward(n, dtype, 0), _awkward(n, dtype, 1)
    y = relu_forward(x)
    want = np.maximum(x, 0)
    assert y.dtype == want.dtype and np.array_equal(y, want, equal_nan=True)
    assert np.array_equal(np.signbit(y), np.signbit(want))  # -0.0 gives +0.0, as in numpy
    dx = relu_backward(g, x)
    with np.errstate(invalid="ignore"):  # inf * 0: NaN, on both sides
        want = g * (x > 0)
    assert dx.dtype == want.dtype and np.array_equal(dx, want, equal_nan=True)
    assert np.array_equal(np.signbit(dx), np.signbit(want))


def test_the_relu_op_takes_the_kernels_for_large_arrays(monkeypatch):
    calls = []
    real_fwd, real_bwd = activation.relu_forward, activation.relu_backward
    import tinygrad_notes.kernels as k

    monkeypatch.setattr(k, "relu_forward", lambda x: calls.append("fwd") or real_fwd(x))
    monkeypatch.setattr(k, "relu_backward", lambda g, x: calls.append("bwd") or real_bwd(g, x))
    small = Value(_awkward(relu_op.RELU_BACKWARD_KERNEL_MIN_SIZE - 1, np.float32, 2).reshape(-1, 1))
    small.relu().sum().backward()
    assert calls == []
    middle = Value(_awkward(relu_op.RELU_BACKWARD_KERNEL_MIN_SIZE, np.float32, 5))
    middle.relu().backward(np.ones(middle.shape, np.float32))
    assert calls == ["bwd"]  # the backward pays off on fewer elements than the forward
    calls.clear()
    data = _awkward(relu_op.RELU_FORWARD_KERNEL_MIN_SIZE, np.float32, 3)
    big = Value(data.reshape(64, -1))
    out = big.relu()
    np.testing.assert_array_equal(out.data, np.maximum(big.data, 0))
    upstream = _awkward(data.size, np.float32, 4).reshape(big.shape)
    out.backward(upstream)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(big.grad, upstream * (big.data > 0))
    assert calls == ["fwd", "bwd"]
    strided = Value(np.ascontiguousarray(data.reshape(64, -1))[:, ::2])  # not contiguous: numpy
    strided.relu()
    assert calls == ["fwd", "bwd"]
