"""tinygrad_notes: a small, fast, readable autodiff engine whose backward rules are the
equations of a set of deep-learning notes.

>>> from tinygrad_notes import Value
>>> x = Value(3.0)
>>> y = x * x + 2 * x
>>> y.backward()
>>> x.grad
8.0
"""

from .creation import manual_seed, ones, randn, uniform, zeros
from .functional_cnn import avg_pool2d, batch_norm, conv2d, max_pool2d
from .functional import (abs, clip, concat, cross_entropy, exp, log, log_softmax, matmul, max, mean, mse,
                         relu, reshape, sigmoid, softmax, sqrt, stack, sum, tanh, transpose)
from .gradcheck import GradcheckError, gradcheck
from .tape import Tape, detect_anomaly, enable_grad, grad, is_grad_enabled, no_grad, set_detect_anomaly
from .value import Value

__version__ = "0.1.0"


def zero_grad(values) -> None:
    """Reset ``.grad`` of every Value in ``values`` (0.0 for scalars, None for tensors).

    >>> from tinygrad_notes import Value, zero_grad
    >>> a, b = Value(2.0), Value([1.0, 2.0])
    >>> (a * b).sum().backward()
    >>> a.grad, b.grad.tolist()
    (3.0, [2.0, 2.0])
    >>> zero_grad([a, b])
    >>> a.grad, b.grad
    (0.0, None)
    """
    for v in values:
        v.zero_grad()


__all__ = [
    "Value", "Tape", "no_grad", "enable_grad", "is_grad_enabled", "grad", "gradcheck", "GradcheckError",
    "detect_anomaly", "set_detect_anomaly", "zero_grad", "zeros", "ones", "randn", "uniform", "manual_seed",
    "exp", "log", "sqrt", "abs", "clip", "relu", "tanh", "sigmoid", "softmax", "log_softmax", "matmul",
    "sum", "mean", "max", "reshape", "transpose", "concat", "stack", "mse", "cross_entropy", "conv2d",
    "batch_norm", "max_pool2d", "avg_pool2d", "__version__",
]
