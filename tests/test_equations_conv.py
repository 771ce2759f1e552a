"""Convolutional backprop (eq. 3.9-3.15, CONV-BP2..4): closed forms vs the tape's
convolutions vs central differences; the worked example and the errata of 3.12-3.15."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_notes import Value, grad
from tinygrad_notes.equations import conv
from tinygrad_notes.equations.activations import sigma_prime
from tinygrad_notes.equations.checks_conv import computed, make_case, numeric_values, tape_values
from tinygrad_notes.equations.compare import EXACT, NUMERIC, numeric_grad
from tinygrad_notes.equations.tape_cnn import conv2d_composed, conv2d_implementations, functional_cnn

IMPLS = conv2d_implementations()


def test_eq_3_12_as_printed_is_dL_da_not_delta():
    """ERRATUM eq. 3.12: the nine terms are dL/da^l_{1,1}; delta^l_{1,1} needs sigma'(z^l_{1,1})."""
    case = make_case((6, 6), (3, 3), (3, 3), "sigmoid", seed=0)
    tape = tape_values(case, conv2d_composed)
    printed = conv.example_3_12(tape["delta2"], case["w2"])
    z11 = conv.conv_forward(case["a0"], case["w1"], case["b1"])[0, 0]
    assert printed == pytest.approx(tape["grad_a1"][0, 0], rel=1e-12)
    assert printed != pytest.approx(tape["delta1"][0, 0], rel=1e-3)  # sigma' <= 1/4: never equal
    assert printed * sigma_prime("sigmoid", z11) == pytest.approx(tape["delta1"][0, 0], rel=1e-12)


def test_eq_3_13_is_the_padded_correlation_of_eq_3_12():
    rng = np.random.default_rng(13)
    delta_next, w = rng.standard_normal((2, 2)), rng.standard_normal((3, 3))
    full = conv.example_3_13(delta_next, w)
    assert full.shape == (4, 4)
    assert full[0, 0] == pytest.approx(conv.example_3_12(delta_next, w), rel=1e-14)
    np.testing.assert_allclose(full, conv.cross_correlate(conv.pad(delta_next, 2, 2), conv.rot180(w)), **EXACT)


def test_eq_3_14_as_printed_has_the_wrong_shape():
    """ERRATUM eq. 3.14: with eq. 3.10's valid '*', delta^{l+1} * rot180(w) is not z^l's shape."""
    for shape, k1, k2, act in ((6, 6), (3, 3), (3, 3), "sigmoid"), ((9, 8), (2, 2), (3, 2), "tanh"):
        case = make_case(shape, k1, k2, act, seed=1)
        tape = tape_values(case, conv2d_composed)
        z1 = conv.conv_forward(case["a0"], case["w1"], case["b1"])
        printed = conv.eq_3_14_as_printed(tape["delta2"], case["w2"], z1, act)
        assert printed is None or printed.shape != z1.shape
        np.testing.assert_allclose(conv.conv_bp2_matrix(tape["delta2"], case["w2"], z1, act), tape["delta1"],
                                   **EXACT)


def test_eq_3_15_bias_line_as_printed_is_wrong():
    """ERRATUM eq. 3.15: dL/db = sum_ij delta_ij, not sum_ij b."""
    case = make_case((5, 6), (2, 2), (3, 4), "relu", seed=2)
    tape = tape_values(case, conv2d_composed)
    z1 = conv.conv_forward(case["a0"], case["w1"], case["b1"])
    delta, dw, db = conv.conv_backprop_matrix(tape["delta2"], case["w2"], z1, "relu", case["a0"])
    assert conv.eq_3_15_bias_as_printed(case["b1"], delta) != pytest.approx(tape["gb1"], rel=1e-3)
    assert db == pytest.approx(tape["gb1"], rel=1e-12)
    np.testing.assert_allclose(dw, tape["gw1"], **EXACT)


def test_conv_bp2_index_ranges():
    """Not an erratum: summing over all m, n with delta zero outside its range (eq. 3.12's
    reading) equals the sum over the in-kernel range that conv_bp2_element uses."""
    rng = np.random.default_rng(4)
    delta_next, w, z = rng.standard_normal((3, 4)), rng.standard_normal((2, 3)), rng.standard_normal((4, 6))
    r, c = w.shape
    loose = np.zeros(z.shape)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            for m in range(-r, z.shape[0] + r):
                for n in range(-c, z.shape[1] + c):
                    inside_delta = 0 <= m < delta_next.shape[0] and 0 <= n < delta_next.shape[1]
                    inside_kernel = 0 <= i - m < r and 0 <= j - n < c
                    if inside_delta and inside_kernel:
                        loose[i, j] += delta_next[m, n] * w[i - m, j - n]
    np.testing.assert_allclose(conv.conv_bp2_element(delta_next, w, z, "identity"), loose, **EXACT)


