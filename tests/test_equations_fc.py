"""Fully connected backprop (BP1-BP4, eq. 3.1-3.8, FC-BP): closed forms vs tape vs
central differences, on generated networks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_notes.equations import fc
from tinygrad_notes.equations.activations import loss_gradient, one_hot, sigma, sigma_prime
from tinygrad_notes.equations.checks_fc import make_case, numeric_gradients, tape_gradients
from tinygrad_notes.equations.compare import EXACT, NUMERIC

ACTIVATIONS = ("sigmoid", "tanh", "relu")
LOSSES = ("mse", "cross_entropy")


def _closed(case, form):
    return fc.fc_backprop(case["a0"], case["weights"], case["biases"], case["target"], case["activation"],
                          case["loss_name"], case["output_activation"], form=form)


def _assert_close(a_list, b_list, rtol, atol):
    for a, b in zip(a_list, b_list, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


networks = st.tuples(
    st.lists(st.integers(1, 5), min_size=2, max_size=5).map(tuple),
    st.integers(1, 4),
    st.sampled_from(ACTIVATIONS),
    st.sampled_from(LOSSES),
    st.sampled_from(ACTIVATIONS + ("identity",)),
    st.integers(0, 10_000),
)


@settings(max_examples=20)
@given(networks)
def test_matrix_form_element_form_and_tape_agree(spec):
    """eq. 3.8 = FC-BP = the tape, for every delta and every gradient, in float64."""
    sizes, batch, act, loss_name, out_act, seed = spec
    if loss_name == "cross_entropy" and sizes[-1] < 2:
        sizes = sizes[:-1] + (2,)
    case = make_case(sizes, batch, act, loss_name, out_act, seed)
    matrix, element, tape = _closed(case, "matrix"), _closed(case, "element"), tape_gradients(case)
    for key in ("deltas", "grad_w", "grad_b"):
        _assert_close(matrix[key], element[key], **EXACT)
        _assert_close(matrix[key], tape[key], **EXACT)
    assert matrix["loss"] == pytest.approx(tape["loss"], rel=1e-12)


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("loss_name", LOSSES)
def test_against_central_differences(act, loss_name):
    case = make_case((3, 4, 3), 2, act, loss_name, act, seed=7)
    closed, numeric = _closed(case, "element"), numeric_gradients(case)
    for key in ("deltas", "grad_w", "grad_b"):
        _assert_close(closed[key], numeric[key], **NUMERIC)


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_float32_tape_against_float64_closed_form(act):
    case = make_case((4, 6, 3), 5, act, "cross_entropy", act, seed=3)
    closed, tape = _closed(case, "matrix"), tape_gradients(case, dtype=np.float32)
    for key in ("deltas", "grad_w", "grad_b"):
        for a, b in zip(tape[key], closed[key]):
            assert a.dtype == np.float32
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_bp1_with_softmax_cross_entropy_is_prediction_minus_target():
    """With a linear output layer, delta^L of the mean cross-entropy is (softmax - y) / N."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4, 3))
    y = one_hot(np.array([0, 2, 1, 1]), 3)
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    delta = fc.bp1_matrix(loss_gradient("cross_entropy", z, y), z, "identity")
    np.testing.assert_allclose(delta, (probs - y) / 4, rtol=1e-14, atol=1e-16)


def test_sigma_prime_matches_central_differences():
    z = np.linspace(-3, 3, 13) + 0.05
    for act in ACTIVATIONS + ("identity",):
        numeric = (sigma(act, z + 1e-6) - sigma(act, z - 1e-6)) / 2e-6
        np.testing.assert_allclose(sigma_prime(act, z), numeric, rtol=1e-7, atol=1e-9)


def test_forward_element_form_is_the_matrix_form():
    case = make_case((3, 5, 2), 4, "tanh", "mse", "sigmoid", seed=1)
    args = (case["a0"], case["weights"], case["biases"], "tanh", "sigmoid")
    _assert_close(fc.fc_forward_element(*args)[1], fc.fc_forward(*args)[1], **EXACT)


def test_bad_names_are_refused():
    with pytest.raises(ValueError, match="activation"):
        sigma("softplus", np.zeros(2))
    with pytest.raises(ValueError, match="loss"):
        loss_gradient("hinge", np.zeros((1, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="form"):
        fc.fc_backprop(np.zeros((1, 1)), [np.ones((1, 1))], [np.zeros(1)], np.zeros((1, 1)), "tanh", "mse",
                       form="tensor")
