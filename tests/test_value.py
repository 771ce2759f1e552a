"""Value: construction, dtypes, the scalar and tensor APIs, and their errors."""

import numpy as np
import pytest

import tinygrad_notes as tn
from tinygrad_notes import Value


def test_scalars_are_python_floats():
    v = Value(2)
    assert type(v.data) is float and v.data == 2.0
    y = (v * 3 + 1).tanh()
    assert type(y.data) is float
    y.backward()
    assert type(v.grad) is float


def test_tensors_keep_their_float_dtype_and_memory():
    a = np.ones(3, dtype=np.float32)
    v = Value(a)
    assert v.data is a and v.dtype == np.float32
    assert Value(np.ones(2)).dtype == np.float64
    assert Value([1, 2]).dtype == np.float32, "lists become float32 by default"
    assert Value([1, 2], dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("bad", [np.array([1, 2]), np.array([True]), np.array(["a"]), np.array([1 + 2j]),
                                 np.array([1.0], dtype=np.float16)])
def test_non_float_arrays_are_refused_with_a_clear_message(bad):
    with pytest.raises(TypeError, match="only float32 and float64"):
        Value(bad)


def test_dtype_rule_float32_with_float64_gives_float64_and_grads_keep_input_dtype():
    a = Value(np.ones(2, dtype=np.float32))
    b = Value(np.ones(2, dtype=np.float64))
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_python_numbers_and_scalar_values_are_weak():
    a = Value(np.ones(2, dtype=np.float32))
    assert (a * 2.5).dtype == np.float32
    assert (a * Value(2.5)).dtype == np.float32
    assert (a + np.array([1, 2])).dtype == np.float32, "integer constants take the tensor's dtype"


def test_numpy_array_on_the_left_defers_to_value():
    x = Value(np.ones(2))
    y = np.array([2.0, 3.0]) * x
    assert isinstance(y, Value)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 3.0])


def test_shape_properties():
    x = tn.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.size == 24 and len(x) == 2
    assert x.T.shape == (4, 3, 2)
    assert x.transpose(1, 0, 2).shape == (3, 2, 4)
    assert x.permute(2, 0, 1).shape == (4, 2, 3)
    assert x.reshape(6, 4).shape == (6, 4) and x.reshape((-1,)).shape == (24,)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    s = Value(1.0)
    assert s.shape == () and s.ndim == 0 and s.size == 1 and s.dtype == np.float64


def test_reductions_match_numpy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 5))
    x = Value(a)
    for name in ("sum", "mean", "max"):
        for axis in (None, 0, -1, (0, 2)):
            for keepdims in (False, True):
                got = getattr(x, name)(axis=axis, keepdims=keepdims).data
                np.testing.assert_allclose(got, getattr(np, name)(a, axis=axis, keepdims=keepdims))


def test_full_reductions_are_0d_arrays_of_the_input_dtype():
    y = Value(np.ones(3, dtype=np.float32)).sum()
    assert isinstance(y.data, np.ndarray) and y.data.shape == () and y.dtype == np.float32
    assert y.item() == 3.0


def test_getitem_concat_stack_forward():
    a = np.arange(12.0).reshape(3, 4)
    x = Value(a)
    np.testing.assert_array_equal(x[1:, ::2].data, a[1:, ::2])
    np.testing.assert_array_equal(x[[0, 0, 2]].data, a[[0, 0, 2]])
    np.testing.assert_array_equal(tn.concat([x, x], axis=1).data, np.concatenate([a, a], 1))
    np.testing.assert_array_equal(tn.stack([x, x], axis=-1).data, np.stack([a, a], -1))


def test_repeated_integer_indices_accumulate_gradient():
    x = Value(np.zeros(3))
    x[np.array([0, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 1.0])


def test_softmax_rows_sum_to_one():
    x = tn.randn(4, 5, seed=1) * 30
    s = tn.softmax(x, axis=1)
    np.testing.assert_allclose(s.data.sum(axis=1), 1.0, rtol=1e-6)


def test_constructors_are_seeded():
    assert np.array_equal(tn.randn(3, seed=7).data, tn.randn(3, seed=7).data)
    assert not np.array_equal(tn.randn(3, seed=7).data, tn.randn(3, seed=8).data)
    u = tn.uniform(1000, low=-2, high=3, seed=0).data
    assert u.min() >= -2 and u.max() < 3 and u.dtype == np.float32
    tn.manual_seed(5)
    first = tn.randn(4).data
    tn.manual_seed(5)
    assert np.array_equal(first, tn.randn(4).data)
    assert tn.zeros((2, 2), dtype=np.float64).dtype == np.float64
    assert tn.ones(3).data.sum() == 3


def test_detach_and_item_and_repr():
    x = Value(np.array([1.0, 2.0]), name="w")
    d = (x * 2).detach()
    assert not d.requires_grad and d._prev == ()
    assert "name='w'" in repr(x)
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    with pytest.raises(ValueError, match="not one element"):
        x.item()


def test_value_of_a_value_is_refused():
    with pytest.raises(TypeError, match="already a Value"):
        Value(Value(1.0))


def test_negative_base_with_a_constant_value_exponent_differentiates_the_base():
    x = Value(-2.0)
    y = x ** Value(3.0, requires_grad=False)
    y.backward()
    assert y.data == -8.0 and x.grad == 12.0
    xs = Value(np.array([-2.0, 3.0]))
    (xs ** np.array([2.0, 2.0])).sum().backward()
    np.testing.assert_array_equal(xs.grad, [-4.0, 6.0])
