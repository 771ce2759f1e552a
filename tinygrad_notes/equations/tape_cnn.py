"""Convolution and batch normalization on the tape, for the checks of 3.2.2 and 3.3.3.

Two independent tape implementations: the engine's own ops in
``tinygrad_notes.functional_cnn`` (imported lazily: they may not be installed yet), and a
composition of primitive ops (slicing, stack, reshape, matmul, mean, sqrt) whose gradient
the tape derives by itself. A check compares the closed forms with every one available.
"""

from __future__ import annotations

import importlib

import numpy as np

from .. import functional as F
from ..value import Value

_MODULE = "tinygrad_notes.functional_cnn"


def functional_cnn():
    """The module ``tinygrad_notes.functional_cnn``, or None while it does not exist."""
    try:
        return importlib.import_module(_MODULE)
    except ModuleNotFoundError as e:
        if e.name == _MODULE:
            return None
        raise


def _zeros_like_axis(x: Value, axis: int, size: int) -> np.ndarray:
    shape = list(x.shape)
    shape[axis] = size
    return np.zeros(shape, dtype=x.dtype)


def pad2d(x: Value, padding: int) -> Value:
    """``x`` (N, C, H, W) with ``padding`` zeros around H and W, by concatenation."""
    if padding == 0:
        return x
    x = F.concat([_zeros_like_axis(x, 2, padding), x, _zeros_like_axis(x, 2, padding)], axis=2)
    return F.concat([_zeros_like_axis(x, 3, padding), x, _zeros_like_axis(x, 3, padding)], axis=3)


def conv2d_composed(x: Value, w: Value, b: Value | None = None, stride: int = 1, padding: int = 0) -> Value:
    """Eq. 3.10 with stride and padding from primitive tape ops (im2col + matmul)."""
    n, ch, h, k = x.shape
    o, _, r, c = w.shape
    xp = pad2d(x, padding)
    ho = (h + 2 * padding - r) // stride + 1
    wo = (k + 2 * padding - c) // stride + 1
    windows = [xp[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]
               for p in range(r) for q in range(c)]
    patches = F.stack(windows, axis=2).reshape(n, ch * r * c, ho * wo)
    out = (w.reshape(o, ch * r * c) @ patches).reshape(n, o, ho, wo)
    if b is not None:
        out = out + b.reshape(1, o, 1, 1)
    return out


def batch_norm_parts(x: Value, gamma: Value, beta: Value, eps: float = 1e-5) -> tuple:
    """Algorithm 1 from primitive tape ops, over every axis but the channel axis 1.

    Returns the Values ``(y, mu_B, sigma_B^2, x_hat)`` so that the gradients reaching the
    intermediate quantities of eq. 3.23 can be read off the tape.
    """
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes, keepdims=True)
    centred = x - mu
    var = (centred * centred).mean(axis=axes, keepdims=True)
    x_hat = centred / (var + eps).sqrt()
    return gamma.reshape(shape) * x_hat + beta.reshape(shape), mu, var, x_hat


def batch_norm_composed(x: Value, gamma: Value, beta: Value, eps: float = 1e-5) -> Value:
    """Algorithm 1 from primitive tape ops (see :func:`batch_norm_parts`)."""
    return batch_norm_parts(x, gamma, beta, eps)[0]


def conv2d_implementations() -> dict:
    """The tape convolutions to compare with: name -> ``f(x, w, b, stride, padding)``."""
    impls = {"tape composition": conv2d_composed}
    module = functional_cnn()
    if module is not None:
        impls["tape conv2d"] = lambda x, w, b, stride, padding: module.conv2d(x, w, b, stride=stride, padding=padding)
    return impls


def batch_norm_implementations() -> dict:
    """The tape batch norms (training mode) to compare with: name -> ``f(x, gamma, beta, eps)``."""
    impls = {"tape composition": batch_norm_composed}
    module = functional_cnn()
    if module is not None:
        def engine(x, gamma, beta, eps):
            c = x.shape[1]
            running_mean, running_var = np.zeros(c, dtype=x.dtype), np.ones(c, dtype=x.dtype)
            return module.batch_norm(x, gamma, beta, running_mean, running_var, training=True, eps=eps)
        impls["tape batch_norm"] = engine
    return impls
