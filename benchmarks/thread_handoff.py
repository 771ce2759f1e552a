"""What handing a kernel to the kernel threads costs: a split of 32 equal items into 2
slices a thread, timed against the ideal (one item's time x 32 / the thread count), through
``run_split`` (slices taken in Python) and ``run_sliced`` (a native job, slices taken in
the kernel; see ``kernels/_threads.py``):

    python -m benchmarks.thread_handoff [--json PATH]

Each row gives the median time of a call over 7 rounds of 300 calls, in microseconds,
and how much of it is over the ideal. No peer: the ideal is the yardstick.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tinygrad_notes.kernels._jit import jit
from tinygrad_notes.kernels._threads import run_sliced, run_split, take_slice, thread_count

from .common import write_json

ITEMS, SLICES_PER_THREAD = 32, 2
#: Square roots per item: no work, about 4 us and about 40 us on the 2-core machine.
ITEM_SIZES = (0, 2000, 20000)


@jit
def _items(out, size, lo, hi):
    for c in range(lo, hi):
        s = 0.0
        for k in range(size):
            s += np.sqrt(k + c + out[0])
        out[c] = s


@jit
def _items_sliced(counters, bounds, ticket, out, size):
    lo, hi = take_slice(counters, bounds, ticket)
    while lo < hi:
        _items(out, size, lo, hi)
        lo, hi = take_slice(counters, bounds, ticket)


def _median_us(step, calls: int) -> float:
    rounds = []
    for _ in range(7):
        for _ in range(20):
            step()
        start = time.perf_counter()
        for _ in range(calls):
            step()
        rounds.append((time.perf_counter() - start) / calls)
    return float(np.median(rounds)) * 1e6


def measure() -> list[dict]:
    """One row per item size and entry point: ``call_us``, ``ideal_us``, ``over_us``."""
    out = np.zeros(ITEMS)
    rows = []
    for size in ITEM_SIZES:
        one = _median_us(lambda: _items(out, size, 0, 1), 2000) if size else 0.0
        ideal = one * ITEMS / thread_count()
        for name, step in (
            ("run_split", lambda: run_split(_items, ITEMS, (out, size), slices_per_thread=SLICES_PER_THREAD)),
            ("run_sliced", lambda: run_sliced(_items_sliced, ITEMS, (out, size),
                                              slices_per_thread=SLICES_PER_THREAD)),
        ):
            call = _median_us(step, 300)
            rows.append({"entry": name, "item_us": one, "call_us": call, "ideal_us": ideal, "over_us": call - ideal})
    return rows


def main(argv=None) -> None:
    """Print the table; with ``--json PATH`` also write the rows there."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    rows = measure()
    slices = min(ITEMS, SLICES_PER_THREAD * thread_count())
    print(f"{ITEMS} items in {slices} slices on {thread_count()} threads; us per call (medians)")
    print(f"{'entry':12s} {'item':>8s} {'call':>9s} {'ideal':>9s} {'over':>8s}")
    for r in rows:
        print(f"{r['entry']:12s} {r['item_us']:8.1f} {r['call_us']:9.1f} {r['ideal_us']:9.1f} {r['over_us']:8.1f}")
    if args.json:
        write_json(args.json, rows)


if __name__ == "__main__":
    main()
