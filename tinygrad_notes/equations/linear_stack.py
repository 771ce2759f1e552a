"""A stack of linear layers is one linear layer (the notes' question in 3.3.3), in numpy.

z^L = W_L(... W_2(W_1 a + b_1) + b_2 ...) + b_L = W a + b with
W = W_L ... W_1 and b = sum_l W_L ... W_{l+1} b_l.
"""

from __future__ import annotations

import numpy as np


def stack_forward(a, weights, biases):
    """Layers z = W a + b applied in turn, without activation (samples as rows)."""
    for w, b in zip(weights, biases):
        a = a @ w.T + b
    return a


def collapse(weights, biases):
    """The single layer ``(W, b)`` that equals the stack."""
    w_total = np.eye(weights[0].shape[1])
    b_total = np.zeros(weights[0].shape[1])
    for w, b in zip(weights, biases):
        w_total, b_total = w @ w_total, w @ b_total + b
    return w_total, b_total


def best_affine_fit(X, targets):
    """The least-squares affine map (w, b) from rows of X to targets: the best any linear
    stack can do. On XOR it is the constant 1/2: no stack of linear layers separates XOR."""
    design = np.hstack([X, np.ones((X.shape[0], 1))])
    solution, *_ = np.linalg.lstsq(design, targets, rcond=None)
    return solution[:-1], solution[-1]
