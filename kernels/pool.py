"""2-D max and average pooling, forward and backward, NCHW, one (n, c) plane at a time.

Windows are ``kh x kw`` with stride ``(sh, sw)`` and padding ``(ph, pw)`` (at most half
the window, as in PyTorch, so every window holds at least one real cell).

* max: padding never wins (it is minus infinity); a NaN in the window wins (it
  propagates, as in PyTorch); ties go to the first maximum in row-major order. The
  forward is ``kh kw`` elementwise maxima of strided views of the input (numpy, at
  memory speed: a per-window loop with an argmax ran 4-10x slower), except for the
  common 2x2, stride 2, unpadded case: a kernel of its own takes the same maxima in the
  same order, one plane per thread at a time (measured, batch 64 of 16 channels at
  28x28 and of 32 at 14x14: 0.30 and 0.27 ms instead of 1.41 and 0.77; 16 x 16 planes of
  16 x 16, on one thread: 33 us instead of 120); the backward finds,
  in each window, the first cell equal to the output (the first NaN for a NaN output)
  and sends the output's gradient there, adding where windows overlap. The common 2x2,
  stride 2 case has a branch-free kernel of its own (3-5x faster).
* average: the zero padding counts in the mean, so every window divides by ``kh kw``
  (PyTorch's default ``count_include_pad=True``); the backward shares each output's
  gradient equally among the cells of its window.

Planes are split across the kernel threads (:mod:`._threads`).
"""

from __future__ import annotations

import numpy as np

from numba import uint64

from ._jit import jit
from ._threads import run_split
from .conv2d import output_size

#: Below this many input elements a kernel runs on the calling thread alone.
MIN_ELEMENTS_PER_THREAD = 1 << 15
#: The same for the 2x2 forward, which does so little per element that waking the
#: kernel threads (50-90 us on the 2-core VM) only pays from about 400K elements:
#: measured, us, one thread vs two, 64K elements 33 vs 123, 200K 101 vs 125, 400K 199 vs 188.
FORWARD_2X2_MIN_ELEMENTS_PER_THREAD = 1 << 18


@jit
def _max_backward(x, y, dy, dx, kh, kw, sh, sw, ph, pw, lo, hi):
    """Each output's gradient to the first cell of its window that holds the maximum."""
    _, H, W = x.shape
    _, Ho, Wo = y.shape
    for p in range(lo, hi):
        dx[p] = 0
        for oh in range(Ho):
            h0 = oh * sh - ph
            for ow in range(Wo):
                w0 = ow * sw - pw
                best = y[p, oh, ow]
                nan = best != best
                found = False
                for i in range(max(h0, 0), min(h0 + kh, H)):
                    for j in range(max(w0, 0), min(w0 + kw, W)):
                        v = x[p, i, j]
                        if v == best or (nan and v != v):
                            dx[p, i, j] += dy[p, oh, ow]
                            found = True
                            break
                    if found:
                        break


@jit
def _larger(a, b):
    """``np.maximum(a, b)`` for two scalars: the larger, or the NaN if either is one."""
    return a if (a > b or a != a) else b


@jit
def _max_forward_2x2(x, y, lo, hi):
    """The 2x2, stride 2, unpadded maxima of planes ``lo <= p < hi``, taken in the numpy
    path's order (top-left, top-right, bottom-left, bottom-right); an odd last row or
    column is in no window."""
    _, Ho, Wo = y.shape
    for p in range(lo, hi):
        for oh in range(Ho):
            x0, x1, out = x[p, 2 * oh], x[p, 2 * oh + 1], y[p, oh]
            for q in range(Wo):
                ow = uint64(q)  # unsigned: no wraparound checks, so LLVM vectorizes
                top = _larger(x0[2 * ow], x0[2 * ow + 1])
                out[ow] = _larger(_larger(top, x1[2 * ow]), x1[2 * ow + 1])


