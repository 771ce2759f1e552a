"""The table of the notes' equations: label -> section, what is compared, closed form, check.

Every family module (``checks_fc``, ``checks_conv``, ...) calls :func:`register` once per
label when it is imported; :func:`load` imports them all. The `verify` report and the
graph drawing read this table through the package's public functions.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

# The families, in the order of the report (the notes' chapters 3, 2, 1, then beyond).
FAMILIES = ("checks_fc", "checks_conv", "checks_batchnorm", "checks_gradient_descent", "checks_perceptron",
            "checks_probability", "checks_linear_stack")


@dataclass(frozen=True)
class CheckResult:
    """What one check measured: the worst errors over all its comparisons, and the verdict.

    ``erratum`` is set only when the check itself showed the notes' text to be wrong
    (the literal form disagrees) and the corrected form to be right; it holds the
    corrected form. ``detail`` says what the errors are errors of.
    """

    max_abs_err: float
    max_rel_err: float
    passed: bool
    erratum: str | None = None
    detail: str = ""

    @property
    def status(self) -> str:
        """``FAIL``, ``ERRATUM`` (the corrected form passes) or ``PASS``."""
        if not self.passed:
            return "FAIL"
        return "ERRATUM" if self.erratum else "PASS"


@dataclass(frozen=True)
class Entry:
    """One labelled equation: where it is, what is compared, its closed form, its check."""

    label: str
    section: str
    what: str
    closed_form: Callable
    check: Callable[[], CheckResult]


_TABLE: dict[str, Entry] = {}
_loaded = False


def register(label: str, section: str, what: str, closed_form: Callable, check: Callable[[], CheckResult]) -> Entry:
    """Add the equation ``label`` (written as in the notes, e.g. ``"eq. 3.23"``) to the table."""
    if label in _TABLE:
        raise ValueError(f"equation {label!r} is registered twice")
    entry = Entry(label, section, what, closed_form, check)
    _TABLE[label] = entry
    return entry


def load() -> dict[str, Entry]:
    """Import every family (once) and return the table, in report order."""
    global _loaded
    if not _loaded:
        for family in FAMILIES:
            importlib.import_module(f"{__package__}.{family}")
        _loaded = True
    return _TABLE


def normalize(label: str) -> str:
    """The registered spelling of ``label``: ``"bp1"`` -> ``"BP1"``, ``"3.23"`` -> ``"eq. 3.23"``."""
    table = load()
    if label in table:
        return label
    wanted = " ".join(label.lower().replace("eq.", "").replace("eq ", "").split())
    for known in table:
        if " ".join(known.lower().replace("eq.", "").split()) == wanted:
            return known
    raise KeyError(f"no equation labelled {label!r}; known labels: {', '.join(table)}")


def lookup(label: str) -> Entry:
    """The :class:`Entry` registered under ``label`` (KeyError lists the known labels)."""
    return load()[normalize(label)]


def _report_order(entries):
    """Family order (FAMILIES), then registration order: the same whatever imported a family first."""
    position = {family: i for i, family in enumerate(FAMILIES)}
    indexed = list(enumerate(entries))
    indexed.sort(key=lambda ie: (position.get(ie[1].check.__module__.rpartition(".")[2], len(FAMILIES)), ie[0]))
    return [e for _, e in indexed]


def labels() -> list[str]:
    """Every registered label, in report order."""
    return [e.label for e in all_checks()]


def all_checks() -> list[Entry]:
    """Every registered :class:`Entry`, in report order."""
    return _report_order(load().values())
