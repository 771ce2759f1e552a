"""conv2d and batchnorm, forward and forward+backward, ours vs PyTorch CPU:

    python -m benchmarks.kernels [--json PATH] [--quick] [--rounds N] [--warmup-ms MS]

Each side runs in its own process (numba's and PyTorch's thread runtimes fight inside
one), kept alive, and the two take turns on every measurement, alternating which goes
first, so that both are timed in the same minute of a noisy machine; a row's time is the
median of all its timed calls. Every turn starts, after a pause that lets the other
side's thread pools go idle, with untimed calls for at least ``--warmup-ms`` (100 ms,
and at least ``--warmup`` calls, 1): what is timed is the steady state of a loop that
repeats the op, as training does. On these shared machines the calls right after a
pause ran up to 2x slower: the data was evicted from the shared cache, and on a 2-core
AMD EPYC (Zen 5) virtual machine the cores took 20-50 ms of load to come back to full
speed (bn-large forward+backward, our kernels, sleep 150 ms then one untimed call: 5.8-6.2
ms; then 50 ms or more of untimed calls: 3.7-3.8 ms; no pause at all: 3.7-3.8 ms).

Both sides go through their autograd: ours ``conv2d``/``batch_norm`` on Values
(``y.backward(dy)``), PyTorch's functional ops with ``requires_grad`` inputs, so fwd+bwd
computes dx, dw and db (dgamma, dbeta) on both. ``ours_kernel_ms`` times our
kernels alone, without the tape, the forward's output held through the backward as the
tape holds it (freed early, its memory went to dx: on bn-small that took 0.93x the time
with it held, quartiles 0.87-0.95 over 24 turns, and had passed for the tape's cost).
float32, NCHW.

Also printed: GFLOP/s for conv (fwd 2 N K C kh kw Ho Wo; fwd+bwd three times that),
GB/s for batchnorm (the bytes that must move: fwd reads x and writes y, fwd+bwd also
reads x and dy and writes dx) next to this machine's memory-copy bandwidth (a copy of
the bn-large array timed in turns like the rows, and back to back) and bn-large's share
of it, overall and paired round by round (:func:`paired_shares`), the first
call's JIT compile time of all kernels (cold, then with numba's cache warm), and the
peak RSS of a process running resnetish forward+backward (ours vs PyTorch).
PyTorch is optional (``pip install torch==2.13.0``); without it its column says skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from .common import Worker, cpu_times, median_time, peer_enabled, run_child, steal_percent, write_json

# name: (N, C, H, W, K, k, pad); 3x3 stride 1 pad 1 unless said
CONV_SHAPES = {
    "lenet": (64, 1, 28, 28, 8, 5, 0),
    "smallcnn": (64, 16, 32, 32, 32, 3, 1),
    "resnetish": (32, 64, 56, 56, 64, 3, 1),
    "bigbatch": (256, 3, 32, 32, 16, 3, 1),
}
BN_SHAPES = {"bn-small": (64, 32, 32, 32), "bn-large": (32, 64, 56, 56)}
RSS_SHAPE = "resnetish"
#: The batchnorm shape whose bandwidth is compared with a copy of the same size.
COPY_SHAPE = "bn-large"


def conv_label(name):
    N, C, H, W, K, k, p = CONV_SHAPES[name]
    return f"{name} N={N} C={C} {H}x{W} K={K} {k}x{k} pad {p}"


def bn_label(name):
    N, C, H, W = BN_SHAPES[name]
    return f"{name} N={N} C={C} {H}x{W}"


def conv_flops(name):
    N, C, H, W, K, k, p = CONV_SHAPES[name]
    Ho, Wo = H + 2 * p - k + 1, W + 2 * p - k + 1
    return 2.0 * N * K * C * k * k * Ho * Wo


def bn_bytes(name, phase):
    N, C, H, W = BN_SHAPES[name]
    return N * C * H * W * 4 * (2 if phase == "fwd" else 5)


def _data(shape, seed=0):
    import numpy as np

    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_rss_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


# ---------------------------------------------------------------------------- our side
def _ours_conv_steps(name):
    import numpy as np

    from tinygrad_notes import Value, no_grad
    from tinygrad_notes.functional_cnn import conv2d
    from tinygrad_notes.kernels import conv2d_backward, conv2d_forward

    N, C, H, W, K, k, p = CONV_SHAPES[name]
    xd, wd, bd = _data((N, C, H, W)), _data((K, C, k, k), 1), _data((K,), 2)
    x, w, b = Value(xd), Value(wd), Value(bd)
    dy = np.ones((N, K, H + 2 * p - k + 1, W + 2 * p - k + 1), np.float32)

    def fwd():
        with no_grad():
            conv2d(x, w, b, padding=p)

    def fwd_bwd():
        conv2d(x, w, b, padding=p).backward(dy)
        x.zero_grad(), w.zero_grad(), b.zero_grad()

    def kernels():
        y = conv2d_forward(xd, wd, bd, (1, 1), (p, p))
        conv2d_backward(dy, xd, wd, (1, 1), (p, p))
        return y  # alive through the backward, as the tape keeps it

    return {"fwd": fwd, "fwd+bwd": fwd_bwd, "kernel": kernels}


def _ours_bn_steps(name):
    import numpy as np

    from tinygrad_notes import Value, no_grad
    from tinygrad_notes.functional_cnn import batch_norm
    from tinygrad_notes.kernels import batchnorm_backward, batchnorm_forward_train

    N, C, H, W = BN_SHAPES[name]
    xd = _data((N, C, H, W))
    x, g, b = Value(xd), Value(np.ones(C, np.float32)), Value(np.zeros(C, np.float32))
    rm, rv = np.zeros(C, np.float32), np.ones(C, np.float32)
    dy = _data((N, C, H, W), 3)
    g64, b64, x3, dy3 = np.ones(C), np.zeros(C), xd.reshape(N, C, -1), dy.reshape(N, C, -1)

    def fwd():
        with no_grad():
            batch_norm(x, g, b, rm, rv, training=True)

    def fwd_bwd():
        batch_norm(x, g, b, rm, rv, training=True).backward(dy)
        x.zero_grad(), g.zero_grad(), b.zero_grad()

    def kernels():
        y, mean, _, invstd = batchnorm_forward_train(x3, g64, b64, 1e-5)
        batchnorm_backward(dy3, x3, g64, mean, invstd)
        return y  # alive through the backward, as the tape keeps it: dx must not reuse its memory

    return {"fwd": fwd, "fwd+bwd": fwd_bwd, "kernel": kernels}


def _copy_steps(name):
    """A bn-sized float32 copy: numpy's one-thread ``copyto`` and the same copy split over
    all CPUs (phases ``one`` and ``split``)."""
    import numpy as np

    src = _data(BN_SHAPES[name])
    dst = np.empty_like(src)
    flat_s, flat_d = src.reshape(-1), dst.reshape(-1)
    threads = max(1, len(os.sched_getaffinity(0)))
    bounds = [flat_s.size * i // threads for i in range(threads + 1)]
    pool = ThreadPoolExecutor(threads)  # lives as long as the worker

    def split_copy():
        list(pool.map(lambda i: np.copyto(flat_d[bounds[i]:bounds[i + 1]], flat_s[bounds[i]:bounds[i + 1]]),
                      range(threads)))

    return {"one": lambda: np.copyto(dst, src), "split": split_copy}


def copy_gbps(one_s, split_s):
    """Copy bandwidth (bytes read + written per second) of the :data:`COPY_SHAPE` array
    from the two copies' times: the better one."""
    return bn_bytes(COPY_SHAPE, "fwd") / min(one_s, split_s) / 1e9


