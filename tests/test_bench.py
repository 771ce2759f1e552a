"""`tinygrad-notes bench`: the table, the chart, the schema of every benchmark script."""

import xml.etree.ElementTree as ET


from tinygrad_notes import cli_bench
from tinygrad_notes.cli import main
from tinygrad_notes.machine import describe, summary_line


def test_kernel_rows_are_normalized():
    r = cli_bench.normalize({"op": "conv2d", "shape": "lenet", "phase": "fwd", "ours_ms": 1.0, "torch_ms": 2.0},
                            "benchmarks.kernels")
    assert r["benchmark"] == "conv2d lenet fwd" and r["ratio"] == 0.5 and r["peer"] == "torch"


def test_table_states_the_machine_and_marks_skipped_peers():
    machine = describe()
    rows = [
        {"benchmark": "a", "ours": 1.0, "unit": "ms", "peer": "torch", "peer_value": 2.0, "ratio": 0.5},
        {"benchmark": "b", "ours": 1.0, "unit": "ms", "peer": "torch", "peer_value": None, "ratio": None,
         "skipped": "PyTorch is not installed"},
        {"benchmark": "c", "failed": "exit 1: boom"},
    ]
    text = cli_bench.table(rows, machine)
    assert machine["cpu"] in text and f"{machine['cores']} cores" in text and "numba" in text
    assert "torch: skipped" in text and "FAILED: exit 1: boom" in text and "0.50" in text


def test_chart_is_an_svg(tmp_path):
    rows = [{"benchmark": "a", "peer": "torch", "ratio": 0.5}, {"benchmark": "b", "peer": "torch", "ratio": 1.5}]
    path = cli_bench.chart(rows, tmp_path / "c.svg")
    assert ET.parse(path).getroot().tag.endswith("svg")
    assert cli_bench.chart([{"benchmark": "x", "ratio": None}], tmp_path / "none.svg") is None


def test_unknown_peer_is_an_error(capsys):
    assert main(["bench", "engine", "--peers", "jax"]) == 2
    assert "unknown peers ['jax']" in capsys.readouterr().err


def test_summary_line_names_blas_and_threads():
    line = summary_line()
    assert "OPENBLAS_CORETYPE=" in line and "threads" in line


def test_a_benchmark_script_writes_the_common_schema(tmp_path):
    rows = cli_bench.run_script("benchmarks.micrograd_mlp", quick=True, peers="torch")  # micrograd left out
    assert [r["benchmark"] for r in rows] == ["scalar MLP step vs micrograd (default gc)",
                                              "scalar MLP step vs micrograd (gc disabled)"]
    for r in rows:
        assert r["ours"] > 0 and r["peer_value"] is None and r["skipped"] == "not among --peers"
