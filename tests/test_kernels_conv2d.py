"""The conv2d kernels against the plain-loop references of tests/reference_kernels.py."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference_kernels as ref
from tinygrad_notes.kernels import conv2d as conv_module
from tinygrad_notes.kernels import clear_workspaces, conv2d_backward, conv2d_forward, workspace_bytes

TOL = {np.float32: dict(rtol=2e-4, atol=2e-4), np.float64: dict(rtol=1e-10, atol=1e-10)}


@st.composite
def conv_cases(draw):
    """A small conv2d whose (dilated) kernel fits the padded input."""
    groups = draw(st.sampled_from([1, 1, 2]))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.sampled_from([1, 1, 2])), draw(st.sampled_from([1, 1, 2]))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    H = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 9))
    W = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 9))
    return dict(
        N=draw(st.integers(1, 3)), C=groups * draw(st.integers(1, 3)), K=groups * draw(st.integers(1, 3)),
        H=H, W=W, k=(kh, kw), stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=groups,
        bias=draw(st.booleans()), dtype=draw(st.sampled_from([np.float32, np.float64])), seed=draw(st.integers(0, 99)),
    )


def _arrays(case):
    rng = np.random.default_rng(case["seed"])
    dt = case["dtype"]
    x = rng.standard_normal((case["N"], case["C"], case["H"], case["W"])).astype(dt)
    w = rng.standard_normal((case["K"], case["C"] // case["groups"], *case["k"])).astype(dt)
    b = rng.standard_normal(case["K"]).astype(dt) if case["bias"] else None
    return x, w, b


def _settings(case):
    return case["stride"], case["padding"], case["dilation"], case["groups"]


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_forward_and_backward_match_the_reference(case):
    x, w, b = _arrays(case)
    s = _settings(case)
    y = conv2d_forward(x, w, b, *s)
    assert y.dtype == x.dtype and y.flags.c_contiguous
    np.testing.assert_allclose(y, ref.conv2d(x, w, b, *s), **TOL[case["dtype"]])
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
    dx, dw, db = conv2d_backward(dy, x, w, *s)
    rdx, rdw, rdb = ref.conv2d_backward(dy, x, w, *s)
    for got, want in ((dx, rdx), (dw, rdw), (db, rdb)):
        assert got.dtype == x.dtype
        np.testing.assert_allclose(got, want, **TOL[case["dtype"]])


def test_dx_is_the_full_convolution_with_rot180_of_eq_3_14():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 1, 6, 7)), rng.standard_normal((1, 1, 3, 2))
    delta = rng.standard_normal((1, 1, 4, 6))
    dx, _, _ = conv2d_backward(delta, x, w)
    np.testing.assert_allclose(dx[0, 0], ref.full_conv_rot180(delta[0, 0], w[0, 0]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("chunk_bytes", [1, 3000])
def test_several_chunks_and_a_short_last_chunk(monkeypatch, chunk_bytes):
    monkeypatch.setattr(conv_module, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(2)
    for stride in (1, 2):
        x, w, b = rng.standard_normal((5, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
        y = conv2d_forward(x, w, b, (stride, stride), (1, 1))
        np.testing.assert_allclose(y, ref.conv2d(x, w, b, (stride, stride), (1, 1)), rtol=1e-12, atol=1e-12)
        dy = rng.standard_normal(y.shape)
        for got, want in zip(conv2d_backward(dy, x, w, (stride, stride), (1, 1)),
                             ref.conv2d_backward(dy, x, w, (stride, stride), (1, 1))):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(conv_cases())
def test_chunks_on_the_kernel_threads_match_the_reference(case):
    """The path taken when BLAS runs on one thread: every image its own chunk, the
    chunks handed out to the kernel threads, dW and db summed over per-chunk parts,
    col2im run inside a chunk (a nested split must not wait on the busy pool)."""
    x, w, b = _arrays(case)
    s = _settings(case)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conv_module, "_chunks_in_parallel", lambda: True)
        mp.setattr(conv_module, "PARALLEL_CHUNK_BYTES", 1)
        y = conv2d_forward(x, w, b, *s)
        dy = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
        grads = conv2d_backward(dy, x, w, *s)
    np.testing.assert_allclose(y, ref.conv2d(x, w, b, *s), **TOL[case["dtype"]])
    for got, want in zip(grads, ref.conv2d_backward(dy, x, w, *s)):
        np.testing.assert_allclose(got, want, **TOL[case["dtype"]])


def test_blas_on_one_thread_sends_the_chunks_to_the_kernel_threads():
    from tinygrad_notes.kernels import _blas
    from tinygrad_notes.kernels._threads import thread_count

    before = _blas.blas_threads()
    if before is None:
        pytest.skip("numpy's BLAS is not an OpenBLAS reachable at run time")
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((6, 3, 9, 9)), rng.standard_normal((5, 3, 3, 3))
    try:
        assert _blas.set_blas_threads(1) and _blas.blas_threads() == 1
        assert conv_module._chunks_in_parallel() == (thread_count() > 1)
        y = conv2d_forward(x, w, None, (1, 1), (1, 1))
        grads = conv2d_backward(np.ones_like(y), x, w, (1, 1), (1, 1))
    finally:
        _blas.set_blas_threads(before)
    assert _blas.blas_threads() == before
    np.testing.assert_allclose(y, ref.conv2d(x, w, None, (1, 1), (1, 1)), rtol=1e-12, atol=1e-12)
    for got, want in zip(grads, ref.conv2d_backward(np.ones_like(y), x, w, (1, 1), (1, 1))):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_reused_workspaces_keep_zero_borders_across_geometries():
    rng = np.random.default_rng(3)
    clear_workspaces()
    cases = [((2, 3, 8, 8), (4, 3, 3, 3), (1, 1), (2, 2)), ((1, 3, 5, 9), (2, 3, 2, 3), (1, 1), (0, 0)),
             ((3, 2, 7, 4), (2, 2, 3, 1), (2, 1), (1, 0)), ((2, 3, 8, 8), (4, 3, 3, 3), (1, 1), (2, 2))]
    for xs, ws, stride, pad in cases * 2:
        x, w = rng.standard_normal(xs), rng.standard_normal(ws)
        np.testing.assert_allclose(conv2d_forward(x, w, None, stride, pad), ref.conv2d(x, w, None, stride, pad),
                                   rtol=1e-12, atol=1e-12)
    assert workspace_bytes() > 0
    clear_workspaces()
    assert workspace_bytes() == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_workspaces_start_on_a_cache_line(dtype):
    from tinygrad_notes.kernels._workspace import ALIGN, workspace

    clear_workspaces()
    try:
        for shape in [(1,), (3, 5), (1000, 7), (2,), (1 << 16,)]:  # grows, shrinks, grows
            buf = workspace("test.align", shape, dtype)
            assert buf.shape == shape and buf.dtype == dtype and buf.flags.c_contiguous
            assert buf.ctypes.data % ALIGN == 0
            buf[...] = 1  # the whole view is writable memory
    finally:
        clear_workspaces()


def test_needs_skips_gradients():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    dy = rng.standard_normal((2, 3, 3, 3))
    dx, dw, db = conv2d_backward(dy, x, w, needs=(False, True, False))
    assert dx is None and db is None
    np.testing.assert_allclose(dw, ref.conv2d_backward(dy, x, w)[1], rtol=1e-12)
    dy2 = rng.standard_normal((2, 3, 2, 2))
    dx, dw, db = conv2d_backward(dy2, x, w, (2, 2), needs=(True, False, False))
    assert dw is None and db is None
    np.testing.assert_allclose(dx, ref.conv2d_backward(dy2, x, w, (2, 2))[0], rtol=1e-12)


def test_inputs_are_not_modified():
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    copies = [a.copy() for a in (x, w, b)]
    y = conv2d_forward(x, w, b, (1, 1), (1, 1))
    dy = rng.standard_normal(y.shape)
    dy_copy = dy.copy()
    for a in (x, w, b, dy):
        a.flags.writeable = False
    conv2d_backward(dy, x, w, (1, 1), (1, 1))
    dy2 = np.ones(conv2d_forward(x, w, b, (2, 2), (1, 1)).shape)
    dy2.flags.writeable = False
    conv2d_backward(dy2, x, w, (2, 2), (1, 1))
    for a, c in zip((x, w, b, dy), copies + [dy_copy]):
        np.testing.assert_array_equal(a, c)


def test_threads_calling_at_once_do_not_share_scratch_buffers():
    rng = np.random.default_rng(6)
    jobs = [(rng.standard_normal((3, 4, 9, 9)), rng.standard_normal((5, 4, 3, 3))) for _ in range(4)]
    expected = [ref.conv2d(x, w, None, (1, 1), (1, 1)) for x, w in jobs]
    results = [None] * len(jobs)

    def work(i):
        for _ in range(20):
            results[i] = conv2d_forward(*jobs[i], None, (1, 1), (1, 1))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
