"""conv2d forward and backward (the notes' eqs. 3.9-3.15): the direct kernels at stride 1,
packing + one GEMM per chunk otherwise.

Layout NCHW: ``x`` (N, C, H, W), ``w`` (K, C/groups, kh, kw), ``b`` (K,), ``y``
(N, K, Ho, Wo). All arrays share one float dtype (float32 or float64); the caller (the
``conv2d`` op) validates shapes and dtypes, these functions trust them.

Forward, eq. 3.9: ``z_ij = sum_pq a_(i+p-1, j+q-1) w_pq + b`` (a cross-correlation, which
the notes, like every framework, write ``*`` and call convolution). At stride 1 it is
:func:`.conv2d_direct.direct_forward`: the padded image is read in place and the sums
are kept in registers; with ``TINYGRAD_NOTES_WINOGRAD=1``, 3x3 kernels with at least
64 channels in and out go through Winograd's F(2x2, 3x3) instead
(:mod:`.conv2d_winograd`), 2.25 times fewer multiply-adds but slower on the machines
measured since the direct kernel's last changes. At other strides each column of the
packed matrix ``cols`` holds the receptive field of one output pixel (im2col), so a
chunk of images is one matrix product ``W2 (K x C kh kw) @ cols`` done by BLAS.

Backward, CONV-BP / eq. 3.15, with ``delta = dL/dy``:

* CONV-BP4: ``db = sum_(n,i,j) delta``.
* CONV-BP3: ``dW = sum_n delta_n @ cols_n^T`` (the correlation of the input with delta);
  at stride 1, when one image's padded input and delta fit in cache, the same sum is
  :func:`.conv2d_direct.direct_weight_grad`, without packing; for float32 with a
  multiple of 32 output channels it is :func:`.conv2d_weight_grad_wide.wide_weight_grad`
  (the channels in the SIMD lanes), whenever one image fits in L2.
* CONV-BP2 / eq. 3.14: ``dX`` is the full convolution of delta with ``rot180(W)``. For
  stride 1 it is computed literally: the forward, run on delta with the weights rotated
  by 180 degrees, their in/out channels swapped, and padding ``d (k - 1) - p`` (eq.
  3.13's zero border). Otherwise (strides > 1, or a padding wider than the kernel) it is
  the same sum in scatter form, ``col2im(W2^T @ delta)``: each output pixel sends
  ``delta w`` back to the pixels it read.

Speed notes for the im2col path (measured on a 2-core machine; see
benchmarks/kernels.py). The packing is a numpy copy from a zero-padded chunk through a
strided view: memcpy speed, 4x numba's slice copies. When the stride along the width is
1, every row of ``cols`` is made one contiguous run of the padded image by letting each
output row span the padded width ``Wp``: the GEMM computes ``Wp - Wo`` junk columns per
row, which are dropped (only when the junk is at most 1/8 of the work). The passes that
move the GEMMs' results to and from NCHW (:func:`_unpack`, :func:`._delta.pack_delta`) and
col2im are numba loops whose indices are cast to unsigned, so that LLVM vectorizes them
(numba's slice ``+=`` checks for overlap and ran 5x slower). Chunks are sized to stay in
cache (:data:`CHUNK_BYTES`, 4 MB measured best) and every scratch buffer is reused
(:mod:`._workspace`). Where BLAS runs on all cores, the GEMMs use BLAS's threads and the
packing runs on the calling thread (a second packing thread, or numba's OpenMP threads,
next to OpenBLAS's spin-waiting workers slowed both down). Where BLAS runs on one thread
(``tinygrad_notes.runtime.blas_on_one_thread``, which training applies), each kernel
thread packs and multiplies chunks of its own (:data:`PARALLEL_CHUNK_BYTES`), and dW
and db are summed over per-chunk parts.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import uint64
from numpy.lib.stride_tricks import as_strided

from ._blas import chunks_in_parallel as _chunks_in_parallel
from ._delta import pack_delta
from .conv2d_direct import applies as direct_applies
from .conv2d_direct import direct_forward, direct_weight_grad
from .conv2d_direct import weight_grad_applies as direct_weight_grad_applies
from .conv2d_weight_grad_wide import wide_weight_grad, wide_weight_grad_applies
from .conv2d_winograd import winograd_applies, winograd_forward
from ._jit import REDUCTION_MATH, jit
from ._threads import run_split, thread_count
from ._workspace import workspace

#: Target size of one chunk's packed matrix; a chunk is at least one image.
CHUNK_BYTES = 4 << 20
#: The same when each kernel thread packs and multiplies chunks of its own.
PARALLEL_CHUNK_BYTES = 2 << 20
#: The forward packs wide rows up to this share of junk columns; the backward, whose
#: col2im and dW product grow with the junk, up to 1/8. Measured with the chunks on the
#: kernel threads: lenet's forward (1/7 junk) 0.38 vs 0.49 ms, other shapes unchanged.
FORWARD_MAX_JUNK = 1 / 4


class Plan(NamedTuple):
    """The geometry of one conv2d: sizes, padded sizes and the packing layout."""

    C: int
    H: int
    W: int
    kh: int
    kw: int
    sh: int
    sw: int
    ph: int
    pw: int
    dh: int
    dw: int
    Ho: int
    Wo: int
    Hp: int
    Wp: int
    Wq: int  # columns per output row in the packed matrix: Wp ("wide") or Wo
    S: int  # elements per channel of the padded buffer (Hp * Wp plus slack)


def output_size(size: int, k: int, stride: int, pad: int, dil: int) -> int:
    """Output length along one axis: ``(size + 2 pad - dil (k - 1) - 1) // stride + 1``."""
    return (size + 2 * pad - dil * (k - 1) - 1) // stride + 1


