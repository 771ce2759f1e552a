"""The one place that configures numba for the kernels: the cache directory and ``jit``.

Every kernel is compiled with ``cache=True`` (the machine code is kept on disk, so only
the first import on a machine pays for compiling) and ``nogil=True`` (the kernels run
on a small pool of Python threads, see :mod:`._threads`, never on numba's OpenMP
threads: OpenMP workers that spin-wait fight OpenBLAS's, which the conv GEMMs use).

numba writes its cache next to the source file, in ``__pycache__``. When that folder is
read-only (a system-wide site-packages) and the user-wide fallback is too, numba raises
at import time. So before numba compiles anything, this module checks the kernels'
folder and, if it cannot be written, points ``NUMBA_CACHE_DIR`` at a writable user cache
folder (``$XDG_CACHE_HOME``, ``~/.cache``, then the temporary folder). A user's own
``NUMBA_CACHE_DIR`` always wins.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _writable(folder: Path) -> bool:
    """True when a file can be created in ``folder`` (created if missing)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
        return True
    except OSError:
        return False


def cache_dir_fallback(here: Path = _HERE) -> str | None:
    """The folder to give numba as ``NUMBA_CACHE_DIR``, or None when the default works.

    None when the user set ``NUMBA_CACHE_DIR`` or when ``here/__pycache__`` is writable.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    if _writable(here / "__pycache__"):
        return None
    bases = [os.environ.get("XDG_CACHE_HOME"), str(Path.home() / ".cache"), tempfile.gettempdir()]
    for base in bases:
        if base and _writable(Path(base) / "tinygrad_notes" / "numba"):
            return str(Path(base) / "tinygrad_notes" / "numba")
    return None


def _configure_cache() -> None:
    folder = cache_dir_fallback()
    if folder is None:
        return
    os.environ["NUMBA_CACHE_DIR"] = folder
    if "numba" in sys.modules:  # numba read its configuration already: update it too
        sys.modules["numba"].config.CACHE_DIR = folder


_configure_cache()

import numba  # noqa: E402  (after the cache directory is settled)
from numba.core import codegen as _codegen  # noqa: E402


def allow_512_bit_vectors() -> bool:
    """Let LLVM vectorize numba's loops with 512-bit registers on AVX-512 CPUs.

    LLVM's tuning for Intel's AVX-512 server CPUs prefers 256-bit vectors
    (``prefer-256-bit``), so numba's loops use half of the width the CPU has. This
    sets numba's CPU features to the host's plus ``-prefer-256-bit`` before anything is
    compiled. The direct conv kernel then ran 2x faster (smallcnn forward 2.4 vs 4.8
    ms). Nothing changes when the CPU lacks AVX-512, when ``NUMBA_CPU_FEATURES`` or
    ``NUMBA_CPU_NAME`` is set (the user's choice wins), or when numba compiled
    something before this module was imported (its settings are then fixed). Returns
    whether numba's features now allow 512-bit vectors.
    """
    if numba.config.CPU_FEATURES is not None or numba.config.CPU_NAME is not None:
        return "-prefer-256-bit" in (numba.config.CPU_FEATURES or "")
    features = _codegen.get_host_cpu_features()
    if "+avx512f" not in features.split(","):
        return False
    numba.config.CPU_FEATURES = features + ",-prefer-256-bit"
    return True


allow_512_bit_vectors()

#: Floating-point flags for kernels with reductions: reassociation lets LLVM vectorize a
#: running sum; NaN and infinity keep their IEEE meaning (no 'nnan', no 'ninf').
REDUCTION_MATH = frozenset({"reassoc", "contract", "nsz", "arcp"})
#: For the conv kernels' multiply-adds: fused (one rounding), nothing else relaxed.
CONV_MATH = frozenset({"contract"})


def jit(fn=None, *, fastmath=False, inline="never"):
    """``numba.njit`` with ``cache=True`` and ``nogil=True``; ``fastmath`` and ``inline``
    as numba's (``inline="always"`` puts the function's body into each jitted caller,
    which then compiles it with its own fast-math flags).

    Used bare (``@jit``) or with arguments (``@jit(fastmath=REDUCTION_MATH)``).
    """
    flags = set(fastmath) if isinstance(fastmath, (set, frozenset)) else fastmath

    def wrap(f):
        return numba.njit(cache=True, nogil=True, fastmath=flags, inline=inline)(f)

    return wrap if fn is None else wrap(fn)
