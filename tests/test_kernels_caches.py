"""Cache sizes read from a sysfs-shaped folder, and the fallback where there is none."""

from __future__ import annotations

import pytest

from tinygrad_notes.kernels._caches import FALLBACK_BYTES, _parse_size, cache_bytes


def _index(root, i, level, kind, size):
    folder = root / f"index{i}"
    folder.mkdir(parents=True)
    for name, text in (("level", f"{level}\n"), ("type", f"{kind}\n"), ("size", f"{size}\n")):
        (folder / name).write_text(text)


def test_sizes_are_read_per_level_skipping_instruction_caches(tmp_path):
    _index(tmp_path, 0, 1, "Data", "48K")
    _index(tmp_path, 1, 1, "Instruction", "32K")
    _index(tmp_path, 2, 2, "Unified", "2048K")
    _index(tmp_path, 3, 3, "Unified", "32M")
    assert cache_bytes(1, tmp_path) == 48 << 10
    assert cache_bytes(2, tmp_path) == 2 << 20
    assert cache_bytes(3, tmp_path) == 32 << 20


def test_missing_or_unreadable_sysfs_falls_back(tmp_path):
    assert cache_bytes(2, tmp_path / "absent") == FALLBACK_BYTES[2]
    _index(tmp_path, 0, 3, "Unified", "lots")
    assert cache_bytes(3, tmp_path) == FALLBACK_BYTES[3]


@pytest.mark.parametrize("text, size", [("1024K", 1 << 20), ("32M", 32 << 20), ("1G", 1 << 30),
                                        ("4096", 4096), ("", None), ("K", None), ("12X", None)])
def test_size_strings(text, size):
    assert _parse_size(text) == size
