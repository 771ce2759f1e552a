"""Per-op overhead of forward+backward on tiny (4x4) float32 tensors, ours vs PyTorch eager.

For each op, a chain of N applications is built and backpropagated; the per-op cost is
the slope (T(long) - T(short)) / (long - short), which removes the fixed cost of the
final sum and backward call. PyTorch (an optional peer) runs in its own process:

    python -m benchmarks.op_overhead [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from .common import median_time, peer_enabled, row, run_child, write_json

SHORT, LONG = 10, 110
OPS = ["add", "mul", "matmul", "tanh", "relu", "sigmoid", "sum_keepdims", "mean"]


def _apply(kind: str, y, w, keepdims: str):
    """One ``kind`` op on ``y``; ``keepdims`` is the library's name for that keyword."""
    if kind == "add":
        return y + w
    if kind == "mul":
        return y * w
    if kind == "matmul":
        return y @ w
    if kind in ("tanh", "relu", "sigmoid"):
        return getattr(y, kind)()
    reduce = "sum" if kind == "sum_keepdims" else "mean"
    return getattr(y, reduce)(1, **{keepdims: True})


def _chain(kind: str, lib: str):
    """A function building and backpropagating a chain of ``n`` ``kind`` ops with ``lib``.

    tinygrad is lazy: its gradients are asked for explicitly and realized at the end.
    """
    keepdims = "keepdims" if lib == "ours" else "keepdim"

    def step(x, w, n):
        y = x
        for _ in range(n):
            y = _apply(kind, y, w, keepdims)
        if lib == "tinygrad":
            for g in y.sum().gradient(x, w):
                g.realize()
        else:
            y.sum().backward()

    return step


def measure(lib: str, repeats: int) -> dict:
    """Microseconds per op (forward+backward) for each op kind with ``lib``."""
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((4, 4)) * 0.1).astype(np.float32)
    b = (rng.standard_normal((4, 4)) * 0.1).astype(np.float32)
    short_n, long_n, warmups = SHORT, LONG, (20, 5)
    if lib == "tinygrad":
        try:
            from tinygrad import Tensor
        except ImportError:
            return {"skipped": "tinygrad is not installed (pip install tinygrad; its CPU device needs clang)"}
        x, w = Tensor(a), Tensor(b)
        # each call schedules, compiles (once) and runs kernels, ~1 ms per op: shorter chains
        short_n, long_n, warmups, repeats = 2, 12, (1, 1), 3
    elif lib == "torch":
        try:
            import torch
        except ImportError:
            return {"skipped": "PyTorch is not installed (pip install torch==2.13.0)"}
        torch.set_num_threads(1)
        x, w = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    else:
        from tinygrad_notes import Value

        x, w = Value(a), Value(b)
    out = {}
    for kind in OPS:
        step = _chain(kind, lib)
        short = median_time(lambda: step(x, w, short_n), repeats, warmup=warmups[0])
        long = median_time(lambda: step(x, w, long_n), repeats, warmup=warmups[1])
        out[kind] = (long - short) / (long_n - short_n) * 1e6
    return {"lib": lib, "us_per_op": out}


def main(argv=None) -> int:
    """Measure ours here and PyTorch in a child process; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the rows to this JSON file")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="30 repeats")
    parser.add_argument("--child", choices=["ours", "torch", "tinygrad"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.repeats)))
        return 0
    repeats = 30 if args.quick else args.repeats
    ours = run_child("benchmarks.op_overhead", ["--child", "ours", "--repeats", str(repeats)])
    if "skipped" in ours:
        print(f"our measurement failed: {ours['skipped']}", file=sys.stderr)
        return 1
    if peer_enabled("torch"):
        torch = run_child("benchmarks.op_overhead", ["--child", "torch", "--repeats", str(repeats)])
    else:
        torch = {"skipped": "not among --peers"}
    if peer_enabled("tinygrad"):
        tiny = run_child("benchmarks.op_overhead", ["--child", "tinygrad", "--repeats", str(repeats)])
    else:
        tiny = {"skipped": "not among --peers"}
    print("per-op overhead, forward+backward, 4x4 float32 (microseconds per op)")
    print(f"{'op':<14}{'ours us':>10}{'torch us':>10}{'ours/torch':>12}")
    rows = []
    for kind in OPS:
        o = ours["us_per_op"][kind]
        t = torch.get("us_per_op", {}).get(kind)
        ratio = o / t if t else None
        print(f"{kind:<14}{o:>10.2f}{(f'{t:.2f}' if t else 'skipped'):>10}{(f'{ratio:.2f}' if ratio else '-'):>12}")
        rows.append(row(f"per-op fwd+bwd 4x4 {kind}", o, "us", "torch", t, skipped=torch.get("skipped"),
                        op=kind, ours_us=o, torch_us=t))
    mean_o = float(np.mean([r["ours"] for r in rows]))
    if "skipped" in torch:
        print(f"{'average':<14}{mean_o:>10.2f}   torch skipped: {torch['skipped']}")
    else:
        mean_t = float(np.mean([r["peer_value"] for r in rows]))
        print(f"{'average':<14}{mean_o:>10.2f}{mean_t:>10.2f}{mean_o / mean_t:>12.2f}")
    for kind in OPS:
        o, t = ours["us_per_op"][kind], tiny.get("us_per_op", {}).get(kind)
        rows.append(row(f"per-op fwd+bwd 4x4 {kind}", o, "us", "tinygrad", t, skipped=tiny.get("skipped"),
                        op=kind, ours_us=o, tinygrad_us=t))
    if "skipped" in tiny:
        print(f"tinygrad: skipped ({tiny['skipped']})")
    else:
        mean_tiny = float(np.mean(list(tiny["us_per_op"].values())))
        print(f"tinygrad (lazy, realized at the end): {mean_tiny:.1f} us per op on average")
    if args.json:
        write_json(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
