"""gradcheck itself: it passes correct gradients and catches a wrong backward, naming the
worst element."""

import numpy as np
import pytest

from tinygrad_notes import GradcheckError, Value, gradcheck
from tinygrad_notes.ops.registry import OPS, register
from tinygrad_notes.value import apply


def _wrong_square():
    name = "test_wrong_square"
    if name not in OPS:
        def forward(x):
            return x * x, None

        def backward(g, saved, x):
            return (g * 2 * x + (x > 1.5) * 0.1,)  # wrong where x > 1.5

        register(name, forward, backward)
    return OPS[name]


def test_gradcheck_passes_a_correct_gradient_and_reports_it():
    report = gradcheck(lambda x: (x * x).sum(), [np.array([1.0, 2.0])])
    assert report.passed and report.checked == 2
    assert report.abs_err < 1e-8


def test_gradcheck_catches_a_wrong_backward_and_names_the_worst_element():
    op = _wrong_square()
    x = np.array([[1.0, 2.0], [0.5, 1.0]])
    with pytest.raises(GradcheckError, match=r"FAILED on 1 of 4 elements; worst element: input 0 at index \(0, 1\)") as info:
        gradcheck(lambda v: apply(op, (v,)), [x])
    assert "analytic" in str(info.value) and "numeric" in str(info.value)


def test_gradcheck_can_return_the_report_instead_of_raising():
    op = _wrong_square()
    report = gradcheck(lambda v: apply(op, (v,)), [np.array([2.0])], raise_on_failure=False)
    assert not report and report.failures == 1


def test_gradcheck_does_not_touch_the_callers_data():
    x = np.array([1.0, 2.0], dtype=np.float32)
    v = Value(x)
    gradcheck(lambda a: a.exp().sum(), [v])
    assert v.data is x and v.grad is None
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_gradcheck_requires_a_value_result():
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda a: 3.0, [1.0])
