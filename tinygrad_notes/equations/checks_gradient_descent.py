"""Checks of eq. 2.12-2.15: the tape's gradient, the closed form and central differences
agree, the first-order change predicts Delta L, and steps along -eta grad lower the loss.
"""

from __future__ import annotations

import functools

import numpy as np

from ..tape import grad
from ..value import Value
from . import gradient_descent as gd
from .compare import EXACT, NUMERIC, Tally, numeric_grad
from .registry import register

# (samples, features)
SHAPES = ((20, 3), (50, 5), (8, 2))


@functools.lru_cache(maxsize=None)
def problem(index: int):
    """A logistic regression problem with labels in {-1, +1} and a starting point."""
    n, d = SHAPES[index]
    rng = np.random.default_rng(212 + index)
    X = rng.standard_normal((n, d))
    y = np.where(X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    return X, y, rng.standard_normal(d)


def tape_loss(w: Value, X, y) -> Value:
    """The same loss on the tape: mean(log(1 + exp(-y Xw)))."""
    return (1.0 + (-(X @ w) * y).exp()).log().mean()


def tape_gradient(w, X, y):
    """nabla L by the tape, at ``w``."""
    wv = Value(np.asarray(w, dtype=np.float64))
    return grad(tape_loss(wv, X, y), [wv])[0]


def check_gradient():
    """Eq. 2.12's partial derivatives: closed form vs tape vs central differences."""
    tally = Tally()
    for i in range(len(SHAPES)):
        X, y, w = problem(i)
        closed = gd.logistic_gradient(w, X, y)
        tally.close(closed, tape_gradient(w, X, y), **EXACT, name=f"problem {i} vs tape", kind="tape")
        numeric = numeric_grad(lambda w: gd.logistic_loss(w, X, y), [w])[0]
        tally.close(closed, numeric, **NUMERIC, name=f"problem {i} vs numeric", kind="numeric")
        wv = Value(w)
        tally.close(gd.logistic_loss(w, X, y), float(tape_loss(wv, X, y).data), **EXACT, name=f"problem {i} loss",
                    kind="tape")
    return tally.result()


def check_first_order():
    """Eq. 2.13: |Delta L - grad^T Delta w| <= lambda/2 ||Delta w||^2 for random Delta w of
    several sizes rho, and the remainder is o(rho). The errors reported are those of the
    smallest step, where eq. 2.13 claims to hold."""
    tally = Tally()
    rng = np.random.default_rng(213)
    steps = (1e-1, 1e-3, 1e-5)
    for i in range(len(SHAPES)):
        X, y, w = problem(i)
        g = tape_gradient(w, X, y)
        lam, base = gd.smoothness(X), gd.logistic_loss(w, X, y)
        for _ in range(3):
            direction = rng.standard_normal(w.shape)
            direction /= np.linalg.norm(direction)
            remainders = []
            for rho in steps:
                actual = gd.logistic_loss(w + rho * direction, X, y) - base
                predicted = gd.first_order_change(g, rho * direction)
                remainder = abs(actual - predicted)
                bound = lam / 2 * rho ** 2 + 4e-16 * abs(base)  # plus the rounding of two losses
                tally.require(remainder <= bound, f"problem {i} rho {rho}: remainder within lambda/2 rho^2")
                remainders.append(remainder)
            tally.record(remainder, remainder / abs(actual), True, f"problem {i}", "first order")
            tally.require(remainders[-1] / steps[-1] < 1e-2 * remainders[0] / steps[0],
                          f"problem {i}: remainder/rho -> 0")
    return tally.result()


def check_descent_step():
    """Eq. 2.14: Delta w = -eta grad lowers L, and Delta L = -eta ||grad||^2 up to
    lambda/2 eta^2 ||grad||^2. The errors reported are those of the smallest eta."""
    tally = Tally()
    for i in range(len(SHAPES)):
        X, y, w = problem(i)
        g = tape_gradient(w, X, y)
        lam, base = gd.smoothness(X), gd.logistic_loss(w, X, y)
        for eta in (1.0 / lam, 1e-2 / lam, 1e-4 / lam):
            actual = gd.logistic_loss(w + gd.descent_direction(g, eta), X, y) - base
            predicted = gd.predicted_change(g, eta)
            tally.require(actual < 0, f"problem {i} eta {eta:.3g}: the loss went down")
            err = abs(actual - predicted)
            bound = lam / 2 * eta ** 2 * float(np.sum(g ** 2)) + 4e-16 * abs(base)
            tally.require(err <= bound, f"problem {i} eta {eta:.3g}: Delta L within the bound")
        tally.record(err, err / abs(predicted), True, f"problem {i}", "first order")
    return tally.result()


def check_update_rule(steps: int = 100):
    """Eq. 2.15 repeated with eta = 1/lambda: the loss falls at every step, and the tape's
    path equals the closed form's."""
    tally = Tally()
    for i in range(len(SHAPES)):
        X, y, w = problem(i)
        eta = 1.0 / gd.smoothness(X)
        closed = gd.descend(w, lambda v: gd.logistic_gradient(v, X, y), eta, steps)
        taped = gd.descend(w, lambda v: tape_gradient(v, X, y), eta, steps)
        tally.close(closed[-1], taped[-1], rtol=1e-9, atol=1e-12, name=f"problem {i} path", kind="tape")
        losses = [gd.logistic_loss(v, X, y) for v in closed]
        tally.require(all(b < a for a, b in zip(losses, losses[1:])), f"problem {i}: the loss fell at every step")
    return tally.result()


register("eq. 2.12", "2.2", "dL/dw_i: logistic-regression gradient, closed form vs tape and central differences",
         gd.logistic_gradient, check_gradient)
register("eq. 2.13", "2.2", "Delta L vs grad^T Delta w (|Delta w| = 1e-5); remainder <= lambda/2 |Delta w|^2 "
         "and o(rho)", gd.first_order_change, check_first_order)
register("eq. 2.14", "2.2", "Delta w = -eta grad lowers L; Delta L vs -eta |grad|^2 (eta = 1e-4/lambda), within "
         "lambda/2 eta^2 |grad|^2", gd.predicted_change, check_descent_step)
register("eq. 2.15", "2.2", "w <- w - eta grad (tape) for 100 steps: loss falls every step, path = closed form",
         gd.descend, check_update_rule)
