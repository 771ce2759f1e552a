"""Backpropagation through a convolutional layer (notes 3.2.2), in numpy.

The notes' setting: one channel, a kernel w of r x c, a scalar bias, stride 1, no
padding, and "*" the valid cross-correlation of eq. 3.9-3.10:
z^l_ij = sum_p sum_q a^{l-1}_{i+p-1, j+q-1} w^l_pq + b^l. The notes index from 1; the code
indexes from 0, so a^{l-1}_{i+p-1, j+q-1} is ``a[i + p, j + q]``.

The second half generalizes to batches, channels, stride and zero padding
(``conv2d_forward``, ``conv2d_backward``): the same rules with a dilated and padded delta.
"""

from __future__ import annotations

import numpy as np

from .activations import sigma_prime


# ---------------------------------------------------------------- the notes' setting
def conv_forward_element(a, w, b: float):
    """Eq. 3.9: z_ij = sum_p sum_q a_{i+p-1, j+q-1} w_pq + b, one element at a time."""
    r, c = w.shape
    out = np.zeros((a.shape[0] - r + 1, a.shape[1] - c + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            total = 0.0
            for p in range(r):
                for q in range(c):
                    total += a[i + p, j + q] * w[p, q]
            out[i, j] = total + b
    return out


def cross_correlate(a, w):
    """The "*" of eq. 3.10: the valid cross-correlation of ``a`` with ``w`` (2-D arrays)."""
    r, c = w.shape
    h, k = a.shape[0] - r + 1, a.shape[1] - c + 1
    if h < 1 or k < 1:
        raise ValueError(f"a valid cross-correlation of a {a.shape} array with a {w.shape} kernel is empty")
    out = np.zeros((h, k))
    for p in range(r):
        for q in range(c):
            out += a[p:p + h, q:q + k] * w[p, q]
    return out


def conv_forward(a, w, b: float):
    """Eq. 3.10: z^l = a^{l-1} * w^l + b^l."""
    return cross_correlate(a, w) + b


def rot180(w):
    """The kernel turned by 180 degrees: rot180(w)_pq = w_{r+1-p, c+1-q}."""
    return w[::-1, ::-1]


def pad(x, rows: int, cols: int):
    """``x`` with ``rows`` zero rows above and below and ``cols`` zero columns left and right."""
    return np.pad(x, ((rows, rows), (cols, cols)))


def conv_bp2_element(delta_next, w_next, z, activation: str):
    """CONV-BP2: delta^l_ij = sum_m sum_n delta^{l+1}_mn w^{l+1}_{i+1-m, j+1-n} sigma'(z^l_ij).

    The sums run over the m, n whose kernel index is inside the kernel,
    m = max(1, i+1-r) .. min(H', i) (1-based): terms outside are the zeros of eq. 3.12.
    """
    r, c = w_next.shape
    hn, wn = delta_next.shape
    sp = sigma_prime(activation, z)
    delta = np.zeros(z.shape)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            total = 0.0
            for m in range(max(0, i - r + 1), min(hn - 1, i) + 1):
                for n in range(max(0, j - c + 1), min(wn - 1, j) + 1):
                    total += delta_next[m, n] * w_next[i - m, j - n]
            delta[i, j] = total * sp[i, j]
    return delta


def conv_bp2_matrix(delta_next, w_next, z, activation: str):
    """Eq. 3.14 with the padding of eq. 3.13 (the corrected form):
    delta^l = pad_{r-1,c-1}(delta^{l+1}) * rot180(w^{l+1}) (x) sigma'(z^l)."""
    r, c = w_next.shape
    return cross_correlate(pad(delta_next, r - 1, c - 1), rot180(w_next)) * sigma_prime(activation, z)


def eq_3_14_as_printed(delta_next, w_next, z, activation: str):
    """Eq. 3.14 as printed, delta^{l+1} * rot180(w) (x) sigma'(z^l), with the "*" of eq. 3.10.

    Without the padding of eq. 3.13 the result has shape (H'-r+1, W'-c+1), not z^l's
    (H'+r-1, W'+c-1); returns None where numpy cannot even form it.
    """
    try:
        core = cross_correlate(delta_next, rot180(w_next))
    except ValueError:
        return None
    if core.shape != z.shape:
        return core
    return core * sigma_prime(activation, z)


def conv_bp3_element(delta, a_prev, kernel_shape):
    """CONV-BP3: dL/dw_pq = sum_i sum_j delta_ij a^{l-1}_{i+p-1, j+q-1}."""
    r, c = kernel_shape
    grad = np.zeros((r, c))
    for p in range(r):
        for q in range(c):
            total = 0.0
            for i in range(delta.shape[0]):
                for j in range(delta.shape[1]):
                    total += delta[i, j] * a_prev[i + p, j + q]
            grad[p, q] = total
    return grad


def conv_bp3_matrix(delta, a_prev):
    """Eq. 3.15, second line: dL/dw^l = a^{l-1} * delta^l."""
    return cross_correlate(a_prev, delta)


def conv_bp4_element(delta):
    """CONV-BP4: dL/db^l = sum_i sum_j delta^l_ij."""
    total = 0.0
    for i in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            total += delta[i, j]
    return total


def conv_backprop_matrix(delta_next, w_next, z, activation: str, a_prev):
    """Eq. 3.15 (corrected): ``(delta^l, dL/dw^l, dL/db^l)`` from delta^{l+1}.

    delta^l as eq. 3.14 with the padding of eq. 3.13; dL/dw^l = a^{l-1} * delta^l;
    dL/db^l = sum_ij delta^l_ij (the notes print sum_ij b^l).
    """
    delta = conv_bp2_matrix(delta_next, w_next, z, activation)
    return delta, conv_bp3_matrix(delta, a_prev), float(delta.sum())


def eq_3_15_bias_as_printed(b: float, delta):
    """Eq. 3.15's third line as printed: dL/db^l = sum_ij b^l (= H' W' b^l)."""
    return float(b) * delta.size


# ---------------------------------------------------------------- the worked example
def example_3_12(delta_next, w_next):
    """Eq. 3.12 term by term: the nine products printed for delta^l_{1,1}, with
    delta^{l+1}_{m,n} = 0 for the indices m, n < 1 that lie outside delta^{l+1}."""
    def d(m, n):
        return delta_next[m - 1, n - 1] if m >= 1 and n >= 1 else 0.0

    def w(p, q):
        return w_next[p - 1, q - 1]

    return (d(-1, -1) * w(3, 3) + d(-1, 0) * w(3, 2) + d(-1, 1) * w(3, 1)
            + d(0, -1) * w(2, 3) + d(0, 0) * w(2, 2) + d(0, 1) * w(2, 1)
            + d(1, -1) * w(1, 3) + d(1, 0) * w(1, 2) + d(1, 1) * w(1, 1))


def example_3_13(delta_next, w_next):
    """Eq. 3.13: the 2 x 2 delta^{l+1} padded to 6 x 6, "*" the kernel matrix printed there
    (w_{3,3} w_{3,2} w_{3,1} / ... / w_{1,3} w_{1,2} w_{1,1}, i.e. rot180(w))."""
    padded = np.zeros((6, 6))
    padded[2:4, 2:4] = delta_next
    kernel = np.array([[w_next[2, 2], w_next[2, 1], w_next[2, 0]],
                       [w_next[1, 2], w_next[1, 1], w_next[1, 0]],
                       [w_next[0, 2], w_next[0, 1], w_next[0, 0]]])
    return cross_correlate(padded, kernel)


# ---------------------------------------------------------------- stride, padding, channels
def _output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError(f"kernel {kernel} does not fit an input of {size} with padding {padding}")
    return out


def conv2d_forward(x, w, b=None, stride: int = 1, padding: int = 0):
    """Eq. 3.10 for a batch (N, C, H, W), kernels (O, C, r, c), biases (O,), with stride and
    zero padding: z[n,o,i,j] = sum_{c,p,q} x_pad[n,c,s i+p, s j+q] w[o,c,p,q] + b[o]."""
    n, _, h, k = x.shape
    o, _, r, c = w.shape
    ho, wo = _output_size(h, r, stride, padding), _output_size(k, c, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((n, o, ho, wo))
    for p in range(r):
        for q in range(c):
            window = xp[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]
            out += np.einsum("nchw,oc->nohw", window, w[:, :, p, q])
    if b is not None:
        out += np.asarray(b).reshape(1, o, 1, 1)
    return out


def dilate(delta, stride: int):
    """``delta`` (N, O, H, W) with stride - 1 zeros between neighbouring entries."""
    if stride == 1:
        return delta
    n, o, h, k = delta.shape
    out = np.zeros((n, o, (h - 1) * stride + 1, (k - 1) * stride + 1))
    out[:, :, ::stride, ::stride] = delta
    return out


def conv2d_backward(x, w, delta, stride: int = 1, padding: int = 0):
    """The gradients ``(dL/dx, dL/dw, dL/db)`` of :func:`conv2d_forward` given delta = dL/dz.

    dL/dx: eq. 3.14 generalized, the dilated delta padded by r-1, c-1 "*" rot180 of the
    kernels (input and output channels swapped), cropped to x. dL/dw: eq. 3.15 (CONV-BP3),
    x_pad "*" the dilated delta per channel pair. dL/db: CONV-BP4, delta summed.
    """
    n, ch, h, k = x.shape
    o, _, r, c = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    d = dilate(delta, stride)
    dh, dw_ = d.shape[2], d.shape[3]
    full = np.pad(d, ((0, 0), (0, 0), (r - 1, r - 1), (c - 1, c - 1)))
    turned = w[:, :, ::-1, ::-1]
    used = np.zeros((n, ch, dh + r - 1, dw_ + c - 1))
    for p in range(r):
        for q in range(c):
            used += np.einsum("nohw,oc->nchw", full[:, :, p:p + dh + r - 1, q:q + dw_ + c - 1], turned[:, :, p, q])
    # Rows and columns of x_pad that no window reached (stride leftovers) get zero.
    grad_xp = np.zeros_like(xp)
    grad_xp[:, :, :used.shape[2], :used.shape[3]] = used
    grad_x = grad_xp[:, :, padding:padding + h, padding:padding + k]
    grad_w = np.zeros_like(w, dtype=np.float64)
    for p in range(r):
        for q in range(c):
            grad_w[:, :, p, q] = np.einsum("nchw,nohw->oc", xp[:, :, p:p + dh, q:q + dw_], d)
    return grad_x, grad_w, delta.sum(axis=(0, 2, 3))


def conv2d_backward_element(x, w, delta, stride: int = 1, padding: int = 0):
    """The same gradients as :func:`conv2d_backward`, by the element rules: every output
    element z[n,o,i,j] sends delta * w back to the input it read (CONV-BP2), delta * x to
    the kernel entry (CONV-BP3) and delta to the bias (CONV-BP4)."""
    n, ch, h, k = x.shape
    o, _, r, c = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    grad_xp = np.zeros_like(xp, dtype=np.float64)
    grad_w = np.zeros(w.shape)
    grad_b = np.zeros(o)
    for i in range(delta.shape[2]):
        for j in range(delta.shape[3]):
            window = xp[:, :, stride * i:stride * i + r, stride * j:stride * j + c]
            d = delta[:, :, i, j]
            grad_xp[:, :, stride * i:stride * i + r, stride * j:stride * j + c] += np.einsum("no,ocpq->ncpq", d, w)
            grad_w += np.einsum("no,ncpq->ocpq", d, window)
            grad_b += d.sum(axis=0)
    return grad_xp[:, :, padding:padding + h, padding:padding + k], grad_w, grad_b
