"""Activations sigma(z) of eq. 3.1-3.2 and their derivatives sigma'(z) used by BP1/BP2,
plus softmax and log-softmax (numerically stable: the row maximum is subtracted)."""

from __future__ import annotations

import math

import numpy as np

from .registry import register

SIGMA_PRIME = ("BP1", "BP2")
#: From this many elements ReLU's forward and backward run on the numba kernels (one pass,
#: all kernel threads, :mod:`tinygrad_notes.kernels.activation`). Below, numpy's single
#: thread wins: waking the kernel threads costs about 50-90 us on this 2-core VM.
#: Measured, float32, us, numpy vs kernels: forward 313 vs 207 at 512K elements, 110 vs
#: 132 at 256K; backward 226 vs 168 at 256K, 104 vs 131 at 128K (and an MLP step with
#: 128K-element activations was 6-10% slower on the kernels).
RELU_FORWARD_KERNEL_MIN_SIZE = 1 << 19
RELU_BACKWARD_KERNEL_MIN_SIZE = 1 << 18


def _on_kernels(min_size, *arrays) -> bool:
    first = arrays[0]
    return (all(type(a) is np.ndarray for a in arrays) and first.size >= min_size
            and first.dtype in (np.float32, np.float64)
            and all(a.flags.c_contiguous and a.dtype == first.dtype and a.shape == first.shape for a in arrays))


def _relu_fwd(x):
    if type(x) is float:
        return (x if x > 0.0 else 0.0), None
    if _on_kernels(RELU_FORWARD_KERNEL_MIN_SIZE, x):
        from .conv import kernels

        return kernels().relu_forward(x), None
    return np.maximum(x, 0), None


def _relu_bwd(g, saved, x):
    if type(x) is float:
        return (g if x > 0.0 else 0.0,)
    if _on_kernels(RELU_BACKWARD_KERNEL_MIN_SIZE, g, x):
        from .conv import kernels

        return (kernels().relu_backward(g, x),)
    return (g * (x > 0),)


RELU = register("relu", _relu_fwd, _relu_bwd, equations=SIGMA_PRIME)


def _tanh_fwd(x):
    out = math.tanh(x) if type(x) is float else np.tanh(x)
    return out, out


def _tanh_bwd(g, out, x):
    return (g * (1.0 - out * out),)


TANH = register("tanh", _tanh_fwd, _tanh_bwd, equations=SIGMA_PRIME)


def _sigmoid_fwd(x):
    if type(x) is float:
        if x >= 0.0:
            out = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            out = e / (1.0 + e)
        return out, out
    out = np.negative(x)
    np.logaddexp(0, out, out=out)  # log(1 + exp(-x)), computed without overflow
    np.negative(out, out=out)
    np.exp(out, out=out)
    return out, out


def _sigmoid_bwd(g, out, x):
    return (g * out * (1.0 - out),)


SIGMOID = register("sigmoid", _sigmoid_fwd, _sigmoid_bwd, equations=SIGMA_PRIME)


def _check_axis(x, axis, name):
    if type(x) is float:
        raise ValueError(f"{name} needs a tensor, got a scalar")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for shape {x.shape}")


def _softmax_fwd(x, axis=-1):
    _check_axis(x, axis, "softmax")
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    out = e / e.sum(axis=axis, keepdims=True)
    return out, (out, axis)


def _softmax_bwd(g, saved, x):
    s, axis = saved
    return (s * (g - (g * s).sum(axis=axis, keepdims=True)),)


SOFTMAX = register("softmax", _softmax_fwd, _softmax_bwd)


def _log_softmax_fwd(x, axis=-1):
    _check_axis(x, axis, "log_softmax")
    shifted = x - x.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return out, (out, axis)


def _log_softmax_bwd(g, saved, x):
    out, axis = saved
    return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)


LOG_SOFTMAX = register("log_softmax", _log_softmax_fwd, _log_softmax_bwd)
