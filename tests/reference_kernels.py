"""Deliberately simple reference implementations of the CNN kernels, for the tests only.

Each is written straight from the notes' equations, with plain loops over the kernel
offsets (or the output pixels) and no attempt at speed, so that a fast kernel that
agrees with them is right for a reason that can be read here. All arithmetic is done
in float64.
"""

from __future__ import annotations

import numpy as np


def _pad(x, ph, pw, value=0.0):
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _out(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """Eq. 3.9: ``z[n, k, i, j] = sum_(c, p, q) a[n, c, i s + p d, j s + q d] w[k, c, p, q] + b[k]``."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    N, C, H, W = x.shape
    K, Cg, kh, kw = w.shape
    Ho, Wo = _out(H, kh, sh, ph, dh), _out(W, kw, sw, pw, dw)
    xp = _pad(x, ph, pw)
    y = np.zeros((N, K, Ho, Wo))
    Kg = K // groups
    for k in range(K):
        g = k // Kg
        for c in range(Cg):
            for p in range(kh):
                for q in range(kw):
                    window = xp[:, g * Cg + c, p * dh: p * dh + sh * (Ho - 1) + 1: sh,
                                q * dw: q * dw + sw * (Wo - 1) + 1: sw]
                    y[:, k] += window * w[k, c, p, q]
    if b is not None:
        y += np.asarray(b, np.float64)[None, :, None, None]
    return y


def conv2d_backward(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """CONV-BP2/3/4 by the chain rule, one kernel offset at a time.

    CONV-BP2: every output pixel sends ``delta * w`` back to the input pixel it read;
    CONV-BP3: ``dw[k, c, p, q] = sum delta[n, k, i, j] a[n, c, i s + p d, j s + q d]``;
    CONV-BP4: ``db[k] = sum delta[n, k, i, j]``.
    """
    dy, x, w = (np.asarray(a, np.float64) for a in (dy, x, w))
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    N, C, H, W = x.shape
    K, Cg, kh, kw = w.shape
    Ho, Wo = dy.shape[2:]
    xp = _pad(x, ph, pw)
    dxp = np.zeros_like(xp)
    dwt = np.zeros_like(w)
    Kg = K // groups
    for k in range(K):
        g = k // Kg
        for c in range(Cg):
            for p in range(kh):
                for q in range(kw):
                    rows = slice(p * dh, p * dh + sh * (Ho - 1) + 1, sh)
                    cols = slice(q * dw, q * dw + sw * (Wo - 1) + 1, sw)
                    dxp[:, g * Cg + c, rows, cols] += dy[:, k] * w[k, c, p, q]
                    dwt[k, c, p, q] = np.sum(dy[:, k] * xp[:, g * Cg + c, rows, cols])
    dx = dxp[:, :, ph:ph + H, pw:pw + W]
    return dx, dwt, dy.sum(axis=(0, 2, 3))


def full_conv_rot180(delta, w):
    """Eq. 3.13/3.14 literally, stride 1, one image and one channel pair: pad ``delta``
    with ``k - 1`` zeros on every side and correlate it with ``rot180(w)``."""
    delta, w = np.asarray(delta, np.float64), np.asarray(w, np.float64)
    kh, kw = w.shape
    padded = np.pad(delta, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    rot = w[::-1, ::-1]
    H, W = delta.shape[0] + kh - 1, delta.shape[1] + kw - 1
    out = np.zeros((H, W))
    for i in range(H):
        for j in range(W):
            out[i, j] = np.sum(padded[i:i + kh, j:j + kw] * rot)
    return out


def batch_norm_train(x, gamma, beta, eps):
    """Algorithm 1 over the axes that are not the channel axis (1): returns ``y``, the
    batch mean and the biased batch variance."""
    x = np.asarray(x, np.float64)
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    m = x.size // x.shape[1]
    mu = x.sum(axis=axes) / m
    var = ((x - mu.reshape(shape)) ** 2).sum(axis=axes) / m
    xhat = (x - mu.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    y = np.asarray(gamma, np.float64).reshape(shape) * xhat + np.asarray(beta, np.float64).reshape(shape)
    return y, mu, var


def batch_norm_train_backward(dy, x, gamma, eps):
    """Eqs. 3.22 and 3.23 term by term: dgamma, dbeta, then dL/dxhat, dL/dvar, dL/dmu, dx."""
    dy, x = np.asarray(dy, np.float64), np.asarray(x, np.float64)
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    m = x.size // x.shape[1]
    mu = (x.sum(axis=axes) / m).reshape(shape)
    var = (((x - mu) ** 2).sum(axis=axes) / m).reshape(shape)
    xhat = (x - mu) / np.sqrt(var + eps)
    dgamma = (dy * xhat).sum(axis=axes)  # eq. 3.22
    dbeta = dy.sum(axis=axes)  # eq. 3.22
    dxhat = dy * np.asarray(gamma, np.float64).reshape(shape)  # eq. 3.23
    dvar = (-0.5 * dxhat * (x - mu) * (var + eps) ** -1.5).sum(axis=axes).reshape(shape)
    dmu = (-dxhat / np.sqrt(var + eps)).sum(axis=axes).reshape(shape) \
        - dvar * 2.0 / m * (x - mu).sum(axis=axes).reshape(shape)
    dx = dxhat / np.sqrt(var + eps) + dvar * 2.0 * (x - mu) / m + dmu / m
    return dx, dgamma, dbeta


def batch_norm_infer(x, gamma, beta, mean, var, eps):
    """Eq. 3.24: ``gamma (x - mu) / sqrt(sigma^2 + eps) + beta`` with the running statistics."""
    x = np.asarray(x, np.float64)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    r = lambda a: np.asarray(a, np.float64).reshape(shape)  # noqa: E731
    return r(gamma) * (x - r(mean)) / np.sqrt(r(var) + eps) + r(beta)


def _windows(x, k, s, p, value):
    """Yield ``(i, j, window)`` for every output pixel of a 2-D pooling, padded with ``value``."""
    (kh, kw), (sh, sw), (ph, pw) = k, s, p
    xp = _pad(np.asarray(x, np.float64), ph, pw, value)
    Ho, Wo = _out(x.shape[2], kh, sh, ph, 1), _out(x.shape[3], kw, sw, pw, 1)
    for i in range(Ho):
        for j in range(Wo):
            yield i, j, xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]


def max_pool2d(x, k, s, p):
    """Maximum over each window; padding is -inf, so it never wins."""
    N, C = x.shape[:2]
    Ho, Wo = _out(x.shape[2], k[0], s[0], p[0], 1), _out(x.shape[3], k[1], s[1], p[1], 1)
    y = np.empty((N, C, Ho, Wo))
    for i, j, win in _windows(x, k, s, p, -np.inf):
        y[:, :, i, j] = win.max(axis=(2, 3))
    return y


def max_pool2d_backward(dy, x, k, s, p):
    """Each output's gradient goes to the first maximum of its window (row-major order)."""
    (kh, kw), (sh, sw), (ph, pw) = k, s, p
    N, C, H, W = x.shape
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
    for i, j, win in _windows(x, k, s, p, -np.inf):
        flat = win.reshape(N, C, -1).argmax(axis=2)
        for n in range(N):
            for c in range(C):
                a, b = divmod(int(flat[n, c]), kw)
                dxp[n, c, i * sh + a, j * sw + b] += dy[n, c, i, j]
    return dxp[:, :, ph:ph + H, pw:pw + W]


def avg_pool2d(x, k, s, p):
    """Mean over each window of ``kh * kw`` cells, zero padding counted (PyTorch's default)."""
    N, C = x.shape[:2]
    Ho, Wo = _out(x.shape[2], k[0], s[0], p[0], 1), _out(x.shape[3], k[1], s[1], p[1], 1)
    y = np.empty((N, C, Ho, Wo))
    for i, j, win in _windows(x, k, s, p, 0.0):
        y[:, :, i, j] = win.sum(axis=(2, 3)) / (k[0] * k[1])
    return y


def avg_pool2d_backward(dy, x, k, s, p):
    """Each output's gradient is shared equally by the ``kh * kw`` cells of its window."""
    (kh, kw), (sh, sw), (ph, pw) = k, s, p
    N, C, H, W = x.shape
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
    Ho, Wo = dy.shape[2:]
    for i in range(Ho):
        for j in range(Wo):
            dxp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += dy[:, :, i:i + 1, j:j + 1] / (kh * kw)
    return dxp[:, :, ph:ph + H, pw:pw + W]
