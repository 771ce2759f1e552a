"""Code written for micrograd's Value runs unchanged with ours, and computes the same numbers.

The program below is written against micrograd's API only (Value(x), + - * / **, relu,
tanh, backward, .data, .grad, p.grad = 0). It trains with our Value; where micrograd is
installed (a dev dependency) the same program runs with micrograd's Value as the oracle.
"""

import math
import random

import pytest

from tinygrad_notes import Value


def micrograd_program(Value, activation="relu", steps=5, samples=100, seed=0):
    rnd = random.Random(seed)

    class Neuron:
        def __init__(self, nin, nonlin=True):
            self.w = [Value(rnd.uniform(-1, 1)) for _ in range(nin)]
            self.b = Value(0)
            self.nonlin = nonlin

        def __call__(self, x):
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
            if not self.nonlin:
                return act
            return act.relu() if activation == "relu" else act.tanh()

        def parameters(self):
            return self.w + [self.b]

    class MLP:
        def __init__(self, sizes):
            self.layers = [[Neuron(sizes[i], nonlin=i != len(sizes) - 2) for _ in range(sizes[i + 1])]
                           for i in range(len(sizes) - 1)]

        def __call__(self, x):
            for layer in self.layers:
                x = [n(x) for n in layer]
            return x[0] if len(x) == 1 else x

        def parameters(self):
            return [p for layer in self.layers for n in layer for p in n.parameters()]

    model = MLP([2, 16, 16, 1])
    xs = [[rnd.uniform(-2, 2), rnd.uniform(-2, 2)] for _ in range(samples)]
    ys = [1.0 if a * b > 0 else -1.0 for a, b in xs]
    losses = []
    for _ in range(steps):
        preds = [model(x) for x in xs]
        loss = sum((p - y) ** 2 for p, y in zip(preds, ys)) / len(ys)
        reg = 1e-4 * sum(p * p for p in model.parameters())
        total = loss + reg
        for p in model.parameters():
            p.grad = 0
        total.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad
        losses.append(total.data)
    return losses, [p.data for p in model.parameters()]


def test_micrograd_style_tanh_mlp_trains_with_our_value():
    losses, _ = micrograd_program(Value, activation="tanh", steps=30)
    assert all(isinstance(v, float) for v in losses)
    assert losses[-1] < 0.6 * losses[0], f"loss should fall: {losses[0]:.3f} -> {losses[-1]:.3f}"


def test_same_numbers_as_micrograd():
    micrograd = pytest.importorskip("micrograd.engine", reason="micrograd is a dev dependency")
    ours, our_params = micrograd_program(Value)
    theirs, their_params = micrograd_program(micrograd.Value)
    assert ours == pytest.approx(theirs, rel=1e-12)
    assert our_params == pytest.approx(their_params, rel=1e-9, abs=1e-12)


def test_micrograd_readme_example():
    # micrograd's README example, verbatim apart from the import
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    assert math.isclose(g.data, 24.7041, abs_tol=1e-4)
    g.backward()
    assert math.isclose(a.grad, 138.8338, abs_tol=1e-4)
    assert math.isclose(b.grad, 645.5773, abs_tol=1e-4)
