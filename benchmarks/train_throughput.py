"""Training throughput (images/s) of the `train --model cnn` network, ours vs PyTorch CPU.

The same LeNet-style CNN with batch norm (tinygrad_notes.models.cnn), Adam, batch 64,
on 1x28x28 inputs; PyTorch (an optional peer) runs in its own process.

    python -m benchmarks.train_throughput [--batches N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from .common import peer_enabled, row, run_child, write_json

BATCH = 64


def _batches(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, (n, BATCH))
    return x, y


def ours(batches: int, warmup: int) -> dict:
    """Images per second of our training step."""
    from tinygrad_notes import Value, cross_entropy, models
    from tinygrad_notes.optim import Adam

    model = models.build("cnn", (1, 28, 28), 10, bn=True)
    opt = Adam(model.parameters(), lr=1e-3)
    xs, ys = _batches(batches + warmup)

    def step(x, y):
        loss = cross_entropy(model(Value(x, requires_grad=False)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for i in range(warmup):
        step(xs[i], ys[i])
    start = time.perf_counter()
    for i in range(warmup, warmup + batches):
        step(xs[i], ys[i])
    return {"images_per_second": batches * BATCH / (time.perf_counter() - start)}


def torch_peer(batches: int, warmup: int) -> dict:
    """Images per second of the same network and optimizer in PyTorch eager."""
    try:
        import torch
        from torch import nn
    except ImportError:
        return {"skipped": "PyTorch is not installed (pip install torch==2.13.0)"}
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    xs, ys = _batches(batches + warmup)
    xs, ys = torch.from_numpy(xs), torch.from_numpy(ys)

    def step(x, y):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for i in range(warmup):
        step(xs[i], ys[i])
    start = time.perf_counter()
    for i in range(warmup, warmup + batches):
        step(xs[i], ys[i])
    return {"images_per_second": batches * BATCH / (time.perf_counter() - start),
            "threads": torch.get_num_threads()}


def main(argv=None) -> int:
    """Run both sides in their own processes and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="20 batches")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--json", help="write the result to this JSON file")
    parser.add_argument("--child", choices=["ours", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        fn = ours if args.child == "ours" else torch_peer
        print(json.dumps(fn(args.batches, args.warmup)))
        return 0
    batches, warmup = (20, 3) if args.quick else (args.batches, args.warmup)
    extra = ["--batches", str(batches), "--warmup", str(warmup)]
    mine = run_child("benchmarks.train_throughput", ["--child", "ours", *extra])
    if peer_enabled("torch"):
        peer = run_child("benchmarks.train_throughput", ["--child", "torch", *extra])
    else:
        peer = {"skipped": "not among --peers"}
    if "skipped" in mine:
        print(f"our run failed: {mine['skipped']}", file=sys.stderr)
        return 1
    o = mine["images_per_second"]
    t = peer.get("images_per_second")
    print(f"CNN training step (batch {BATCH}, Adam), images per second over {batches} batches")
    print(f"  ours   {o:8.0f}")
    print(f"  torch  {t:8.0f}   ours/torch {o / t:.2f}x" if t else f"  torch  skipped: {peer['skipped']}")
    if args.json:
        write_json(args.json, [row("cnn training throughput (batch 64)", o, "images/s", "torch", t,
                                   lower_is_better=False, skipped=peer.get("skipped"))])
    return 0


if __name__ == "__main__":
    sys.exit(main())
