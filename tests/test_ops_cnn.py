"""conv2d, batch_norm, max_pool2d, avg_pool2d as tape ops: gradcheck in float64, the
running statistics, the dtype and layout rules, bad input, and the numba set-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference_kernels as ref
from tinygrad_notes import Value, gradcheck
from tinygrad_notes.functional_cnn import avg_pool2d, batch_norm, conv2d, max_pool2d
from tinygrad_notes.kernels import _jit
from tinygrad_notes.ops.registry import OPS

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape)


# ---------------------------------------------------------------------------- gradcheck
@pytest.mark.parametrize("xs, ws, kw", [
    ((2, 3, 5, 4), (4, 3, 3, 2), dict(stride=(2, 1), padding=1)),  # stride, padding, non-square
    ((1, 2, 6, 5), (3, 2, 3, 3), dict(padding=(0, 1))),  # batch size 1
    ((2, 2, 7, 7), (2, 2, 2, 2), dict(stride=3, dilation=2, padding=2)),
    ((2, 4, 5, 5), (6, 2, 3, 3), dict(groups=2, padding=1)),
    ((1, 1, 4, 6), (1, 1, 4, 6), dict()),  # kernel as large as the input
])
def test_conv2d_gradcheck(xs, ws, kw):
    b = rand(ws[0])
    gradcheck(lambda x, w, b: conv2d(x, w, b, **kw), [rand(*xs), rand(*ws), b])
    gradcheck(lambda x, w: conv2d(x, w, **kw), [rand(*xs), rand(*ws)])


@settings(max_examples=12, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(0, 1),
       st.integers(3, 6), st.integers(3, 6))
def test_conv2d_gradcheck_hypothesis(n, c, k, stride, pad, h, w):
    gradcheck(lambda x, wt, b: conv2d(x, wt, b, stride=stride, padding=pad), [rand(n, c, h, w), rand(k, c, 3, 2), rand(k)])


@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 3, 2), (1, 2, 2, 3), (5, 2, 4)])
def test_batch_norm_gradcheck_training(shape):
    C = shape[1]
    gradcheck(lambda x, g, b: batch_norm(x, g, b), [rand(*shape), rand(C) + 1, rand(C)], atol=1e-5)


def test_batch_norm_gradcheck_inference():
    mean, var = rand(3), RNG.random(3) + 0.5
    gradcheck(lambda x, g, b: batch_norm(x, g, b, mean, var, training=False), [rand(2, 3, 2, 2), rand(3), rand(3)])


@pytest.mark.parametrize("k, s, p", [(2, None, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 1))])
def test_pool_gradcheck(k, s, p):
    x = RNG.permutation(2 * 3 * 5 * 6).reshape(2, 3, 5, 6) / 7.0  # distinct values: no ties
    gradcheck(lambda x: max_pool2d(x, k, s, p), [x])
    gradcheck(lambda x: avg_pool2d(x, k, s, p), [x])


def test_tape_gradients_match_the_reference():
    x, w, b = Value(rand(2, 3, 6, 6)), Value(rand(4, 3, 3, 3)), Value(rand(4))
    y = conv2d(x, w, b, stride=2, padding=1)
    dy = rand(*y.shape)
    y.backward(dy)
    for got, want in zip((x.grad, w.grad, b.grad), ref.conv2d_backward(dy, x.data, w.data, (2, 2), (1, 1))):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------- running statistics
def test_running_statistics_use_the_unbiased_variance():
    x = rand(4, 2, 3, 3) * 3 + 1
    mean, var = np.zeros(2), np.ones(2)
    batch_norm(Value(x), Value(np.ones(2)), Value(np.zeros(2)), mean, var, momentum=0.25)
    m = 4 * 3 * 3
    batch_var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(mean, 0.25 * x.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(var, 0.75 + 0.25 * batch_var * m / (m - 1), rtol=1e-12)  # eq. 3.24: n/(n-1)
    np.testing.assert_allclose(var, 0.75 + 0.25 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-12)


def test_inference_uses_the_running_statistics_and_leaves_them():
    x = rand(3, 2, 2, 2)
    mean, var = np.array([0.5, -1.0]), np.array([2.0, 0.25])
    before = (mean.copy(), var.copy())
    y = batch_norm(Value(x), Value(np.ones(2)), Value(np.zeros(2)), mean, var, training=False, eps=0.0)
    np.testing.assert_allclose(y.data, (x - mean[:, None, None]) / np.sqrt(var)[:, None, None], rtol=1e-12)
    np.testing.assert_array_equal(mean, before[0])
    np.testing.assert_array_equal(var, before[1])


def test_running_statistics_keep_their_float32_dtype():
    mean, var = np.zeros(3, np.float32), np.ones(3, np.float32)
    batch_norm(Value(rand(4, 3)), None, None, mean, var)
    assert mean.dtype == np.float32 and var.dtype == np.float32 and var[0] != 1.0


# ---------------------------------------------------------------------------- dtypes, layouts
def test_mixed_float32_float64_promotes_and_gradients_keep_their_dtypes():
    x = Value(rand(2, 3, 5, 5).astype(np.float32))
    w = Value(rand(4, 3, 3, 3))
    y = conv2d(x, w, padding=1)
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    want = ref.conv2d(x.data, w.data, None, (1, 1), (1, 1))
    np.testing.assert_allclose(y.data, want, rtol=1e-12, atol=1e-12)
    z = batch_norm(x, Value(np.ones(3)), Value(np.zeros(3)))
    assert z.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    x = Value(rand(2, 3, 6, 6).astype(dtype))
    outs = [conv2d(x, Value(rand(2, 3, 3, 3).astype(dtype))), batch_norm(x, None, None),
            max_pool2d(x, 2), avg_pool2d(x, 2)]
    for y in outs:
        assert y.dtype == dtype
        y.sum().backward()
        assert x.grad.dtype == dtype


def test_non_contiguous_inputs_give_the_same_answer():
    big, wbig = rand(2, 6, 10, 10), rand(3, 6, 3, 3)
    x, w = big[:, ::2, ::2, 1::2], wbig[:, ::2].transpose(0, 1, 3, 2)
    assert not x.flags.c_contiguous and not w.flags.c_contiguous
    y = conv2d(Value(x), Value(w), padding=1)
    np.testing.assert_allclose(y.data, ref.conv2d(x, w, None, (1, 1), (1, 1)), rtol=1e-12, atol=1e-12)
    xt = rand(3, 4, 5, 2).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(batch_norm(Value(xt), None, None).data, ref.batch_norm_train(xt, np.ones(2), np.zeros(2), 1e-5)[0],
                               rtol=1e-10)
    np.testing.assert_array_equal(max_pool2d(Value(xt), 2).data, ref.max_pool2d(xt, (2, 2), (2, 2), (0, 0)))


def test_broadcast_upstream_gradients_are_read_not_written():
    x, w = Value(rand(2, 2, 5, 5)), Value(rand(3, 2, 3, 3))
    y = batch_norm(max_pool2d(conv2d(x, w), 1), None, None)
    (y * 2.0).sum().backward()  # the upstream gradients are read-only broadcast views
    assert x.grad.shape == x.shape and np.isfinite(x.grad).all()


def test_only_inputs_that_need_a_gradient_get_one():
    x = Value(rand(2, 2, 5, 5), requires_grad=False)
    w, b = Value(rand(3, 2, 3, 3)), Value(rand(3))
    conv2d(x, w, b).sum().backward()
    assert x.grad is None and w.grad is not None and b.grad is not None
    assert conv2d(rand(1, 2, 3, 3), rand(1, 2, 3, 3)).requires_grad is False


def test_backward_rules_cite_the_notes():
    assert OPS["conv2d"].equations == ("CONV-BP2", "CONV-BP3", "CONV-BP4", "eq. 3.14", "eq. 3.15")
    assert OPS["batch_norm"].equations == ("eq. 3.22", "eq. 3.23")


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, kind, words", [
    (lambda: conv2d(rand(2, 3, 5, 5), rand(4, 2, 3, 3)), ValueError, ["channel mismatch", "(2, 3, 5, 5)", "(4, 2, 3, 3)"]),
    (lambda: conv2d(rand(1, 1, 3, 3), rand(1, 1, 5, 5), padding=0), ValueError, ["larger than the padded input", "3x3"]),
    (lambda: conv2d(rand(1, 1, 3, 3), rand(1, 1, 2, 2), stride=0), ValueError, ["stride", "positive"]),
    (lambda: conv2d(rand(1, 1, 3, 3), rand(1, 1, 2, 2), stride=(1, -2)), ValueError, ["stride"]),
    (lambda: conv2d(rand(1, 1, 3, 3), rand(1, 1, 2, 2), padding=-1), ValueError, ["padding", "non-negative"]),
    (lambda: conv2d(rand(1, 3, 3), rand(1, 1, 2, 2)), ValueError, ["4-D", "(1, 3, 3)"]),
    (lambda: conv2d(rand(1, 1, 3, 3), rand(1, 2, 2)), ValueError, ["4-D", "(1, 2, 2)"]),
    (lambda: conv2d(rand(1, 1, 3, 3), rand(2, 1, 2, 2), rand(3)), ValueError, ["bias", "(2,)", "(3,)"]),
    (lambda: conv2d(rand(1, 3, 3, 3), rand(2, 1, 2, 2), groups=3), ValueError, ["groups=3", "output channels (2)"]),
    (lambda: conv2d(np.ones((1, 1, 3, 3), np.int64), rand(1, 1, 2, 2)), TypeError, ["int64", "float32"]),
    (lambda: conv2d(Value(rand(1, 1, 3, 3)), np.ones((1, 1, 2, 2), np.int32)), TypeError, ["weight", "int32"]),
    (lambda: batch_norm(Value(rand(1, 3)), None, None), ValueError, ["more than one value per channel", "(1, 3)"]),
    (lambda: batch_norm(Value(rand(1, 3, 1, 1)), None, None), ValueError, ["more than one value per channel"]),
    (lambda: batch_norm(Value(rand(4)), None, None), ValueError, ["(N, C)", "(4,)"]),
    (lambda: batch_norm(Value(rand(4, 3)), Value(rand(2)), None), ValueError, ["gamma", "(3,)"]),
    (lambda: batch_norm(Value(rand(4, 3)), None, None, np.zeros(2), np.ones(2)), TypeError, ["running_mean", "(3,)"]),
    (lambda: batch_norm(Value(rand(4, 3)), None, None, training=False), ValueError, ["running_mean and running_var"]),
    (lambda: batch_norm(np.ones((4, 3), np.int16), None, None), TypeError, ["int16"]),
    (lambda: max_pool2d(rand(1, 1, 3, 3), 2, padding=2), ValueError, ["at most half"]),
    (lambda: max_pool2d(rand(1, 3, 3), 2), ValueError, ["4-D"]),
    (lambda: avg_pool2d(rand(1, 1, 2, 2), 3), ValueError, ["larger than the padded input"]),
    (lambda: avg_pool2d(rand(1, 1, 4, 4), 2, stride=0), ValueError, ["stride"]),
    (lambda: max_pool2d(rand(1, 1, 4, 4), 2.5), TypeError, ["kernel_size"]),
])
def test_bad_input_raises_a_clear_error(call, kind, words):
    with pytest.raises(kind) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, message


def test_the_op_itself_refuses_integer_arrays():
    with pytest.raises(TypeError, match="conv2d: input has dtype int64"):
        OPS["conv2d"].forward(np.ones((1, 1, 3, 3), np.int64), np.ones((1, 1, 2, 2)))
    with pytest.raises(TypeError, match="max_pool2d: input has dtype bool"):
        OPS["max_pool2d"].forward(np.ones((1, 1, 3, 3), bool), kernel_size=2)


# ---------------------------------------------------------------------------- numba set-up
_SMOKE = """
import numpy as np, sys
sys.path.insert(0, {tests!r})
import reference_kernels as ref
from tinygrad_notes import Value
from tinygrad_notes.functional_cnn import conv2d, batch_norm, max_pool2d, avg_pool2d
import numba
assert numba.config.DISABLE_JIT
rng = np.random.default_rng(0)
x, w = Value(rng.standard_normal((2, 2, 5, 5))), Value(rng.standard_normal((3, 2, 3, 3)))
y = conv2d(x, w, stride=2, padding=1)
np.testing.assert_allclose(y.data, ref.conv2d(x.data, w.data, None, (2, 2), (1, 1)), rtol=1e-12)
z = avg_pool2d(max_pool2d(batch_norm(y, None, None, np.zeros(3), np.ones(3)), 2, 1, 1), 2)
z.sum().backward()
x1, w1 = Value(rng.standard_normal((2, 2, 5, 18))), Value(rng.standard_normal((9, 2, 3, 3)))
y1 = conv2d(x1, w1, padding=1)  # stride 1: the direct kernels (forward, dx, dW)
np.testing.assert_allclose(y1.data, ref.conv2d(x1.data, w1.data, None, (1, 1), (1, 1)), rtol=1e-12)
(y1 * y1).sum().backward()
rdx, rdw, _ = ref.conv2d_backward(2 * y1.data, x1.data, w1.data, (1, 1), (1, 1))
np.testing.assert_allclose(x1.grad, rdx, rtol=1e-10)
np.testing.assert_allclose(w1.grad, rdw, rtol=1e-10)
np.testing.assert_allclose(batch_norm(Value(rng.standard_normal((5, 3))), None, None).data.mean(0), 0, atol=1e-12)
print("ok")
"""


def test_kernels_run_with_numba_jit_disabled():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    code = _SMOKE.format(tests=str(Path(__file__).parent))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-2000:]


def test_cache_dir_falls_back_when_the_package_folder_is_read_only(monkeypatch, tmp_path):
    here = tmp_path / "site-packages" / "kernels"
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(_jit, "_writable", lambda folder: "site-packages" not in str(folder))
    assert _jit.cache_dir_fallback(here) == str(tmp_path / "cache" / "tinygrad_notes" / "numba")
    monkeypatch.setattr(_jit, "_writable", lambda folder: True)
    assert _jit.cache_dir_fallback(here) is None  # the package folder works: numba's default
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setattr(_jit, "_writable", lambda folder: False)
    assert _jit.cache_dir_fallback(here) is None  # the user's own setting wins


def test_run_split_covers_the_range_once_on_several_threads(monkeypatch):
    from tinygrad_notes.kernels import _threads

    monkeypatch.setattr(_threads, "_THREADS", 3)
    seen = []
    _threads.run_split(lambda tag, lo, hi: seen.extend(range(lo, hi)), 50, ("x",))
    assert sorted(seen) == list(range(50))
    calls = []
    _threads.run_split(lambda tag, lo, hi: calls.append((lo, hi)), 5, ("x",), min_per_thread=5)
    assert calls == [(0, 5)]  # too little work to split: one plain call


def test_every_kernel_is_cached():
    import tinygrad_notes.kernels.batchnorm as bn
    import tinygrad_notes.kernels.conv2d as cv
    import tinygrad_notes.kernels._delta as dl
    import tinygrad_notes.kernels.conv2d_direct as cd
    import tinygrad_notes.kernels.conv2d_winograd as wg
    import tinygrad_notes.kernels.pool as pl
    jitted = [f for m in (bn, cv, cd, dl, pl, wg) for f in vars(m).values() if hasattr(f, "py_func")]
    if os.environ.get("NUMBA_DISABLE_JIT") == "1":
        pytest.skip("numba is disabled: there are no jitted functions")
    assert len(jitted) >= 10
    for f in jitted:
        assert f._cache.__class__.__name__ != "NullCache", f.py_func.__name__


def test_the_kernels_cannot_be_imported_under_a_second_name():
    """From the repository root, a top-level `kernels` package would be importable; its
    compiled functions would poison numba's cache for tinygrad_notes.kernels."""
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", "import kernels.conv2d"], cwd=root, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode != 0
    assert "must be imported as tinygrad_notes.kernels" in proc.stderr