@jit
def _max_backward_2x2(x, y, dy, dx, lo, hi):
    """The 2x2, stride 2, unpadded case: windows tile the plane, so each cell of a window
    gets the gradient or 0, chosen without branches (the general kernel's early exits
    mispredict on every other window); an odd last row or column, in no window, gets 0."""
    _, H, W = x.shape
    _, Ho, Wo = y.shape
    for p in range(lo, hi):
        for oh in range(Ho):
            x0, x1 = x[p, 2 * oh], x[p, 2 * oh + 1]
            d0, d1 = dx[p, 2 * oh], dx[p, 2 * oh + 1]
            yr, gr = y[p, oh], dy[p, oh]
            for q in range(Wo):
                ow = uint64(q)  # unsigned: no wraparound checks, so LLVM vectorizes
                m, g = yr[ow], gr[ow]
                a, b, c, d = x0[2 * ow], x0[2 * ow + 1], x1[2 * ow], x1[2 * ow + 1]
                # a cell equal to the maximum, or a NaN (then the maximum is NaN too)
                ea = (a == m) | (a != a)
                eb = ((b == m) | (b != b)) & ~ea
                ec = ((c == m) | (c != c)) & ~(ea | eb)
                ed = ~(ea | eb | ec)
                d0[2 * ow] = g if ea else 0
                d0[2 * ow + 1] = g if eb else 0
                d1[2 * ow] = g if ec else 0
                d1[2 * ow + 1] = g if ed else 0
            if W > 2 * Wo:
                d0[W - 1] = 0
                d1[W - 1] = 0
        if H > 2 * Ho:
            dx[p, H - 1] = 0


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


def _split(kernel, n_planes, plane_size, args, min_elements=None):
    min_elements = MIN_ELEMENTS_PER_THREAD if min_elements is None else min_elements
    run_split(kernel, n_planes, args, min_per_thread=max(1, min_elements // max(plane_size, 1)))


def pooled_shape(shape, kernel, stride, padding):
    """Output shape (N, C, Ho, Wo) of a pooling of input ``shape`` (N, C, H, W)."""
    N, C, H, W = shape
    return (N, C, output_size(H, kernel[0], stride[0], padding[0], 1),
            output_size(W, kernel[1], stride[1], padding[1], 1))


def max_pool2d_forward(x, kernel, stride, padding):
    """Max over each window of ``x`` (N, C, H, W): the elementwise maximum of the
    ``kh kw`` strided views that the windows' cells form (padding is minus infinity).

    >>> import numpy as np
    >>> max_pool2d_forward(np.arange(16.0).reshape(1, 1, 4, 4), (2, 2), (2, 2), (0, 0))[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    _, _, Ho, Wo = pooled_shape(x.shape, kernel, stride, padding)
    if (kh, kw, sh, sw, ph, pw) == (2, 2, 2, 2, 0, 0):
        y = np.empty((N, C, Ho, Wo), x.dtype)
        _split(_max_forward_2x2, N * C, H * W, (_planes(x), _planes(y)), FORWARD_2X2_MIN_ELEMENTS_PER_THREAD)
        return y
    if ph or pw:
        padded = np.full((N, C, H + 2 * ph, W + 2 * pw), -np.inf, x.dtype)
        padded[:, :, ph:ph + H, pw:pw + W] = x
        x = padded
    y = np.empty((N, C, Ho, Wo), x.dtype)
    for i in range(kh):
        for j in range(kw):
            view = x[:, :, i:i + sh * (Ho - 1) + 1:sh, j:j + sw * (Wo - 1) + 1:sw]
            if i == 0 and j == 0:
                np.copyto(y, view)
            else:
                np.maximum(y, view, out=y)  # a NaN propagates, as in PyTorch
    return y


def max_pool2d_backward(dy, x, y, kernel, stride, padding):
    """Each output's gradient goes to the first cell (row-major) of its window that holds
    the window's maximum ``y`` (added up where windows overlap); returns dx of x's shape."""
    dx = np.empty(x.shape, dy.dtype)
    planes = (_planes(x), _planes(y), _planes(dy), _planes(dx))
    n, size = x.shape[0] * x.shape[1], x.shape[2] * x.shape[3]
    if tuple(kernel) == (2, 2) and tuple(stride) == (2, 2) and tuple(padding) == (0, 0):
        _split(_max_backward_2x2, n, size, planes)
    else:
        _split(_max_backward, n, size, (*planes, *kernel, *stride, *padding))
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
