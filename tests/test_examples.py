"""The examples run and show what they claim (on shortened runs)."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xor_perceptron_cycles_and_the_network_solves_it(tmp_path):
    primal, dual, solved = load("xor").main(["--out", str(tmp_path)])
    assert primal.cycled and dual.cycled and not primal.converged
    assert "not linearly separable" in primal.explanation
    assert solved
    assert (tmp_path / "xor.png").exists() and (tmp_path / "xor.svg").exists()


def test_residual_section_3_4(tmp_path):
    final = load("residual").main(["--out", str(tmp_path), "--steps", "400", "--seeds", "0"])
    assert final["deep-plain"] > final["shallow-plain"]
    assert final["deep-residual"] < final["deep-plain"]
    assert (tmp_path / "residual.svg").exists()


def test_quickstart_learns_the_moons():
    assert load("quickstart").main() > 0.9


def test_batchnorm_paper_direction(tmp_path):
    pytest.importorskip("tinygrad_notes.data").find_fashion_mnist()
    reached = load("batchnorm_paper").main(["--out", str(tmp_path), "--steps", "700", "--target", "0.7",
                                            "--eval-every", "50"])
    assert reached[True] is not None and reached[False] is not None
    assert reached[True] <= reached[False] / 2
