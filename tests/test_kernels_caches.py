"""Cache sizes read from a sysfs-shaped folder, and the fallback where there is none."""

from __future__ import annotations

import pytest

from tinygrad_notes.kernels._caches import (FALLBACK_BYTES, USABLE_L3_BYTES, _parse_size, cache_bytes,
                                           cpu_vendor, usable_cache_bytes)


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


def test_the_usable_l3_is_capped_and_the_other_levels_are_not(tmp_path):
    _index(tmp_path, 0, 2, "Unified", "2048K")
    _index(tmp_path, 1, 3, "Unified", "300M")
    assert usable_cache_bytes(3, tmp_path) == USABLE_L3_BYTES == 64 << 20
    assert usable_cache_bytes(2, tmp_path) == 2 << 20
    small = tmp_path / "small"
    _index(small, 0, 3, "Unified", "32M")
    assert usable_cache_bytes(3, small) == 32 << 20


def test_the_vendor_is_read_from_cpuinfo_and_empty_where_it_is_missing(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n")
    assert cpu_vendor(info) == "AuthenticAMD"
    info.write_text("processor\t: 0\nisa\t: rv64imafdc\n")  # RISC-V names no vendor_id
    cpu_vendor.cache_clear()
    assert cpu_vendor(info) == ""
    assert cpu_vendor(tmp_path / "absent") == ""
