"""The pooling kernels against plain loops over the output pixels."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import reference_kernels as ref
from tinygrad_notes.kernels import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward


@st.composite
def pool_cases(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    return dict(
        shape=(draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(max(1, kh - 2 * ph), 8)),
               draw(st.integers(max(1, kw - 2 * pw), 8))),
        k=(kh, kw), s=(draw(st.integers(1, 3)), draw(st.integers(1, 3))), p=(ph, pw),
        dtype=draw(st.sampled_from([np.float32, np.float64])), seed=draw(st.integers(0, 99)),
        ties=draw(st.booleans()),
    )


def _data(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["shape"])
    if case["ties"]:
        x = np.round(x)  # many equal values: the first maximum must win
    return x.astype(case["dtype"])


@settings(max_examples=60, deadline=None)
@given(pool_cases())
def test_max_pool_matches_the_reference(case):
    x = _data(case)
    k, s, p = case["k"], case["s"], case["p"]
    y = max_pool2d_forward(x, k, s, p)
    assert y.dtype == x.dtype
    np.testing.assert_array_equal(y, ref.max_pool2d(x, k, s, p))
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
    tol = 1e-6 if x.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(max_pool2d_backward(dy, x, y, k, s, p), ref.max_pool2d_backward(dy, x, k, s, p),
                               rtol=tol, atol=tol)


@settings(max_examples=60, deadline=None)
@given(pool_cases())
def test_avg_pool_matches_the_reference(case):
    x = _data(case)
    k, s, p = case["k"], case["s"], case["p"]
    y = avg_pool2d_forward(x, k, s, p)
    tol = 1e-6 if x.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, ref.avg_pool2d(x, k, s, p), rtol=tol, atol=tol)
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
    np.testing.assert_allclose(avg_pool2d_backward(dy, x.shape, k, s, p), ref.avg_pool2d_backward(dy, x, k, s, p),
                               rtol=tol, atol=tol)


def test_padding_never_wins_a_max():
    x = -np.ones((1, 1, 2, 2)) - np.arange(4.0).reshape(1, 1, 2, 2)
    y = max_pool2d_forward(x, (2, 2), (1, 1), (1, 1))
    assert y.max() == -1.0 and np.isfinite(y).all()


def test_nan_propagates_through_max_pool():
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, 1, 0] = np.nan
    y = max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    assert np.isnan(y[0, 0, 0, 0]) and y[0, 0, 0, 1] == 0.0
    dx = max_pool2d_backward(np.ones_like(y), x, y, (2, 2), (2, 2), (0, 0))
    assert dx[0, 0, 1, 0] == 1.0 and dx[0, 0, :, :2].sum() == 1.0  # the NaN's cell gets the gradient


def test_avg_pool_counts_the_padding():
    y = avg_pool2d_forward(np.full((1, 1, 3, 3), 9.0), (3, 3), (1, 1), (1, 1))
    assert y[0, 0, 0, 0] == 4.0 and y[0, 0, 1, 1] == 9.0  # corner: 4 real cells of 9


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(2, 9), w=st.integers(2, 9),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 99),
       ties=st.booleans(), nans=st.integers(0, 3))
def test_the_2x2_stride_2_kernel_matches_the_reference(n, c, h, w, dtype, seed, ties, nans):
    """The 2x2 kernels, forward and branch-free backward: odd sizes (a last row or column
    in no window), ties (the first maximum wins) and NaNs (they propagate; the first NaN
    wins)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    if ties:
        x = np.round(x)
    x = x.astype(dtype)
    x.reshape(-1)[rng.integers(0, x.size, nans)] = np.nan
    y = max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(y, ref.max_pool2d(x, (2, 2), (2, 2), (0, 0)))  # NaNs compare equal
    dy = rng.standard_normal(y.shape).astype(dtype)
    expected = ref.max_pool2d_backward(dy, x, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(max_pool2d_backward(dy, x, y, (2, 2), (2, 2), (0, 0)), expected)


def test_the_2x2_kernels_split_over_threads(monkeypatch):
    from tinygrad_notes.kernels import pool

    monkeypatch.setattr(pool, "MIN_ELEMENTS_PER_THREAD", 1)  # every plane may go to another thread
    monkeypatch.setattr(pool, "FORWARD_2X2_MIN_ELEMENTS_PER_THREAD", 1)
    x = np.random.default_rng(3).standard_normal((3, 5, 10, 11)).astype(np.float32)
    y = max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(y, ref.max_pool2d(x, (2, 2), (2, 2), (0, 0)))
    dy = np.ones_like(y)
    np.testing.assert_array_equal(max_pool2d_backward(dy, x, y, (2, 2), (2, 2), (0, 0)),
                                  ref.max_pool2d_backward(dy, x, (2, 2), (2, 2), (0, 0)))
