"""The direct stride-1 kernels (kernels/conv2d_direct.py) against the reference loops,
on shapes that reach their block edges: rows wider than one register block, output
channels and taps that do not fill a block, several images summed as one group."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference_kernels as ref
from tinygrad_notes.kernels import conv2d_direct as direct
from tinygrad_notes.kernels import conv2d_backward, conv2d_forward

TOL = {np.float32: dict(rtol=3e-4, atol=3e-4), np.float64: dict(rtol=1e-10, atol=1e-10)}


@st.composite
def stride_one_cases(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    dh, dw = draw(st.sampled_from([1, 1, 2])), draw(st.sampled_from([1, 1, 2]))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    H = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 12))
    W = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 40))
    return dict(N=draw(st.integers(1, 5)), C=draw(st.integers(1, 6)), K=draw(st.integers(1, 19)),
                H=H, W=W, k=(kh, kw), padding=(ph, pw), dilation=(dh, dw),
                bias=draw(st.booleans()), dtype=draw(st.sampled_from([np.float32, np.float64])),
                group_bytes=draw(st.sampled_from([1, 1 << 14, direct.GROUP_BYTES])),
                seed=draw(st.integers(0, 99)))


def _arrays(case):
    rng = np.random.default_rng(case["seed"])
    dt = case["dtype"]
    x = rng.standard_normal((case["N"], case["C"], case["H"], case["W"])).astype(dt)
    w = rng.standard_normal((case["K"], case["C"], *case["k"])).astype(dt)
    b = rng.standard_normal(case["K"]).astype(dt) if case["bias"] else None
    return x, w, b


@settings(max_examples=60, deadline=None)
@given(stride_one_cases())
def test_direct_forward_matches_the_reference(case):
    x, w, b = _arrays(case)
    s = ((1, 1), case["padding"], case["dilation"])
    want = ref.conv2d(x, w, b, *s)
    y = np.full(want.shape, np.nan, case["dtype"])
    direct.direct_forward(x, w, b, y, case["padding"], case["dilation"])
    np.testing.assert_allclose(y, want, **TOL[case["dtype"]])


@settings(max_examples=60, deadline=None)
@given(stride_one_cases())
def test_direct_weight_grad_matches_the_reference(case):
    x, w, b = _arrays(case)
    s = ((1, 1), case["padding"], case["dilation"])
    dy = np.random.default_rng(1).standard_normal(ref.conv2d(x, w, b, *s).shape).astype(x.dtype)
    _, rdw, rdb = ref.conv2d_backward(dy, x, w, *s)
    saved = direct.GROUP_BYTES
    direct.GROUP_BYTES = case["group_bytes"]  # 1: one image a group; larger: several
    try:
        dw, db = direct.direct_weight_grad(dy, x, w.shape, case["padding"], case["dilation"])
    finally:
        direct.GROUP_BYTES = saved
    assert dw.dtype == db.dtype == x.dtype and dw.shape == w.shape
    np.testing.assert_allclose(dw, rdw, **TOL[case["dtype"]])
    np.testing.assert_allclose(db, rdb, **TOL[case["dtype"]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("K, W", [(16, 70), (32, 40), (16, 12), (19, 70), (8, 16), (3, 12), (1, 40), (4, 33)])
def test_direct_forward_whole_and_partial_register_blocks(dtype, K, W):
    """Rows of whole register blocks (stored straight from registers) next to a partial
    block at the row's end, and output channels that fill a block exactly or leave a
    rest; float32 with K = 16 or 32 takes the 16 x 16 blocks, K <= 4 blocks of 4, the
    others 8 x 16 or 32."""
    rng = np.random.default_rng(K + W)
    x = rng.standard_normal((2, 3, 5, W)).astype(dtype)
    w = rng.standard_normal((K, 3, 3, 3)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    want = ref.conv2d(x, w, b, (1, 1), (1, 1), (1, 1))
    y = np.full(want.shape, np.nan, dtype)
    direct.direct_forward(x, w, b, y, (1, 1), (1, 1))
    np.testing.assert_allclose(y, want, **TOL[dtype])


@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("N, K, H, W, k, pad", [
    (2, 16, 6, 21, 3, 1),  # a block runs from one output row into the next
    (1, 19, 9, 5, 3, 1),  # rows of 7 padded values: a 16-pixel block spans three rows
    (1, 8, 37, 45, 3, 1),  # one image split by rows: blocks stop at the item's last pixel
    (3, 3, 11, 30, 5, 0),  # 4-channel blocks, no padding
])
def test_direct_forward_along_rows_or_wide_rows_matches_the_reference(monkeypatch, wide, N, K, H, W, k, pad):
    """Both ways of placing the blocks (:func:`direct.wide_rows`), forced, on shapes where
    blocks cross rows, hold partial channel blocks, and end where a work item ends."""
    monkeypatch.setattr(direct, "wide_rows", lambda *a: wide)
    for dtype in (np.float32, np.float64):
        rng = np.random.default_rng(N + K + H + W)
        x = rng.standard_normal((N, 4, H, W)).astype(dtype)
        w = rng.standard_normal((K, 4, k, k)).astype(dtype)
        b = rng.standard_normal(K).astype(dtype)
        want = ref.conv2d(x, w, b, (1, 1), (pad, pad), (1, 1))
        y = np.full(want.shape, np.nan, dtype)
        direct.direct_forward(x, w, b, y, (pad, pad), (1, 1))
        np.testing.assert_allclose(y, want, **TOL[dtype])


@pytest.mark.parametrize("Wo, Wp, lanes, expected", [
    (56, 58, 16, True),  # resnetish: 64 pixels a row block by block, 58 along wide rows
    (32, 34, 16, False),  # smallcnn: 32 vs 34
    (24, 28, 32, True),  # lenet: 32 vs 28
    (14, 16, 16, False),  # a tie stays row by row
])
def test_wide_rows_computes_fewer_unused_pixels(Wo, Wp, lanes, expected):
    assert direct.wide_rows(Wo, Wp, lanes) is expected


def test_one_image_is_split_by_rows_across_threads():
    """Batch size 1: the work items are blocks of rows of the one image."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 3, 37, 45)).astype(np.float32)
    w = rng.standard_normal((10, 3, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(conv2d_forward(x, w, None, (1, 1), (1, 1)),
                               ref.conv2d(x, w, None, (1, 1), (1, 1), (1, 1)), **TOL[np.float32])


@pytest.mark.parametrize("shape, expected", [
    (((2, 16, 14, 14), (32, 16, 5, 5), (2, 2)), True),  # the CNN's second conv
    (((2, 64, 56, 56), (64, 64, 3, 3), (1, 1)), False),  # 1.7 MB an image: im2col + BLAS
])
def test_weight_grad_takes_the_direct_kernel_only_where_an_image_fits(shape, expected):
    x_shape, w_shape, pad = shape
    assert direct.weight_grad_applies(x_shape, w_shape, pad, (1, 1), (1, 1), 4) is expected
    assert direct.weight_grad_applies(x_shape, w_shape, pad, (1, 1), (2, 1), 4) is False


def test_the_conv_op_routes_stride_one_through_the_direct_kernels(monkeypatch):
    calls = []
    real_fwd, real_grad = direct.direct_forward, direct.direct_weight_grad
    from tinygrad_notes.kernels import conv2d as conv_module
    monkeypatch.setattr(conv_module, "direct_forward",
                        lambda *a: calls.append("fwd") or real_fwd(*a))
    monkeypatch.setattr(conv_module, "direct_weight_grad",
                        lambda *a: calls.append("dw") or real_grad(*a))
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 9, 9)).astype(np.float32)
    w = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
    y = conv2d_forward(x, w, None, (1, 1), (1, 1))
    conv2d_backward(np.ones_like(y), x, w, (1, 1), (1, 1))
    # forward, then dx as the full convolution (a forward) and dW
    assert calls == ["fwd", "dw", "fwd"]
    calls.clear()
    conv2d_forward(x, w, None, (2, 2), (1, 1))
    assert calls == []


@pytest.mark.parametrize("K, Wo, dtype, expected", [
    (32, 32, np.float32, (16, 16)),
    (16, 70, np.float32, (16, 16)),
    (24, 32, np.float32, (8, 32)),  # not a multiple of 16
    (32, 12, np.float32, (16, 16)),
    (8, 12, np.float32, (8, 16)),
    (32, 32, np.float64, (8, 16)),
    (1, 28, np.float32, (4, 32)),  # a first layer's dx
    (3, 32, np.float64, (4, 16)),
    (5, 32, np.float32, (8, 32)),
])
def test_block_shape(K, Wo, dtype, expected):
    assert direct.block_shape(K, Wo, dtype) == expected
