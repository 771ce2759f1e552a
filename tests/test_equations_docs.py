"""docs/equations.md is generated from the registry and must be up to date."""

from pathlib import Path

from tinygrad_notes import equations
from tinygrad_notes.equations.docs import render

DOC = Path(__file__).resolve().parent.parent / "docs" / "equations.md"


def test_docs_equations_md_is_up_to_date():
    assert DOC.read_text() == render(), "regenerate with: python -m tinygrad_notes.equations.docs"


def test_every_verified_label_is_documented():
    rows = [line.split(" | ")[0].lstrip("| ") for line in DOC.read_text().splitlines() if line.startswith("| ")]
    assert set(equations.labels()) <= set(rows)


def test_the_documented_files_and_functions_exist():
    root = DOC.parent.parent
    for entry in equations.all_checks():
        line = next(ln for ln in DOC.read_text().splitlines() if ln.startswith(f"| {entry.label} |"))
        where = line.split(" | ")[2].strip("`")
        path, function = where.split(":")
        assert (root / path).exists() and f"def {function}" in (root / path).read_text()
