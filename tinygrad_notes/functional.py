"""Free-function forms of the ops (``tn.exp(x)``, ``tn.concat([a, b])``, the losses).

Each takes Values (numbers and arrays are accepted as constants) and returns a Value.
"""

from __future__ import annotations

from .ops import activation as _act
from .ops import loss as _loss
from .ops import shape as _sh
from .value import Value, _constant, apply, value_args


def _as_value(x) -> Value:
    return x if isinstance(x, Value) else _constant(x, None)


def exp(x):
    """Elementwise e ** x.

    >>> from tinygrad_notes import Value, exp
    >>> x = Value(0.0)
    >>> y = exp(x)
    >>> y.backward()
    >>> y.data, x.grad  # d/dx e^x = e^x
    (1.0, 1.0)
    """
    return _as_value(x).exp()


def log(x):
    """Elementwise natural logarithm.

    >>> from tinygrad_notes import Value, log
    >>> x = Value(2.0)
    >>> y = log(x)
    >>> y.backward()
    >>> round(y.data, 4), x.grad  # d/dx log x = 1/x
    (0.6931, 0.5)
    """
    return _as_value(x).log()


def sqrt(x):
    """Elementwise square root.

    >>> from tinygrad_notes import Value, sqrt
    >>> x = Value(4.0)
    >>> y = sqrt(x)
    >>> y.backward()
    >>> y.data, x.grad  # d/dx sqrt(x) = 1 / (2 sqrt(x))
    (2.0, 0.25)
    """
    return _as_value(x).sqrt()


def abs(x):  # noqa: A001 - mirrors numpy's name
    """Elementwise absolute value.

    >>> import tinygrad_notes as tn
    >>> x = tn.Value([-2.0, 3.0])
    >>> y = tn.abs(x)
    >>> y.sum().backward()
    >>> y.data.tolist(), x.grad.tolist()  # the gradient is sign(x)
    ([2.0, 3.0], [-1.0, 1.0])
    """
    return _as_value(x).abs()


def clip(x, low=None, high=None):
    """Clamp ``x`` into [low, high].

    >>> from tinygrad_notes import Value, clip
    >>> x = Value([-2.0, 0.5, 3.0])
    >>> y = clip(x, 0.0, 1.0)
    >>> y.sum().backward()
    >>> y.data.tolist(), x.grad.tolist()  # no gradient where it clamps
    ([0.0, 0.5, 1.0], [0.0, 1.0, 0.0])
    """
    return _as_value(x).clip(low, high)


def relu(x):
    """max(x, 0).

    >>> from tinygrad_notes import Value, relu
    >>> x = Value([-1.0, 2.0])
    >>> y = relu(x)
    >>> y.sum().backward()
    >>> y.data.tolist(), x.grad.tolist()
    ([0.0, 2.0], [0.0, 1.0])
    """
    return _as_value(x).relu()


def tanh(x):
    """Hyperbolic tangent.

    >>> from tinygrad_notes import Value, tanh
    >>> x = Value(0.0)
    >>> y = tanh(x)
    >>> y.backward()
    >>> y.data, x.grad  # d/dx tanh x = 1 - tanh(x)^2
    (0.0, 1.0)
    """
    return _as_value(x).tanh()


def sigmoid(x):
    """Logistic sigmoid.

    >>> from tinygrad_notes import Value, sigmoid
    >>> x = Value(0.0)
    >>> y = sigmoid(x)
    >>> y.backward()
    >>> y.data, x.grad  # d/dx sigma(x) = sigma(x) (1 - sigma(x))
    (0.5, 0.25)
    """
    return _as_value(x).sigmoid()


def softmax(x, axis: int = -1):
    """Softmax along ``axis``.

    >>> import numpy as np
    >>> from tinygrad_notes import Value, softmax
    >>> softmax(Value(np.array([0.0, np.log(3.0)]))).data.round(4).tolist()
    [0.25, 0.75]
    """
    return _as_value(x)._unary(_act.SOFTMAX, axis=axis)


def log_softmax(x, axis: int = -1):
    """Log of the softmax along ``axis``, computed stably.

    >>> from tinygrad_notes import Value, log_softmax
    >>> log_softmax(Value([0.0, 1000.0])).data.tolist()  # no overflow in exp(1000)
    [-1000.0, 0.0]
    """
    return _as_value(x)._unary(_act.LOG_SOFTMAX, axis=axis)


