"""The perceptron (eq. 2.1-2.11): primal and dual, XOR, Novikoff's bound."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_notes.equations import perceptron as pc
from tinygrad_notes.equations.checks_perceptron import (check_eq_2_4, check_eq_2_5, check_eq_2_7, check_eq_2_8,
                                                        check_novikoff, train_xor_mlp)


def _separable(seed, n, d, margin=0.05):
    rng = np.random.default_rng(seed)
    w, b = rng.standard_normal(d), 0.3 * rng.standard_normal()
    X = rng.uniform(-1, 1, (4 * n, d))
    keep = np.abs(X @ w + b) / np.sqrt(w @ w + b * b) >= margin
    X = X[keep][:n]
    return X, np.where(X @ w + b > 0, 1.0, -1.0), w, b


@pytest.mark.parametrize("check", [check_eq_2_4, check_eq_2_5, check_eq_2_7, check_eq_2_8, check_novikoff])
def test_checks_pass(check):
    result = check()
    assert result.passed, result.detail


@settings(max_examples=15)
@given(st.integers(0, 10_000), st.integers(5, 40), st.integers(1, 4), st.sampled_from([1.0, 0.5, 0.25]))
def test_dual_and_primal_reach_the_same_hyperplane(seed, n, d, eta):
    """Eq. 2.10-2.11: the same updates, alpha_i = n_i eta, the same (w, b), all separated;
    and Novikoff's bound holds."""
    X, y, w_sep, b_sep = _separable(seed, n, d)
    primal, dual = pc.perceptron_primal(X, y, eta), pc.perceptron_dual(X, y, eta)
    assert primal.converged and dual.converged, primal.explanation
    np.testing.assert_allclose(dual.alpha, primal.updates * eta, rtol=0, atol=1e-12)
    w, b = pc.dual_to_primal(dual.alpha, X, y)
    np.testing.assert_allclose(w, primal.w, rtol=1e-12, atol=1e-12)
    assert b == pytest.approx(primal.b, abs=1e-12) and dual.b == pytest.approx(primal.b, abs=1e-12)
    assert np.all(y * (X @ primal.w + primal.b) > 0)
    assert np.array_equal(pc.predict(primal.w, primal.b, X), y)
    assert primal.total_updates <= pc.novikoff_bound(X, y, w_sep, b_sep)[2]


@pytest.mark.parametrize("eta", [1.0, 0.5, 0.1])
def test_xor_is_never_separated_and_the_cycle_is_detected(eta):
    for run in (pc.perceptron_primal(pc.XOR_X, pc.XOR_Y, eta), pc.perceptron_dual(pc.XOR_X, pc.XOR_Y, eta)):
        assert run.cycled and not run.converged
        assert "not linearly separable" in run.explanation
        assert run.epochs < 50
        assert not np.array_equal(pc.predict(run.w, run.b, pc.XOR_X), pc.XOR_Y)


def test_an_epoch_bound_stops_runs_whose_float_state_never_repeats_exactly():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 2)), np.where(rng.random(12) < 0.5, 1.0, -1.0)
    for run in (pc.perceptron_primal(X, y, eta=0.1, max_epochs=50), pc.perceptron_dual(X, y, eta=0.1, max_epochs=50)):
        assert not run.converged and not run.cycled
        assert run.epochs == 50 and "stopped after 50 epochs" in run.explanation


def test_a_two_layer_mlp_on_the_tape_solves_xor():
    steps, loss, predictions = train_xor_mlp()
    assert np.array_equal(predictions, (pc.XOR_Y > 0).astype(int))
    assert loss < 0.05 and steps < 2000


def test_eq_2_6_one_over_norm_w_belongs_to_eq_2_4():
    """ERRATUM eq. 2.6: 1/||w|| is in eq. 2.4 (scale-invariant), not in eq. 2.6 (scales)."""
    X, y, w_sep, b_sep = _separable(26, 30, 3)
    w, b = -w_sep + 0.3, -b_sep  # a plane that misclassifies many points
    assert pc.perceptron_loss(w, b, X, y) > 0
    for c in (0.5, 3.0, 100.0):
        assert pc.total_distance(c * w, c * b, X, y) == pytest.approx(pc.total_distance(w, b, X, y), rel=1e-12)
        assert pc.perceptron_loss(c * w, c * b, X, y) == pytest.approx(c * pc.perceptron_loss(w, b, X, y), rel=1e-12)
    assert np.linalg.norm(w) * pc.total_distance(w, b, X, y) == pytest.approx(pc.perceptron_loss(w, b, X, y))


def test_the_loss_vanishes_at_zero_weights():
    """The minimum 0 of eq. 2.6 is also reached by w = 0, b = 0, where every point is in M:
    the algorithm's stopping rule, not the loss value, is what says 'separated'."""
    X, y, _, _ = _separable(1, 10, 2)
    assert pc.perceptron_loss(np.zeros(2), 0.0, X, y) == 0.0
    assert pc.misclassified(np.zeros(2), 0.0, X, y).all()


def test_sign_of_zero_is_plus_one():
    assert pc.sign([0.0, -1e-300, 2.0]).tolist() == [1.0, -1.0, 1.0]


def test_novikoff_refuses_a_non_separating_plane():
    with pytest.raises(ValueError, match="separate"):
        pc.novikoff_bound(pc.XOR_X, pc.XOR_Y, np.array([1.0, 1.0]), -1.0)
