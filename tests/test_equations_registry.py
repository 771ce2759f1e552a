"""The registry of the notes' equations: labels, lookup, independence of the closed forms,
and every registered check passing."""

import ast
import pathlib
import re

import pytest

from tinygrad_notes import equations
from tinygrad_notes.equations import registry

PACKAGE = pathlib.Path(equations.__file__).parent
ROOT = PACKAGE.parent.parent
CLOSED_FORMS = ("activations", "fc", "conv", "batchnorm", "gradient_descent", "perceptron", "probability",
                "linear_stack")

NOTES_LABELS = (
    ["BP1", "BP2", "BP3", "BP4", "FC-BP"] + [f"eq. 3.{i}" for i in (2, 4, 5, 6, 7, 8, 9, 10)]
    + ["CONV-BP", "CONV-BP2", "CONV-BP3", "CONV-BP4", "eq. 3.12", "eq. 3.13", "eq. 3.14", "eq. 3.15"]
    + ["Algorithm 1"] + [f"eq. 3.{i}" for i in range(19, 25)]
    + [f"eq. 2.{i}" for i in range(4, 16)]
    + [f"eq. 1.{i}" for i in range(1, 19)]
    + ["Novikoff", "Beta", "linear-stack", "XOR", "conv stride/padding"]
)


def test_every_label_of_the_notes_is_registered():
    missing = sorted(set(NOTES_LABELS) - set(equations.labels()))
    assert not missing, f"not registered: {missing}"


def test_every_label_an_op_cites_is_registered():
    """The graph drawing shows the labels that ops cite; each must have a check here."""
    from tinygrad_notes.equations.tape_cnn import functional_cnn
    from tinygrad_notes.ops import OPS

    functional_cnn()  # registers the CNN ops, once they exist

    cited = {label for op in OPS.values() for label in op.equations}
    assert cited <= set(equations.labels()), sorted(cited - set(equations.labels()))


def test_entries_carry_section_description_closed_form_and_check():
    for entry in equations.all_checks():
        assert re.fullmatch(r"[123]\.\d(\.\d)?\+?", entry.section), entry
        assert entry.what and callable(entry.closed_form) and callable(entry.check)
        assert entry.closed_form.__doc__, f"{entry.label}: its closed form has no docstring"


@pytest.mark.parametrize("spelling, label", [("BP1", "BP1"), ("bp1", "BP1"), ("3.23", "eq. 3.23"),
                                             ("eq 3.23", "eq. 3.23"), ("EQ. 1.18", "eq. 1.18"),
                                             ("algorithm 1", "Algorithm 1"), ("conv-bp2", "CONV-BP2")])
def test_lookup_accepts_loose_spellings(spelling, label):
    assert equations.lookup(spelling).label == label


def test_unknown_label_lists_the_known_ones():
    with pytest.raises(KeyError, match="BP1"):
        equations.lookup("eq. 9.99")


def test_a_label_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="twice"):
        registry.register("BP1", "3.1", "again", print, print)


@pytest.mark.parametrize("module", CLOSED_FORMS)
def test_closed_forms_never_import_the_engine(module):
    """The comparison proves something only if the closed forms are independent of ops/."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                assert node.module in ("__future__", "dataclasses", "typing"), (module, node.module)
            else:
                assert node.level == 1 and node.module in CLOSED_FORMS, (module, node.module)
        elif isinstance(node, ast.Import):
            assert all(a.name in ("math", "numpy") for a in node.names), (module, [a.name for a in node.names])


@pytest.mark.parametrize("label", equations.labels())
def test_check_passes(label):
    result = equations.lookup(label).check()
    assert result.passed, f"{label}: {result.detail}"
    assert result.status in ("PASS", "ERRATUM")


def test_errata_file_lists_exactly_the_errata_the_checks_show():
    shown = {e.label for e in equations.all_checks() if e.check().status == "ERRATUM"}
    text = (ROOT / "ERRATA.md").read_text()
    listed = set(re.findall(r"^## (.+?) \u2014", text, flags=re.M))
    assert listed == shown
    for label in shown:
        assert equations.lookup(label).check().erratum
