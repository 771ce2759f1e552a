"""2-D max and average pooling, forward and backward, NCHW, one (n, c) plane at a time.

Windows are ``kh x kw`` with stride ``(sh, sw)`` and padding ``(ph, pw)`` (at most half
the window, as in PyTorch, so every window holds at least one real cell).

* max: padding never wins (it is minus infinity); a NaN in the window wins (it
  propagates, as in PyTorch); ties go to the first maximum in row-major order. The
  forward saves that position (an index into the plane) and the backward sends each
  output's gradient there, adding where windows overlap.
* average: the zero padding counts in the mean, so every window divides by ``kh kw``
  (PyTorch's default ``count_include_pad=True``); the backward shares each output's
  gradient equally among the cells of its window.

Planes are split across the kernel threads (:mod:`._threads`).
"""

from __future__ import annotations

import numpy as np

from ._jit import jit
from ._threads import run_split
from .conv2d import output_size

#: Below this many input elements a kernel runs on the calling thread alone.
MIN_ELEMENTS_PER_THREAD = 1 << 15


@jit
def _max_forward(x, y, arg, kh, kw, sh, sw, ph, pw, lo, hi):
    _, H, W = x.shape
    _, Ho, Wo = y.shape
    for p in range(lo, hi):
        for oh in range(Ho):
            h0 = oh * sh - ph
            for ow in range(Wo):
                w0 = ow * sw - pw
                best = -np.inf
                where = -1
                for i in range(max(h0, 0), min(h0 + kh, H)):
                    for j in range(max(w0, 0), min(w0 + kw, W)):
                        v = x[p, i, j]
                        if where < 0 or v > best or (v != v and best == best):
                            best = v
                            where = i * W + j
                y[p, oh, ow] = best
                arg[p, oh, ow] = where


@jit
def _max_backward(dy, arg, dx, lo, hi):
    _, Ho, Wo = dy.shape
    W = dx.shape[2]
    for p in range(lo, hi):
        dx[p] = 0
        for oh in range(Ho):
            for ow in range(Wo):
                where = arg[p, oh, ow]
                dx[p, where // W, where % W] += dy[p, oh, ow]


@jit
def _avg_forward(x, y, kh, kw, sh, sw, ph, pw, lo, hi):
    _, H, W = x.shape
    _, Ho, Wo = y.shape
    scale = 1.0 / (kh * kw)
    for p in range(lo, hi):
        for oh in range(Ho):
            h0 = oh * sh - ph
            for ow in range(Wo):
                w0 = ow * sw - pw
                s = 0.0
                for i in range(max(h0, 0), min(h0 + kh, H)):
                    for j in range(max(w0, 0), min(w0 + kw, W)):
                        s += x[p, i, j]
                y[p, oh, ow] = s * scale


@jit
def _avg_backward(dy, dx, kh, kw, sh, sw, ph, pw, lo, hi):
    _, H, W = dx.shape
    _, Ho, Wo = dy.shape
    scale = 1.0 / (kh * kw)
    for p in range(lo, hi):
        dx[p] = 0
        for oh in range(Ho):
            h0 = oh * sh - ph
            for ow in range(Wo):
                w0 = ow * sw - pw
                g = dy[p, oh, ow] * scale
                for i in range(max(h0, 0), min(h0 + kh, H)):
                    for j in range(max(w0, 0), min(w0 + kw, W)):
                        dx[p, i, j] += g


def _planes(x):
    N, C, H, W = x.shape
    return x.reshape(N * C, H, W)


def _split(kernel, n_planes, plane_size, args):
    run_split(kernel, n_planes, args, min_per_thread=max(1, MIN_ELEMENTS_PER_THREAD // max(plane_size, 1)))


def pooled_shape(shape, kernel, stride, padding):
    """Output shape (N, C, Ho, Wo) of a pooling of input ``shape`` (N, C, H, W)."""
    N, C, H, W = shape
    return (N, C, output_size(H, kernel[0], stride[0], padding[0], 1),
            output_size(W, kernel[1], stride[1], padding[1], 1))


def max_pool2d_forward(x, kernel, stride, padding):
    """Max over each window of ``x`` (N, C, H, W); returns ``(y, argmax)``, where argmax
    (int64, y's shape) is the winning cell's index ``i W + j`` within its plane.

    >>> import numpy as np
    >>> y, arg = max_pool2d_forward(np.arange(16.0).reshape(1, 1, 4, 4), (2, 2), (2, 2), (0, 0))
    >>> y[0, 0], arg[0, 0]
    (array([[ 5.,  7.],
           [13., 15.]]), array([[ 5,  7],
           [13, 15]]))
    """
    N, C, H, W = x.shape
    shape = pooled_shape(x.shape, kernel, stride, padding)
    y = np.empty(shape, x.dtype)
    arg = np.empty(shape, np.int64)
    _split(_max_forward, N * C, H * W, (_planes(x), _planes(y), _planes(arg), *kernel, *stride, *padding))
    return y, arg


def max_pool2d_backward(dy, argmax, x_shape):
    """Each output's gradient goes to the cell that won its window (added up where
    windows overlap); returns dx of ``x_shape``."""
    N, C, H, W = x_shape
    dx = np.empty(x_shape, dy.dtype)
    _split(_max_backward, N * C, H * W, (_planes(dy), _planes(argmax), _planes(dx)))
    return dx


def avg_pool2d_forward(x, kernel, stride, padding):
    """Mean over each ``kh x kw`` window, the zero padding counted (divisor ``kh kw``).

    >>> import numpy as np
    >>> avg_pool2d_forward(np.ones((1, 1, 2, 2)), (2, 2), (2, 2), (1, 1))[0, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    N, C, H, W = x.shape
    y = np.empty(pooled_shape(x.shape, kernel, stride, padding), x.dtype)
    _split(_avg_forward, N * C, H * W, (_planes(x), _planes(y), *kernel, *stride, *padding))
    return y


def avg_pool2d_backward(dy, x_shape, kernel, stride, padding):
    """Each output's gradient, divided by ``kh kw``, goes to every real cell of its window."""
    N, C, H, W = x_shape
    dx = np.empty(x_shape, dy.dtype)
    _split(_avg_backward, N * C, H * W, (_planes(dy), _planes(dx), *kernel, *stride, *padding))
    return dx
