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
