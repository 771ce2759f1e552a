"""Bad input gets a clear error naming the op and the shapes; nothing breaks afterwards."""

import numpy as np
import pytest

import tinygrad_notes as tn
from tinygrad_notes import Value


def test_broadcast_mismatch_names_the_op_and_both_shapes():
    a, b = Value(np.ones((3, 4))), Value(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"add: cannot broadcast shapes \(3, 4\) and \(2, 4\)"):
        a + b
    with pytest.raises(ValueError, match=r"mul: cannot broadcast shapes \(3, 4\) and \(2, 4\)"):
        a * b


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) @ \(5, 2\)"):
        Value(np.ones((3, 4))) @ Value(np.ones((5, 2)))
    with pytest.raises(TypeError, match="matmul"):
        Value(1.0) @ Value(2.0)


def test_reshape_mismatch():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape shape \(3, 4\) \(12 elements\) into \(5,\)"):
        Value(np.ones((3, 4))).reshape(5)


def test_axis_out_of_range():
    with pytest.raises(ValueError, match=r"sum: axis 2 is out of range"):
        Value(np.ones((3, 4))).sum(axis=2)


def test_scalar_math_domain_errors_name_the_op():
    with pytest.raises(ValueError, match="log needs x > 0"):
        Value(-1.0).log()
    with pytest.raises(ValueError, match="sqrt needs x >= 0"):
        Value(-1.0).sqrt()
    with pytest.raises(OverflowError, match="exp"):
        Value(1000.0).exp()
    with pytest.raises(ValueError, match="not a real number"):
        Value(-8.0) ** 0.5


def test_mse_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"mse: prediction shape \(4, 1\) and target shape \(4,\) differ"):
        tn.mse(Value(np.ones((4, 1))), np.ones(4))


def test_cross_entropy_validates_targets():
    logits = Value(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"class indices must be in \[0, 3\)"):
        tn.cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"must have shape \(2,\)"):
        tn.cross_entropy(logits, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"logits of shape \(N, C\)"):
        tn.cross_entropy(Value(np.zeros((2, 3, 4))), np.array([0, 1]))


def test_indexing_out_of_range():
    with pytest.raises(IndexError, match=r"getitem: .*shape \(3,\)"):
        Value(np.ones(3))[5]


def test_concat_mismatch_lists_the_shapes():
    with pytest.raises(ValueError, match=r"concat.*\(2, 3\), \(2, 4\)"):
        tn.concat([Value(np.ones((2, 3))), Value(np.ones((2, 4)))], axis=0)


def test_integer_data_is_not_differentiable():
    with pytest.raises(TypeError, match=r"dtype int64 is not differentiable; only float32 and float64"):
        Value(np.arange(3))
    with pytest.raises(TypeError, match="not differentiable"):
        tn.randn(2, dtype=np.int32)


def test_an_error_leaves_the_graph_usable():
    x = Value(np.ones(3))
    y = x * 2
    with pytest.raises(ValueError):
        y + Value(np.ones(4))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])
