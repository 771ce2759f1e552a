"""The weight gradient with output channels in the SIMD lanes
(kernels/conv2d_weight_grad_wide.py) against the reference loops, and where the conv
backward uses it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference_kernels as ref
from tinygrad_notes.kernels import conv2d as conv_module
from tinygrad_notes.kernels import conv2d_backward
from tinygrad_notes.kernels import conv2d_weight_grad_wide as wide
from tinygrad_notes.kernels.conv2d_direct import direct_weight_grad

TOL = dict(rtol=3e-4, atol=3e-4)


@st.composite
def wide_cases(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    dh, dw = draw(st.sampled_from([1, 1, 2])), draw(st.sampled_from([1, 1, 2]))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    H = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 12))
    W = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 40))
    return dict(N=draw(st.integers(1, 4)), C=draw(st.integers(1, 5)), K=draw(st.sampled_from([32, 64])),
                H=H, W=W, k=(kh, kw), padding=(ph, pw), dilation=(dh, dw), seed=draw(st.integers(0, 99)))


@settings(max_examples=40, deadline=None)
@given(wide_cases())
def test_wide_weight_grad_matches_the_reference(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["N"], case["C"], case["H"], case["W"])).astype(np.float32)
    w = rng.standard_normal((case["K"], case["C"], *case["k"])).astype(np.float32)
    s = ((1, 1), case["padding"], case["dilation"])
    dy = rng.standard_normal(ref.conv2d(x, w, None, *s).shape).astype(np.float32)
    _, rdw, rdb = ref.conv2d_backward(dy, x, w, *s)
    dw, db = wide.wide_weight_grad(dy, x, w.shape, case["padding"], case["dilation"])
    assert dw.dtype == db.dtype == np.float32 and dw.shape == w.shape
    np.testing.assert_allclose(dw, rdw, **TOL)
    np.testing.assert_allclose(db, rdb, **TOL)


@pytest.mark.parametrize("kernel", [wide.wide_weight_grad, direct_weight_grad])
def test_the_weight_gradient_has_the_same_bits_on_every_call(kernel):
    """The images are summed in fixed slices added in order, however the threads finish
    (added as the threads handed them back, 17 and 37 of 50 calls differed)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 8, 12, 12), dtype=np.float32)
    dy = rng.standard_normal((16, 32, 12, 12), dtype=np.float32)
    first = kernel(dy, x, (32, 8, 3, 3), (1, 1), (1, 1))
    for _ in range(30):
        again = kernel(dy, x, (32, 8, 3, 3), (1, 1), (1, 1))
        assert all(a.tobytes() == b.tobytes() for a, b in zip(first, again))


@pytest.mark.parametrize("dtype, K, expected", [
    (np.float32, 32, True), (np.float32, 64, True),  # smallcnn's and resnetish's K
    (np.float32, 16, False), (np.float32, 40, False),  # the lanes would not fill
    (np.float64, 32, False),  # 32 float64 channels would not fit in the registers
])
def test_wide_kernel_applies_to_float32_with_whole_blocks_of_channels(dtype, K, expected):
    assert wide.wide_weight_grad_applies((8, 16, 32, 32), (K, 16, 3, 3), (1, 1), (1, 1), (1, 1),
                                         dtype) is expected


@pytest.mark.parametrize("x_shape, stride, expected", [
    ((32, 64, 56, 56), (1, 1), True),  # resnetish: 1.7 MB an image
    ((32, 64, 112, 112), (1, 1), False),  # 6.6 MB an image: im2col + BLAS
    ((32, 16, 32, 32), (2, 2), False),  # stride 2: im2col
])
def test_wide_kernel_applies_at_stride_one_where_an_image_fits_in_l2(x_shape, stride, expected):
    w_shape = (64, x_shape[1], 3, 3)
    assert wide.wide_weight_grad_applies(x_shape, w_shape, (1, 1), (1, 1), stride, np.float32) is expected


def _routed(monkeypatch, x, w, groups=1):
    calls = []
    real_wide, real_direct = conv_module.wide_weight_grad, conv_module.direct_weight_grad
    monkeypatch.setattr(conv_module, "wide_weight_grad", lambda *a: calls.append("wide") or real_wide(*a))
    monkeypatch.setattr(conv_module, "direct_weight_grad", lambda *a: calls.append("direct") or real_direct(*a))
    s = ((1, 1), (1, 1), (1, 1), groups)
    dy = np.random.default_rng(3).standard_normal(ref.conv2d(x, w, None, *s).shape).astype(x.dtype)
    _, dw, db = conv2d_backward(dy, x, w, *s, needs=(False, True, True))
    _, rdw, rdb = ref.conv2d_backward(dy, x, w, *s)
    tol = TOL if x.dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, rdw, **tol)
    np.testing.assert_allclose(db, rdb, **tol)
    return calls


def test_conv_backward_takes_the_wide_kernel_for_32_float32_channels(monkeypatch):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 10, 11)).astype(np.float32)
    w = rng.standard_normal((32, 4, 3, 3)).astype(np.float32)
    assert _routed(monkeypatch, x, w) == ["wide"]
    assert _routed(monkeypatch, x.astype(np.float64), w.astype(np.float64)) == ["direct"]
    assert _routed(monkeypatch, x, w[:16]) == ["direct"]


def test_each_group_of_32_channels_takes_the_wide_kernel(monkeypatch):
    """With groups, each group's delta and input are strided slices of the whole."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 6, 9, 9)).astype(np.float32)
    w = rng.standard_normal((64, 3, 3, 3)).astype(np.float32)
    assert _routed(monkeypatch, x, w, groups=2) == ["wide", "wide"]