def make_plan(C, H, W, kh, kw, stride, padding, dilation, max_junk: float = 1 / 8) -> Plan:
    """The :class:`Plan` of a conv2d with these sizes (see the module docstring); rows
    are made wide when the junk columns are at most ``max_junk`` of the padded width."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    Ho, Wo = output_size(H, kh, sh, ph, dh), output_size(W, kw, sw, pw, dw)
    Hp, Wp = H + 2 * ph, W + 2 * pw
    wide = sw == 1 and Wp - Wo <= max_junk * Wp
    Wq = Wp if wide else Wo
    S = Hp * Wp + ((kw - 1) * dw if wide else 0)
    return Plan(C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, Hp, Wp, Wq, S)


def _chunks(N: int, rows: int, p: Plan, itemsize: int, parallel: bool = False) -> list:
    """The chunks ``(n0, n1)`` of ``[0, N)``, sized so that the packed matrix stays near
    :data:`CHUNK_BYTES` (:data:`PARALLEL_CHUNK_BYTES`, and at least one chunk per thread,
    in parallel); a chunk is at least one image."""
    per_image = rows * p.Ho * p.Wq * itemsize
    if parallel:
        step = max(1, min(-(-N // thread_count()), PARALLEL_CHUNK_BYTES // max(per_image, 1)))
    else:
        step = max(1, min(N, CHUNK_BYTES // max(per_image, 1)))
    return [(n0, min(N, n0 + step)) for n0 in range(0, N, step)]


def _run_body(body, chunks, lo, hi):
    for i in range(lo, hi):
        body(i, *chunks[i])


def _for_each_chunk(body, chunks: list, parallel: bool) -> None:
    """Call ``body(i, n0, n1)`` for the i-th of ``chunks``; on the kernel threads when
    ``parallel``, else in order on this thread."""
    if parallel and len(chunks) > 1:
        run_split(_run_body, len(chunks), (body, chunks))
    else:
        _run_body(body, chunks, 0, len(chunks))


def _pad_into(xp: np.ndarray, x: np.ndarray, p: Plan) -> None:
    """Copy ``x`` (m, C, H, W) into the padded buffer ``xp`` (m, C, S) with zero borders."""
    m, it = x.shape[0], xp.itemsize
    body = as_strided(xp, (m, p.C, p.Hp, p.Wp), (p.C * p.S * it, p.S * it, p.Wp * it, it))
    body[:, :, p.ph:p.ph + p.H, p.pw:p.pw + p.W] = x
    if p.ph:
        body[:, :, :p.ph] = 0
        body[:, :, p.ph + p.H:] = 0
    if p.pw:
        body[:, :, p.ph:p.ph + p.H, :p.pw] = 0
        body[:, :, p.ph:p.ph + p.H, p.pw + p.W:] = 0
    if p.S > p.Hp * p.Wp:
        xp[:, :, p.Hp * p.Wp:] = 0


def _pack(xp: np.ndarray, cols: np.ndarray, p: Plan) -> None:
    """im2col: ``cols[(c, i, j), (n, oh, ow)] = xpad[n, c, oh sh + i dh, ow sw + j dw]``."""
    m, it = xp.shape[0], xp.itemsize
    src = as_strided(
        xp, (p.C, p.kh, p.kw, m, p.Ho, p.Wq),
        (p.S * it, p.dh * p.Wp * it, p.dw * it, p.C * p.S * it, p.sh * p.Wp * it, p.sw * it),
        writeable=False,
    )
    np.copyto(cols.reshape(p.C, p.kh, p.kw, m, p.Ho, p.Wq), src)


def _packed_input(x_chunk: np.ndarray, p: Plan) -> np.ndarray:
    """Pad and pack one chunk of images; returns the (reused) ``cols`` buffer."""
    m, dtype = x_chunk.shape[0], x_chunk.dtype
    xp = workspace("conv.pad", (m, p.C, p.S), dtype)
    _pad_into(xp, x_chunk, p)
    cols = workspace("conv.cols", (p.C * p.kh * p.kw, m * p.Ho * p.Wq), dtype)
    _pack(xp, cols, p)
    return cols


@jit
def _unpack(out, y, bias, Ho, Wo, Wq, lo, hi):
    """``y[n, k, oh, ow] = out[k, (n Ho + oh) Wq + ow] + bias[k]`` for the (image, channel)
    planes ``lo <= n K + k < hi``: the GEMM's (K, images x Ho x Wq) result moved to NCHW,
    junk columns dropped, bias added, in one pass."""
    K = y.shape[1]
    for t in range(lo, hi):
        n, k = t // K, t % K
        src, b = out[k], bias[k]
        for oh in range(Ho):
            row = y[n, k, oh]
            start = uint64((n * Ho + oh) * Wq)
            for ow in range(Wo):
                row[ow] = src[start + uint64(ow)] + b


def _forward_group(x, w2, b, y, p: Plan) -> None:
    """One group's forward, eq. 3.9: ``y = W2 @ im2col(x) + b``, a chunk at a time."""
    N, K, dtype = x.shape[0], w2.shape[0], x.dtype
    bias = np.zeros(K, dtype) if b is None else b
    parallel = _chunks_in_parallel()

    def chunk(i, n0, n1):
        cols = _packed_input(x[n0:n1], p)
        out = workspace("conv.out", (K, cols.shape[1]), dtype)
        np.matmul(w2, cols, out=out)
        _unpack(out, y[n0:n1], bias, p.Ho, p.Wo, p.Wq, 0, (n1 - n0) * K)

    _for_each_chunk(chunk, _chunks(N, w2.shape[1], p, x.itemsize, parallel), parallel)


