"""Scratch buffers reused from call to call (one per tag, dtype and thread).

A freshly allocated large buffer costs a page fault on the first touch of every page;
the conv kernels' packing buffers are rewritten on every call, so they are kept. Each
buffer only grows, to the largest size asked for under its tag; the buffers of one
thread are never seen by another (the kernels may run in several threads at once).
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
        buf = pool[key] = np.empty(max(need, 1), dtype)
    return buf[:need].reshape(shape)


def workspace_bytes() -> int:
    """Bytes held by this thread's scratch buffers."""
    return sum(b.nbytes for b in getattr(_local, "pool", {}).values())


def clear_workspaces() -> None:
    """Drop this thread's scratch buffers (they are rebuilt on the next call)."""
    _local.pool = {}
