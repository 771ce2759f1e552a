"""Process-wide settings that make the engine faster, applied only when asked for.

Training allocates the same large arrays (activations, gradients) on every step. glibc
hands arrays above its mmap threshold back to the OS when they are freed, so the next
step pays a page fault on the first touch of every 4 KiB page; on batch norm's larger
benchmark shape this was about a quarter of forward+backward. :func:`keep_freed_memory`
asks glibc to keep freed memory for reuse instead.

The conv kernels pack a chunk of images and hand it to BLAS. With BLAS on all cores the
packing runs on one core between products, and BLAS's workers spin-wait next to the
kernel threads (batch norm, pooling) after each product. :func:`blas_on_one_thread`
runs BLAS on one thread; the conv kernels then give each kernel thread chunks of its
own to pack and multiply. On the CNN training step this measured 22-23 ms against
25-45 ms (``python -m benchmarks.train_throughput``); a large matrix product elsewhere
in the program then runs on one core.

:func:`tune_for_training` applies both. ``tinygrad-notes train`` and the benchmarks
call it; a library user may call it once at start-up.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_applied = False


def keep_freed_memory(trim_threshold: int = 1 << 30, mmap_threshold: int = 32 << 20) -> bool:
    """Keep freed heap memory (up to ``trim_threshold`` bytes) and serve arrays up to
    ``mmap_threshold`` bytes (glibc's maximum, 32 MiB) from the heap. Process-wide; the
    price is that memory freed after a peak is not returned to the OS. Returns False
    where it does not apply (not glibc).

    >>> keep_freed_memory() in (True, False)
    True
    """
    global _applied
    if _applied:
        return True
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    _applied = bool(mallopt(_M_TRIM_THRESHOLD, int(trim_threshold))) and bool(
        mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)))
    return _applied


def blas_on_one_thread() -> bool:
    """Make numpy's OpenBLAS multiply on one thread, process-wide, so that the conv
    kernels split their chunks across the kernel threads instead (see the module
    docstring). Returns False where numpy's BLAS is not an OpenBLAS it can reach.

    >>> import tinygrad_notes.kernels._blas as blas
    >>> before = blas.blas_threads()
    >>> blas_on_one_thread() == (before is not None)
    True
    >>> _ = before is None or blas.set_blas_threads(before)
    """
    from .kernels._blas import set_blas_threads

    return set_blas_threads(1)


def tune_for_training() -> dict:
    """Apply :func:`keep_freed_memory` and :func:`blas_on_one_thread`; returns what applied.

    >>> from tinygrad_notes.kernels._blas import blas_threads, set_blas_threads
    >>> before = blas_threads()
    >>> sorted(tune_for_training())
    ['blas_on_one_thread', 'keep_freed_memory']
    >>> _ = before is None or set_blas_threads(before)  # this example undoes its setting
    """
    return {"keep_freed_memory": keep_freed_memory(), "blas_on_one_thread": blas_on_one_thread()}
