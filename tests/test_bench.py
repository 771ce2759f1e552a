"""`tinygrad-notes bench`: the table, the chart, the schema of every benchmark script."""

import time
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


def _kernel_benchmark():
    import importlib
    import sys

    root = str(cli_bench.repo_root())
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module("benchmarks.kernels")


def _kernel_rows(kb, bn_large_s=0.010, kernel_s=0.008):
    """Rows as the kernel benchmark builds them, from made-up timings: every case 1 ms,
    bn-large fwd+bwd ``bn_large_s`` (kernels alone ``kernel_s``), a 40 GB/s copy."""
    samples = {}
    for case in [f"conv:{n}" for n in kb.CONV_SHAPES] + [f"bn:{n}" for n in kb.BN_SHAPES]:
        for side in ("ours", "torch"):
            for phase in ("fwd", "fwd+bwd", "kernel"):
                samples[(side, case, phase)] = [1e-3]
    samples[("ours", "bn:bn-large", "fwd+bwd")] = [bn_large_s]
    samples[("ours", "bn:bn-large", "kernel")] = [kernel_s]
    rows = kb.build_rows(samples, {"in_turns": 40.0, "back_to_back": 41.0})
    kb.add_run_fields(rows, {"first_call_s": 12.5, "import_s": 0.25}, {"skipped": "cache unwritable"},
                      {"peak_mb": 300.0, "before_mb": 215.0, "growth_mb": 85.0},
                      {"peak_mb": 600.0, "before_mb": 340.0, "growth_mb": 260.0})
    return rows


def test_kernel_summary_comes_from_the_rows_alone():
    kb = _kernel_benchmark()
    lines = "\n".join(kb.summary_lines(_kernel_rows(kb)))
    moved = 32 * 64 * 56 * 56 * 4 * 5  # bn-large fwd+bwd: x, y, x, dy, dx, float32
    assert f"{moved / 0.010 / 1e9:.1f} GB/s = {100 * moved / 0.010 / 1e9 / 40:.0f}% of memory copy" in lines
    assert f"kernels alone: {moved / 0.008 / 1e9:.1f} GB/s" in lines
    assert "memory copy: 40.0 GB/s" in lines and "41.0 GB/s back to back" in lines
    assert "(cold, empty cache): 12.50 s (+ import 0.25 s)" in lines
    assert "JIT first call (warm, cached): failed (cache unwritable)" in lines
    assert "peak RSS ours, resnetish fwd+bwd: 300 MB (85 MB above the 215 MB" in lines
    assert "peak RSS ours/torch: 0.50 (growth ours/torch: 0.33)" in lines


def test_kernel_summary_without_torch_or_copy_says_so():
    kb = _kernel_benchmark()
    rows = [{"op": "conv2d", "shape": "resnetish N=32", "phase": "fwd+bwd", "ours_peak_rss_mb": 300.0,
             "ours_rss_growth_mb": 85.0, "torch_peak_rss_mb": None, "torch_rss_skipped": "not installed"}]
    lines = kb.summary_lines(rows)
    assert "memory copy: not measured" in lines and "peak RSS torch: skipped (not installed)" in lines
    assert not any("ours/torch" in line for line in lines)


def test_bench_prints_and_saves_the_kernel_summary(monkeypatch, tmp_path, capsys):
    kb = _kernel_benchmark()
    rows = [cli_bench.normalize(r, "benchmarks.kernels") for r in _kernel_rows(kb)]
    monkeypatch.setattr(cli_bench, "run_script", lambda module, quick, peers: rows)
    out_json = tmp_path / "bench.json"
    assert main(["bench", "kernels", "--json", str(out_json)]) == 0
    printed = capsys.readouterr().out
    saved = __import__("json").loads(out_json.read_text())
    assert any("% of memory copy" in n for n in saved["notes"])
    for note in saved["notes"]:
        assert note in printed
    assert "- peak RSS ours/torch: 0.50" in cli_bench.markdown(rows, saved["machine"], saved["notes"])


