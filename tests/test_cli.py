"""The `tinygrad-notes` command line skeleton."""

import subprocess
import sys

import pytest

import tinygrad_notes
from tinygrad_notes.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"tinygrad-notes {tinygrad_notes.__version__}"


def test_help_names_the_program():
    out = subprocess.run([sys.executable, "-m", "tinygrad_notes", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.startswith("usage: tinygrad-notes")


def test_unknown_option_fails_with_usage(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--no-such-option"])
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_every_subpackage_is_packaged():
    """pyproject lists the packages by hand (kernels/ is mapped in): none may be left out of the wheel."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "tinygrad_notes").rglob("__init__.py")}
    assert found | {"tinygrad_notes.kernels"} == listed


def test_subcommands_are_registered(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for command in ("verify", "train", "graph", "bench", "demo"):
        assert command in text