def conv2d_forward(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """``y = x * w + b`` (eq. 3.9/3.10), NCHW, with stride, zero padding, dilation, groups.

    ``x`` (N, C, H, W) and ``w`` (K, C/groups, kh, kw) contiguous, ``b`` (K,) or None,
    all of one float dtype; ``stride``, ``padding``, ``dilation`` are (height, width)
    pairs. Returns ``y`` (N, K, Ho, Wo).

    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv2d_forward(x, np.ones((1, 1, 2, 2)))[0, 0]
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    """
    N, C, H, W = x.shape
    K, Cg, kh, kw = w.shape
    p = make_plan(Cg, H, W, kh, kw, stride, padding, dilation, FORWARD_MAX_JUNK)
    y = np.empty((N, K, p.Ho, p.Wo), dtype=x.dtype)
    Kg = K // groups
    direct = direct_applies(stride)
    winograd = winograd_applies((Kg, Cg, kh, kw), stride, dilation)
    for g in range(groups):
        ks, cs = slice(g * Kg, (g + 1) * Kg), slice(g * Cg, (g + 1) * Cg)
        bg = None if b is None else b[ks]
        if winograd:
            winograd_forward(x[:, cs], w[ks], bg, y[:, ks], padding)
        elif direct:
            direct_forward(x[:, cs], w[ks], bg, y[:, ks], padding, dilation)
        else:
            _forward_group(x[:, cs], w[ks].reshape(Kg, -1), bg, y[:, ks], p)
    return y


@jit
def _col2im(dcols, dx, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, Wq, lo, hi):
    """CONV-BP2 in scatter form: add ``dcols[(c, i, j), (n, oh, ow)]`` to the input pixel
    that the forward read for it, ``dx[n, c, oh sh - ph + i dh, ow sw - pw + j dw]``;
    only the (image, channel) planes ``lo <= n C + c < hi`` (each thread owns its planes)."""
    _, C, H, W = dx.shape
    for t in range(lo, hi):
        n, c = t // C, t % C
        plane = dx[n, c]
        plane[:, :] = 0
        for i in range(kh):
            for j in range(kw):
                r = (c * kh + i) * kw + j
                # the output columns whose input column lies inside the image
                ow_lo = max(0, (pw - j * dw + sw - 1) // sw)
                ow_hi = min(Wo, (W - 1 + pw - j * dw) // sw + 1)
                for oh in range(Ho):
                    h = oh * sh - ph + i * dh
                    if h < 0 or h >= H:
                        continue
                    src = dcols[r, (n * Ho + oh) * Wq:]
                    dst = plane[h]
                    # indices that are non-negative by construction, cast to unsigned:
                    # numba then skips its negative-index wraparound and LLVM vectorizes
                    # the loop (a slice "+=" is slower: numba checks it for overlap)
                    first = uint64(ow_lo * sw - pw + j * dw)
                    step = uint64(sw)
                    for q in range(ow_hi - ow_lo):
                        dst[first + uint64(q) * step] += src[uint64(ow_lo + q)]


def _full_conv_applies(p: Plan) -> bool:
    """Whether dx is computed as eq. 3.14's full convolution (gather) rather than by
    col2im (scatter): whenever it can be, at stride 1 with padding <= d (k - 1). The
    full convolution is then a stride-1 forward, which :mod:`.conv2d_direct` computes
    without packing. Measured with BLAS on one thread (dx only, ms, gather vs scatter):
    smallcnn 3.8 vs 7.0, resnetish 37 vs 41, bigbatch 4.2 vs 6.2, C=16 K=32 5x5 at
    14x14 2.1 vs 4.1, lenet (C=1) 0.86 vs 0.83."""
    return p.sh == 1 and p.sw == 1 and p.ph <= p.dh * (p.kh - 1) and p.pw <= p.dw * (p.kw - 1)


def _backward_group(dy, x, w2, p: Plan, dx, want_w: bool, want_b: bool):
    """One group's CONV-BP3 (dW) and CONV-BP4 (db), and, when ``dx`` is given, CONV-BP2
    in scatter form; a chunk of images at a time. Returns (dw2, db)."""
    N, K, dtype = x.shape[0], w2.shape[0], x.dtype
    rows = w2.shape[1]
    parallel = _chunks_in_parallel()
    chunks = _chunks(N, rows, p, x.itemsize, parallel)
    # per chunk: dW2 transposed (cols @ delta^T runs faster) and CONV-BP4's float64 sums
    dw_parts = np.empty((len(chunks), rows, K), dtype) if want_w else None
    sums = np.zeros((len(chunks), K))

    def chunk(i, n0, n1):
        m = n1 - n0
        dyw = workspace("conv.dy", (K, m * p.Ho * p.Wq), dtype)
        pack_delta(dy[n0:n1], dyw, sums[i], p.Ho, p.Wo, p.Wq, 0, K)  # and CONV-BP4's sums
        if want_w:
            cols = _packed_input(x[n0:n1], p)
            np.matmul(cols, dyw.T, out=dw_parts[i])  # CONV-BP3, transposed
        if dx is not None:
            dcols = workspace("conv.cols", (rows, m * p.Ho * p.Wq), dtype)
            np.matmul(w2.T, dyw, out=dcols)
            run_split(_col2im, m * p.C, (dcols, dx[n0:n1], p.kh, p.kw, p.sh, p.sw, p.ph, p.pw,
                                         p.dh, p.dw, p.Ho, p.Wo, p.Wq))

    _for_each_chunk(chunk, chunks, parallel)
    dw2 = dw_parts.sum(axis=0).T if want_w else None
    return dw2, (sums.sum(axis=0).astype(dtype) if want_b else None)


def rot180_transposed(w: np.ndarray, groups: int = 1) -> np.ndarray:
    """The weights of eq. 3.14's full convolution: each kernel rotated by 180 degrees and
    the in/out channels swapped within each group: (K, C/g, kh, kw) -> (C, K/g, kh, kw)."""
    K, Cg, kh, kw = w.shape
    Kg = K // groups
    r = w.reshape(groups, Kg, Cg, kh, kw)[:, :, :, ::-1, ::-1].transpose(0, 2, 1, 3, 4)
    return np.ascontiguousarray(r.reshape(groups * Cg, Kg, kh, kw))


def conv2d_backward(dy, x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1,
                    needs=(True, True, True)):
    """Gradients ``(dx, dw, db)`` of :func:`conv2d_forward` for the upstream ``dy``.

    CONV-BP2 / eq. 3.14 (dx), CONV-BP3 (dw), CONV-BP4 (db). ``needs`` says which of the
    three to compute; the others come back as None. ``dy`` has the output's shape and
    every array the same float dtype.

    >>> import numpy as np
    >>> x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))
    >>> dx, dw, db = conv2d_backward(np.ones((1, 1, 2, 2)), x, w)
    >>> dx[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> dw[0, 0], db
    (array([[4., 4.],
           [4., 4.]]), array([4.]))
    """
    want_x, want_w, want_b = needs
    N, C, H, W = x.shape
    K, Cg, kh, kw = w.shape
    Kg = K // groups
    p = make_plan(Cg, H, W, kh, kw, stride, padding, dilation)
    full = _full_conv_applies(p)
    group_shapes = ((N, Cg, H, W), (Kg, Cg, kh, kw), padding, dilation, stride)
    in_place_w = None  # CONV-BP3 and CONV-BP4 without im2col, where a kernel applies
    if want_w and wide_weight_grad_applies(*group_shapes, x.dtype):
        in_place_w = wide_weight_grad
    elif want_w and direct_weight_grad_applies(*group_shapes, x.itemsize):
        in_place_w = direct_weight_grad
    group_w, group_b = want_w and in_place_w is None, want_b and in_place_w is None
    dx = np.empty_like(x) if want_x and not full else None
    dw = np.empty_like(w) if want_w else None
    db = np.empty(K, dtype=x.dtype) if want_b else None
    for g in range(groups):
        ks, cs = slice(g * Kg, (g + 1) * Kg), slice(g * Cg, (g + 1) * Cg)
        dxg = None if dx is None else dx[:, cs]
        if in_place_w is not None:
            dw[ks], dbg = in_place_w(dy[:, ks], x[:, cs], (Kg, Cg, kh, kw), padding, dilation)
            if want_b:
                db[ks] = dbg
        if group_w or group_b or dxg is not None:
            dw2, dbg = _backward_group(dy[:, ks], x[:, cs], w[ks].reshape(Kg, -1), p, dxg,
                                       group_w, group_b)
            if group_w:
                dw[ks] = dw2.reshape(Kg, Cg, kh, kw)
            if group_b:
                db[ks] = dbg
    if want_x and full:  # eq. 3.14: delta * rot180(W), zero border d (k - 1) - p
        pad = (p.dh * (kh - 1) - p.ph, p.dw * (kw - 1) - p.pw)
        dx = conv2d_forward(dy, rot180_transposed(w, groups), None, (1, 1), pad, dilation, groups)
    return dx, dw, db
