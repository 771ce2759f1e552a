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
    """Elementwise e ** x."""
    return _as_value(x).exp()


def log(x):
    """Elementwise natural logarithm."""
    return _as_value(x).log()


def sqrt(x):
    """Elementwise square root."""
    return _as_value(x).sqrt()


def abs(x):  # noqa: A001 - mirrors numpy's name
    """Elementwise absolute value."""
    return _as_value(x).abs()


def clip(x, low=None, high=None):
    """Clamp ``x`` into [low, high]."""
    return _as_value(x).clip(low, high)


def relu(x):
    """max(x, 0)."""
    return _as_value(x).relu()


def tanh(x):
    """Hyperbolic tangent."""
    return _as_value(x).tanh()


def sigmoid(x):
    """Logistic sigmoid."""
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
    """Log of the softmax along ``axis``, computed stably."""
    return _as_value(x)._unary(_act.LOG_SOFTMAX, axis=axis)


def matmul(a, b):
    """Matrix product ``a @ b`` with numpy's rules."""
    return _as_value(a).matmul(b)


def sum(x, axis=None, keepdims: bool = False):  # noqa: A001
    """Sum over ``axis``."""
    return _as_value(x).sum(axis, keepdims)


def mean(x, axis=None, keepdims: bool = False):
    """Mean over ``axis``."""
    return _as_value(x).mean(axis, keepdims)


def max(x, axis=None, keepdims: bool = False):  # noqa: A001
    """Maximum over ``axis``."""
    return _as_value(x).max(axis, keepdims)


def reshape(x, shape):
    """``x`` in a new shape."""
    return _as_value(x).reshape(shape)


def transpose(x, axes=None):
    """``x`` with its axes permuted (reversed by default)."""
    return _as_value(x).transpose(*(axes or ()))


def concat(values, axis: int = 0):
    """Join tensors along an existing axis.

    >>> from tinygrad_notes import Value, concat
    >>> concat([Value([1.0, 2.0]), Value([3.0])]).shape
    (3,)
    """
    return apply(_sh.CONCAT, value_args(values, "concat"), axis=axis)


def stack(values, axis: int = 0):
    """Join values (scalars or tensors of one shape) along a new axis."""
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
