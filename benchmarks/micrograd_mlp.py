"""One training step of a micrograd-style scalar MLP, ours vs micrograd.

The model is written once against micrograd's `Value` API (2 -> 16 -> 16 -> 1, tanh,
MSE over 100 samples) and run with each `Value` class in its own process:

    python -m benchmarks.micrograd_mlp [--json PATH] [--repeats N] [--quick]

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
import time

import numpy as np

from .common import Worker, fmt_ratio, peer_enabled, row, write_json

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


def serve(impl: str, gc_enabled: bool) -> None:
    """Answer {"steps": n} requests on stdin with the time of each training step (ms)."""
    if impl == "micrograd":
        try:
            Value = _micrograd_value()
        except ImportError:
            Value = None
    else:
        from tinygrad_notes import Value
    if Value is not None:
        model, xs, ys = make_model(Value)
        train_step(model, xs, ys)  # warm-up
    if not gc_enabled:
        gc.disable()
    for line in sys.stdin:
        if Value is None:
            print(json.dumps({"skipped": "micrograd is not installed (pip install micrograd)"}), flush=True)
            continue
        times = []
        for _ in range(json.loads(line)["steps"]):
            start = time.perf_counter()
            train_step(model, xs, ys)
            times.append((time.perf_counter() - start) * 1e3)
        print(json.dumps({"step_ms": times}), flush=True)


CONFIGS = [("ours", True), ("micrograd", True), ("micrograd", False)]


def main(argv=None) -> int:
    """Every configuration in its own long-lived process; they take turns, a step each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the rows to this JSON file")
    parser.add_argument("--repeats", type=int, default=7, help="turns (one timed step per side each)")
    parser.add_argument("--quick", action="store_true", help="3 turns")
    parser.add_argument("--serve", choices=["ours", "micrograd"], help=argparse.SUPPRESS)
    parser.add_argument("--no-gc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, not args.no_gc)
        return 0
    turns = 3 if args.quick else args.repeats
    workers, results = {}, {}
    for impl, gc_on in CONFIGS:
        if impl == "micrograd" and not peer_enabled("micrograd"):
            results[(impl, gc_on)] = {"skipped": "not among --peers"}
            continue
        workers[(impl, gc_on)] = Worker("benchmarks.micrograd_mlp", ["--serve", impl] + ([] if gc_on else ["--no-gc"]))
        results[(impl, gc_on)] = {"step_ms": []}
    try:
        for _ in range(turns):
            for key, worker in workers.items():
                answer = worker.ask({"steps": 1})
                if "skipped" in answer:
                    results[key] = answer
                elif "step_ms" in results[key]:
                    results[key]["step_ms"] += answer["step_ms"]
    finally:
        for worker in workers.values():
            worker.close()
    medians = {k: (float(np.median(v["step_ms"])) if v.get("step_ms") else None) for k, v in results.items()}
    ours = medians[("ours", True)]
    if ours is None:
        print(f"our run failed: {results[('ours', True)].get('skipped')}", file=sys.stderr)
        return 1
    print(f"scalar MLP 2-{HIDDEN}-{HIDDEN}-1 tanh, MSE over {SAMPLES} samples: one forward+backward+SGD step "
          f"(median of {turns} turns, the sides alternating)")
    print(f"{'implementation':<28}{'step ms':>10}{'ours faster by':>16}")
    out = []
    for (impl, gc_on), result in results.items():
        label = f"{impl} ({'default gc' if gc_on else 'gc disabled'})"
        median = medians[(impl, gc_on)]
        if median is None:
            print(f"{label:<28}{'skipped: ' + str(result.get('skipped'))}")
        else:
            print(f"{label:<28}{median:>10.2f}{fmt_ratio(ours, median):>16}")
        if impl == "micrograd":
            out.append(row(f"scalar MLP step vs micrograd ({'default gc' if gc_on else 'gc disabled'})", ours, "ms",
                           "micrograd", median, skipped=result.get("skipped")))
    if args.json:
        write_json(args.json, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
