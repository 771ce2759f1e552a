"""The tape: reverse walk, accumulation, retain_graph, Tape.gradient, no_grad, anomaly mode,
freeing, and the depth a walk can take."""

import gc
import weakref

import numpy as np
import pytest

import tinygrad_notes as tn
from tinygrad_notes import Tape, Value, no_grad


def test_gradients_accumulate_across_backward_calls():
    x = Value(2.0)
    (x * x).backward()
    (x * 3).backward()
    assert x.grad == 4.0 + 3.0


def test_tensor_gradients_accumulate_and_leaf_grad_is_owned():
    x = Value(np.ones(3))
    y = Value(np.ones(3))
    (x + y).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0, 3.0])
    x.grad[0] = 10.0  # a leaf's gradient is its own array
    np.testing.assert_array_equal(y.grad, [1.0, 1.0, 1.0])


def test_intermediate_grads_are_read_only_so_shared_arrays_cannot_be_corrupted():
    a = Value(np.ones(2))
    mid = a * 1.0
    (mid + mid).sum().backward()
    np.testing.assert_array_equal(mid.grad, [2.0, 2.0])
    with pytest.raises(ValueError, match="read-only"):
        mid.grad[0] = 5.0


def test_shared_subexpression_receives_the_sum_of_its_uses():
    x = Value(3.0)
    y = x * x
    z = y + y * y  # dz/dy = 1 + 2y, dy/dx = 2x
    z.backward()
    assert y.grad == 1 + 2 * 9.0
    assert x.grad == (1 + 2 * 9.0) * 6.0


def test_second_backward_without_retain_graph_names_retain_graph():
    x = Value(2.0)
    y = x.tanh() * x
    y.backward()
    g = x.grad
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    assert x.grad == g, "a refused backward must not touch any gradient"


def test_retain_graph_allows_a_second_backward():
    x = Value(np.array([1.0, 2.0]))
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])


def test_non_scalar_backward_needs_grad_and_says_what_to_pass():
    y = Value(np.ones((3, 4))) * 2
    with pytest.raises(ValueError, match=r"grad=np.ones\(\(3, 4\)\)"):
        y.backward()


