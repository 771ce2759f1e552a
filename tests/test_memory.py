"""Forward-only evaluation without no_grad() does not grow memory: each graph is freed as
soon as its output is dropped."""

import numpy as np

import tinygrad_notes as tn
from tinygrad_notes import Value


def resident_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_100k_forward_only_evaluations_grow_rss_by_less_than_20mb():
    w1 = tn.randn(4, 16, seed=0)
    b1 = tn.zeros(16)
    w2 = tn.randn(16, 1, seed=1)
    x = Value(np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32), requires_grad=False)

    def evaluate():
        return ((x @ w1 + b1).relu() @ w2).mean()

    for _ in range(2000):
        evaluate()
    before = resident_mb()
    for _ in range(100_000):
        out = evaluate()
    grown = resident_mb() - before
    assert out.requires_grad, "the graph was recorded (no no_grad), and still freed"
    assert grown < 20, f"resident memory grew by {grown:.1f} MB"
