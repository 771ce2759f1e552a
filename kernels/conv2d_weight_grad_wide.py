"""CONV-BP3 (dW) and CONV-BP4 (db) at stride 1 with the output channels in the SIMD lanes,
for float32 convs with a multiple of 32 output channels (smallcnn's K = 32, resnetish's 64).

:func:`.conv2d_direct.direct_weight_grad` sums over pixels in the lanes and pays a
horizontal addition per weight and group of images. Here delta is first transposed,
one image at a time, to ``dyt[p, k]`` (pixel-major), so that one pixel's 32 channels
are two SIMD registers; a block of 8 taps by 32 channels is then summed in registers
over every pixel of the image, each step loading 2 delta vectors, broadcasting 8 input
values (the taps' pixels, read in place from the padded image) and doing 16 vector
multiply-adds, with no horizontal additions at all.

The transpose goes through 16 x 16 blocks, so that its writes stay in L1 (written
channel by channel over the whole image, as first tried, it cost 31 us an image
instead of 17 and made the kernel slower than the direct one), each block transposed in
registers by :func:`._transpose.transpose_block` (scalar loops took 11-16% of the
kernel's time on smallcnn). Whole kernel, two threads, 20 interleaved turns, median
ratio register / scalar transposes: smallcnn 0.941 (quartiles 0.926-0.962), C=32 K=64
at 16x16 0.956, resnetish 0.992 (0.97-1.11, within the noise). Measured against the
direct kernel, two threads, interleaved A/B, medians, ms, dW alone: smallcnn (N=64,
C=16, 32x32, K=32, 3x3) 4.66 vs 5.52; K=64 at the same size 7.62 vs 9.84; C=32, 16x16,
K=32 2.43 vs 3.06; C=16, 14x14, K=32, 5x5 1.32 vs 1.96; and against im2col + BLAS,
where one image is too large for the direct kernel: resnetish 38.9 vs 56.1, C=K=128
at 28x28 35.9 vs 47.6. With 16 output channels
(bigbatch) or 8 (lenet) the lanes are half empty and the direct kernel stays faster.
"""

from __future__ import annotations

import numpy as np
from numba import uint64

from ._jit import REDUCTION_MATH, jit
from ._registers import register_tile
from ._threads import sum_over_slices
from ._transpose import transpose_block
from ._workspace import workspace
from .conv2d_direct import _pad_image, _tap_offsets

#: Output channels per register block (two float32 512-bit registers) and taps per block.
KB, TAPS = 32, 8


#: The most bytes one image's padded input and transposed delta may take: the kernel
#: sweeps them once per block of taps and channels, so they must stay in a core's L2
#: (2 MiB on the machine measured). Resnetish (N=32, C=K=64, 56x56) takes 1.7 MB;
#: its dW went from 56 ms (im2col + BLAS) to 39 ms.
MAX_IMAGE_BYTES = 2 << 20


def wide_weight_grad_applies(x_shape, w_shape, padding, dilation, stride, dtype) -> bool:
    """Whether :func:`wide_weight_grad` computes this conv's dW: stride 1, float32, a
    multiple of :data:`KB` output channels, and one image's padded input and delta
    within :data:`MAX_IMAGE_BYTES`."""
    _, C, H, W = x_shape
    K, _, kh, kw = w_shape
    (ph, pw), (dh, dw) = padding, dilation
    if tuple(stride) != (1, 1) or np.dtype(dtype) != np.float32 or K % KB:
        return False
    Hp, Wp = H + 2 * ph, W + 2 * pw
    Ho, Wo = Hp - dh * (kh - 1), Wp - dw * (kw - 1)
    return (C * Hp * Wp + Ho * Wo * K) * 4 <= MAX_IMAGE_BYTES


@jit(fastmath=REDUCTION_MATH)
def _transpose_delta(d, dyt, sums):
    """``dyt[p, k] = d[k, p]`` for one image's delta ``d`` (K, P), K a multiple of 16,
    in 16 x 16 blocks transposed in registers (:func:`._transpose.transpose_block`);
    adds each channel's sum to ``sums[k]`` (CONV-BP4)."""
    K, P = d.shape
    flat_d, flat_t = d.reshape(K * P), dyt.reshape(K * P)
    whole = P - P % 16
    for k0 in range(0, K, 16):
        for p0 in range(0, whole, 16):
            transpose_block(flat_d, k0 * P + p0, P, flat_t, p0 * K + k0, K)
        for p in range(whole, P):
            for k in range(k0, k0 + 16):
                dyt[uint64(p), uint64(k)] = d[uint64(k), uint64(p)]
    for k in range(K):
        row = d[k]
        s = 0.0
        for p in range(P):
            s += row[p]
        sums[k] += s


