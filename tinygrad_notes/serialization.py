"""Saving and loading a module's state as ``.npz`` (never pickle), written atomically."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from .fileio import atomic_path


def save(module, path) -> Path:
    """Write ``module.state_dict()`` to ``path`` (.npz); a crash mid-write leaves any old file intact.

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from tinygrad_notes import nn
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save(nn.Linear(2, 1, seed=0), Path(tmp) / "model")  # the .npz suffix is added
    ...     with np.load(path) as archive:
    ...         print(path.name, sorted(archive.files))
    model.npz ['bias', 'weight']
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **module.state_dict())
            fh.flush()
            os.fsync(fh.fileno())
    return path


def load(module, path) -> None:
    """Load a checkpoint written by :func:`save` into ``module``, all or nothing.

    A missing, truncated or corrupt file raises ValueError/FileNotFoundError naming the
    file; a key or shape mismatch raises the error of ``load_state_dict``; in every case
    the module is left unchanged.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from tinygrad_notes import nn
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save(nn.Linear(2, 1, seed=0), Path(tmp) / "model.npz")
    ...     model = nn.Linear(2, 1, seed=1)
    ...     load(model, path)
    >>> model.weight.data.tolist() == nn.Linear(2, 1, seed=0).weight.data.tolist()
    True
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"load: no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            state = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise ValueError(f"load: {path} is truncated or corrupt and was not loaded ({e})") from None
    module.load_state_dict(state)
