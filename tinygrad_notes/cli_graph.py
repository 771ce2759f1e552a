"""``tinygrad-notes graph``: build a model, run one forward+backward on a small batch, and
write the graph as SVG with its DOT source beside it."""

from __future__ import annotations

import numpy as np

from . import models
from .functional import cross_entropy, mse
from .value import Value
from .viz import draw, render_svg

MODELS = ["mlp", "cnn", "resnet", "xor"]


def add_parser(subparsers) -> None:
    """Register the ``graph`` subcommand."""
    p = subparsers.add_parser("graph", help="draw a model's graph (one forward+backward) as SVG",
                              description="Draw the recorded graph of one forward+backward pass as SVG "
                              "(and its .dot source).")
    p.add_argument("--model", choices=MODELS, default="mlp",
                   help="xor is a micrograd-style scalar network; the others are tensor models")
    p.add_argument("--collapse", choices=["modules"], default=None, help="one box per module")
    p.add_argument("--rankdir", choices=["LR", "TB", "RL", "BT"], default="LR")
    p.add_argument("--forward-only", action="store_true", help="hide gradients and their flow")
    p.add_argument("--max-nodes", type=int, default=400)
    p.add_argument("-o", "--output", default="graph.svg")
    p.set_defaults(func=run)


def scalar_xor_graph():
    """A 2-2-1 tanh network of scalar Values on the four XOR points, with its MSE loss."""
    rnd = np.random.default_rng(0)
    w = [[Value(float(rnd.uniform(-1, 1)), name=f"w{i}{j}") for j in range(2)] for i in range(2)]
    b = [Value(0.0, name=f"b{i}") for i in range(2)]
    v = [Value(float(rnd.uniform(-1, 1)), name=f"v{i}") for i in range(2)]
    c = Value(0.0, name="c")
    loss = 0.0
    for (x0, x1), y in [((0.0, 0.0), -1.0), ((0.0, 1.0), 1.0), ((1.0, 0.0), 1.0), ((1.0, 1.0), -1.0)]:
        hidden = [(w[i][0] * x0 + w[i][1] * x1 + b[i]).tanh() for i in range(2)]
        out = (v[0] * hidden[0] + v[1] * hidden[1] + c).tanh()
        loss = loss + mse(out, Value(y, requires_grad=False))
    return loss * 0.25, None


def model_graph(name: str):
    """(loss, model) after one forward+backward of ``name`` on a small batch."""
    if name == "xor":
        return scalar_xor_graph()
    rng = np.random.default_rng(0)
    if name == "mlp":
        x = rng.standard_normal((8, 2)).astype(np.float32)
    else:
        x = rng.random((4, 1, 28, 28)).astype(np.float32)
    model = models.build(name, x.shape[1:], 2 if name == "mlp" else 10, bn=True)
    labels = np.arange(len(x)) % (2 if name == "mlp" else 10)
    loss = cross_entropy(model(Value(x, requires_grad=False, name="images" if x.ndim == 4 else "x")), labels)
    return loss, model


def run(args) -> int:
    """Run the ``graph`` subcommand."""
    loss, model = model_graph(args.model)
    if not args.forward_only:
        loss.backward()
    graph = draw(loss, model=model, collapse=args.collapse, rankdir=args.rankdir, max_nodes=args.max_nodes,
                 show_grad=not args.forward_only, title=f"tinygrad-notes graph --model {args.model}")
    try:
        path = render_svg(graph, args.output)
    except RuntimeError as e:
        print(f"tinygrad-notes graph: error: {e}")
        return 1
    print(f"wrote {path} and {path.with_suffix('.dot')}")
    return 0