@jit(fastmath=REDUCTION_MATH)
def _weight_grad_wide(x, dy, offs, dwt, sums, xp, dyt, ph, pw, Hp, Wp, lo, hi):
    """CONV-BP3 over images ``lo <= n < hi``: ``dwt[r, k] += sum_p xpad[offs[r] + p']
    dyt[p, k]`` (``p = oh Wo + ow``, ``p' = oh Wp + ow``) and CONV-BP4's channel sums."""
    K, Ho, Wo = dy.shape[1], dy.shape[2], dy.shape[3]
    R = offs.shape[0]
    acc = register_tile(TAPS, KB, xp)
    src = register_tile(1, TAPS, offs)
    for n in range(lo, hi):
        _pad_image(x[n], xp, ph, pw, Hp, Wp)
        _transpose_delta(dy[n].reshape(K, Ho * Wo), dyt, sums)
        for k0 in range(0, K, KB):
            for r0 in range(0, R, TAPS):
                for i in range(TAPS):
                    src[0, i] = offs[r0 + i]
                for i in range(TAPS):
                    for b in range(KB):
                        acc[i, b] = 0
                for oh in range(Ho):
                    for ow in range(Wo):
                        q = uint64(oh * Wp + ow)
                        p = uint64(oh * Wo + ow)
                        for b in range(KB):
                            d = dyt[p, uint64(k0 + b)]
                            for i in range(TAPS):
                                acc[i, b] += xp[uint64(src[0, i]) + q] * d
                for i in range(TAPS):
                    for b in range(KB):
                        dwt[r0 + i, k0 + b] += acc[i, b]


def wide_weight_grad(dy, x, w_shape, padding, dilation):
    """CONV-BP3 and CONV-BP4 at stride 1, float32, K a multiple of :data:`KB`: ``(dW, db)``
    for the upstream ``dy`` (N, K, Ho, Wo) and ``x`` (N, C, H, W); ``w_shape`` is
    (K, C, kh, kw), ``padding`` and ``dilation`` (height, width) pairs. The images are
    summed in fixed slices, on the kernel threads, and the slices' parts added in order
    (:func:`._threads.sum_over_slices`): the same bits on every call.

    >>> x, dy = np.ones((1, 1, 3, 3), np.float32), np.ones((1, 32, 2, 2), np.float32)
    >>> dw, db = wide_weight_grad(dy, x, (32, 1, 2, 2), (0, 0), (1, 1))
    >>> dw[5, 0], db[5]
    (array([[4., 4.],
           [4., 4.]], dtype=float32), np.float32(4.0))
    """
    N, C, H, W = x.shape
    K, _, kh, kw = w_shape
    (ph, pw), (dh, dw) = padding, dilation
    x, dy = np.ascontiguousarray(x), np.ascontiguousarray(dy)  # a group's slice is strided
    Ho, Wo = dy.shape[2], dy.shape[3]
    Hp, Wp = H + 2 * ph, W + 2 * pw
    R = C * kh * kw
    Rp = -(-R // TAPS) * TAPS
    offs = np.zeros(Rp, np.int64)  # the padding taps read offset 0 and are dropped
    offs[:R] = _tap_offsets(C, kh, kw, Hp, Wp, dh, dw)
    size = C * Hp * Wp + (kw - 1) * dw

    def part(lo, hi):
        dwt, sums = np.zeros((Rp, K), x.dtype), np.zeros(K)
        xp = workspace("conv.direct", (size,), x.dtype)
        dyt = workspace("conv.direct.dyt", (Ho * Wo, K), x.dtype)
        _weight_grad_wide(x, dy, offs, dwt, sums, xp, dyt, ph, pw, Hp, Wp, lo, hi)
        return dwt, sums

    dwt, sums = sum_over_slices(part, N)
    dw = np.ascontiguousarray(dwt[:R].T).reshape(K, C, kh, kw)
    return dw, sums.astype(x.dtype)