def memcpy_gbps(repeats):
    """The copy bandwidth of :func:`_copy_steps`' copies timed back to back (their data stays
    in the last-level cache between calls, so this is an upper bound)."""
    steps = _copy_steps(COPY_SHAPE)
    return copy_gbps(median_time(steps["one"], repeats, warmup=2), median_time(steps["split"], repeats, warmup=2))


# ---------------------------------------------------------------------------- PyTorch's side
def _torch_conv_steps(name):
    import torch
    import torch.nn.functional as F

    N, C, H, W, K, k, p = CONV_SHAPES[name]
    x = torch.from_numpy(_data((N, C, H, W))).requires_grad_()
    w = torch.from_numpy(_data((K, C, k, k), 1)).requires_grad_()
    b = torch.from_numpy(_data((K,), 2)).requires_grad_()
    dy = torch.ones(N, K, H + 2 * p - k + 1, W + 2 * p - k + 1)

    def fwd():
        with torch.no_grad():
            F.conv2d(x, w, b, padding=p)

    def fwd_bwd():
        F.conv2d(x, w, b, padding=p).backward(dy)
        x.grad = w.grad = b.grad = None

    return {"fwd": fwd, "fwd+bwd": fwd_bwd, "kernel": None}


def _torch_bn_steps(name):
    import torch
    import torch.nn.functional as F

    N, C, H, W = BN_SHAPES[name]
    x = torch.from_numpy(_data((N, C, H, W))).requires_grad_()
    g, b = torch.ones(C, requires_grad=True), torch.zeros(C, requires_grad=True)
    rm, rv = torch.zeros(C), torch.ones(C)
    dy = torch.from_numpy(_data((N, C, H, W), 3))

    def fwd():
        with torch.no_grad():
            F.batch_norm(x, rm, rv, g, b, training=True)

    def fwd_bwd():
        F.batch_norm(x, rm, rv, g, b, training=True).backward(dy)
        x.grad = g.grad = b.grad = None

    return {"fwd": fwd, "fwd+bwd": fwd_bwd, "kernel": None}


