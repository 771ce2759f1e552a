"""Winograd's F(2x2, 3x3) forward (kernels/conv2d_winograd.py) against the reference
loops of eq. 3.9: odd and even output sizes (the last tile half outside), rows of
tiles narrower and wider than one chunk, padding 0-2, float32 and float64."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference_kernels as ref
from tinygrad_notes.kernels import conv2d_backward, conv2d_forward
from tinygrad_notes.kernels import conv2d_winograd as wg

TOL = {np.float32: dict(rtol=2e-4, atol=2e-4), np.float64: dict(rtol=1e-10, atol=1e-10)}


@st.composite
def cases(draw):
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    return dict(N=draw(st.integers(1, 3)), C=draw(st.integers(1, 6)), K=draw(st.integers(1, 7)),
                H=draw(st.integers(max(1, 3 - 2 * ph), 13)), W=draw(st.integers(max(1, 3 - 2 * pw), 40)),
                padding=(ph, pw), bias=draw(st.booleans()),
                dtype=draw(st.sampled_from([np.float32, np.float64])),
                chunk_bytes=draw(st.sampled_from([1, 1 << 12, wg.CHUNK_BYTES])), seed=draw(st.integers(0, 99)))


@settings(max_examples=60, deadline=None)
@given(cases())
def test_winograd_forward_matches_the_reference(case):
    rng = np.random.default_rng(case["seed"])
    dt = case["dtype"]
    x = rng.standard_normal((case["N"], case["C"], case["H"], case["W"])).astype(dt)
    w = rng.standard_normal((case["K"], case["C"], 3, 3)).astype(dt)
    b = rng.standard_normal(case["K"]).astype(dt) if case["bias"] else None
    want = ref.conv2d(x, w, b, (1, 1), case["padding"])
    y = np.full(want.shape, np.nan, dt)
    saved = wg.CHUNK_BYTES
    wg.CHUNK_BYTES = case["chunk_bytes"]  # 1 byte: one row of tiles per chunk
    try:
        wg.winograd_forward(x, w, b, y, case["padding"])
    finally:
        wg.CHUNK_BYTES = saved
    np.testing.assert_allclose(y, want, **TOL[dt])


def test_the_transformed_filter_of_a_centre_tap_is_G_column_outer_product():
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 1, 1] = 1.0
    U = wg.transform_filters(w).reshape(4, 4)
    np.testing.assert_array_equal(U, np.outer([0, 0.5, -0.5, 0], [0, 0.5, -0.5, 0]))


def test_winograd_is_off_unless_asked_for():
    assert wg.ENABLED is (os.environ.get("TINYGRAD_NOTES_WINOGRAD") == "1")


def test_which_convs_go_through_winograd(monkeypatch):
    monkeypatch.setattr(wg, "ENABLED", False)
    assert not wg.winograd_applies((64, 64, 3, 3), (1, 1), (1, 1))
    monkeypatch.setattr(wg, "ENABLED", True)
    many = wg.MIN_CHANNELS
    assert wg.winograd_applies((many, many, 3, 3), (1, 1), (1, 1))
    assert not wg.winograd_applies((many, many, 3, 3), (2, 2), (1, 1))  # stride 2
    assert not wg.winograd_applies((many, many, 3, 3), (1, 1), (2, 2))  # dilated
    assert not wg.winograd_applies((many, many, 5, 5), (1, 1), (1, 1))  # 5x5
    assert not wg.winograd_applies((many - 1, many, 3, 3), (1, 1), (1, 1))  # too few channels


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_forward_and_dx_take_winograd_when_it_applies(monkeypatch, dtype):
    calls = []
    real = wg.winograd_forward

    def spy(*args):
        calls.append(args[1].shape)
        return real(*args)

    import tinygrad_notes.kernels.conv2d as cv
    monkeypatch.setattr(cv, "winograd_forward", spy)
    monkeypatch.setattr(wg, "ENABLED", True)
    C = K = wg.MIN_CHANNELS
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, C, 5, 6)).astype(dtype)
    w = rng.standard_normal((K, C, 3, 3)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    y = conv2d_forward(x, w, b, (1, 1), (1, 1))
    tol = TOL[dtype]
    np.testing.assert_allclose(y, ref.conv2d(x, w, b, (1, 1), (1, 1)), **tol)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx, _, _ = conv2d_backward(dy, x, w, (1, 1), (1, 1))
    np.testing.assert_allclose(dx, ref.conv2d_backward(dy, x, w, (1, 1), (1, 1))[0], **tol)
    assert calls == [(K, C, 3, 3), (C, K, 3, 3)]  # the forward, then dx as eq. 3.14's full conv