@pytest.mark.parametrize("index", range(4))
def test_notes_setting_against_every_tape_and_central_differences(index):
    c = computed(index)
    closed = c["closed"]
    for tape in c["tapes"].values():
        for key in ("delta1", "gw1", "gb1", "gw2", "gb2", "delta2"):
            np.testing.assert_allclose(closed[key], tape[key], **EXACT)
        np.testing.assert_allclose(closed["delta1_matrix"], tape["delta1"], **EXACT)
    numeric = numeric_values(c["case"])
    for key in ("delta1", "gw1", "gb1", "gw2", "gb2"):
        np.testing.assert_allclose(closed[key], numeric[key], **NUMERIC)


strided = st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(3, 7), st.integers(3, 7), st.integers(1, 3),
                    st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2), st.integers(0, 999))


@settings(max_examples=20)
@given(strided)
def test_stride_and_padding_closed_forms_match_the_tapes(spec):
    n, ch, h, k, o, r, c, stride, padding, seed = spec
    if h + 2 * padding < r or k + 2 * padding < c:
        return
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((n, ch, h, k)), rng.standard_normal((o, ch, r, c)), rng.standard_normal(o)
    z = conv.conv2d_forward(x, w, b, stride, padding)
    delta = rng.standard_normal(z.shape)
    matrix = conv.conv2d_backward(x, w, delta, stride, padding)
    element = conv.conv2d_backward_element(x, w, delta, stride, padding)
    for name, impl in IMPLS.items():
        xv, wv, bv = Value(x), Value(w), Value(b)
        zv = impl(xv, wv, bv, stride, padding)
        np.testing.assert_allclose(zv.data, z, **EXACT)
        for closed, el, taped in zip(matrix, element, grad(zv, [xv, wv, bv], grad=delta)):
            np.testing.assert_allclose(closed, el, **EXACT)
            np.testing.assert_allclose(closed, taped, **EXACT)


def test_stride_and_padding_against_central_differences():
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((1, 2, 5, 6)), rng.standard_normal((2, 2, 3, 2)), rng.standard_normal(2)
    delta = rng.standard_normal(conv.conv2d_forward(x, w, b, 2, 1).shape)
    numeric = numeric_grad(lambda x, w, b: float((conv.conv2d_forward(x, w, b, 2, 1) * delta).sum()), [x, w, b])
    for closed, num in zip(conv.conv2d_backward(x, w, delta, 2, 1), numeric):
        np.testing.assert_allclose(closed, num, **NUMERIC)


def test_single_channel_forward_is_the_notes_forward():
    rng = np.random.default_rng(6)
    a, w = rng.standard_normal((5, 7)), rng.standard_normal((2, 3))
    batched = conv.conv2d_forward(a[None, None], w[None, None], np.array([0.5]))[0, 0]
    np.testing.assert_allclose(batched, conv.conv_forward(a, w, 0.5), **EXACT)
    np.testing.assert_allclose(batched, conv.conv_forward_element(a, w, 0.5), **EXACT)


def test_kernel_larger_than_input_is_refused():
    with pytest.raises(ValueError, match="empty"):
        conv.cross_correlate(np.zeros((2, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="does not fit"):
        conv.conv2d_forward(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)))


@pytest.mark.skipif(functional_cnn() is None, reason="tinygrad_notes.functional_cnn is not there yet")
def test_float32_engine_conv_against_float64_closed_form():
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    delta = rng.standard_normal((2, 4, 3, 3))
    xv, wv, bv = (Value(a.astype(np.float32)) for a in (x, w, b))
    zv = functional_cnn().conv2d(xv, wv, bv, stride=2, padding=1)
    assert zv.dtype == np.float32
    np.testing.assert_allclose(zv.data, conv.conv2d_forward(x, w, b, 2, 1), rtol=1e-5, atol=1e-5)
    for closed, taped in zip(conv.conv2d_backward(x, w, delta, 2, 1),
                             grad(zv, [xv, wv, bv], grad=delta.astype(np.float32))):
        assert taped.dtype == np.float32
        np.testing.assert_allclose(taped, closed, rtol=1e-4, atol=1e-4)