def warm_up(step, request) -> int:
    """Call ``step`` at least ``request['warmup']`` times and for at least
    ``request['warmup_s']`` seconds; returns the number of calls."""
    calls, until = 0, time.perf_counter() + request.get("warmup_s", 0.0)
    while calls < request.get("warmup", 0) or time.perf_counter() < until:
        step()
        calls += 1
    return calls


def serve(side):
    """Answer timing requests on stdin, one JSON line each, until stdin closes."""
    if side == "torch":
        import torch

        torch.set_num_threads(torch.get_num_threads())  # import torch before the first request
        builders = {"conv": _torch_conv_steps, "bn": _torch_bn_steps, "copy": _copy_steps}
    else:
        from tinygrad_notes.runtime import tune_for_training

        tune_for_training()  # as tinygrad-notes train does: freed arrays reused, BLAS on one thread
        builders = {"conv": _ours_conv_steps, "bn": _ours_bn_steps, "copy": _copy_steps}
    current, steps, warmed = None, None, set()
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("cmd") == "memcpy":
            print(json.dumps({"gbps": memcpy_gbps(request.get("repeats", 5))}), flush=True)
            continue
        case, phase = request["case"], request["phase"]
        if case != current:
            current, steps, warmed = None, None, set()
            kind, name = case.split(":")
            steps = builders[kind](name)
            current = case
        step = steps[phase]
        if request.get("untimed"):  # the other side's turn at a phase this side may lack
            stand_in = step or steps["fwd+bwd"]
            warm_up(stand_in, request)
            for _ in range(request.get("repeats", 3)):
                stand_in()
            print(json.dumps({"times": []}), flush=True)
            continue
        if phase not in warmed:
            step(), step()
            warmed.add(phase)
        warm_up(step, request)
        times = []
        for _ in range(request.get("repeats", 3)):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        print(json.dumps({"times": times}), flush=True)


# ---------------------------------------------------------------------------- memory, compile time
def child_rss(side):
    """Peak RSS of a process that runs resnetish forward+backward three times."""
    step = (_torch_conv_steps if side == "torch" else _ours_conv_steps)(RSS_SHAPE)["fwd+bwd"]
    before = _current_rss_mb()
    for _ in range(3):
        step()
    peak = _peak_rss_mb()
    return {"peak_mb": peak, "before_mb": before, "growth_mb": peak - before}


