"""The training loop behind ``tinygrad-notes train``: epochs with a progress bar, test
accuracy after each, a checkpoint, ``metrics.json`` and the training curves in ``out``.

Ctrl-C stops after the current batch; what has been learned so far is saved.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import optim
from .data import DataLoader, Dataset
from .fileio import atomic_path, write_text
from .functional import cross_entropy
from .serialization import save
from .tape import no_grad
from .value import Value


@dataclass
class TrainConfig:
    """What to train and how."""

    epochs: int = 3
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    seed: int = 0
    progress: bool = True


@dataclass
class History:
    """Per-epoch figures, in the order they were measured."""

    epochs: list = field(default_factory=list)
    interrupted: bool = False


def make_optimizer(name: str, params, lr: float):
    """``sgd`` (eq. 2.15, momentum 0.9) or ``adam``."""
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose sgd or adam")


@no_grad()
def evaluate(model, dataset: Dataset, batch_size: int = 500) -> tuple[float, float]:
    """(mean loss, accuracy) of ``model`` in eval mode over ``dataset``."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    try:
        for start in range(0, len(dataset), batch_size):
            x = dataset.x[start : start + batch_size]
            y = dataset.y[start : start + batch_size]
            logits = model(Value(x, requires_grad=False))
            total_loss += cross_entropy(logits, y).item() * len(y)
            correct += int((logits.data.argmax(axis=1) == y).sum())
    finally:
        model.train(was_training)
    return total_loss / len(dataset), correct / len(dataset)


def _progress(iterable, total, desc, enabled):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=True, dynamic_ncols=True)


def train(model, train_set: Dataset, test_set: Dataset, config: TrainConfig, out_dir=None) -> dict:
    """Train ``model`` with cross-entropy; returns the metrics (also written to ``out_dir``)."""
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
    loader = DataLoader(train_set.x, train_set.y, config.batch_size, shuffle=True, seed=config.seed)
    history = History()
    train_seconds, images = 0.0, 0
    model.train()
    try:
        for epoch in range(1, config.epochs + 1):
            seen = correct = 0
            loss_sum = 0.0
            start = time.perf_counter()
            bar = _progress(loader, len(loader), f"epoch {epoch}/{config.epochs}", config.progress)
            for x, y in bar:
                logits = model(Value(x, requires_grad=False))
                loss = cross_entropy(logits, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                seen += len(y)
                loss_sum += loss.item() * len(y)
                correct += int((logits.data.argmax(axis=1) == y).sum())
                if config.progress:
                    bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.3f}", refresh=False)
            seconds = time.perf_counter() - start
            train_seconds += seconds
            images += seen
            test_loss, test_accuracy = evaluate(model, test_set)
            history.epochs.append({
                "epoch": epoch, "train_loss": loss_sum / seen, "train_accuracy": correct / seen,
                "test_loss": test_loss, "test_accuracy": test_accuracy, "seconds": seconds,
                "images_per_second": seen / seconds,
            })
            print(f"epoch {epoch}: train loss {loss_sum / seen:.4f}, train accuracy {correct / seen:.4f}, "
                  f"test accuracy {test_accuracy:.4f}, {seen / seconds:.0f} images/s", flush=True)
    except KeyboardInterrupt:
        history.interrupted = True
        print("\ninterrupted: saving what has been learned so far", flush=True)
    metrics = {
        "test_accuracy": history.epochs[-1]["test_accuracy"] if history.epochs else None,
        "images_per_second": images / train_seconds if train_seconds else None,
        "epochs_completed": len(history.epochs),
        "interrupted": history.interrupted,
        "history": history.epochs,
        "config": vars(config),
    }
    if out_dir is not None:
        write_outputs(model, metrics, Path(out_dir))
    return metrics


def write_outputs(model, metrics: dict, out: Path) -> list[Path]:
    """Checkpoint, metrics.json and the curves (PNG + SVG) in ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [save(model, out / "model.npz")]
    metrics_path = out / "metrics.json"
    write_text(metrics_path, json.dumps(metrics, indent=2) + "\n")
    written.append(metrics_path)
    if metrics["history"]:
        written += plot_curves(metrics["history"], out / "curves")
    return written


def plot_curves(history: list, stem: Path) -> list[Path]:
    """Training loss and train/test accuracy per epoch, saved as ``stem``.png and .svg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax_loss.plot(epochs, [h["train_loss"] for h in history], "o-", label="train")
    ax_loss.plot(epochs, [h["test_loss"] for h in history], "s--", label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_acc.plot(epochs, [h["train_accuracy"] for h in history], "o-", label="train")
    ax_acc.plot(epochs, [h["test_accuracy"] for h in history], "s--", label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    paths = []
    for suffix in (".png", ".svg"):
        path = stem.with_suffix(suffix)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=120, format=suffix[1:])
        paths.append(path)
    plt.close(fig)
    return paths

