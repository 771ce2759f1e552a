"""The `verify` report: run registered checks, format the table, write the JSON rows."""

from __future__ import annotations

import json
import math
import textwrap
import time
from dataclasses import dataclass

from ..fileio import write_text
from .registry import all_checks, lookup


@dataclass(frozen=True)
class Row:
    """One line of the report: an equation, what its check measured, and the verdict."""

    label: str
    section: str
    what: str
    max_abs_err: float
    max_rel_err: float
    passed: bool
    status: str
    erratum: str | None
    detail: str
    seconds: float


def run_checks(labels=None) -> list[Row]:
    """Run the checks of ``labels`` (every registered one by default), in report order.

    A check that raises is a FAIL row whose detail is the exception, never a crash.
    """
    entries = all_checks() if not labels else [lookup(label) for label in labels]
    rows = []
    for entry in entries:
        start = time.perf_counter()
        try:
            result = entry.check()
            row = (result.max_abs_err, result.max_rel_err, result.passed, result.status, result.erratum,
                   result.detail)
        except Exception as e:  # noqa: BLE001 - a broken check is reported, not raised
            row = (math.nan, math.nan, False, "FAIL", None, f"the check raised {type(e).__name__}: {e}")
        rows.append(Row(entry.label, entry.section, entry.what, *row, time.perf_counter() - start))
    return rows


def _err(x: float) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:.1e}"


def format_table(rows: list[Row], width: int = 120, verbose: bool = False) -> str:
    """The table: label, section, what was compared, max abs err, max rel err, status.

    An ERRATUM row is followed by the corrected form, a FAIL row by what failed; with
    ``verbose`` every row is followed by its full description and detail.
    """
    lw = max([len("label")] + [len(r.label) for r in rows])
    sw = max([len("section")] + [len(r.section) for r in rows])
    fixed = lw + sw + 9 + 9 + 7 + 5 * 2
    ww = max(20, width - fixed)
    indent = " " * (lw + 2)

    def line(label, section, what, abs_err, rel_err, status):
        return f"{label:<{lw}}  {section:<{sw}}  {what:<{ww}}  {abs_err:>9}  {rel_err:>9}  {status}"

    out = [line("label", "section", "what was compared", "max abs", "max rel", "status"), "-" * (fixed + ww)]
    for r in rows:
        what = r.what if len(r.what) <= ww else r.what[: ww - 3] + "..."
        out.append(line(r.label, r.section, what, _err(r.max_abs_err), _err(r.max_rel_err), r.status))
        notes = []
        if r.erratum:
            notes.append(f"corrected: {r.erratum}")
        if r.status == "FAIL" or verbose:
            if verbose and len(r.what) > ww:
                notes.append(r.what)
            if r.detail:
                notes.append(r.detail)
        for note in notes:
            out.extend(textwrap.wrap(note, width=max(40, width - len(indent)), initial_indent=indent,
                                     subsequent_indent=indent + "  "))
    return "\n".join(out)


def summary(rows: list[Row], seconds: float) -> str:
    """One line: how many checks passed, were errata (the corrected form passes) or failed."""
    counts = {s: sum(r.status == s for r in rows) for s in ("PASS", "ERRATUM", "FAIL")}
    verdict = "all checks pass" if counts["FAIL"] == 0 else f"{counts['FAIL']} FAILED"
    return (f"{len(rows)} checks: {counts['PASS']} PASS, {counts['ERRATUM']} ERRATUM (the notes' text is wrong, "
            f"the corrected form passes), {counts['FAIL']} FAIL; {verdict} in {seconds:.1f} s")


def _number(x: float):
    return None if x is None or not math.isfinite(x) else float(x)


def json_rows(rows: list[Row]) -> list[dict]:
    """The rows as JSON objects with keys label, section, max_abs_err, max_rel_err, passed
    (an error that is not a finite number becomes null)."""
    return [dict(label=r.label, section=r.section, max_abs_err=_number(r.max_abs_err),
                 max_rel_err=_number(r.max_rel_err), passed=bool(r.passed)) for r in rows]


def write_json(rows: list[Row], path: str) -> None:
    """Write :func:`json_rows` to ``path`` atomically (a temporary file, then a rename)."""
    write_text(path, json.dumps(json_rows(rows), indent=2, allow_nan=False) + "\n")