def exercise_all_kernels():
    """Call every kernel once, float32 and float64, on tiny inputs (compiles them all)."""
    import numpy as np

    from tinygrad_notes import kernels as K

    for dt in (np.float32, np.float64):
        x, w, b = np.ones((2, 3, 6, 6), dt), np.ones((4, 3, 3, 3), dt), np.ones(4, dt)
        for stride, pad in (((1, 1), (1, 1)), ((2, 2), (1, 1))):
            y = K.conv2d_forward(x, w, b, stride, pad)
            K.conv2d_backward(np.ones_like(y), x, w, stride, pad)
        for shape in ((4, 3, 5), (4, 3, 1)):
            xb, one = np.ones(shape, dt), np.ones(shape[1], dt)  # gamma, beta and the running stats as the op passes them
            _, mean, _, inv = K.batchnorm_forward_train(xb, one, one, 1e-5, one.copy(), one.copy())
            K.batchnorm_backward(xb, xb, one, mean, inv)
            K.batchnorm_forward_infer(xb, one, one, one, one, 1e-5)
        yp = K.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
        K.max_pool2d_backward(yp, x, yp, (2, 2), (2, 2), (0, 0))
        K.avg_pool2d_backward(K.avg_pool2d_forward(x, (2, 2), (2, 2), (0, 0)), x.shape, (2, 2), (2, 2), (0, 0))


def child_compile():
    start = time.perf_counter()
    import tinygrad_notes.kernels  # noqa: F401

    imported = time.perf_counter()
    exercise_all_kernels()
    first = time.perf_counter()
    exercise_all_kernels()
    second = time.perf_counter()
    return {"import_s": imported - start, "first_call_s": (first - imported) - (second - first)}


def compile_times():
    """First-call time of all kernels with an empty numba cache, then with it warm."""
    with tempfile.TemporaryDirectory(prefix="tinygrad-notes-numba-") as folder:
        env_before = os.environ.get("NUMBA_CACHE_DIR")
        os.environ["NUMBA_CACHE_DIR"] = folder
        try:
            cold = run_child("benchmarks.kernels", ["--child", "compile"])
            warm = run_child("benchmarks.kernels", ["--child", "compile"])
        finally:
            if env_before is None:
                del os.environ["NUMBA_CACHE_DIR"]
            else:
                os.environ["NUMBA_CACHE_DIR"] = env_before
    return cold, warm




# ---------------------------------------------------------------------------- the parent
def measure(rounds, repeats, pause=0.15, warmup=1, warmup_s=0.1):
    """Time every case and phase on our worker and PyTorch's, taking turns; each turn
    makes untimed calls, at least ``warmup`` of them and for at least ``warmup_s``
    seconds, before its ``repeats`` timed ones.

    Our worker also times a copy of the bn-large array in every round, in turn like the
    rows, so that batchnorm's bandwidth is compared with a copy measured in the same
    conditions; and once more back to back at the end. Where PyTorch has no counterpart
    (our kernels alone, the copy) it still takes its turn, untimed, running its
    forward+backward of the case (the copy itself for the copy), so that every timed
    turn of ours follows one of PyTorch's as the rows do. Returns ``(samples, copy,
    torch_skip)``: samples maps (side, case, phase) to the list of timed calls in
    seconds, ``copy`` holds the two copy bandwidths (GB/s)."""
    workers = {"ours": Worker("benchmarks.kernels", ["--serve", "ours"])}
    torch_skip = None if peer_enabled("torch") else "not among TINYGRAD_NOTES_PEERS"
    if torch_skip is None:
        workers["torch"] = Worker("benchmarks.kernels", ["--serve", "torch"])
    samples = {}
    try:
        cases = [f"conv:{n}" for n in CONV_SHAPES] + [f"bn:{n}" for n in BN_SHAPES]
        phases = {case: ("fwd", "fwd+bwd", "kernel") for case in cases}
        phases[f"copy:{COPY_SHAPE}"] = ("one", "split")
        for rnd in range(rounds):
            for case, case_phases in phases.items():
                for phase in case_phases:
                    sides = list(workers) if rnd % 2 == 0 else list(workers)[::-1]
                    for side in sides:
                        if side == "torch" and workers[side].dead:
                            continue
                        untimed = side == "torch" and phase not in ("fwd", "fwd+bwd")
                        answer = workers[side].ask({"case": case, "phase": phase, "repeats": repeats,
                                                    "warmup": warmup, "warmup_s": warmup_s,
                                                    "untimed": untimed})
                        if "skipped" in answer:
                            if side == "ours":
                                raise RuntimeError(f"our benchmark worker failed: {answer['skipped']}")
                            torch_skip = answer["skipped"]
                            continue
                        samples.setdefault((side, case, phase), []).extend(answer["times"])
                        time.sleep(pause)  # let the other side's BLAS/OpenMP workers go idle
        back_to_back = workers["ours"].ask({"cmd": "memcpy", "repeats": 2 * repeats + 1})["gbps"]
    finally:
        for w in workers.values():
            w.close()
    copy_case = f"copy:{COPY_SHAPE}"
    in_turns = copy_gbps(_median(samples[("ours", copy_case, "one")]), _median(samples[("ours", copy_case, "split")]))
    return samples, {"in_turns": in_turns, "back_to_back": back_to_back, **paired_shares(samples, rounds, repeats)}, \
        torch_skip


