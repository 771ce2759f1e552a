"""A LeNet-style CNN with batch normalization on Fashion-MNIST (the `train --model cnn`
network): trains, reports test accuracy and throughput, saves the training curves.

    python examples/cnn_fashion.py [--epochs N] [--out DIR]
"""

import argparse
from pathlib import Path

from tinygrad_notes.data import fashion_mnist
from tinygrad_notes.models import build
from tinygrad_notes.training import TrainConfig, train


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default="runs/examples/cnn_fashion")
    args = parser.parse_args(argv)
    train_set = fashion_mnist("train", args.data_dir, limit=args.limit)
    test_set = fashion_mnist("test", args.data_dir)
    model = build("cnn", (1, 28, 28), 10, bn=True, seed=0)
    print(model)
    metrics = train(model, train_set, test_set, TrainConfig(epochs=args.epochs, batch_size=64, lr=1e-3),
                    out_dir=Path(args.out))
    print(f"test accuracy {metrics['test_accuracy']:.4f} on {len(test_set)} images, "
          f"{metrics['images_per_second']:.0f} training images/s; curves in {args.out}")
    return metrics


if __name__ == "__main__":
    main()
