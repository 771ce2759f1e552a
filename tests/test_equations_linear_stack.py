"""A stack of linear layers is one linear layer (the notes' question in 3.3.3)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_notes import Value, grad
from tinygrad_notes.equations import linear_stack as ls
from tinygrad_notes.equations.checks_linear_stack import check_linear_stack
from tinygrad_notes.equations.compare import EXACT
from tinygrad_notes.equations.perceptron import XOR_X, XOR_Y


def test_check_passes():
    result = check_linear_stack()
    assert result.passed, result.detail


@settings(max_examples=20)
@given(st.lists(st.integers(1, 6), min_size=2, max_size=7), st.integers(0, 999))
def test_collapse_equals_the_stack_on_the_tape(widths, seed):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((m, n)) / np.sqrt(n) for n, m in zip(widths[:-1], widths[1:])]
    biases = [rng.standard_normal(m) for m in widths[1:]]
    x = rng.standard_normal((3, widths[0]))
    w, b = ls.collapse(weights, biases)
    np.testing.assert_allclose(ls.stack_forward(x, weights, biases), x @ w.T + b, rtol=1e-10, atol=1e-12)
    params = [Value(p) for p in weights + biases]
    out = Value(x, requires_grad=False)
    for wl, bl in zip(params[: len(weights)], params[len(weights):]):
        out = out @ wl.T + bl
    np.testing.assert_allclose(out.data, x @ w.T + b, rtol=1e-10, atol=1e-12)
    assert np.linalg.matrix_rank(w) <= min(widths)
    assert all(g is not None for g in grad(out.sum(), params))


def test_no_linear_stack_fits_xor():
    w, b = ls.best_affine_fit(XOR_X, (XOR_Y > 0).astype(float))
    np.testing.assert_allclose(w, 0.0, atol=1e-12)
    np.testing.assert_allclose(b, 0.5, **EXACT)
