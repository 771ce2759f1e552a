"""Check that stacks of linear layers on the tape equal one layer, gradients included."""

from __future__ import annotations

import numpy as np

from ..tape import grad
from ..value import Value
from . import linear_stack as ls
from .compare import EXACT, Tally
from .perceptron import XOR_X, XOR_Y
from .registry import register

# layer widths, input first
STACKS = ((3, 5, 2), (4, 6, 6, 3, 2), (2, 8, 1, 8, 3), (5, 4, 4, 4, 4, 4, 5))


def check_linear_stack():
    """Tape forward and input gradient of each stack vs the collapsed layer; the rank of
    W is at most the narrowest width; the best affine fit of XOR is the constant 1/2."""
    tally = Tally()
    rng = np.random.default_rng(33)
    for widths in STACKS:
        weights = [rng.standard_normal((m, n)) / np.sqrt(n) for n, m in zip(widths[:-1], widths[1:])]
        biases = [rng.standard_normal(m) for m in widths[1:]]
        x = rng.standard_normal((7, widths[0]))
        w, b = ls.collapse(weights, biases)
        xv = Value(x)
        out = xv
        for wl, bl in zip(weights, biases):
            out = out @ Value(wl, requires_grad=False).T + Value(bl, requires_grad=False)
        projection = rng.standard_normal(out.shape)
        (gx,) = grad(out, [xv], grad=projection)
        tally.close(out.data, x @ w.T + b, **EXACT, name=f"{widths} forward", kind="tape forward")
        tally.close(gx, projection @ w, **EXACT, name=f"{widths} dL/dx", kind="tape gradient")
        tally.close(ls.stack_forward(x, weights, biases), x @ w.T + b, **EXACT, name="numpy stack", kind="stack")
        tally.require(np.linalg.matrix_rank(w) <= min(widths), f"{widths}: rank W <= narrowest width")
    w_fit, b_fit = ls.best_affine_fit(XOR_X, (XOR_Y > 0).astype(float))
    tally.close(w_fit, np.zeros(2), **EXACT, name="XOR fit slope", kind="XOR fit")
    tally.close(b_fit, 0.5, **EXACT, name="XOR fit intercept", kind="XOR fit")
    return tally.result()


register("linear-stack", "3.3.3+", "W_L(...(W_1 a + b_1)...) + b_L = W a + b: tape forward and dL/da vs the "
         "collapsed layer; XOR's best affine fit is 1/2", ls.collapse, check_linear_stack)