@pytest.mark.parametrize("x_shape, w_shape, stride, winograd", [
    ((0, 3, 8, 8), (4, 3, 3, 3), 1, False),  # direct kernels
    ((0, 16, 8, 8), (32, 16, 3, 3), 1, False),  # the lanes-over-channels weight gradient
    ((0, 64, 8, 8), (64, 64, 3, 3), 1, True),  # Winograd, when enabled
    ((0, 3, 8, 8), (4, 3, 3, 3), 2, False),  # im2col
])
def test_an_empty_batch_goes_through_conv2d(monkeypatch, x_shape, w_shape, stride, winograd):
    import tinygrad_notes.kernels.conv2d_winograd as wg
    monkeypatch.setattr(wg, "ENABLED", winograd)
    x, w = Value(np.ones(x_shape, np.float32)), Value(np.ones(w_shape, np.float32))
    y = conv2d(x, w, Value(np.ones(w_shape[0], np.float32)), stride=stride, padding=1)
    assert y.shape == (0, w_shape[0], 8 // stride, 8 // stride)
    y.backward(np.ones(y.shape, np.float32))
    assert x.grad.shape == x_shape and not w.grad.any()


def test_an_empty_batch_has_no_batch_statistics():
    with pytest.raises(ValueError, match="more than one value per channel"):
        batch_norm(Value(np.ones((0, 3, 4, 4), np.float32)), None, None)
