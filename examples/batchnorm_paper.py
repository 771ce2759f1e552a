"""Ioffe & Szegedy (2015), Figure 1, on Fashion-MNIST: a 784-100-100-100-10 sigmoid MLP
with and without batch normalization (section 3.3.3), same optimizer, same steps.

Plots (a) test accuracy against training steps and (b, c) the 15th, 50th and 85th
percentiles of the input to one sigmoid of the last hidden layer over training, and
prints how many steps each network needs to reach a fixed test accuracy.

    python examples/batchnorm_paper.py [--steps N] [--target 0.80] [--out DIR]
"""

import argparse
from pathlib import Path

import numpy as np

import tinygrad_notes as tn
from tinygrad_notes import Value, nn, no_grad, optim
from tinygrad_notes.data import DataLoader, fashion_mnist

HIDDEN = 100


class Net(nn.Module):
    """784-100-100-100-10 with sigmoid hidden units; BN (eq. 3.19-3.20) before each sigmoid if ``bn``."""

    def __init__(self, bn: bool, seed: int = 0):
        super().__init__()
        sizes = [784, HIDDEN, HIDDEN, HIDDEN]
        self.linears = [nn.Linear(a, b, init="xavier_normal", seed=seed + i) for i, (a, b) in
                        enumerate(zip(sizes, sizes[1:]))]
        self.norms = [nn.BatchNorm1d(HIDDEN) for _ in self.linears] if bn else []
        self.out = nn.Linear(HIDDEN, 10, init="xavier_normal", seed=seed + 9)
        self.last_sigmoid_input = None

    def forward(self, x):
        h = x.flatten(1)
        for i, linear in enumerate(self.linears):
            z = linear(h)
            if self.norms:
                z = self.norms[i](z)
            self.last_sigmoid_input = z
            h = z.sigmoid()
        return self.out(h)


def run(bn: bool, steps: int, eval_every: int, train, test, neuron: int = 0, seed: int = 0):
    """Train one network; return (steps, test accuracies, percentiles of one sigmoid input)."""
    model = Net(bn, seed)
    opt = optim.SGD(model.parameters(), lr=0.5)
    loader = DataLoader(train.x, train.y, batch_size=60, shuffle=True, drop_last=True, seed=seed)
    probe = Value(test.x[:1000], requires_grad=False)
    marks, accuracy, percentiles = [], [], []
    step = 0
    while step < steps:
        for x, y in loader:
            loss = tn.cross_entropy(model(Value(x, requires_grad=False)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % eval_every == 0 or step == 1:
                model.eval()
                with no_grad():
                    logits = model(Value(test.x, requires_grad=False))
                    accuracy.append(float((logits.data.argmax(1) == test.y).mean()))
                    model(probe)
                    percentiles.append(np.percentile(model.last_sigmoid_input.data[:, neuron], [15, 50, 85]))
                model.train()
                marks.append(step)
            if step == steps:
                break
    return np.array(marks), np.array(accuracy), np.array(percentiles)


def steps_to(target: float, marks, accuracy):
    """The first evaluated step at which the test accuracy reaches ``target`` (None if never)."""
    hit = np.nonzero(accuracy >= target)[0]
    return int(marks[hit[0]]) if len(hit) else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--target", type=float, default=0.80, help="test accuracy to reach")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default="runs/examples")
    args = parser.parse_args(argv)
    train, test = fashion_mnist("train", args.data_dir), fashion_mnist("test", args.data_dir)
    results = {}
    for bn in (False, True):
        results[bn] = run(bn, args.steps, args.eval_every, train, test)
    reached = {}
    for bn, (marks, acc, _) in results.items():
        name = "with BN" if bn else "without BN"
        reached[bn] = steps_to(args.target, marks, acc)
        where = f"step {reached[bn]}" if reached[bn] else f"not within {args.steps} steps"
        print(f"{name:<11} final test accuracy {acc[-1]:.4f}; reaches {args.target:.0%} at {where}")
    if reached[True] and reached[False]:
        print(f"batch normalization needs {reached[True] / reached[False]:.2f}x the steps of the plain network")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for bn, (marks, acc, _) in results.items():
        axes[0].plot(marks, acc, label="with BN" if bn else "without BN")
    axes[0].axhline(args.target, color="gray", ls=":", lw=1)
    axes[0].set(xlabel="training step", ylabel="test accuracy", title="(a) test accuracy")
    axes[0].legend()
    for ax, bn, title in ((axes[1], False, "(b) without BN"), (axes[2], True, "(c) with BN")):
        marks, _, pct = results[bn]
        for k, label in enumerate(("15th", "50th", "85th")):
            ax.plot(marks, pct[:, k], label=label)
        ax.set(xlabel="training step", ylabel="sigmoid input", title=f"{title}: one sigmoid's input")
        ax.legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for suffix in (".png", ".svg"):
        fig.savefig(out / f"batchnorm_paper{suffix}", dpi=110)
    print(f"wrote {out / 'batchnorm_paper.png'} and {out / 'batchnorm_paper.svg'}")
    return reached


if __name__ == "__main__":
    main()
