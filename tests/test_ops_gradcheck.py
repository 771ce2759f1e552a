"""Every op through gradcheck (central differences, float64) on hypothesis-drawn shapes.

Values are drawn from a seeded generator and moved away from each op's kinks (0 for relu
and abs, the clip bounds, ties for max) so that central differences are meaningful.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import tinygrad_notes as tn
from tinygrad_notes import Value, gradcheck

SEEDS = st.integers(0, 2**31 - 1)
SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
NONEMPTY = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def normal(shape, seed, low=None):
    x = np.random.default_rng(seed).standard_normal(shape)
    if low is not None:  # keep |x| >= low: away from a kink at 0
        x = np.sign(x + (x == 0)) * (low + np.abs(x))
    return x


def positive(shape, seed):
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow_value": lambda a, b: a**b,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3), seed=SEEDS)
def test_binary_ops_with_broadcasting(name, shapes, seed):
    sa, sb = shapes.input_shapes
    a = positive(sa, seed) if name in ("div", "pow_value") else normal(sa, seed)
    b = positive(sb, seed + 1) if name in ("div", "pow_value") else normal(sb, seed + 1)
    gradcheck(BINARY[name], [a, b])


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_on_python_scalars(name):
    gradcheck(BINARY[name], [1.3, 0.7])
    gradcheck(BINARY[name], [1.3, np.array([0.7, 1.9])])


@pytest.mark.parametrize("reflected", ["radd", "rsub", "rmul", "rtruediv", "rpow"])
def test_reflected_ops(reflected):
    fns = {
        "radd": lambda x: 2.5 + x, "rsub": lambda x: 2.5 - x, "rmul": lambda x: 2.5 * x,
        "rtruediv": lambda x: 2.5 / x, "rpow": lambda x: 2.5**x,
    }
    gradcheck(fns[reflected], [np.array([0.6, 1.4, 2.0])])
    gradcheck(fns[reflected], [0.8])


UNARY = {
    "neg": (lambda x: -x, normal),
    "exp": (lambda x: x.exp(), normal),
    "log": (lambda x: x.log(), positive),
    "sqrt": (lambda x: x.sqrt(), positive),
    "abs": (lambda x: x.abs(), lambda s, seed: normal(s, seed, low=0.1)),
    "relu": (lambda x: x.relu(), lambda s, seed: normal(s, seed, low=0.1)),
    "tanh": (lambda x: x.tanh(), normal),
    "sigmoid": (lambda x: x.sigmoid(), lambda s, seed: 4 * normal(s, seed)),
    "pow_int": (lambda x: x**3, normal),
    "pow_frac": (lambda x: x**1.5, positive),
    "pow_negative": (lambda x: x**-2, positive),
    "clip": (lambda x: x.clip(-0.5, 0.5), lambda s, seed: np.where(
        np.abs(np.abs(normal(s, seed)) - 0.5) < 0.05, 0.2, normal(s, seed))),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=SHAPES, seed=SEEDS)
def test_unary_ops(name, shape, seed):
    fn, draw = UNARY[name]
    gradcheck(fn, [draw(shape, seed)])


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_on_python_scalars(name):
    fn, _ = UNARY[name]
    gradcheck(fn, [0.7])
    gradcheck(fn, [1.6])


@st.composite
def shape_and_axis(draw):
    shape = draw(NONEMPTY)
    choice = draw(st.sampled_from(["none", "int", "negative", "tuple"]))
    if choice == "none":
        axis = None
    elif choice == "int":
        axis = draw(st.integers(0, len(shape) - 1))
    elif choice == "negative":
        axis = draw(st.integers(-len(shape), -1))
    else:
        axis = tuple(sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    return shape, axis


@pytest.mark.parametrize("reduction", ["sum", "mean", "max"])
@given(sa=shape_and_axis(), keepdims=st.booleans(), seed=SEEDS)
def test_reductions(reduction, sa, keepdims, seed):
    shape, axis = sa
    x = normal(shape, seed)
    gradcheck(lambda v: getattr(v, reduction)(axis=axis, keepdims=keepdims), [x])


def test_max_ties_share_the_gradient():
    x = Value(np.array([1.0, 3.0, 3.0, 2.0]))
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5, 0.0])


@given(shape=NONEMPTY, seed=SEEDS)
def test_reshape_flatten_transpose(shape, seed):
    x = normal(shape, seed)
    gradcheck(lambda v: v.reshape(-1) * np.arange(v.size), [x])
    gradcheck(lambda v: v.flatten() * np.arange(v.size), [x])
    gradcheck(lambda v: v.T, [x])
    perm = tuple(np.random.default_rng(seed).permutation(len(shape)))
    gradcheck(lambda v: v.permute(*perm), [x])


@given(seed=SEEDS, n=st.integers(2, 5), m=st.integers(1, 4))
def test_getitem_slices_and_integer_arrays(seed, n, m):
    x = normal((n, m), seed)
    rows = np.random.default_rng(seed).integers(0, n, size=6)  # repeats accumulate
    gradcheck(lambda v: v[1:, ::2], [x])
    gradcheck(lambda v: v[rows], [x])
    gradcheck(lambda v: v[rows, 0], [x])
    gradcheck(lambda v: v[-1], [x])


@given(shapes=st.lists(st.integers(1, 3), min_size=1, max_size=4), seed=SEEDS, axis=st.integers(0, 1))
def test_concat(shapes, seed, axis):
    xs = [normal((k, 2) if axis == 0 else (2, k), seed + i) for i, k in enumerate(shapes)]
    gradcheck(lambda *vs: tn.concat(vs, axis=axis), xs)


@given(count=st.integers(1, 4), shape=SHAPES, seed=SEEDS, data=st.data())
def test_stack(count, shape, seed, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    xs = [normal(shape, seed + i) for i in range(count)]
    gradcheck(lambda *vs: tn.stack(vs, axis=axis), xs)


def test_stack_of_scalars_is_a_vector():
    a, b = Value(1.0), Value(2.0)
    s = tn.stack([a, b])
    assert s.shape == (2,)
    (s * np.array([3.0, 4.0])).sum().backward()
    assert (a.grad, b.grad) == (3.0, 4.0)
    assert type(a.grad) is float


@st.composite
def matmul_shapes(draw):
    kind = draw(st.sampled_from(["mm", "mv", "vm", "vv", "batched", "broadcast"]))
    m, k, n, b = (draw(st.integers(1, 4)) for _ in range(4))
    return {
        "mm": ((m, k), (k, n)),
        "mv": ((m, k), (k,)),
        "vm": ((k,), (k, n)),
        "vv": ((k,), (k,)),
        "batched": ((b, m, k), (b, k, n)),
        "broadcast": ((b, 1, m, k), (3, k, n)),
    }[kind]


@given(shapes=matmul_shapes(), seed=SEEDS)
def test_matmul(shapes, seed):
    sa, sb = shapes
    gradcheck(lambda a, b: a @ b, [normal(sa, seed), normal(sb, seed + 1)])


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@given(shape=NONEMPTY, seed=SEEDS, data=st.data())
def test_softmax_family(fn, shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    gradcheck(lambda v: getattr(tn, fn)(v, axis=axis), [3 * normal(shape, seed)])


@given(shape=NONEMPTY, seed=SEEDS)
def test_mse(shape, seed):
    gradcheck(lambda p, t: tn.mse(p, t), [normal(shape, seed), normal(shape, seed + 1)])


@given(n=st.integers(1, 5), c=st.integers(2, 5), seed=SEEDS, soft=st.booleans())
def test_cross_entropy(n, c, seed, soft):
    rng = np.random.default_rng(seed)
    if soft:
        target = rng.dirichlet(np.ones(c), size=n)
    else:
        target = rng.integers(0, c, size=n)
    gradcheck(lambda z: tn.cross_entropy(z, target), [3 * normal((n, c), seed)])


def test_cross_entropy_is_stable_for_huge_logits():
    logits = Value(np.array([[1e4, 0.0, -1e4], [0.0, 2e4, 0.0]], dtype=np.float32))
    loss = tn.cross_entropy(logits, np.array([1, 1]))
    loss.backward()
    assert np.isfinite(loss.data) and np.isfinite(logits.grad).all()
    assert loss.item() == pytest.approx(1e4 / 2, rel=1e-6)
    # the huge-logit gradient is (softmax - onehot) / N exactly
    np.testing.assert_allclose(logits.grad, [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-7)


def test_log_softmax_is_stable_for_huge_logits():
    out = tn.log_softmax(Value(np.array([1000.0, 0.0])))
    np.testing.assert_allclose(out.data, [0.0, -1000.0])
