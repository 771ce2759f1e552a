"""conv2d forward for 3x3 kernels at stride 1 (eq. 3.9) by Winograd's minimal filtering
F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).

Each 2x2 block of outputs of one channel pair (k, c) reads a 4x4 tile ``d`` of the
padded input, and eq. 3.9 on that tile equals ``A^T [(G g G^T) * (B^T d B)] A`` with
``g`` the 3x3 kernel and ``*`` the elementwise product of two 4x4 matrices. The sum over
input channels commutes with ``A^T . A``, so with ``U = G g G^T`` (per (k, c)) and
``V = B^T d B`` (per (c, tile)) the whole layer is 16 independent matrix products,
``M[e] = U[e] (K x C) @ V[e] (C x tiles)`` for the 16 positions ``e`` of a 4x4 tile,
followed by ``y = A^T M A`` per tile: 16 C K multiply-adds per 2x2 outputs instead of
36 C K, 2.25 times fewer. The products run on BLAS; the transforms are numba loops.

The tiles are taken a band of tile rows at a time (a chunk), small enough that its V
and M stay in cache; each kernel thread takes chunks of its own when BLAS runs on one
thread (``tinygrad_notes.runtime.blas_on_one_thread``), else the chunks run in order
and BLAS uses its threads. Rounding: the transforms add and subtract at most 9 values
per output and halve (exactly) in ``G``, so float32 results differ from the direct sum
by a few units in the last place of the largest partial sums.

The conv ops take this path only when ``TINYGRAD_NOTES_WINOGRAD=1`` (:data:`ENABLED`):
the direct kernel of :mod:`.conv2d_direct` is now faster on the shapes measured.
"""

from __future__ import annotations

import os

import numpy as np
from numba import uint64

from ._blas import chunks_in_parallel
from ._jit import CONV_MATH, jit
from ._threads import run_split
from ._workspace import workspace
from .conv2d_direct import _pad_image

#: G of F(2x2, 3x3): ``U = G g G^T`` is the 4x4 transformed kernel.
G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
#: Target size of one chunk's transformed input and products (V and M), to stay in L2.
CHUNK_BYTES = 1 << 20
#: The fewest input and output channels for which F(2x2, 3x3) is used. Below it the
#: transforms weigh more than the products save: forward, two threads, ms, Winograd vs
#: direct: resnetish (C = K = 64, 56x56) 33.5 vs 37, C = K = 32 at 16x16 3.9 vs 2.5,
#: smallcnn (C = 16, K = 32) 7.5 vs 5.3.
MIN_CHANNELS = 64
#: Whether the conv ops use this module at all: off unless ``TINYGRAD_NOTES_WINOGRAD=1``.
#: Since the direct kernel's 16 x 16 blocks and wide rows it is the faster one: forward,
#: two threads, ms, direct vs Winograd, on a 2-core AMD EPYC (Zen 5): resnetish 19.9 vs
#: 24.9, C = K = 128 at 28x28 20.5 vs 24.2, C = K = 256 at 14x14 20.5 vs 33.9, C = K = 64
#: at 112x112 20.9 vs 26.2. On the Xeon where the figures above were taken, the direct
#: kernel has since gained 0.92 x 0.92 on resnetish (16 x 16 blocks, then wide rows;
#: paired ratios measured there and here), about 31 ms against Winograd's 33.5.
ENABLED = os.environ.get("TINYGRAD_NOTES_WINOGRAD") == "1"


def winograd_applies(w_shape, stride, dilation) -> bool:
    """Whether :func:`winograd_forward` computes this conv: :data:`ENABLED`, a 3x3
    kernel, stride 1, no dilation, and at least :data:`MIN_CHANNELS` input and output
    channels."""
    K, C, kh, kw = w_shape
    return (ENABLED and (kh, kw) == (3, 3) and tuple(stride) == (1, 1)
            and tuple(dilation) == (1, 1) and min(K, C) >= MIN_CHANNELS)


def transform_filters(w: np.ndarray) -> np.ndarray:
    """``U[e, k, c] = (G g_kc G^T)[e // 4, e % 4]`` for ``w`` (K, C, 3, 3), computed in
    float64 and returned in ``w``'s dtype, shape (16, K, C)."""
    K, C = w.shape[:2]
    u = np.einsum("ai,kcij,bj->abkc", G, w.astype(np.float64), G)
    return np.ascontiguousarray(u.reshape(16, K, C), dtype=w.dtype)


@jit(fastmath=CONV_MATH)
def _transform_input(xp, V, tmp, row0, rows, tW, Wq, S):
    """``V[:, c, t] = B^T d B`` for every channel ``c`` and the tiles ``t`` of tile
    rows ``row0 <= th < row0 + rows`` of the padded image ``xp`` (channels of ``S``
    values, rows of ``Wq``); tile ``(th, tw)``, ``t = (th - row0) tW + tw``, reads rows
    ``2 th ..`` and columns ``2 tw ..``. ``tmp`` (>= 4, Wq) holds ``B^T d`` for a whole
    row of tiles. Every loop reads and writes one or two arrays along one index, so
    LLVM vectorizes it (with more arrays its overlap checks made it give up)."""
    L = 2 * tW + 2
    t0, t1, t2, t3 = tmp[0], tmp[1], tmp[2], tmp[3]
    for c in range(V.shape[1]):
        for th in range(rows):
            r0 = xp[uint64(c * S + 2 * (row0 + th) * Wq):]
            r1, r2, r3 = r0[uint64(Wq):], r0[uint64(2 * Wq):], r0[uint64(3 * Wq):]
            for j in range(L):  # rows: B^T d
                t0[j] = r0[j] - r2[j]
            for j in range(L):
                t1[j] = r1[j] + r2[j]
            for j in range(L):
                t2[j] = r2[j] - r1[j]
            for j in range(L):
                t3[j] = r1[j] - r3[j]
            first = uint64(th * tW)
            for a in range(4):  # columns: (B^T d) B
                row = tmp[a]
                v0, v1 = V[4 * a, c, first:], V[4 * a + 1, c, first:]
                v2, v3 = V[4 * a + 2, c, first:], V[4 * a + 3, c, first:]
                for tw in range(tW):
                    q = uint64(2 * tw)
                    v0[tw] = row[q] - row[q + 2]
                for tw in range(tW):
                    q = uint64(2 * tw)
                    v1[tw] = row[q + 1] + row[q + 2]
                for tw in range(tW):
                    q = uint64(2 * tw)
                    v2[tw] = row[q + 2] - row[q + 1]
                for tw in range(tW):
                    q = uint64(2 * tw)
                    v3[tw] = row[q + 1] - row[q + 3]


