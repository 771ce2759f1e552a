"""`tinygrad-notes verify`: the table, the exit code, --only and --json."""

import argparse
import json
import math
import subprocess
import sys
import time

import pytest

from tinygrad_notes import cli_verify, equations
from tinygrad_notes.equations import registry
from tinygrad_notes.equations.registry import CheckResult

KEYS = {"label", "section", "max_abs_err", "max_rel_err", "passed"}


def _args(*argv):
    parser = argparse.ArgumentParser(prog="tinygrad-notes")
    cli_verify.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["verify", *argv])


def test_every_check_runs_passes_and_finishes_in_under_30_seconds(tmp_path, capsys):
    start = time.perf_counter()
    code = cli_verify.run(_args("--json", str(tmp_path / "verify.json")))
    elapsed = time.perf_counter() - start
    out = capsys.readouterr().out
    assert code == 0, out
    assert elapsed < 30
    rows = json.loads((tmp_path / "verify.json").read_text())
    assert [r["label"] for r in rows] == equations.labels()
    assert all(set(r) == KEYS and r["passed"] for r in rows)
    assert list(tmp_path.iterdir()) == [tmp_path / "verify.json"]  # no temporary file left
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["label", "section", "what"]
    assert f"{len(rows)} checks:" in lines[-1] and "0 FAIL" in lines[-1]
    for label in ("BP1", "CONV-BP2", "eq. 3.23", "eq. 1.18", "Novikoff"):
        assert any(line.startswith(label + " ") for line in lines), label


def test_erratum_rows_show_the_corrected_form(capsys):
    assert cli_verify.run(_args("--only", "eq. 3.15")) == 0
    out = capsys.readouterr().out
    assert "ERRATUM" in out and "corrected: dL/db^l = sum_{i,j} delta^l_ij" in out
    assert "1 ERRATUM" in out.splitlines()[-1]


def test_only_runs_the_named_checks(tmp_path, capsys):
    path = tmp_path / "sub" / "rows.json"
    assert cli_verify.run(_args("--only", "bp1", "--only", "3.23", "--json", str(path))) == 0
    rows = json.loads(path.read_text())
    assert [r["label"] for r in rows] == ["BP1", "eq. 3.23"]
    assert "2 checks:" in capsys.readouterr().out


def test_the_parser_dispatches_to_run():
    assert _args().func is cli_verify.run


def test_unknown_label_exits_2_with_the_known_labels(capsys):
    assert cli_verify.run(_args("--only", "eq. 42")) == 2
    err = capsys.readouterr().err
    assert "eq. 42" in err and "BP1" in err


def _fake(label, check):
    real = registry._TABLE[label]
    return real, registry.Entry(real.label, real.section, real.what, real.closed_form, check)


@pytest.fixture
def broken_bp1(monkeypatch):
    """BP1's check replaced: yields a function that installs a new check."""
    def install(check):
        real, fake = _fake("BP1", check)
        monkeypatch.setitem(registry._TABLE, "BP1", fake)
    return install


def test_a_failing_check_exits_1(broken_bp1, tmp_path, capsys):
    broken_bp1(lambda: CheckResult(0.5, 0.25, False, None, "case 0 layer 2 vs tape: abs err 0.5"))
    path = tmp_path / "rows.json"
    assert cli_verify.run(_args("--only", "BP1", "--only", "BP2", "--json", str(path))) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "case 0 layer 2 vs tape" in out and "1 FAILED" in out
    rows = json.loads(path.read_text())
    assert rows[0] == dict(label="BP1", section="3.1", max_abs_err=0.5, max_rel_err=0.25, passed=False)
    assert rows[1]["passed"]


def test_a_check_that_raises_is_a_fail_row_with_null_errors(broken_bp1, tmp_path, capsys):
    def boom():
        raise RuntimeError("kernel exploded")

    broken_bp1(boom)
    path = tmp_path / "rows.json"
    assert cli_verify.run(_args("--only", "BP1", "--json", str(path))) == 1
    assert "RuntimeError: kernel exploded" in capsys.readouterr().out
    row = json.loads(path.read_text())[0]
    assert row["max_abs_err"] is None and row["max_rel_err"] is None and row["passed"] is False


def test_json_is_written_atomically(broken_bp1, tmp_path, monkeypatch, capsys):
    """A failure while writing leaves the previous file whole and no temporary file."""
    path = tmp_path / "rows.json"
    path.write_text("previous")

    def refuse(self, data):
        with open(self, "wb") as fh:
            fh.write(data[:10])  # half written, then the disk fills up
        raise OSError("disk full")

    monkeypatch.setattr("tinygrad_notes.fileio.Path.write_bytes", refuse)
    with pytest.raises(OSError):
        cli_verify.run(_args("--only", "BP4", "--json", str(path)))
    assert path.read_text() == "previous"
    assert list(tmp_path.iterdir()) == [path]


def test_verbose_prints_the_details(capsys):
    assert cli_verify.run(_args("--only", "eq. 3.24", "-v")) == 0
    assert "max |z|" in capsys.readouterr().out


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "tinygrad_notes.cli_verify", "--only", "linear-stack"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "linear-stack" in out.stdout and "PASS" in out.stdout


def test_results_are_finite_numbers():
    for row in equations.all_checks()[:5]:
        result = row.check()
        assert math.isfinite(result.max_abs_err) and math.isfinite(result.max_rel_err)
