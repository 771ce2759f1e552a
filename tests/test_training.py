"""The training loop and `tinygrad-notes train`: learning, outputs, interruption."""

import json

import numpy as np
import pytest

from tinygrad_notes import Value, models, nn
from tinygrad_notes.cli import main
from tinygrad_notes.data import load_dataset
from tinygrad_notes.serialization import load
from tinygrad_notes.training import TrainConfig, evaluate, train


def test_mlp_learns_spirals_and_writes_every_output(tmp_path):
    train_set, test_set = load_dataset("spirals", "train"), load_dataset("spirals", "test")
    model = models.build("mlp", (2,), 3, bn=False, seed=0)
    _, before = evaluate(model, test_set)
    metrics = train(model, train_set, test_set, TrainConfig(epochs=60, batch_size=32, lr=0.01, progress=False),
                    out_dir=tmp_path)
    assert metrics["test_accuracy"] > max(0.8, before + 0.3)
    assert len(metrics["history"]) == 60 and metrics["images_per_second"] > 0
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["test_accuracy"] == metrics["test_accuracy"]
    assert (tmp_path / "curves.png").stat().st_size > 0
    assert (tmp_path / "curves.svg").read_text().lstrip().startswith("<?xml")
    restored = models.build("mlp", (2,), 3, bn=False, seed=99)
    load(restored, tmp_path / "model.npz")
    assert evaluate(restored, test_set)[1] == metrics["test_accuracy"]


class InterruptAt(nn.Module):
    """Wraps a model and raises KeyboardInterrupt (as Ctrl-C does) on the n-th forward."""

    def __init__(self, inner, at):
        super().__init__()
        self.inner, self.at, self.calls = inner, at, 0

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls == self.at:
                raise KeyboardInterrupt
        return self.inner(x)


def test_ctrl_c_stops_cleanly_and_saves(tmp_path):
    train_set, test_set = load_dataset("moons", "train"), load_dataset("moons", "test")
    model = InterruptAt(models.build("mlp", (2,), 2, bn=False), at=10)  # 4 batches an epoch
    metrics = train(model, train_set, test_set, TrainConfig(epochs=5, batch_size=64, progress=False),
                    out_dir=tmp_path)
    assert metrics["interrupted"] and metrics["epochs_completed"] == 2
    assert json.loads((tmp_path / "metrics.json").read_text())["interrupted"] is True
    assert (tmp_path / "model.npz").exists()


def test_train_command(tmp_path, capsys):
    code = main(["train", "--model", "mlp", "--dataset", "xor", "--epochs", "20", "--no-bn", "--lr", "0.01",
                 "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    assert "final test accuracy" in out and "images/s" in out
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.9


def test_train_command_reports_bad_combinations(tmp_path, capsys):
    code = main(["train", "--model", "cnn", "--dataset", "moons", "--out", str(tmp_path), "--no-progress"])
    assert code == 2
    assert "needs images" in capsys.readouterr().err


def test_evaluate_restores_the_mode():
    model = models.build("mlp", (2,), 2, bn=True)
    model.train()
    evaluate(model, load_dataset("moons", "test"))
    assert model.training


def test_mlp_on_images_flattens():
    model = models.build("mlp", (1, 28, 28), 10, bn=False)
    out = model(Value(np.zeros((3, 1, 28, 28), dtype=np.float32), requires_grad=False))
    assert out.shape == (3, 10)


def test_unknown_model():
    with pytest.raises(ValueError, match="unknown model 'vgg'"):
        models.build("vgg", (2,), 2)