def matmul(a, b):
    """Matrix product ``a @ b`` with numpy's rules.

    >>> from tinygrad_notes import Value, matmul
    >>> a, b = Value([[1.0, 2.0], [3.0, 4.0]]), Value([[1.0], [1.0]])
    >>> y = matmul(a, b)
    >>> y.sum().backward()
    >>> y.data.tolist(), b.grad.tolist()  # dL/db = a^T dL/dy
    ([[3.0], [7.0]], [[4.0], [6.0]])
    """
    return _as_value(a).matmul(b)


def sum(x, axis=None, keepdims: bool = False):  # noqa: A001
    """Sum over ``axis``.

    >>> import tinygrad_notes as tn
    >>> x = tn.Value([[1.0, 2.0], [3.0, 4.0]])
    >>> tn.sum(x).item(), tn.sum(x, axis=0).data.tolist(), tn.sum(x, axis=1, keepdims=True).shape
    (10.0, [4.0, 6.0], (2, 1))
    """
    return _as_value(x).sum(axis, keepdims)


def mean(x, axis=None, keepdims: bool = False):
    """Mean over ``axis``.

    >>> import tinygrad_notes as tn
    >>> x = tn.Value([1.0, 2.0, 3.0, 6.0])
    >>> y = tn.mean(x)
    >>> y.backward()
    >>> y.item(), x.grad.tolist()  # each element gets 1/n
    (3.0, [0.25, 0.25, 0.25, 0.25])
    """
    return _as_value(x).mean(axis, keepdims)


def max(x, axis=None, keepdims: bool = False):  # noqa: A001
    """Maximum over ``axis``.

    >>> import tinygrad_notes as tn
    >>> x = tn.Value([[1.0, 5.0], [4.0, 2.0]])
    >>> y = tn.max(x, axis=1)
    >>> y.sum().backward()
    >>> y.data.tolist(), x.grad.tolist()  # the gradient goes to the maximum
    ([5.0, 4.0], [[0.0, 1.0], [1.0, 0.0]])
    """
    return _as_value(x).max(axis, keepdims)


def reshape(x, shape):
    """``x`` in a new shape.

    >>> import numpy as np
    >>> from tinygrad_notes import Value, reshape
    >>> reshape(Value(np.arange(6.0)), (2, 3)).data.tolist()
    [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    """
    return _as_value(x).reshape(shape)


def transpose(x, axes=None):
    """``x`` with its axes permuted (reversed by default).

    >>> import numpy as np
    >>> from tinygrad_notes import Value, transpose
    >>> x = Value(np.zeros((2, 3, 4)))
    >>> transpose(x).shape, transpose(x, (0, 2, 1)).shape
    ((4, 3, 2), (2, 4, 3))
    """
    return _as_value(x).transpose(*(axes or ()))


def concat(values, axis: int = 0):
    """Join tensors along an existing axis.

    >>> from tinygrad_notes import Value, concat
    >>> concat([Value([1.0, 2.0]), Value([3.0])]).shape
    (3,)
    """
    return apply(_sh.CONCAT, value_args(values, "concat"), axis=axis)


def stack(values, axis: int = 0):
    """Join values (scalars or tensors of one shape) along a new axis.

    >>> from tinygrad_notes import Value, stack
    >>> a, b = Value(1.0), Value(2.0)
    >>> v = stack([a, b])
    >>> (v * Value([3.0, 4.0])).sum().backward()
    >>> v.data.tolist(), a.grad, b.grad, stack([Value([1.0, 2.0])] * 3, axis=1).shape
    ([1.0, 2.0], 3.0, 4.0, (2, 3))
    """
    return apply(_sh.STACK, value_args(values, "stack"), axis=axis)


def mse(prediction, target):
    """Mean squared error mean((prediction - target)^2); the shapes must match.

    >>> from tinygrad_notes import Value, mse
    >>> mse(Value([1.0, 2.0]), Value([1.0, 4.0], requires_grad=False)).item()
    2.0
    """
    return apply(_loss.MSE, (_as_value(prediction), _as_value(target)))


def cross_entropy(logits, target):
    """Mean cross-entropy of ``logits`` (N, C) against class indices (N,) or probabilities (N, C).

    Computed from a log-softmax, so logits of any size are fine.

    >>> import numpy as np
    >>> from tinygrad_notes import Value, cross_entropy
    >>> logits = Value(np.array([[1000.0, 0.0], [0.0, 1000.0]]))
    >>> float(cross_entropy(logits, np.array([0, 1])).data)
    0.0
    """
    if isinstance(target, Value):
        target = target.data
    return _as_value(logits)._unary(_loss.CROSS_ENTROPY, target=target)
