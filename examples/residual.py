"""Section 3.4: a deep plain network trains worse than a shallow one, and the same depth
with residual connections (y = F(x) + x) does not.

Three classifiers of the 3-arm spiral data, trained with the same SGD steps and seeds:
shallow-plain (2 hidden layers), deep-plain (20 hidden layers) and deep-residual (10
residual blocks of two layers, so the same 20 hidden layers). Prints the final training
losses and plots the curves (PNG and SVG).

    python examples/residual.py [--out DIR] [--steps N]
"""

import argparse
import sys
from pathlib import Path

import numpy as np

import tinygrad_notes as tn
from tinygrad_notes import Value, nn, optim
from tinygrad_notes.data import DataLoader, spirals

WIDTH = 32


def shallow_plain(seed):
    return nn.Sequential(nn.Linear(2, WIDTH, seed=seed), nn.ReLU(), nn.Linear(WIDTH, WIDTH, seed=seed + 1),
                         nn.ReLU(), nn.Linear(WIDTH, 3, seed=seed + 2))


def deep_plain(seed, hidden=20):
    layers = [nn.Linear(2, WIDTH, seed=seed), nn.ReLU()]
    for i in range(hidden - 1):
        layers += [nn.Linear(WIDTH, WIDTH, seed=seed + 1 + i), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(WIDTH, 3, seed=seed + 100))


def deep_residual(seed, blocks=10):
    layers = [nn.Linear(2, WIDTH, seed=seed), nn.ReLU()]
    for i in range(blocks):
        body = nn.Sequential(nn.Linear(WIDTH, WIDTH, seed=seed + 1 + 2 * i), nn.ReLU(),
                             nn.Linear(WIDTH, WIDTH, seed=seed + 2 + 2 * i))
        layers += [nn.Residual(body), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(WIDTH, 3, seed=seed + 100))


NETWORKS = {"shallow-plain": shallow_plain, "deep-plain": deep_plain, "deep-residual": deep_residual}


def train_curve(build, seed: int, steps: int, data) -> list:
    """Training loss after each SGD step (lr 0.05, momentum 0.9, batch 64)."""
    model = build(seed)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(data.x, data.y, batch_size=64, shuffle=True, drop_last=True, seed=seed)
    losses = []
    while len(losses) < steps:
        for x, y in loader:
            loss = tn.cross_entropy(model(Value(x, requires_grad=False)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
    return losses


def smooth(values, window=50):
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/examples", help="folder for residual.png/.svg")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    data = spirals(n=1000, classes=3, noise=0.1, seed=0)
    curves = {name: np.mean([train_curve(build, s, args.steps, data) for s in args.seeds], axis=0)
              for name, build in NETWORKS.items()}
    final = {name: float(np.mean(c[-100:])) for name, c in curves.items()}
    for name, value in final.items():
        print(f"{name:<14} final training loss {value:.4f} (mean of the last 100 steps, seeds {args.seeds})")
    print("deep-plain above shallow-plain:", final["deep-plain"] > final["shallow-plain"])
    print("deep-residual below deep-plain:", final["deep-residual"] < final["deep-plain"])

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, c in curves.items():
        ax.plot(np.arange(len(smooth(c))), smooth(c), label=name)
    ax.set(xlabel="SGD step", ylabel="training loss (cross-entropy, smoothed)",
           title="Section 3.4: depth with and without residual connections")
    ax.axhline(np.log(3), color="gray", ls=":", lw=1, label="chance (ln 3)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    for suffix in (".png", ".svg"):
        fig.savefig(out / f"residual{suffix}", dpi=120)
    print(f"wrote {out / 'residual.png'} and {out / 'residual.svg'}")
    return final


if __name__ == "__main__":
    main()
    sys.exit(0)
