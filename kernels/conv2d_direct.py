"""conv2d forward at stride 1 (eq. 3.9) as a direct convolution: no im2col, no BLAS.

At stride 1 the input that output pixel ``(oh, ow)`` reads through kernel tap
``r = (c, i, j)`` sits in the zero-padded image (channels of ``S = Hp Wp`` values,
rows of ``Wp``) at ``offs[r] + oh Wp + ow`` with ``offs[r] = c S + i dh Wp + j dw``. So
eq. 3.9, ``y[k, oh, ow] = b_k + sum_r W[k, r] xpad[offs[r] + oh Wp + ow]``, is a matrix
product whose right-hand matrix is read straight from the padded image, and the
kernel computes it without packing:

* an image is padded once into a per-thread buffer that stays in cache;
* a block of ``mr`` output channels by ``lanes`` consecutive output pixels of one row
  (:func:`block_shape`: 16 x 16, 8 x 16-32, or 4 x 16-32) is summed over every tap ``r`` in
  registers (:func:`._registers.register_tile`): each step loads ``lanes`` input values
  (one or two SIMD registers) and ``mr`` weights and does ``mr x lanes`` multiply-adds;
* the sums, plus the bias, are stored straight into ``y``'s NCHW rows.

Both ends of a block are written so that the tile never leaves the registers: the
first tap sets the sums (bias included) with the loop's own multiply-add, and a whole
block is stored with constant trip counts. Set element by element and stored with a
run-time width, as before, LLVM kept the tile in memory, filled it with 256 scalar
stores and copied it out with 8 ``memcpy`` calls per block: forward, two threads,
interleaved A/B, ms, before vs after: smallcnn 3.07 vs 2.45, bigbatch 3.58 vs 2.10,
lenet 0.28 vs 0.23.

A row whose width is not a multiple of ``lanes`` computes a few extra pixels that are
not stored (they read the next row's values, which the buffer holds). Where that wastes
more than the padded row's ``Wp - Wo`` extra columns, the blocks run along the padded
rows as one long row instead (:func:`wide_rows`): resnetish (``Wo`` 56) computes 58
pixels a row instead of 64. One thread, paired calls, wide / row by row: resnetish
forward 0.915, lenet 0.883; smallcnn (``Wo`` 32, which stays row by row) would take 1.17.

CONV-BP3 (:func:`direct_weight_grad`) is the same sum turned around, ``dW[k, r] =
sum_p delta[k, p] xpad[offs[r] + p]`` with delta laid out in rows of ``Wp`` (zeros in
the extra columns): a block of 4 output channels by 4 taps is summed in registers,
``lanes`` pixels at a time, over a group of images that fits in cache.

Measured on the 2-core machine (Xeon with AVX-512) against im2col + OpenBLAS, both on
two threads, float32, ms: forward smallcnn 3.7 vs 6.7, lenet 0.41 vs 0.62, bigbatch 3.2
vs 4.4, resnetish 41 vs 42; dW smallcnn 3.7 vs 6.6, bigbatch 2.9 vs 9.1, lenet 0.36 vs
1.0, resnetish 53 vs 43 (so that shape does not take this kernel, see
:func:`weight_grad_applies`; it now takes :mod:`.conv2d_weight_grad_wide`). The
512-bit vectors come from :func:`._jit.allow_512_bit_vectors`; with 256-bit ones the
forward ran at half the speed.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numba import uint64

from ._delta import pack_delta
from ._jit import CONV_MATH, REDUCTION_MATH, jit
from ._registers import register_tile
from ._threads import run_split, sum_over_slices, thread_count
from ._workspace import workspace

#: Output channels per register block, the default.
MR = 8
#: Output channels per register block for float32 convs whose output channels are a
#: multiple of it; the block is then 16 channels x 16 pixels.
MR_WIDE = 16
#: Output channels per register block for convs with at most this many (the input
#: gradient of a first layer: 1 or 3 channels).
MR_NARROW = 4


def lanes_for(Wo: int, dtype) -> int:
    """Output pixels per register block: 32 float32 values (two 512-bit registers) for
    rows wider than 16, else 16; float64 always 16 (32 would not fit in registers)."""
    return 32 if np.dtype(dtype).itemsize == 4 and Wo > 16 else 16


def wide_rows(Wo: int, Wp: int, lanes: int) -> bool:
    """Whether the forward's blocks run along the padded image's rows of ``Wp`` values
    as one long row (computing, and not storing, the ``Wp - Wo`` columns between output
    rows) rather than row by row (computing, and not storing, a last block's lanes past
    ``Wo``): whichever computes fewer unused pixels per row.

    Resnetish (``Wo`` 56, ``Wp`` 58, 16 lanes) computes 64 pixels a row block by block,
    58 along the wide rows; smallcnn (32, 34, 16) 32 vs 34.

    >>> wide_rows(56, 58, 16), wide_rows(32, 34, 16)
    (True, False)
    """
    return Wp < -(-Wo // lanes) * lanes


def block_shape(K: int, Wo: int, dtype) -> tuple:
    """``(output channels, pixels)`` of a register block: 16 x 16 for float32 with K a
    multiple of 16; 4 x :func:`lanes_for` for at most 4 output channels; else :data:`MR`
    x :func:`lanes_for`.

    16 x 16 and 8 x 32 both hold 16 vector registers of sums; 16 x 16 loads one input
    vector per tap and broadcasts 16 weights (each used once, so they fold into the
    multiply-adds) instead of two vectors and 8 weights. Measured on one thread (two threads on this
    machine were too noisy to tell), paired interleaved calls, median time 16 x 16 /
    8 x 32: smallcnn (C=16, K=32, 32x32) 0.83-0.91, its dx (C=32, K=16) 0.84-0.85,
    bigbatch (C=3, K=16) 0.79-0.83, C=K=64 at 56x56 0.92, C=32, K=64 at 16x16 0.98 (16
    lanes there before too); an unchanged shape, as a control, 1.00.

    With 1 to 4 output channels an 8-channel block computes 4 to 7 rows of zeros; 4 x 32
    keeps 8 independent sums, enough to hide the multiply-add's latency, and wastes at
    most 3."""
    if np.dtype(dtype).itemsize == 4 and K % MR_WIDE == 0:
        return MR_WIDE, 16
    if K <= MR_NARROW:
        return MR_NARROW, lanes_for(Wo, dtype)
    return MR, lanes_for(Wo, dtype)


@jit
def _pad_image(img, xp, ph, pw, Hp, Wp):
    """``img`` (C, H, W) into the flat buffer ``xp`` as C channels of ``Hp x Wp`` with
    a zero border; the buffer's tail past the last channel is zeroed too."""
    C, H, W = img.shape
    for c in range(C):
        plane = img[c]
        for hp in range(Hp):
            start = uint64((c * Hp + hp) * Wp)
            h = hp - ph
            if 0 <= h < H:
                src = plane[h]
                for q in range(pw):
                    xp[start + uint64(q)] = 0
                for q in range(W):
                    xp[start + uint64(pw + q)] = src[uint64(q)]
                for q in range(pw + W, Wp):
                    xp[start + uint64(q)] = 0
            else:
                for q in range(Wp):
                    xp[start + uint64(q)] = 0
    for q in range(C * Hp * Wp, xp.shape[0]):
        xp[uint64(q)] = 0