def paired_shares(samples, rounds, repeats):
    """bn-large's forward+backward bandwidth as a share of the copy's, round by round: in
    each round, the round's own turn of the tape (``share``) or of the kernels alone
    (``kernel_share``) over the copy timed right after it in the same round, then the
    median over the rounds. A slow minute of the shared host then slows both sides of a
    ratio, where the overall share divides two medians that may come from different
    minutes (the copy alone ran at 30.1 to 45.8 GB/s over four runs of one session).
    Each turn holds ``repeats`` timed calls; a round that lacks a turn is left out, and a
    key is missing when every round is."""
    copy_case, bn_case = f"copy:{COPY_SHAPE}", f"bn:{COPY_SHAPE}"
    shares = {}
    for key, phase in (("share", "fwd+bwd"), ("kernel_share", "kernel")):
        per_round = []
        series = [samples.get(("ours", case, ph), []) for case, ph in
                  ((bn_case, phase), (copy_case, "one"), (copy_case, "split"))]
        for r in range(rounds):
            turns = [s[r * repeats:(r + 1) * repeats] for s in series]
            if all(turns):
                bn_gbps = bn_bytes(COPY_SHAPE, "fwd+bwd") / _median(turns[0]) / 1e9
                per_round.append(bn_gbps / copy_gbps(_median(turns[1]), _median(turns[2])))
        if per_round:
            shares[key] = _median(per_round)
    return shares


