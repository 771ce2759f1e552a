"""``tinygrad-notes train``: build a model, train it, save checkpoint, metrics and curves."""

from __future__ import annotations

import argparse
from pathlib import Path

from .data import load_dataset
from .models import MODELS, build
from .runtime import tune_for_training
from .training import TrainConfig, train

DATASETS = ["xor", "moons", "spirals", "fashion-mnist"]


def add_parser(subparsers) -> None:
    """Register the ``train`` subcommand."""
    p = subparsers.add_parser("train", help="train a model and save checkpoint, metrics.json and curves",
                              description="Train a model with cross-entropy; writes model.npz, metrics.json "
                              "and curves.png/.svg into --out.")
    p.add_argument("--model", choices=sorted(MODELS), default="mlp")
    p.add_argument("--dataset", choices=DATASETS, default="moons")
    p.add_argument("--data-dir", help="folder with the Fashion-MNIST IDX .gz files")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: 1e-3 adam, 0.05 sgd)")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="adam")
    p.add_argument("--bn", action=argparse.BooleanOptionalAction, default=True, help="batch normalization")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/train", help="output folder (default: runs/train)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    """Run the ``train`` subcommand; exit code 0, or 130 when interrupted."""
    if args.epochs <= 0 or args.batch_size <= 0:
        raise SystemExit("train: --epochs and --batch-size must be positive")
    tune_for_training()
    train_set = load_dataset(args.dataset, "train", args.data_dir, seed=args.seed)
    test_set = load_dataset(args.dataset, "test", args.data_dir, seed=args.seed)
    model = build(args.model, train_set.x.shape[1:], train_set.num_classes, bn=args.bn, seed=args.seed)
    lr = args.lr if args.lr is not None else (1e-3 if args.optimizer == "adam" else 0.05)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=lr, optimizer=args.optimizer,
                         seed=args.seed, progress=not args.no_progress)
    print(f"training {args.model} on {args.dataset}: {len(train_set)} train / {len(test_set)} test examples")
    metrics = train(model, train_set, test_set, config, out_dir=Path(args.out))
    accuracy = metrics["test_accuracy"]
    speed = metrics["images_per_second"]
    if accuracy is not None:
        print(f"final test accuracy {accuracy:.4f} on {len(test_set)} test examples; "
              f"training throughput {speed:.0f} images/s")
    print(f"wrote {Path(args.out) / 'model.npz'}, metrics.json and curves.png/.svg")
    return 130 if metrics["interrupted"] else 0