@jit(fastmath=CONV_MATH)
def _rows(x, wt, offs, bias, y, xp, ph, pw, Hp, Wp, row_block, wide, mr, lanes, lo, hi):
    """Work items ``lo <= t < hi``, item ``t`` = rows ``[blk row_block, ...)`` of image
    ``n`` with ``t = n blocks + blk``; blocks of ``mr`` output channels by ``lanes``
    pixels, both compile-time constants. With ``wide`` the blocks tile the item's rows
    as one run of ``Wp``-long rows (:func:`wide_rows`), else each row on its own."""
    numba.literally(mr)
    numba.literally(lanes)
    K, Ho, Wo = y.shape[1], y.shape[2], y.shape[3]
    R = wt.shape[1]
    Kp = wt.shape[0] * mr
    blocks = (Ho + row_block - 1) // row_block
    per_row = (Wo + lanes - 1) // lanes
    acc = register_tile(mr, lanes, xp)
    wv = register_tile(1, mr, xp)
    padded = -1
    for t in range(lo, hi):
        n, blk = t // blocks, t % blocks
        if n != padded:
            _pad_image(x[n], xp, ph, pw, Hp, Wp)
            padded = n
        oh_lo, oh_hi = blk * row_block, min(Ho, (blk + 1) * row_block)
        if oh_lo >= oh_hi:
            continue
        start, end = oh_lo * Wp, (oh_hi - 1) * Wp + Wo  # the item's pixels, Wp-long rows
        count = (end - start + lanes - 1) // lanes if wide else (oh_hi - oh_lo) * per_row
        for i in range(count):
            if wide:
                p0 = start + i * lanes
            else:
                p0 = (oh_lo + i // per_row) * Wp + (i % per_row) * lanes
            oh, ow = p0 // Wp, p0 % Wp
            row0 = uint64(p0)
            for kb in range(Kp // mr):
                k0 = kb * mr
                # tap 0 starts the sums from the bias (see the module docstring)
                base = uint64(offs[0]) + row0
                for a in range(mr):
                    wv[0, a] = wt[kb, 0, a]
                for b in range(lanes):
                    v = xp[base + uint64(b)]
                    for a in range(mr):
                        acc[a, b] = wv[0, a] * v + bias[k0 + a]
                for r in range(1, R):
                    base = uint64(offs[r]) + row0
                    for a in range(mr):
                        wv[0, a] = wt[kb, r, a]
                    for b in range(lanes):
                        v = xp[base + uint64(b)]
                        for a in range(mr):
                            acc[a, b] += wv[0, a] * v
                rows_out = min(mr, K - k0)
                if ow + lanes <= Wo and rows_out == mr:
                    # a whole block in one row: constant trip counts, stored from registers
                    for b in range(lanes):
                        for a in range(mr):
                            y[n, k0 + a, oh, uint64(ow + b)] = acc[a, b]
                    continue
                # the block's pixels in each output row it touches; the columns Wo..Wp-1
                # of the wide rows, and pixels past the item's end, are not stored
                b = 0
                while b < lanes and p0 + b < end:
                    oh_b, ow_b = (p0 + b) // Wp, (p0 + b) % Wp
                    if ow_b >= Wo:
                        b += Wp - ow_b
                        continue
                    width = min(lanes - b, Wo - ow_b)
                    for a in range(rows_out):
                        dst = y[n, k0 + a, oh_b]
                        for j in range(width):
                            dst[uint64(ow_b + j)] = acc[a, b + j]
                    b += width


@jit(fastmath=CONV_MATH)
def _rows_8x16(x, wt, offs, bias, y, xp, ph, pw, Hp, Wp, row_block, wide, lo, hi):
    """:func:`_rows` with blocks of 8 channels x 16 pixels."""
    _rows(x, wt, offs, bias, y, xp, ph, pw, Hp, Wp, row_block, wide, 8, 16, lo, hi)


@jit(fastmath=CONV_MATH)
def _rows_8x32(x, wt, offs, bias, y, xp, ph, pw, Hp, Wp, row_block, wide, lo, hi):
    """:func:`_rows` with blocks of 8 channels x 32 pixels."""
    _rows(x, wt, offs, bias, y, xp, ph, pw, Hp, Wp, row_block, wide, 8, 32, lo, hi)


@jit(fastmath=CONV_MATH)
def _rows_16x16(x, wt, offs, bias, y, xp, ph, pw, Hp, Wp, row_block, wide, lo, hi):
    """:func:`_rows` with blocks of 16 channels x 16 pixels."""
    _rows(x, wt, offs, bias, y, xp, ph, pw, Hp, Wp, row_block, wide, 16, 16, lo, hi)


@jit(fastmath=CONV_MATH)
def _rows_4x16(x, wt, offs, bias, y, xp, ph, pw, Hp, Wp, row_block, wide, lo, hi):
    """:func:`_rows` with blocks of 4 channels x 16 pixels."""
    _rows(x, wt, offs, bias, y, xp, ph, pw, Hp, Wp, row_block, wide, 4, 16, lo, hi)


@jit(fastmath=CONV_MATH)
def _rows_4x32(x, wt, offs, bias, y, xp, ph, pw, Hp, Wp, row_block, wide, lo, hi):
    """:func:`_rows` with blocks of 4 channels x 32 pixels."""
    _rows(x, wt, offs, bias, y, xp, ph, pw, Hp, Wp, row_block, wide, 4, 32, lo, hi)


_ROW_KERNELS = {(8, 16): _rows_8x16, (8, 32): _rows_8x32, (16, 16): _rows_16x16,
                (4, 16): _rows_4x16, (4, 32): _rows_4x32}


#: Output channels and taps per register block of the weight gradient, and their product.
GK, GR, GKR = 4, 4, 16
#: Target size of the padded images and deltas that the weight gradient sums as a group.
GROUP_BYTES = 512 << 10


@jit(fastmath=REDUCTION_MATH)
def _weight_grad(x, dy, offs, dwt, sums, xp, dyw, ph, pw, Hp, Wp, lanes, lo, hi):
    """CONV-BP3 over images ``lo <= n < hi``, a group of ``xp.shape[0]`` at a time:
    ``dwt[k, r] += sum_p dyw[k, p] xpad[offs[r] + p]``, with delta in the wide layout
    (:func:`._delta.pack_delta`; its extra columns and rows are zero), and CONV-BP4's
    channel sums. The sums of a block of
    ``GK x GR`` weights stay in registers over a whole group of images, so their
    horizontal additions are paid once per group. ``lanes`` must be a compile-time
    constant."""
    numba.literally(lanes)
    K, Ho, Wo = dy.shape[1], dy.shape[2], dy.shape[3]
    G, Kp, Pw = dyw.shape
    Rp = offs.shape[0]
    acc = register_tile(GKR, lanes, xp)
    xv = register_tile(1, GR, xp)
    src = register_tile(1, GR, offs)
    for n0 in range(lo, hi, G):
        m = min(G, hi - n0)
        for g in range(m):
            _pad_image(x[n0 + g], xp[g], ph, pw, Hp, Wp)
            pack_delta(dy[n0 + g:n0 + g + 1], dyw[g], sums, Ho, Wo, Wp, 0, K)
        for k0 in range(0, Kp, GK):
            for r0 in range(0, Rp, GR):
                for a in range(GKR):
                    for b in range(lanes):
                        acc[a, b] = 0
                for g in range(m):
                    xg, dg = xp[g], dyw[g]
                    for p0 in range(0, Pw, lanes):
                        for j in range(GR):
                            src[0, j] = offs[r0 + j] + p0
                        for b in range(lanes):
                            for j in range(GR):
                                xv[0, j] = xg[uint64(src[0, j] + b)]
                            for i in range(GK):
                                d = dg[k0 + i, uint64(p0 + b)]
                                for j in range(GR):
                                    acc[i * GR + j, b] += d * xv[0, j]
                for i in range(GK):
                    for j in range(GR):
                        s = acc[i * GR + j, 0]
                        for b in range(1, lanes):
                            s += acc[i * GR + j, b]
                        dwt[k0 + i, r0 + j] += s


@jit(fastmath=REDUCTION_MATH)
def _weight_grad8(x, dy, offs, dwt, sums, xp, dyw, ph, pw, Hp, Wp, lo, hi):
    """:func:`_weight_grad` with 8 lanes."""
    _weight_grad(x, dy, offs, dwt, sums, xp, dyw, ph, pw, Hp, Wp, 8, lo, hi)


@jit(fastmath=REDUCTION_MATH)
def _weight_grad16(x, dy, offs, dwt, sums, xp, dyw, ph, pw, Hp, Wp, lo, hi):
    """:func:`_weight_grad` with 16 lanes."""
    _weight_grad(x, dy, offs, dwt, sums, xp, dyw, ph, pw, Hp, Wp, 16, lo, hi)


def _tap_offsets(C, kh, kw, Hp, Wp, dh, dw) -> np.ndarray:
    """``offs[r] = c Hp Wp + i dh Wp + j dw`` for the taps ``r = (c, i, j)``."""
    c, i, j = np.meshgrid(np.arange(C), np.arange(kh), np.arange(kw), indexing="ij")
    return (c * (Hp * Wp) + i * dh * Wp + j * dw).ravel().astype(np.int64)


class _GradLayout(NamedTuple):
    """The weight gradient's buffers for one conv: SIMD lanes, output channels and taps
    rounded up to their register blocks, delta's row length ``Pw`` and the padded
    image's length ``size`` (both with room for the last block's extra lanes)."""

    lanes: int
    Kp: int
    Rp: int
    Pw: int
    size: int
    image_bytes: int  # one image's padded input and delta


def _grad_layout(x_shape, w_shape, padding, dilation, itemsize) -> _GradLayout:
    """The :class:`_GradLayout` of a stride-1 conv with these shapes."""
    _, C, H, W = x_shape
    K, _, kh, kw = w_shape
    (ph, pw), (dh, dw) = padding, dilation
    Hp, Wp = H + 2 * ph, W + 2 * pw
    Ho = Hp - dh * (kh - 1)
    lanes = 16 if itemsize == 4 else 8
    Kp, Rp = -(-K // GK) * GK, -(-(C * kh * kw) // GR) * GR
    Pw = -(-(Ho * Wp) // lanes) * lanes
    size = C * Hp * Wp + (kw - 1) * dw + lanes
    return _GradLayout(lanes, Kp, Rp, Pw, size, (size + Kp * Pw) * itemsize)


def direct_weight_grad(dy, x, w_shape, padding, dilation):
    """CONV-BP3 and CONV-BP4 at stride 1: ``(dW, db)`` for the upstream ``dy``.

    ``dW[k, c, i, j] = sum_(n, oh, ow) dy[n, k, oh, ow] xpad[n, c, oh + i dh, ow + j dw]``
    and ``db[k] = sum dy[:, k]``; ``x`` (N, C, H, W) and ``dy`` (N, K, Ho, Wo) of one
    float dtype; ``w_shape`` is (K, C, kh, kw). The images are summed in fixed slices, on
    the kernel threads (the channel sums in float64), and the slices' parts added in
    order (:func:`._threads.sum_over_slices`): the same bits on every call.

    >>> x, dy = np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))
    >>> dw, db = direct_weight_grad(dy, x, (1, 1, 2, 2), (0, 0), (1, 1))
    >>> dw[0, 0], db
    (array([[4., 4.],
           [4., 4.]]), array([4.]))
    """
    N, C, H, W = x.shape
    K, _, kh, kw = w_shape
    (ph, pw), (dh, dw) = padding, dilation
    dtype = x.dtype
    L = _grad_layout(x.shape, w_shape, padding, dilation, dtype.itemsize)
    Ho, Hp, Wp = dy.shape[2], H + 2 * ph, W + 2 * pw
    R = C * kh * kw
    offs = np.zeros(L.Rp, np.int64)  # the padding taps read offset 0 and are dropped
    offs[:R] = _tap_offsets(C, kh, kw, Hp, Wp, dh, dw)
    kernel = _weight_grad16 if L.lanes == 16 else _weight_grad8
    group = max(1, min(N, GROUP_BYTES // L.image_bytes))

    def part(lo, hi):
        dwt, sums = np.zeros((L.Kp, L.Rp), dtype), np.zeros(L.Kp)
        xp = workspace("conv.direct", (group, L.size), dtype)
        dyw = workspace("conv.direct.dy", (group, L.Kp, L.Pw), dtype)
        dyw[:, K:] = 0  # pack_delta writes neither the padding channels
        dyw[:, :, Ho * Wp:] = 0  # nor the columns past the last row
        kernel(x, dy, offs, dwt, sums, xp, dyw, ph, pw, Hp, Wp, lo, hi)
        return dwt, sums

    dwt, sums = sum_over_slices(part, N)
    dw = np.ascontiguousarray(dwt[:K, :R]).reshape(K, C, kh, kw)
    return dw, sums[:K].astype(dtype)


def applies(stride) -> bool:
    """Whether the direct forward computes this conv: stride 1 along both axes."""
    return tuple(stride) == (1, 1)


def weight_grad_applies(x_shape, w_shape, padding, dilation, stride, itemsize) -> bool:
    """Whether :func:`direct_weight_grad` computes this conv's CONV-BP3: stride 1 and
    one image's padded input and delta within :data:`GROUP_BYTES`. Above that (resnetish,
    1.7 MB an image) the sums stream from L2 and im2col + BLAS was faster: 43 vs 53 ms."""
    return applies(stride) and \
        _grad_layout(x_shape, w_shape, padding, dilation, itemsize).image_bytes <= GROUP_BYTES


def direct_forward(x, w, b, y, padding, dilation) -> None:
    """Write ``x * w + b`` (eq. 3.9, stride 1) into ``y`` (N, K, Ho, Wo).

    ``x`` (N, C, H, W), ``w`` (K, C, kh, kw), ``b`` (K,) or None, one float dtype;
    ``padding`` and ``dilation`` are (height, width) pairs.

    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> y = np.empty((1, 1, 3, 3))
    >>> direct_forward(x, np.ones((1, 1, 2, 2)), None, y, (0, 0), (1, 1))
    >>> y[0, 0]
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    """
    N, C, H, W = x.shape
    K, _, kh, kw = w.shape
    (ph, pw), (dh, dw) = padding, dilation
    _, _, Ho, Wo = y.shape
    Hp, Wp = H + 2 * ph, W + 2 * pw
    dtype = x.dtype
    mr, lanes = block_shape(K, Wo, dtype)
    Kp = -(-K // mr) * mr
    # W2 in blocks of mr output channels, each block (taps, mr): wt[kb, r, a] = W2[kb mr + a, r]
    wt = np.zeros((Kp, C * kh * kw), dtype)
    wt[:K] = w.reshape(K, -1)
    wt = np.ascontiguousarray(wt.reshape(Kp // mr, mr, -1).transpose(0, 2, 1))
    bias = np.zeros(Kp, dtype)
    if b is not None:
        bias[:K] = b
    offs = _tap_offsets(C, kh, kw, Hp, Wp, dh, dw)
    # the last block of a row reads up to lanes - 1 values past the row's end
    size = C * Hp * Wp + (kw - 1) * dw + lanes
    threads = thread_count()
    blocks = 1 if N >= 2 * threads else min(Ho, -(-2 * threads // max(N, 1)))
    row_block = -(-Ho // blocks)
    blocks = -(-Ho // row_block)
    kernel = _ROW_KERNELS[mr, lanes]
    wide = wide_rows(Wo, Wp, lanes)

    def work(lo, hi):
        xp = workspace("conv.direct", (size,), dtype)
        kernel(x, wt, offs, bias, y, xp, ph, pw, Hp, Wp, row_block, wide, lo, hi)

    run_split(work, N * blocks, ())