def test_non_scalar_backward_with_grad():
    x = Value(np.array([1.0, 2.0, 3.0]))
    (x * x).backward(grad=np.array([1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 12.0])


def test_backward_grad_of_the_wrong_shape_is_refused():
    y = Value(np.ones(3)) * 2
    with pytest.raises(ValueError, match=r"grad has shape \(4,\)"):
        y.backward(grad=np.ones(4))


def test_tape_gradient_returns_gradients_without_touching_grad():
    x1, x2 = Value(2.0), Value(np.array([1.0, -1.0]))
    with Tape() as t:
        y = (x1 * x2).sum() + x1 * x1
    g1, g2 = t.gradient(y, [x1, x2])
    assert g1 == pytest.approx(0.0 + 4.0)
    np.testing.assert_array_equal(g2, [2.0, 2.0])
    assert x1.grad == 0.0 and x2.grad is None
    assert [op._op for op in t.ops] == ["mul", "sum", "mul", "add"]
    again = t.gradient(y, [x1])  # the graph is kept
    assert again == [g1]


def test_tape_gradient_of_an_unused_source_is_none():
    x, unused = Value(1.0), Value(5.0)
    with Tape() as t:
        y = x * 2
    assert t.gradient(y, [x, unused]) == [2.0, None]


def test_tape_treats_values_computed_before_it_as_constants():
    x = Value(3.0)
    before = x * x  # not on the tape
    with Tape() as t:
        y = before * x
    (gx, gb) = t.gradient(y, [x, before])
    assert gx == 9.0, "only the recorded op contributes: d(before*x)/dx with before held fixed"
    assert gb == 3.0


def test_tape_gradient_refuses_a_target_from_outside():
    x = Value(1.0)
    y = x * 2
    with Tape() as t:
        pass
    with pytest.raises(ValueError, match="inside this tape"):
        t.gradient(y, [x])


def test_grad_function_leaves_grad_untouched():
    x = Value(np.array([1.0, 2.0]))
    (g,) = tn.grad((x**2).sum(), [x])
    np.testing.assert_array_equal(g, [2.0, 4.0])
    assert x.grad is None


def test_no_grad_as_context_and_decorator():
    x = Value(2.0)
    with no_grad():
        y = x * x
    assert not y.requires_grad and y._prev == ()

    @no_grad()
    def f(v):
        return v * v

    @no_grad
    def g(v):
        return v + v

    assert not f(x).requires_grad and not g(x).requires_grad
    assert (x * x).requires_grad, "grad mode is restored afterwards"
    with no_grad():
        with tn.enable_grad():
            assert (x * x).requires_grad
        assert not (x * x).requires_grad


def test_backward_on_a_constant_explains_why():
    with no_grad():
        y = Value(2.0) * 3
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_requires_grad_false_values_get_no_gradient_work():
    data = Value(np.ones((2, 2)), requires_grad=False)
    w = Value(np.ones((2, 2)))
    y = (data @ w).sum()
    y.backward()
    assert data.grad is None
    assert w.grad is not None
    const_only = data * 2
    assert not const_only.requires_grad and const_only._prev == ()


def test_a_graph_is_freed_as_soon_as_nothing_references_it():
    gc.disable()
    try:
        x = Value(np.ones(4))
        y = (x * 2).tanh().sum()
        y.backward(retain_graph=True)
        refs = [weakref.ref(n) for n in (y, y._prev[0], y._prev[0]._prev[0])]
        del y
        assert all(r() is None for r in refs), "freed by reference counting alone (no cycles)"
    finally:
        gc.enable()


def test_scalar_graph_has_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        a = Value(1.5)
        out = ((a * a).tanh() + a.exp()).relu()
        out.backward()
        ref = weakref.ref(out)
        del out
        assert ref() is None
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_million_op_chain_backpropagates_without_recursion_error():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0
    del y  # freeing the chain must not overflow the C stack either


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_anomaly_mode_names_the_op_that_made_nan():
    x = Value(np.array([0.0, 1.0]))
    y = x.sqrt().sum()  # d sqrt(x)/dx = inf at 0
    with tn.detect_anomaly():
        with pytest.raises(FloatingPointError, match="op 'sqrt'"):
            y.backward(retain_graph=True)
    assert x.grad is None, "nothing is accumulated into leaves when a pass fails"
    y.backward()  # without anomaly mode the inf simply flows through
    assert np.isinf(x.grad[0])


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_a_failed_backward_leaves_no_stale_state():
    x = Value(np.array([0.0, 4.0]))
    y = x.sqrt().sum()
    with tn.detect_anomaly(), pytest.raises(FloatingPointError):
        y.backward(retain_graph=True)
    z = (x * 3).sum()
    z.backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_zero_grad_helpers():
    a, b = Value(1.0), Value(np.ones(2))
    (a * b).sum().backward()
    tn.zero_grad([a, b])
    assert a.grad == 0.0 and b.grad is None


def test_a_non_leaf_used_as_a_parameter_gets_an_error_that_says_how_to_fix_it():
    w = tn.randn(3, seed=0) * 0.5  # a recorded op, not a leaf
    x = Value(np.ones(3), requires_grad=False)
    (w * x).sum().backward()
    with pytest.raises(RuntimeError, match=r"make it a leaf.*no_grad\(\) or call .detach\(\)"):
        (w * x).sum().backward()


def test_leaf_gradients_never_alias_each_other_or_the_seed():
    a, b = Value(np.ones(3)), Value(np.ones(3))
    seed = np.full(3, 2.0)
    s = a + b
    s.backward(grad=seed)
    for x, y in [(a.grad, b.grad), (a.grad, seed), (b.grad, seed), (a.grad, s.grad)]:
        assert not np.shares_memory(x, y)
    leaf = Value(np.ones(3))
    leaf.backward(grad=seed)
    assert not np.shares_memory(leaf.grad, seed)
    np.testing.assert_array_equal(seed, [2.0, 2.0, 2.0])


def test_a_fresh_gradient_array_becomes_the_leaf_grad_without_a_copy():
    from tinygrad_notes.ops.registry import OPS, register
    from tinygrad_notes.value import apply

    made = []
    if "test_fresh_grad" not in OPS:
        def backward(g, saved, x):
            fresh = np.array(g * 3.0)
            made.append(weakref.ref(fresh))  # a weak reference: the walk must see it unshared
            return (fresh,)

        register("test_fresh_grad", lambda x: (x * 3.0, None), backward)
    x = Value(np.ones(4))
    apply(OPS["test_fresh_grad"], (x,)).sum().backward()
    assert x.grad is made[-1](), "the backward's own fresh array is kept, not copied"


_MADE: dict = {}


def _register_view_grad(name, make):
    """An op whose backward returns ``make(g)``; the arrays it made are recorded."""
    from tinygrad_notes.ops.registry import OPS, register

    made = _MADE.setdefault(name, [])
    if name not in OPS:
        def backward(g, saved, x):
            grad, buffer, keep = make(g)
            made.append((weakref.ref(buffer), keep))
            return (grad,)

        register(name, lambda x: (x * 3.0, None), backward)
    return OPS[name], made


def test_a_whole_buffer_reshape_of_a_fresh_array_is_kept_without_a_copy():
    from tinygrad_notes.value import apply

    def make(g):
        buffer = np.empty(g.size)  # owns its memory
        buffer[:] = (g * 3.0).reshape(-1)
        return buffer.reshape(g.shape), buffer, None

    op, made = _register_view_grad("test_reshaped_fresh_grad", make)
    x = Value(np.ones((2, 3)))
    apply(op, (x,)).sum().backward()
    buffer = made[-1][0]()
    assert buffer is not None and x.grad.base is buffer


def test_a_view_of_a_buffer_held_elsewhere_or_of_part_of_one_is_copied():
    from tinygrad_notes.value import apply

    def shared(g):
        buffer = np.empty(g.size)
        buffer[:] = (g * 3.0).reshape(-1)
        return buffer.reshape(g.shape), buffer, buffer  # the op keeps the buffer too

    def part(g):
        buffer = np.zeros(2 * g.size)
        buffer[:g.size] = (g * 3.0).reshape(-1)
        return buffer[:g.size].reshape(g.shape), buffer, None

    for name, make in (("test_shared_view_grad", shared), ("test_part_view_grad", part)):
        op, made = _register_view_grad(name, make)
        x = Value(np.ones((2, 3)))
        apply(op, (x,)).sum().backward()
        _, kept = made[-1]
        if kept is not None:
            assert not np.shares_memory(x.grad, kept)
            kept[:] = -1.0
        assert x.grad.base is None
        np.testing.assert_array_equal(x.grad, np.full((2, 3), 3.0))


def test_a_scalar_backward_math_error_names_the_op():
    x = Value(0.0)
    y = x.sqrt()
    with pytest.raises(ZeroDivisionError, match=r"backward of op 'sqrt'.*infinite or undefined"):
        y.backward()
    assert x.grad == 0.0
