"""How many threads numpy's OpenBLAS runs a matrix product on, read and set at run time.

The conv kernels cut a batch into chunks of images, each packed (im2col) and multiplied
by BLAS. When BLAS runs every product on all cores, the packing runs on one core
between products. When BLAS runs on one thread, the chunks are instead handed out to
the kernel threads (:mod:`._threads`), each packing and multiplying its own chunk, so
packing runs in parallel too and no BLAS worker spin-waits next to the kernel threads.
:func:`set_blas_threads` is process-wide (OpenBLAS's own "per-thread" setter is
process-wide too in the builds numpy ships), so it is left to the program:
``tinygrad_notes.runtime.kernel_threads_only()`` sets one BLAS thread for training.

The OpenBLAS in this process is found among the loaded libraries (``/proc/self/maps``),
under its plain or its scipy-openblas (``scipy_..64_``) symbol names. Where there is
none (another BLAS, another OS), :func:`blas_threads` returns None and nothing changes.
"""

from __future__ import annotations

import ctypes
import functools
import os

from ._threads import thread_count

_NAMES = (("openblas_get_num_threads", "openblas_set_num_threads"),
          ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"))


def _loaded_openblas() -> list[str]:
    """Paths of the loaded shared libraries whose file name mentions OpenBLAS."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split(None, 5)[-1].strip() for line in maps if "openblas" in line.lower()}
    except OSError:
        return []
    return sorted(p for p in paths if p.startswith("/") and os.path.exists(p))


@functools.cache
def _find():
    """OpenBLAS's (get, set) thread-count functions, looked up on first use; or None."""
    import numpy  # noqa: F401  (numpy loads its BLAS)

    for path in _loaded_openblas():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get_name, set_name in _NAMES:
            get, put = getattr(lib, get_name, None), getattr(lib, set_name, None)
            if get is not None and put is not None:
                get.restype, get.argtypes = ctypes.c_int, []
                put.restype, put.argtypes = None, [ctypes.c_int]
                return get, put
    return None


def blas_threads() -> int | None:
    """Threads numpy's OpenBLAS uses for a product now; None when it cannot be told.

    >>> n = blas_threads()
    >>> n is None or n >= 1
    True
    """
    funcs = _find()
    return None if funcs is None else int(funcs[0]())


def chunks_in_parallel() -> bool:
    """Whether the conv kernels hand their chunks to the kernel threads, each thread
    multiplying its own: when there are several threads and BLAS multiplies on one."""
    return thread_count() > 1 and blas_threads() == 1


def set_blas_threads(n: int) -> bool:
    """Make numpy's OpenBLAS use ``n`` threads (process-wide); False where it cannot.

    >>> before = blas_threads()
    >>> if before is not None:
    ...     assert set_blas_threads(1) and blas_threads() == 1
    ...     assert set_blas_threads(before)
    """
    funcs = _find()
    if funcs is None:
        return False
    if n < 1:
        raise ValueError(f"set_blas_threads: n must be at least 1, got {n}")
    funcs[1](int(n))
    return True
