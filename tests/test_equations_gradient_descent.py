"""Gradient descent (eq. 2.12-2.15)."""

import numpy as np
import pytest

from tinygrad_notes.equations import gradient_descent as gd
from tinygrad_notes.equations.checks_gradient_descent import (check_descent_step, check_first_order, check_gradient,
                                                              check_update_rule, problem, tape_gradient)
from tinygrad_notes.equations.compare import EXACT


@pytest.mark.parametrize("check", [check_gradient, check_first_order, check_descent_step, check_update_rule])
def test_checks_pass(check):
    result = check()
    assert result.passed, result.detail


def test_first_order_remainder_is_second_order():
    """Halving the step quarters |Delta L - grad^T Delta w| (eq. 2.12's o(rho))."""
    X, y, w = problem(1)
    g = gd.logistic_gradient(w, X, y)
    d = np.ones_like(w) / np.sqrt(w.size)

    def remainder(rho):
        return abs(gd.logistic_loss(w + rho * d, X, y) - gd.logistic_loss(w, X, y) - gd.first_order_change(g, rho * d))

    ratios = [remainder(rho) / remainder(rho / 2) for rho in (1e-2, 1e-3)]
    np.testing.assert_allclose(ratios, 4.0, rtol=0.05)


def test_descent_direction_never_raises_the_first_order_change():
    rng = np.random.default_rng(0)
    for _ in range(20):
        g = rng.standard_normal(5)
        eta = rng.random()
        assert gd.first_order_change(g, gd.descent_direction(g, eta)) == pytest.approx(gd.predicted_change(g, eta))
        assert gd.predicted_change(g, eta) <= 0


def test_tape_and_closed_form_gradients_agree_everywhere_on_the_path():
    X, y, w = problem(2)
    for v in gd.descend(w, lambda v: gd.logistic_gradient(v, X, y), 0.5, 10):
        np.testing.assert_allclose(gd.logistic_gradient(v, X, y), tape_gradient(v, X, y), **EXACT)
