"""``tinygrad-notes demo``: what the project is for, in about two minutes: the notes'
equations verified, a short training run, a model's graph as SVG, and a quick benchmark
table; it ends by listing the files it wrote."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> None:
    """Register the ``demo`` subcommand."""
    p = subparsers.add_parser("demo", help="a two-minute tour: verify, train, graph, bench",
                              description="Verify the notes' equations, train a small model, draw its graph and "
                              "run a quick benchmark; every file goes into --out.")
    p.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    p.add_argument("--no-bench", action="store_true", help="skip the benchmark step")
    p.set_defaults(func=run)


def _heading(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 70 - len(text)), flush=True)


def _verify(out: Path) -> int:
    from . import cli_verify

    return cli_verify.run(argparse.Namespace(json=str(out / "verify.json"), only=None))


def _train(out: Path) -> dict:
    from .data import Dataset, fashion_mnist, load_dataset
    from .models import build
    from .training import TrainConfig, train

    try:
        full = fashion_mnist("train")
        test = fashion_mnist("test")
        train_set = Dataset(full.x[:12000], full.y[:12000], 10)
        name, model_name = "Fashion-MNIST (12,000 training images, the 10,000 test images)", "cnn"
    except (FileNotFoundError, ValueError) as e:
        print(f"(Fashion-MNIST not available: {e}; training on spirals instead)")
        train_set, test = load_dataset("spirals", "train"), load_dataset("spirals", "test")
        name, model_name = "3-arm spirals", "mlp"
    print(f"training the {model_name} model on {name}")
    model = build(model_name, train_set.x.shape[1:], train_set.num_classes, bn=True)
    epochs = 1 if model_name == "cnn" else 30
    metrics = train(model, train_set, test, TrainConfig(epochs=epochs, batch_size=64), out_dir=out / "train")
    print(f"final test accuracy {metrics['test_accuracy']:.4f}, {metrics['images_per_second']:.0f} images/s")
    return metrics


def _graph(out: Path) -> list[Path]:
    from .cli_graph import model_graph
    from .viz import draw, render_svg

    written = []
    for model_name, collapse in (("xor", None), ("cnn", "modules")):
        loss, model = model_graph(model_name)
        loss.backward()
        graph = draw(loss, model=model, collapse=collapse, title=f"{model_name}: one forward+backward")
        try:
            path = render_svg(graph, out / f"graph_{model_name}.svg")
        except RuntimeError as e:
            print(e)
            written.append(out / f"graph_{model_name}.dot")
            continue
        print(f"drew the {model_name} graph ({'one box per module' if collapse else 'every op'}): {path}")
        written += [path, path.with_suffix(".dot")]
    return written


def _bench(out: Path) -> int:
    from . import cli_bench

    return cli_bench.run(argparse.Namespace(suite="engine", quick=True, json=str(out / "bench.json"),
                                            peers=",".join(cli_bench.PEERS)))


def run(args) -> int:
    """Run the tour; exit code 1 when a verification fails."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _heading("1. the notes' equations, verified (tinygrad-notes verify)")
    verify_code = _verify(out)
    _heading("2. a short training run (tinygrad-notes train)")
    _train(out)
    _heading("3. a model's graph as SVG (tinygrad-notes graph)")
    _graph(out)
    if not args.no_bench:
        _heading("4. a quick benchmark against the peers (tinygrad-notes bench --quick)")
        _bench(out)
    _heading("files written")
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        print(f"  {path}")
    return verify_code
