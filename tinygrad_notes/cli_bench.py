"""``tinygrad-notes bench``: run the benchmark scripts (each peer in its own process) and
print one table of ours vs peers, with the machine it ran on; write JSON and an SVG bar
chart of the ratios."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .fileio import atomic_path, write_text
from .machine import describe, summary_line

SUITES = {
    "engine": ["benchmarks.micrograd_mlp", "benchmarks.op_overhead"],
    "kernels": ["benchmarks.kernels"],
    "train": ["benchmarks.train_throughput"],
}
PEERS = ("torch", "micrograd", "tinygrad")


def add_parser(subparsers) -> None:
    """Register the ``bench`` subcommand."""
    p = subparsers.add_parser("bench", help="benchmarks against PyTorch, micrograd (optional peers)",
                              description="Run the benchmarks in benchmarks/ and print ours vs peers. A peer "
                              "that is not installed is reported as skipped.")
    p.add_argument("suite", nargs="?", choices=[*SUITES, "all"], default="all")
    p.add_argument("--quick", action="store_true", help="fewer repeats: about a minute in all")
    p.add_argument("--json", help="write every row (and the machine) to this JSON file; the chart goes beside it")
    p.add_argument("--peers", default=",".join(PEERS), help="comma-separated peers to run (default: all)")
    p.set_defaults(func=run)


def repo_root() -> Path:
    """The source checkout holding ``benchmarks/`` (the benchmarks are not installed with the package)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "benchmarks" / "common.py").exists():
        raise FileNotFoundError("bench needs a source checkout of tinygrad-notes (benchmarks/ was not found "
                                f"beside {Path(__file__).resolve().parent})")
    return root


def run_script(module: str, quick: bool, peers: str) -> list[dict]:
    """Run one benchmark script in its own process; return its rows (or one 'failed' row)."""
    fd, tmp = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    env = dict(os.environ, TINYGRAD_NOTES_PEERS=peers)
    cmd = [sys.executable, "-m", module, "--json", tmp] + (["--quick"] if quick else [])
    try:
        proc = subprocess.run(cmd, cwd=repo_root(), env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return [{"benchmark": module, "failed": f"exit {proc.returncode}: {tail[0]}"}]
        rows = json.loads(Path(tmp).read_text())
    finally:
        os.unlink(tmp)
    return [normalize(r, module) for r in rows]


def summary_of(module: str, rows: list[dict]) -> list[str]:
    """The lines a benchmark script prints under its own table (its ``summary_lines(rows)``,
    computed from the JSON rows), or none when it has no such function or failed."""
    if not rows or any("failed" in r for r in rows):
        return []
    import importlib

    root = str(repo_root())
    if root not in sys.path:
        sys.path.insert(0, root)
    summarize = getattr(importlib.import_module(module), "summary_lines", None)
    return list(summarize(rows)) if summarize else []


def normalize(r: dict, module: str) -> dict:
    """Rows of the kernel benchmark (op/shape/phase/ours_ms/torch_ms) in the common schema."""
    if "benchmark" in r:
        return r
    name = " ".join(str(r.get(k)) for k in ("op", "shape", "phase") if r.get(k) is not None) or module
    ours, peer = r.get("ours_ms"), r.get("torch_ms")
    return {**r, "benchmark": name, "ours": ours, "unit": "ms", "peer": "torch", "peer_value": peer,
            "ratio": (ours / peer) if ours and peer else None}


def markdown(rows: list[dict], machine: dict, notes: list[str] = ()) -> str:
    """The same table in Markdown, for the README, with the scripts' summary lines
    (:func:`summary_of`) as a list under it."""
    lines = [f"Machine: {summary_line(machine)}.", "",
             "| benchmark | ours | peer | ratio |", "|---|---|---|---|"]
    for r in rows:
        if "failed" in r:
            lines.append(f"| {r['benchmark']} | failed: {r['failed']} | | |")
        elif r.get("peer_value") is None:
            lines.append(f"| {r['benchmark']} | {r['ours']:.4g} {r['unit']} | {r['peer']}: skipped | - |")
        else:
            lines.append(f"| {r['benchmark']} | {r['ours']:.4g} {r['unit']} | {r['peer']} {r['peer_value']:.4g} "
                         f"{r['unit']} | {r['ratio']:.2f} |")
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines)


def table(rows: list[dict], machine: dict, notes: list[str] = ()) -> str:
    """The printed table: benchmark, ours, peer, ratio (ours' time over the peer's), then
    the scripts' summary lines (:func:`summary_of`)."""
    lines = [f"machine: {summary_line(machine)}", "ratio = our time / peer's time (below 1: we are faster)", ""]
    lines.append(f"{'benchmark':<62}{'ours':>14}{'peer':>22}{'ratio':>8}")
    for r in rows:
        if "failed" in r:
            lines.append(f"{r['benchmark']:<62}  FAILED: {r['failed']}")
            continue
        ours = f"{r['ours']:.4g} {r['unit']}"
        if r.get("peer_value") is None:
            peer, ratio = f"{r['peer']}: skipped", "-"
        else:
            peer, ratio = f"{r['peer']} {r['peer_value']:.4g}", f"{r['ratio']:.2f}"
        lines.append(f"{r['benchmark'][:61]:<62}{ours:>14}{peer:>22}{ratio:>8}")
    if notes:
        lines += [""] + list(notes)
    return "\n".join(lines)


def chart(rows: list[dict], path: Path) -> Path | None:
    """A horizontal bar chart of the ratios, saved as SVG (None when there is nothing to plot)."""
    measured = [r for r in rows if r.get("ratio")]
    if not measured:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.3 * len(measured) + 1.2))
    names = [f"{r['benchmark'][:45]} ({r['peer']})" for r in measured]
    ratios = [r["ratio"] for r in measured]
    ax.barh(names, ratios, color=["#2f9e44" if v <= 1 else "#e8590c" for v in ratios])
    ax.axvline(1.0, color="black", lw=1)
    ax.set_xlabel("our time / peer's time (below 1: faster)")
    ax.invert_yaxis()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="svg")
    plt.close(fig)
    return path


def run(args) -> int:
    """Run the ``bench`` subcommand."""
    from tqdm import tqdm

    unknown = set(filter(None, args.peers.split(","))) - set(PEERS)
    if unknown:
        print(f"tinygrad-notes bench: error: unknown peers {sorted(unknown)}; choose from {PEERS}", file=sys.stderr)
        return 2
    modules = [m for name, ms in SUITES.items() if args.suite in (name, "all") for m in ms]
    machine = describe()
    rows, notes = [], []
    for module in tqdm(modules, desc="benchmarks", unit="script"):
        script_rows = run_script(module, args.quick, args.peers)
        rows += script_rows
        notes += summary_of(module, script_rows)
    print(table(rows, machine, notes))
    if args.json:
        path = write_text(args.json, json.dumps({"machine": machine, "rows": rows, "notes": notes}, indent=2) + "\n")
        svg = chart(rows, path.with_suffix(".svg"))
        print(f"wrote {path}" + (f" and {svg}" if svg else ""))
    return 1 if any("failed" in r for r in rows) else 0