@jit(fastmath=CONV_MATH)
def _transform_output(M, bias, y, tmp, n, row0, rows, tW):
    """``y[n, k, 2 th + i, 2 tw + j] = (A^T M A)[i, j] + bias[k]`` for every output
    channel ``k`` and the tiles of tile rows ``row0 <= th < row0 + rows``, dropping
    the outputs past an odd edge. ``tmp`` (>= 10, >= rows tW) holds ``A^T m`` for the
    band's tiles, then the even and odd output columns of a row. One array written per
    loop, as in :func:`_transform_input`."""
    Ho, Wo = y.shape[2], y.shape[3]
    full = Wo // 2
    T = rows * tW
    even, odd = tmp[8], tmp[9]
    for k in range(M.shape[1]):
        b = bias[k]
        for j in range(4):  # rows: A^T m, for the whole band at once
            m0, m1, m2, m3 = M[j, k], M[4 + j, k], M[8 + j, k], M[12 + j, k]
            s, r = tmp[j], tmp[4 + j]
            for t in range(T):
                s[t] = m0[t] + m1[t] + m2[t]
            for t in range(T):
                r[t] = m1[t] - m2[t] - m3[t]
        for th in range(rows):
            first = uint64(th * tW)
            oh = 2 * (row0 + th)
            for i in range(2):  # columns: (A^T m) A; the bottom row of an odd last band is dropped
                if oh + i >= Ho:
                    break
                a0, a1 = tmp[4 * i, first:], tmp[4 * i + 1, first:]
                a2, a3 = tmp[4 * i + 2, first:], tmp[4 * i + 3, first:]
                for tw in range(tW):
                    even[tw] = a0[tw] + a1[tw] + a2[tw] + b
                for tw in range(tW):
                    odd[tw] = a1[tw] - a2[tw] - a3[tw] + b
                dst = y[n, k, oh + i]
                for tw in range(full):
                    q = uint64(2 * tw)
                    dst[q] = even[tw]
                    dst[q + 1] = odd[tw]
                if full < tW:
                    dst[uint64(2 * full)] = even[full]


def winograd_forward(x, w, b, y, padding) -> None:
    """Write ``x * w + b`` (eq. 3.9, 3x3 kernel, stride 1) into ``y`` (N, K, Ho, Wo) by
    F(2x2, 3x3); ``x`` (N, C, H, W), ``w`` (K, C, 3, 3), ``b`` (K,) or None, one float
    dtype; ``padding`` is (height, width).

    >>> x = np.arange(32.0).reshape(1, 2, 4, 4)
    >>> y = np.empty((1, 1, 2, 2))
    >>> winograd_forward(x, np.ones((1, 2, 3, 3)), np.array([1.0]), y, (0, 0))
    >>> y[0, 0]  # channel 0's 3x3 sums (45, 54, 81, 90) plus channel 1's (189, ...) plus 1
    array([[235., 253.],
           [307., 325.]])
    """
    N, C, H, W = x.shape
    K = w.shape[0]
    ph, pw = padding
    Ho, Wo = y.shape[2], y.shape[3]
    dtype = x.dtype
    tH, tW = -(-Ho // 2), -(-Wo // 2)
    Hq, Wq = 2 * tH + 2, 2 * tW + 2  # every tile's 4x4 window inside, zeros past the image
    U = transform_filters(w)
    bias = np.zeros(K, dtype) if b is None else np.ascontiguousarray(b, dtype)
    rows = max(1, min(tH, CHUNK_BYTES // (16 * (C + K) * tW * x.itemsize)))
    bands = -(-tH // rows)

    def work(lo, hi):
        xp = workspace("conv.winograd.pad", (C * Hq * Wq,), dtype)
        tmp = workspace("conv.winograd.tmp", (10, max(Wq, rows * tW)), dtype)
        V = workspace("conv.winograd.V", (16 * C * rows * tW,), dtype)
        M = workspace("conv.winograd.M", (16 * K * rows * tW,), dtype)
        padded = -1
        for item in range(lo, hi):
            n, band = divmod(item, bands)
            if n != padded:
                _pad_image(x[n], xp, ph, pw, Hq, Wq)
                padded = n
            row0 = band * rows
            m = min(rows, tH - row0)
            Vb = V[:16 * C * m * tW].reshape(16, C, m * tW)
            Mb = M[:16 * K * m * tW].reshape(16, K, m * tW)
            _transform_input(xp, Vb, tmp, row0, m, tW, Wq, Hq * Wq)
            np.matmul(U, Vb, out=Mb)
            _transform_output(Mb, bias, y, tmp, n, row0, m, tW)

    if chunks_in_parallel():
        run_split(work, N * bands, ())
    else:
        work(0, N * bands)
