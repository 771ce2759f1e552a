"""Shared helpers for the benchmark scripts: timing, child processes, JSON output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tinygrad_notes.fileio import write_text


def median_time(step, repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``step()`` in seconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def cpu_times(stat_path: str = "/proc/stat") -> list[int] | None:
    """The machine's cumulative CPU times (the ``cpu`` line of ``/proc/stat``: user, nice,
    system, idle, iowait, irq, softirq, steal, ...), or None where there is no such file."""
    try:
        with open(stat_path) as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    return [int(v) for v in fields[1:]]


def steal_percent(before: list[int] | None, after: list[int] | None) -> float | None:
    """The share of CPU time the hypervisor gave to other guests between two
    :func:`cpu_times` readings (the 8th field, steal), in percent; None when unknown.
    On a shared virtual machine a run with much steal time is not comparable with others.

    >>> steal_percent([10, 0, 0, 80, 0, 0, 0, 10], [20, 0, 0, 150, 0, 0, 0, 30])
    20.0
    """
    if before is None or after is None or len(before) < 8 or len(after) < 8:
        return None
    deltas = [b - a for a, b in zip(before, after)]
    total = sum(deltas[:8])  # guest time is already counted in user
    return 100.0 * deltas[7] / total if total > 0 else None


def run_child(module: str, args: list[str], timeout: float = 600.0) -> dict:
    """Run ``python -m module args`` in a fresh process and return the JSON it prints last.

    Returns ``{"skipped": reason}`` when the child says it skipped or fails.
    """
    cmd = [sys.executable, "-m", module, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          cwd=Path(__file__).resolve().parent.parent)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"skipped": f"exit {proc.returncode}: {tail[0]}"}
    return json.loads(lines[-1])


def write_json(path: str, rows) -> None:
    """Write ``rows`` as JSON to ``path`` atomically (temp file + rename)."""
    write_text(path, json.dumps(rows, indent=2) + "\n")


def fmt_ratio(ours: float, peer: float | None) -> str:
    """``peer / ours`` as 'N.NNx' (how many times faster we are), or '-'."""
    if not peer or not ours:
        return "-"
    return f"{peer / ours:.2f}x"


def peer_enabled(name: str) -> bool:
    """False when $TINYGRAD_NOTES_PEERS (set by ``tinygrad-notes bench --peers``) leaves ``name`` out."""
    chosen = os.environ.get("TINYGRAD_NOTES_PEERS")
    return chosen is None or name in {p.strip() for p in chosen.split(",")}


def row(benchmark: str, ours: float, unit: str, peer: str, peer_value: float | None,
        lower_is_better: bool = True, skipped: str | None = None, **extra) -> dict:
    """One result in the schema every benchmark writes and ``tinygrad-notes bench`` reads.

    ``ratio`` is always ours' time over the peer's (below 1: we are faster).
    """
    ratio = None
    if peer_value:
        ratio = ours / peer_value if lower_is_better else peer_value / ours
    return {"benchmark": benchmark, "ours": ours, "unit": unit, "peer": peer, "peer_value": peer_value,
            "ratio": ratio, "skipped": skipped, **extra}


class Worker:
    """A benchmark child kept alive between requests: one JSON line in, one JSON line out.

    Starts ``python -m module args`` in the repository root; :meth:`ask` sends a request
    and returns the child's answer, or ``{"skipped": reason}`` once the child has died
    (its last line of stderr is the reason). Two workers can take turns on the same
    requests, so that both sides of a comparison are measured in the same minute of a
    noisy machine.
    """

    def __init__(self, module: str, args: list[str], env: dict | None = None):
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self._proc = subprocess.Popen([sys.executable, "-m", module, *args], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._stderr, text=True, bufsize=1,
                                      cwd=Path(__file__).resolve().parent.parent, env=env)
        self.dead: str | None = None

    def ask(self, request: dict) -> dict:
        """Send ``request``; return the child's JSON answer (or ``{"skipped": why}``)."""
        if self.dead:
            return {"skipped": self.dead}
        try:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            while True:
                line = self._proc.stdout.readline()
                if not line:
                    break
                if line.startswith("{"):
                    return json.loads(line)
        except (BrokenPipeError, OSError):
            pass
        self._proc.wait()
        self._stderr.seek(0)
        tail = self._stderr.read().strip().splitlines()[-1:] or ["no output"]
        self.dead = f"exit {self._proc.returncode}: {tail[0]}"
        return {"skipped": self.dead}

    def close(self) -> None:
        """Ask the child to stop and wait for it."""
        if self._proc.poll() is None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._stderr.close()
