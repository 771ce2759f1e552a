"""Build and train a small network with tensor Values: a 2-16-2 MLP on two interleaved
half-moons, plain gradient descent (eq. 2.15), cross-entropy loss.

    python examples/quickstart.py
"""

import numpy as np

import tinygrad_notes as tn
from tinygrad_notes import Value


def moons(n: int, seed: int = 0):
    """Two interleaving half circles with a little noise; labels 0 and 1."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    x = np.where(label[:, None] == 0, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return (x + rng.normal(0, 0.1, x.shape)).astype(np.float32), label


def main() -> float:
    x, y = moons(200)
    data = Value(x, requires_grad=False)
    w1, b1 = tn.uniform(2, 16, low=-1, high=1, seed=1), tn.zeros(16)
    w2, b2 = tn.uniform(16, 2, low=-1, high=1, seed=2), tn.zeros(2)
    params = [w1, b1, w2, b2]
    for step in range(301):
        logits = (data @ w1 + b1).tanh() @ w2 + b2
        loss = tn.cross_entropy(logits, y)
        tn.zero_grad(params)
        loss.backward()
        for p in params:
            p.data -= 0.5 * p.grad  # eq. 2.15: w <- w - eta * grad
        if step % 100 == 0:
            accuracy = float((logits.data.argmax(1) == y).mean())
            print(f"step {step:3d}  loss {loss.item():.4f}  accuracy {accuracy:.2%}")
    return accuracy


if __name__ == "__main__":
    main()
