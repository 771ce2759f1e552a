"""What machine a benchmark ran on: CPU model, cores, BLAS and its core type, thread counts."""

from __future__ import annotations

import os
import platform


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's processor string)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas() -> str:
    """numpy's BLAS library and version, as numpy reports it."""
    import numpy as np

    try:
        config = np.show_config(mode="dicts")
        info = config["Build Dependencies"]["blas"]
        return f"{info.get('name', '?')} {info.get('version', '')}".strip()
    except Exception:  # older numpy: no dict mode
        return "unknown"


def describe() -> dict:
    """A dict of the facts that make benchmark numbers comparable."""
    import numba
    import numpy as np

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "blas": blas(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "(not set)"),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "(not set)"),
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", "(not set)"),
    }


def summary_line(info: dict | None = None) -> str:
    """One line for the top of a benchmark table."""
    info = info or describe()
    return (f"{info['cpu']}, {info['cores']} cores; Python {info['python']}, numpy {info['numpy']} with "
            f"{info['blas']} (OPENBLAS_CORETYPE={info['openblas_coretype']}), numba {info['numba']} "
            f"({info['numba_threads']} threads); OMP_NUM_THREADS={info['omp_num_threads']}")
