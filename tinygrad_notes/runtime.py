"""Process-wide settings that make the engine faster, applied only when asked for.

Training allocates the same large arrays (activations, gradients) on every step. glibc
hands arrays above its mmap threshold back to the OS when they are freed, so the next
step pays a page fault on the first touch of every 4 KiB page; on batch norm's larger
benchmark shape this was about a quarter of forward+backward. :func:`keep_freed_memory`
asks glibc to keep freed memory for reuse instead. ``tinygrad-notes train`` and the
benchmarks call it; a library user may call it once at start-up.
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
