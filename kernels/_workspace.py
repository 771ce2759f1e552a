"""Scratch buffers reused from call to call (one per tag, dtype and thread).

A freshly allocated large buffer costs a page fault on the first touch of every page;
the conv kernels' packing buffers are rewritten on every call, so they are kept. Each
buffer only grows, to the largest size asked for under its tag; the buffers of one
thread are never seen by another (the kernels may run in several threads at once).
Every buffer starts on a 64-byte cache line (:data:`ALIGN`); conv forward+backward,
interleaved A/B, medians, ms, aligned vs 16 bytes past a line: lenet 1.96 vs 2.10,
smallcnn 17.1 vs 17.8, bigbatch 9.05 vs 9.52 (a noisy run; the gain is a few percent).
"""

from __future__ import annotations

import threading

import numpy as np

_local = threading.local()


def workspace(tag: str, shape: tuple, dtype) -> np.ndarray:
    """A C-contiguous array of ``shape`` and ``dtype`` over this thread's ``tag`` buffer.

    The contents are whatever the last user left: callers overwrite what they read.
    """
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    dtype = np.dtype(dtype)
    need = 1
    for n in shape:
        need *= int(n)
    key = (tag, dtype)
    buf = pool.get(key)
    if buf is None or buf.size < need:
        buf = pool[key] = _aligned_empty(max(need, 1), dtype)
    return buf[:need].reshape(shape)


#: Byte alignment of every buffer: a cache line, so that rows whose length is a
#: multiple of a SIMD register start on one and vector loads do not straddle two.
ALIGN = 64


def _aligned_empty(n: int, dtype: np.dtype) -> np.ndarray:
    """An uninitialised 1-D array of ``n`` items whose data starts on an :data:`ALIGN`
    byte boundary (numpy's own allocations are only 16-byte aligned)."""
    raw = np.empty(n * dtype.itemsize + ALIGN, np.uint8)
    skip = -raw.ctypes.data % ALIGN
    return raw[skip:skip + n * dtype.itemsize].view(dtype)


def workspace_bytes() -> int:
    """Bytes held by this thread's scratch buffers."""
    return sum(b.nbytes for b in getattr(_local, "pool", {}).values())


def clear_workspaces() -> None:
    """Drop this thread's scratch buffers (they are rebuilt on the next call)."""
    _local.pool = {}
