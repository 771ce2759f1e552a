"""One training step of a micrograd-style scalar MLP, ours vs micrograd.

The model is written once against micrograd's `Value` API (2 -> 16 -> 16 -> 1, tanh,
MSE over 100 samples) and run with each `Value` class in its own process:

    python -m benchmarks.micrograd_mlp [--json PATH] [--repeats N]

micrograd 0.1.0 as shipped has no ``tanh``; the child gives it one written in
micrograd's own style (a closure ``_backward``, as in its author's lecture). Its
default-GC step is slow because every closure makes a reference cycle; the run with
``gc.disable()`` shows its cost without the collector.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import sys

from .common import fmt_ratio, median_time, peer_enabled, row, run_child, write_json

SAMPLES, HIDDEN = 100, 16


def _micrograd_value():
    from micrograd.engine import Value

    if not hasattr(Value, "tanh"):
        def tanh(self):
            t = math.tanh(self.data)
            out = Value(t, (self,), "tanh")

            def _backward():
                self.grad += (1 - t * t) * out.grad

            out._backward = _backward
            return out

        Value.tanh = tanh
    return Value


def make_model(Value, seed: int = 0):
    """A micrograd-style MLP: lists of Values, ``sum`` of products, ``tanh``."""
    rnd = random.Random(seed)

    class Neuron:
        def __init__(self, nin, nonlin=True):
            self.w = [Value(rnd.uniform(-1, 1)) for _ in range(nin)]
            self.b = Value(0)
            self.nonlin = nonlin

        def __call__(self, x):
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
            return act.tanh() if self.nonlin else act

        def parameters(self):
            return self.w + [self.b]

    class Layer:
        def __init__(self, nin, nout, **kwargs):
            self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

        def __call__(self, x):
            out = [n(x) for n in self.neurons]
            return out[0] if len(out) == 1 else out

        def parameters(self):
            return [p for n in self.neurons for p in n.parameters()]

    class MLP:
        def __init__(self, nin, nouts):
            sizes = [nin] + nouts
            self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

        def parameters(self):
            return [p for layer in self.layers for p in layer.parameters()]

    model = MLP(2, [HIDDEN, HIDDEN, 1])
    xs = [[rnd.uniform(-2, 2), rnd.uniform(-2, 2)] for _ in range(SAMPLES)]
    ys = [1.0 if x0 * x1 > 0 else -1.0 for x0, x1 in xs]
    return model, xs, ys


def train_step(model, xs, ys, lr: float = 0.05) -> float:
    """Forward over all samples, MSE, backward, SGD: written exactly as for micrograd."""
    preds = [model(x) for x in xs]
    loss = sum((p - y) ** 2 for p, y in zip(preds, ys)) * (1.0 / len(ys))
    for p in model.parameters():
        p.grad = 0
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss.data


def child(impl: str, gc_enabled: bool, repeats: int) -> dict:
    """Time one training step with ``impl`` ('ours' or 'micrograd') in this process."""
    if impl == "micrograd":
        try:
            Value = _micrograd_value()
        except ImportError:
            return {"skipped": "micrograd is not installed (pip install micrograd)"}
    else:
        from tinygrad_notes import Value
    model, xs, ys = make_model(Value)
    if not gc_enabled:
        gc.disable()
    seconds = median_time(lambda: train_step(model, xs, ys), repeats)
    return {"impl": impl, "gc": gc_enabled, "step_ms": seconds * 1e3}


def main(argv=None) -> int:
    """Run every configuration in its own process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the rows to this JSON file")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    parser.add_argument("--child", choices=["ours", "micrograd"], help=argparse.SUPPRESS)
    parser.add_argument("--no-gc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, not args.no_gc, args.repeats)))
        return 0
    repeats = 3 if args.quick else args.repeats
    rows = {}
    for impl, gc_on in [("ours", True), ("micrograd", True), ("micrograd", False)]:
        if impl == "micrograd" and not peer_enabled("micrograd"):
            rows[(impl, gc_on)] = {"skipped": "not among --peers"}
            continue
        extra = [] if gc_on else ["--no-gc"]
        rows[(impl, gc_on)] = run_child("benchmarks.micrograd_mlp", ["--child", impl, "--repeats", str(repeats), *extra])
    ours = rows[("ours", True)].get("step_ms")
    print(f"scalar MLP 2-{HIDDEN}-{HIDDEN}-1 tanh, MSE over {SAMPLES} samples: one forward+backward+SGD step")
    print(f"{'implementation':<28}{'step ms':>10}{'ours faster by':>16}")
    out = []
    for (impl, gc_on), result in rows.items():
        label = f"{impl} ({'default gc' if gc_on else 'gc disabled'})"
        if "skipped" in result:
            print(f"{label:<28}{'skipped: ' + result['skipped']}")
        else:
            print(f"{label:<28}{result['step_ms']:>10.2f}{fmt_ratio(ours, result['step_ms']):>16}")
        if impl == "micrograd":
            out.append(row(f"scalar MLP step vs micrograd ({'default gc' if gc_on else 'gc disabled'})", ours, "ms",
                           "micrograd", result.get("step_ms"), skipped=result.get("skipped")))
    if args.json:
        write_json(args.json, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
