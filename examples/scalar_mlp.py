"""A micrograd-style scalar network, written exactly as for micrograd, running on
tinygrad_notes' Value: every weight is its own scalar Value.

    python examples/scalar_mlp.py
"""

import random

from tinygrad_notes import Value


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class MLP:
    def __init__(self, nin, nouts):
        sizes = [nin] + nouts
        self.layers = [[Neuron(sizes[i], nonlin=i != len(nouts) - 1) for _ in range(sizes[i + 1])]
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = [n(x) for n in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for n in layer for p in n.parameters()]


def main() -> float:
    random.seed(0)
    model = MLP(2, [16, 16, 1])
    xs = [[random.uniform(-2, 2), random.uniform(-2, 2)] for _ in range(100)]
    ys = [1.0 if a * b > 0 else -1.0 for a, b in xs]  # the XOR pattern of the notes' section 2.1
    for step in range(40):
        preds = [model(x) for x in xs]
        loss = sum((p - y) ** 2 for p, y in zip(preds, ys)) / len(ys)
        for p in model.parameters():
            p.grad = 0
        loss.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad
        if step % 10 == 0 or step == 39:
            accuracy = sum((p.data > 0) == (y > 0) for p, y in zip(preds, ys)) / len(ys)
            print(f"step {step:2d}  loss {loss.data:.4f}  accuracy {accuracy:.0%}")
    return accuracy


if __name__ == "__main__":
    main()
