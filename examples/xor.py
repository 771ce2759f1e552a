"""Section 2.1: why a perceptron cannot solve XOR, and a 2-layer network can.

The primal perceptron (eq. 2.9) and its dual form (eq. 2.11) both cycle forever on the
four XOR points: the state repeats, so they stop and say why. A 2-2-1 tanh network of
scalar Values, trained on the tape, separates them. The decision regions of the last
perceptron hyperplane and of the network are plotted (PNG and SVG).

    python examples/xor.py [--out DIR]
"""

import argparse
from pathlib import Path

import numpy as np

from tinygrad_notes import Value
from tinygrad_notes.equations.perceptron import perceptron_dual, perceptron_primal

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([-1.0, 1.0, 1.0, -1.0])


class TinyNet:
    """2 inputs, 2 tanh hidden units, 1 tanh output: every weight a scalar Value."""

    def __init__(self, seed: int = 1):
        rng = np.random.default_rng(seed)
        self.w = [[Value(float(rng.uniform(-1, 1))) for _ in range(2)] for _ in range(2)]
        self.b = [Value(0.0), Value(0.0)]
        self.v = [Value(float(rng.uniform(-1, 1))) for _ in range(2)]
        self.c = Value(0.0)

    def __call__(self, x0, x1):
        h = [(self.w[i][0] * x0 + self.w[i][1] * x1 + self.b[i]).tanh() for i in range(2)]
        return (self.v[0] * h[0] + self.v[1] * h[1] + self.c).tanh()

    def parameters(self):
        return [*self.w[0], *self.w[1], *self.b, *self.v, self.c]


def train_net(steps: int = 500, lr: float = 0.2, seed: int = 1) -> TinyNet:
    """Full-batch gradient descent (eq. 2.15) on the squared error."""
    net = TinyNet(seed)
    for _ in range(steps):
        loss = sum((net(*x) - y) ** 2 for x, y in zip(X.tolist(), Y.tolist()))
        for p in net.parameters():
            p.grad = 0.0
        loss.backward()
        for p in net.parameters():
            p.data -= lr * p.grad
    return net


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/examples")
    args = parser.parse_args(argv)

    primal = perceptron_primal(X, Y)
    dual = perceptron_dual(X, Y)
    print("primal perceptron:", primal.explanation)
    print("dual perceptron:  ", dual.explanation)
    net = train_net()
    predictions = [net(*x).data for x in X.tolist()]
    solved = all(np.sign(p) == y for p, y in zip(predictions, Y))
    print("2-layer network outputs:", [f"{p:+.3f}" for p in predictions], "->", "solved" if solved else "NOT solved")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(-0.5, 1.5, 81)
    gx, gy = np.meshgrid(grid, grid)
    net_side = np.array([[net(float(a), float(b)).data for a in grid] for b in grid])
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for k, (w, b) in enumerate(primal.history):  # the hyperplanes the perceptron cycles through
        label = f"update {k + 1}: w=({w[0]:g}, {w[1]:g}), b={b:g}"
        if w[1] != 0:
            axes[0].plot(grid, -(w[0] * grid + b) / w[1], label=label)
        elif w[0] != 0:
            axes[0].axvline(-b / w[0], label=label)
        else:
            axes[0].plot([], [], " ", label=label + " (no line)")
    axes[0].legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    axes[0].set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5))
    axes[1].contourf(gx, gy, net_side, levels=[-1.5, 0, 1.5], colors=["#ffc9c9", "#a5d8ff"], alpha=0.8)
    for ax, title in ((axes[0], "perceptron: the hyperplanes it cycles through"),
                      (axes[1], "2-layer tanh network on the tape")):
        for (x0, x1), y in zip(X, Y):
            ax.scatter(x0, x1, c="#1971c2" if y > 0 else "#e03131", s=120, edgecolors="black",
                       marker="o" if y > 0 else "s")
        ax.set(title=title, xlabel="x1", ylabel="x2", aspect="equal")
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for suffix in (".png", ".svg"):
        fig.savefig(out / f"xor{suffix}", dpi=110)
    print(f"wrote {out / 'xor.png'} and {out / 'xor.svg'}")
    return primal, dual, solved


if __name__ == "__main__":
    main()
