"""The allocator setting that training and the benchmarks apply."""

import subprocess
import sys


def test_keep_freed_memory_applies_once_in_a_fresh_process():
    code = ("from tinygrad_notes.runtime import keep_freed_memory as k; import platform\n"
            "first = k(); assert k() == first\n"
            "assert first or platform.libc_ver()[0] != 'glibc'\n"
            "print('ok', first)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")
