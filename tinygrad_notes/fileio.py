"""Atomic file writes: write to a temporary file beside the target, then rename over it.

A crash or an error mid-write leaves the old file (or none) in place, never half a file.
The result gets the usual permissions (0666 less the umask), not mkstemp's private 0600.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     target = Path(tmp) / "out.txt"
    ...     with atomic_path(target) as partial:
    ...         _ = partial.write_text("done")
    ...         print(target.exists())  # nothing at the target until the block succeeds
    ...     print(target.read_text(), [p.name for p in Path(tmp).iterdir()])
    False
    done ['out.txt']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_bytes(Path(tmp) / "weights.bin", bytes([1, 2, 3]))
    ...     print(path.name, list(path.read_bytes()))
    weights.bin [1, 2, 3]
    """
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_text(Path(tmp) / "notes" / "eq.txt", "BP1: delta = grad_a C * sigma'(z)")  # makes notes/
    ...     print(path.read_text())
    BP1: delta = grad_a C * sigma'(z)
    """
    return write_bytes(path, text.encode("utf-8"))
