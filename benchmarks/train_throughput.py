"""Training throughput (images/s) of the `train --model cnn` network, ours vs PyTorch CPU.

The same LeNet-style CNN with batch norm (tinygrad_notes.models.cnn), Adam, batch 64,
on 1x28x28 inputs; PyTorch (an optional peer) runs in its own process.

    python -m benchmarks.train_throughput [--batches N] [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from .common import Worker, peer_enabled, row, write_json

BATCH = 64


def _batches(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, (n, BATCH))
    return x, y


def ours_stepper():
    """A function running ``n`` training steps of our CNN (model and optimizer persist)."""
    from tinygrad_notes import Value, cross_entropy, models
    from tinygrad_notes.optim import Adam
    from tinygrad_notes.runtime import tune_for_training

    tune_for_training()  # as tinygrad-notes train does
    model = models.build("cnn", (1, 28, 28), 10, bn=True)
    opt = Adam(model.parameters(), lr=1e-3)
    xs, ys = _batches(8)

    def run(n):
        for i in range(n):
            loss = cross_entropy(model(Value(xs[i % 8], requires_grad=False)), ys[i % 8])
            opt.zero_grad()
            loss.backward()
            opt.step()

    return run


def torch_stepper():
    """The same network and optimizer in PyTorch eager (None when PyTorch is missing)."""
    try:
        import torch
        from torch import nn
    except ImportError:
        return None
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    xs, ys = (torch.from_numpy(a) for a in _batches(8))

    def run(n):
        for i in range(n):
            loss = loss_fn(model(xs[i % 8]), ys[i % 8])
            opt.zero_grad()
            loss.backward()
            opt.step()

    return run


def serve(side: str) -> None:
    """Answer {"batches": n} requests on stdin with the seconds n training steps took."""
    run = ours_stepper() if side == "ours" else torch_stepper()
    for line in sys.stdin:
        if run is None:
            print(json.dumps({"skipped": "PyTorch is not installed (pip install torch==2.13.0)"}), flush=True)
            continue
        n = json.loads(line)["batches"]
        start = time.perf_counter()
        run(n)
        print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)


def main(argv=None) -> int:
    """Both sides in their own long-lived processes, taking turns, so they see the same machine."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100, help="timed batches per side")
    parser.add_argument("--quick", action="store_true", help="20 batches")
    parser.add_argument("--json", help="write the result to this JSON file")
    parser.add_argument("--serve", choices=["ours", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    batches = 20 if args.quick else args.batches
    turns = 4 if args.quick else 5
    per_turn = max(1, batches // turns)
    workers = {"ours": Worker("benchmarks.train_throughput", ["--serve", "ours"])}
    if peer_enabled("torch"):
        workers["torch"] = Worker("benchmarks.train_throughput", ["--serve", "torch"])
    seconds = {side: 0.0 for side in workers}
    skipped = {"torch": None if "torch" in workers else "not among --peers"}
    try:
        for side, worker in workers.items():  # warm-up: compile, caches, first-touch pages
            answer = worker.ask({"batches": 5})
            if side == "torch":
                skipped["torch"] = answer.get("skipped")
            elif "skipped" in answer:
                print(f"our run failed: {answer['skipped']}", file=sys.stderr)
                return 1
        for _ in range(turns):
            for side, worker in workers.items():
                answer = worker.ask({"batches": per_turn})
                seconds[side] += answer.get("seconds", 0.0)
    finally:
        for worker in workers.values():
            worker.close()
    images = turns * per_turn * BATCH
    o = images / seconds["ours"]
    t = images / seconds["torch"] if seconds.get("torch") and not skipped["torch"] else None
    print(f"CNN training step (batch {BATCH}, Adam), images per second over {turns * per_turn} batches "
          f"in {turns} alternating turns")
    print(f"  ours   {o:8.0f}")
    print(f"  torch  {t:8.0f}   ours/torch {o / t:.2f}x" if t else f"  torch  skipped: {skipped['torch']}")
    if args.json:
        write_json(args.json, [row("cnn training throughput (batch 64)", o, "images/s", "torch", t,
                                   lower_is_better=False, skipped=skipped["torch"])])
    return 0


if __name__ == "__main__":
    sys.exit(main())
