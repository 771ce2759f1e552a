"""save/load: .npz without pickle, atomic, and all-or-nothing on every kind of bad file."""

import numpy as np
import pytest

from tinygrad_notes import nn
from tinygrad_notes.serialization import load, save


def model(seed):
    return nn.Sequential(nn.Linear(3, 4, seed=seed), nn.ReLU(), nn.Linear(4, 2, seed=seed + 1))


def test_round_trip(tmp_path):
    a, b = model(0), model(10)
    path = save(a, tmp_path / "ckpt.npz")
    load(b, path)
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    assert list(tmp_path.iterdir()) == [path], "no temporary files are left behind"


def test_no_pickle_in_the_file(tmp_path):
    path = save(model(0), tmp_path / "ckpt.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_truncated_file_is_refused_and_the_model_is_unchanged(tmp_path):
    path = save(model(0), tmp_path / "ckpt.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    target = model(10)
    before = target.state_dict()
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load(target, path)
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_garbage_and_missing_files(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load(model(0), bad)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load(model(0), tmp_path / "missing.npz")


def test_key_and_shape_mismatch_lists_them(tmp_path):
    path = save(nn.Sequential(nn.Linear(3, 5, seed=0)), tmp_path / "other.npz")
    with pytest.raises(ValueError, match=r"missing keys: 2.weight, 2.bias.*shape mismatches"):
        load(model(0), path)


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = save(model(0), tmp_path / "ckpt.npz")
    old = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        save(model(1), path)
    assert path.read_bytes() == old
    assert list(tmp_path.iterdir()) == [path]


def test_files_get_ordinary_permissions(tmp_path):
    import os

    from tinygrad_notes.fileio import write_text

    mask = os.umask(0o022)
    try:
        path = write_text(tmp_path / "x.json", "{}")
        assert (path.stat().st_mode & 0o777) == 0o644, "not mkstemp's private 0600"
        assert save(model(0), tmp_path / "m.npz").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(mask)