def test_steal_time_is_read_from_proc_stat(tmp_path):
    import importlib

    _kernel_benchmark()  # puts the source checkout on sys.path
    c = importlib.import_module("benchmarks.common")
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 5 20 800 3 0 2 70 0 0\ncpu0 50 2 10 400 1 0 1 35 0 0\n")
    before = c.cpu_times(str(stat))
    assert before == [100, 5, 20, 800, 3, 0, 2, 70, 0, 0]
    stat.write_text("cpu  200 5 40 1000 3 0 2 150 9 0\n")
    # 100 user + 20 system + 200 idle + 80 steal: 80 of 400 stolen (guest, the 9th, is in user)
    assert c.steal_percent(before, c.cpu_times(str(stat))) == 20.0
    assert c.cpu_times(str(tmp_path / "missing")) is None and c.steal_percent(None, before) is None


def test_kernel_summary_reports_the_steal_time():
    kb = _kernel_benchmark()
    rows = _kernel_rows(kb)
    for r in rows:
        r["steal_pct"] = 37.4
    assert any(line.startswith("CPU time stolen by the hypervisor while the rows were timed: 37%")
               for line in kb.summary_lines(rows))
    assert not any("stolen" in line for line in kb.summary_lines(_kernel_rows(kb)))


def test_warm_up_runs_for_the_calls_and_the_time_asked():
    from benchmarks.kernels import warm_up

    calls = []
    assert warm_up(lambda: calls.append(1), {"warmup": 3}) == 3 == len(calls)
    start = time.perf_counter()
    n = warm_up(lambda: time.sleep(0.002), {"warmup": 1, "warmup_s": 0.03})
    assert time.perf_counter() - start >= 0.03
    assert n >= 2  # one call of 2 ms cannot fill 30 ms
    assert warm_up(lambda: calls.append(1), {}) == 0


def test_the_share_of_the_copy_pairs_each_round_with_its_own_copy():
    """Each round's share is its bn-large bandwidth over its own copy's (the faster of
    the one-thread and split copies): 20 of 40 GB/s, 12 of 20 (a slow minute), 36 of 40;
    50%, 60%, 90%, median 60%. Dividing bn-large's median (20 GB/s) by the copy's (40)
    instead would give 50%."""
    kb = _kernel_benchmark()
    moved, copied = kb.bn_bytes(kb.COPY_SHAPE, "fwd+bwd"), kb.bn_bytes(kb.COPY_SHAPE, "fwd")
    copy_s = copied / 40e9  # a 40 GB/s copy
    bn_s = [moved / gbps for gbps in (20e9, 12e9, 36e9)]
    samples = {("ours", "bn:bn-large", "fwd+bwd"): [bn_s[0], bn_s[0], bn_s[1], bn_s[1], bn_s[2], bn_s[2]],
               ("ours", "bn:bn-large", "kernel"): [moved / 24e9] * 6,
               ("ours", "copy:bn-large", "one"): [copy_s] * 2 + [2 * copy_s] * 2 + [copy_s] * 2,
               ("ours", "copy:bn-large", "split"): [4 * copy_s] * 6}
    shares = kb.paired_shares(samples, rounds=3, repeats=2)
    assert abs(shares["share"] - 0.6) < 1e-9
    assert abs(shares["kernel_share"] - 0.6) < 1e-9  # 60%, 120%, 60%
    samples[("ours", "copy:bn-large", "split")] = [4 * copy_s] * 4  # round 2's copy turn is missing
    assert abs(kb.paired_shares(samples, rounds=3, repeats=2)["share"] - 0.55) < 1e-9
    assert kb.paired_shares({}, rounds=3, repeats=2) == {}


def test_the_summary_prints_the_share_paired_by_round():
    kb = _kernel_benchmark()
    rows = _kernel_rows(kb)
    assert not any("same round" in line for line in kb.summary_lines(rows))
    large = next(r for r in rows if r["shape"].startswith("bn-large") and r["phase"] == "fwd+bwd")
    large["memcpy_share_by_round"], large["memcpy_kernel_share_by_round"] = 0.714, 0.75
    assert ("batchnorm bn-large fwd+bwd against the copy of the same round, median over rounds: 71% of memory "
            "copy (kernels alone: 75%)") in kb.summary_lines(rows)