def blas_info() -> str:
    """numpy's BLAS and, for OpenBLAS, the CPU kernels it picked (OPENBLAS_CORETYPE can force them)."""
    import ctypes

    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        text = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # noqa: BLE001 - informational only
        text = "unknown BLAS"
    with open("/proc/self/maps") as fh:
        libs = {line.split()[-1] for line in fh if "openblas" in line.lower() and ".so" in line}
    for lib in sorted(libs):
        handle = ctypes.CDLL(lib)
        for name in ("scipy_openblas_get_corename64_", "openblas_get_corename64_", "openblas_get_corename"):
            fn = getattr(handle, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                text += f", {fn().decode()} kernels"
                break
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return text + (f" (OPENBLAS_CORETYPE={forced})" if forced else "")


def _median(values):
    return statistics.median(values) if values else None


def build_rows(samples, copy):
    rows = []
    for kind, names in (("conv", CONV_SHAPES), ("bn", BN_SHAPES)):
        for name in names:
            case = f"{kind}:{name}"
            for phase in ("fwd", "fwd+bwd"):
                ours = _median(samples.get(("ours", case, phase), []))
                peer = _median(samples.get(("torch", case, phase), []))
                row = {"op": "conv2d" if kind == "conv" else "batchnorm",
                       "shape": conv_label(name) if kind == "conv" else bn_label(name), "phase": phase,
                       "ours_ms": ours * 1e3, "torch_ms": None if peer is None else peer * 1e3,
                       "ratio": None if peer is None else ours / peer}
                if phase == "fwd+bwd":
                    row["ours_kernel_ms"] = _median(samples.get(("ours", case, "kernel"), [])) * 1e3
                if kind == "conv":
                    flops = conv_flops(name) * (1 if phase == "fwd" else 3)
                    row["ours_gflops"] = flops / ours / 1e9
                    row["torch_gflops"] = None if peer is None else flops / peer / 1e9
                else:
                    nbytes = bn_bytes(name, phase)
                    row["ours_gbps"] = nbytes / ours / 1e9
                    row["torch_gbps"] = None if peer is None else nbytes / peer / 1e9
                    row["memcpy_gbps"] = copy["in_turns"]
                    row["memcpy_back_to_back_gbps"] = copy["back_to_back"]
                    if name == COPY_SHAPE and phase == "fwd+bwd":
                        for key in ("share", "kernel_share"):
                            if key in copy:
                                row[f"memcpy_{key}_by_round"] = copy[key]
                rows.append(row)
    return rows


def print_table(rows, torch_skip, extras):
    def num(v, fmt="{:.2f}"):
        return "-" if v is None else fmt.format(v)

    print(f"{'op':<10}{'shape':<44}{'phase':<9}{'ours_ms':>9}{'torch_ms':>10}{'ratio':>7}"
          f"{'ours':>8}{'torch':>8}  {'unit':<8}{'kernel_ms':>9}")
    for r in rows:
        unit = "GFLOP/s" if r["op"] == "conv2d" else "GB/s"
        ours_rate = r.get("ours_gflops", r.get("ours_gbps"))
        peer_rate = r.get("torch_gflops", r.get("torch_gbps"))
        print(f"{r['op']:<10}{r['shape']:<44}{r['phase']:<9}{r['ours_ms']:>9.2f}{num(r['torch_ms']):>10}"
              f"{num(r['ratio']):>7}{ours_rate:>8.1f}{num(peer_rate, '{:.1f}'):>8}  {unit:<8}"
              f"{num(r.get('ours_kernel_ms')):>9}")
    if torch_skip:
        print(f"torch: skipped ({torch_skip})")
    print("ratio = ours_ms / torch_ms (below 1: we are faster); kernel_ms = our kernels alone, without the tape")
    for line in extras:
        print(line)


def summary_lines(rows):
    """The lines printed under the table, computed from the JSON rows alone (so that
    ``tinygrad-notes bench`` prints them too): memory copy, batchnorm's share of it, JIT
    first-call times and peak RSS. Fields a row lacks are reported as not measured."""
    lines = []
    steal = rows[0].get("steal_pct") if rows else None
    if steal is not None:
        lines.append(f"CPU time stolen by the hypervisor while the rows were timed: {steal:.0f}% of the machine's "
                     f"(on a shared virtual machine; a run with much more than the others is not comparable)")
    large = next((r for r in rows if r.get("op") == "batchnorm" and str(r.get("shape", "")).startswith(COPY_SHAPE)
                  and r.get("phase") == "fwd+bwd"), None)
    memcpy = large.get("memcpy_gbps") if large else None
    if memcpy:
        lines.append(f"memory copy: {memcpy:.1f} GB/s (read + write, a {COPY_SHAPE}-sized float32 array, timed in "
                     f"turns like the rows; {large['memcpy_back_to_back_gbps']:.1f} GB/s back to back, the array "
                     f"warm in cache)")
        kernel_gbps = bn_bytes(COPY_SHAPE, "fwd+bwd") / (large["ours_kernel_ms"] / 1e3) / 1e9
        lines.append(f"batchnorm {COPY_SHAPE} fwd+bwd: {large['ours_gbps']:.1f} GB/s = "
                     f"{100 * large['ours_gbps'] / memcpy:.0f}% of memory copy (kernels alone: {kernel_gbps:.1f} "
                     f"GB/s = {100 * kernel_gbps / memcpy:.0f}%)")
        if large.get("memcpy_share_by_round") is not None:
            kernel_share = large.get("memcpy_kernel_share_by_round")
            lines.append(f"batchnorm {COPY_SHAPE} fwd+bwd against the copy of the same round, median over rounds: "
                         f"{100 * large['memcpy_share_by_round']:.0f}% of memory copy" +
                         ("" if kernel_share is None else f" (kernels alone: {100 * kernel_share:.0f}%)"))
    else:
        lines.append("memory copy: not measured")
    first = rows[0] if rows else {}
    for label, key in (("cold, empty cache", "cold"), ("warm, cached", "warm")):
        seconds = first.get(f"jit_first_call_{key}_s")
        if seconds is None:
            lines.append(f"JIT first call ({label}): failed ({first.get(f'jit_{key}_skipped', 'not measured')})")
        else:
            lines.append(f"JIT first call of all kernels, float32 + float64 ({label}): {seconds:.2f} s"
                         f" (+ import {first.get(f'jit_import_{key}_s', float('nan')):.2f} s)")
    rss = next((r for r in rows if str(r.get("shape", "")).startswith(RSS_SHAPE) and r.get("phase") == "fwd+bwd"),
               {})
    for side in ("ours", "torch"):
        peak, growth = rss.get(f"{side}_peak_rss_mb"), rss.get(f"{side}_rss_growth_mb")
        if peak is None:
            lines.append(f"peak RSS {side}: skipped ({rss.get(f'{side}_rss_skipped', 'not measured')})")
        else:
            lines.append(f"peak RSS {side}, {RSS_SHAPE} fwd+bwd: {peak:.0f} MB "
                         f"({growth:.0f} MB above the {peak - growth:.0f} MB before the first step)")
    if rss.get("ours_peak_rss_mb") is not None and rss.get("torch_peak_rss_mb") is not None:
        lines.append(f"peak RSS ours/torch: {rss['ours_peak_rss_mb'] / rss['torch_peak_rss_mb']:.2f} "
                     f"(growth ours/torch: {rss['ours_rss_growth_mb'] / max(rss['torch_rss_growth_mb'], 1e-9):.2f})")
    return lines


def add_run_fields(rows, cold, warm, rss_ours, rss_torch, steal=None):
    """Record the JIT compile times and the steal time (every row) and the peak RSS (the
    resnetish fwd+bwd row) in the rows, with the reason where one was skipped."""
    for r in rows:
        r["steal_pct"] = steal
        for key, c in (("cold", cold), ("warm", warm)):
            r[f"jit_first_call_{key}_s"] = c.get("first_call_s")
            r[f"jit_import_{key}_s"] = c.get("import_s")
            if "skipped" in c:
                r[f"jit_{key}_skipped"] = c["skipped"]
        if r["shape"].startswith(RSS_SHAPE) and r["phase"] == "fwd+bwd":
            for side, res in (("ours", rss_ours), ("torch", rss_torch)):
                r[f"{side}_peak_rss_mb"], r[f"{side}_rss_growth_mb"] = res.get("peak_mb"), res.get("growth_mb")
                if "skipped" in res:
                    r[f"{side}_rss_skipped"] = res["skipped"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="write the rows as a JSON list to this file")
    parser.add_argument("--quick", action="store_true", help="two rounds of two calls (about half a minute)")
    parser.add_argument("--rounds", type=int, default=None, help="turns per measurement (default 5, quick 2)")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per turn (default 3, quick 2)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed calls at the start of every turn, at least (default 1)")
    parser.add_argument("--warmup-ms", type=float, default=100.0,
                        help="untimed calls at the start of every turn for at least this long (default "
                             "100; with --warmup 0 --warmup-ms 0 the first call after the pause is timed)")
    parser.add_argument("--serve", choices=["ours", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["rss-ours", "rss-torch", "compile"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    if args.child:
        result = {"rss-ours": lambda: child_rss("ours"), "rss-torch": lambda: child_rss("torch"),
                  "compile": child_compile}[args.child]()
        print(json.dumps(result))
        return 0

    rounds = args.rounds or (2 if args.quick else 5)
    repeats = args.repeats or (2 if args.quick else 3)
    cold, warm = compile_times()
    before = cpu_times()
    samples, copy, torch_skip = measure(rounds, repeats, warmup=args.warmup, warmup_s=args.warmup_ms / 1000)
    steal = steal_percent(before, cpu_times())
    rows = build_rows(samples, copy)
    rss_ours = run_child("benchmarks.kernels", ["--child", "rss-ours"])
    rss_torch = (run_child("benchmarks.kernels", ["--child", "rss-torch"]) if peer_enabled("torch")
                 else {"skipped": "not among TINYGRAD_NOTES_PEERS"})
    add_run_fields(rows, cold, warm, rss_ours, rss_torch, steal)
    print(f"conv2d and batchnorm, float32; {rounds} turns x (untimed calls for {args.warmup_ms:g} ms, "
          f"at least {args.warmup}, + {repeats} timed calls) per side and row, medians; "
          f"{len(os.sched_getaffinity(0))} CPUs; numpy {blas_info()}")
    print_table(rows, torch_skip, summary_lines(rows))
    if args.json:
        write_json(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
