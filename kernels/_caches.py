"""The CPU's cache sizes, read from Linux's sysfs, for kernels that size their blocks by them.

A block size tuned on one machine can be wrong on the next (the project's machines have
had 2 MB and 1 MB of L2, 300 MB and 32 MB of L3), so the kernels that keep data in cache
between two passes ask here instead of hard-coding a size. Where sysfs is missing (not
Linux) or unreadable, the sizes fall back to :data:`FALLBACK_BYTES`, small enough for
most CPUs.

The last-level cache is shared with every other core of the socket, and on a small
virtual machine with the other tenants' data too, so the size sysfs reports is not what
one process can keep there: :func:`usable_cache_bytes` caps it at
:data:`USABLE_L3_BYTES`.
"""

from __future__ import annotations

import functools
from pathlib import Path

#: Per level, what is assumed when sysfs does not tell: L2 per core, L3 shared.
FALLBACK_BYTES = {2: 512 * 1024, 3: 8 * 1024 * 1024}
#: The most of a shared L3 that a process is assumed to keep. On a 2-core virtual machine
#: of a Xeon whose L3 sysfs gives as 300 MB, a two-thread read of an array ran at 44-49
#: GB/s up to 48 MB, 36 GB/s at 64 MB and 16 GB/s from 96 MB on: past about 64 MB the
#: data came from memory.
USABLE_L3_BYTES = 64 << 20
_SYSFS = Path("/sys/devices/system/cpu/cpu0/cache")
_CPUINFO = Path("/proc/cpuinfo")


def _parse_size(text: str) -> int | None:
    """``'1024K'`` -> 1048576; ``'32M'``, plain bytes; None when it is not a size."""
    text = text.strip().upper()
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    unit = text[-1:] if text[-1:] in units else ""
    digits = text[: len(text) - len(unit)]
    return int(digits) * units.get(unit, 1) if digits.isdigit() else None


@functools.lru_cache(maxsize=None)
def cache_bytes(level: int, root: Path = _SYSFS) -> int:
    """The size in bytes of the data (or unified) cache of ``level`` seen by CPU 0.

    >>> cache_bytes(2) > 0 and cache_bytes(3) > 0
    True
    """
    try:
        for index in sorted(root.glob("index*")):
            if int((index / "level").read_text()) != level:
                continue
            if (index / "type").read_text().strip() not in ("Data", "Unified"):
                continue
            size = _parse_size((index / "size").read_text())
            if size:
                return size
    except (OSError, ValueError):
        pass
    return FALLBACK_BYTES.get(level, FALLBACK_BYTES[3])


def usable_cache_bytes(level: int, root: Path = _SYSFS) -> int:
    """:func:`cache_bytes`, the L3 capped at :data:`USABLE_L3_BYTES` (see the module
    docstring): what a kernel deciding whether its arrays stay in cache should assume.

    >>> usable_cache_bytes(3) <= min(cache_bytes(3), USABLE_L3_BYTES)
    True
    """
    size = cache_bytes(level, root)
    return min(size, USABLE_L3_BYTES) if level == 3 else size


@functools.lru_cache(maxsize=None)
def cpu_vendor(cpuinfo: Path = _CPUINFO) -> str:
    """The CPU's vendor as Linux's ``/proc/cpuinfo`` gives it (``'GenuineIntel'``,
    ``'AuthenticAMD'``), or ``''`` where it does not (not Linux, not x86).

    >>> isinstance(cpu_vendor(), str)
    True
    """
    try:
        with open(cpuinfo) as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() == "vendor_id":
                    return value.strip()
    except OSError:
        pass
    return ""
