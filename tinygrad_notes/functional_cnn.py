"""The CNN functions on Values: conv2d, batch_norm, max_pool2d, avg_pool2d.

Each takes Values (arrays and numbers are accepted as constants, with no gradient) and
returns a Value recorded on the tape; the op rules are in ``tinygrad_notes.ops.conv``,
``ops.batchnorm`` and ``ops.pool``, the numba kernels in ``tinygrad_notes.kernels``.
Gradients are only computed for the inputs that require them (a network's input image
costs no dx).
"""

from __future__ import annotations

import numpy as np

from .ops import batchnorm as _bn
from .ops import conv as _conv
from .ops import pool as _pool
from .value import Value, apply, value_args


def _needs(values) -> tuple:
    return tuple(v.requires_grad for v in values)


def _values(op: str, names: tuple, items: tuple) -> tuple:
    """Values for ``items``; a non-float array is refused here, before the engine's
    constant rule would quietly turn integers into floats."""
    for name, a in zip(names, items):
        if not isinstance(a, Value) and a is not None:
            kind = np.asarray(a).dtype.kind
            if kind not in "f":
                raise TypeError(
                    f"{op}: {name} has dtype {np.asarray(a).dtype}; only float32 and float64 "
                    f"are supported (convert it, e.g. a.astype(np.float32))"
                )
    return value_args(items, op)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1) -> Value:
    """2-D convolution (a cross-correlation, eq. 3.9), NCHW: ``y = x * w + b``.

    ``x`` (N, C, H, W), ``w`` (K, C/groups, kh, kw), ``b`` (K,) or None; ``stride``,
    ``padding`` (zeros) and ``dilation`` are an int or an (h, w) pair. Output
    (N, K, Ho, Wo) with ``Ho = (H + 2 pad - dil (kh - 1) - 1) // stride + 1``. The backward
    is CONV-BP2/eq. 3.14 (input), CONV-BP3 (weights), CONV-BP4 (bias).

    >>> import numpy as np
    >>> from tinygrad_notes import Value
    >>> from tinygrad_notes.functional_cnn import conv2d
    >>> x = Value(np.ones((1, 1, 3, 3)))
    >>> w = Value(np.ones((1, 1, 2, 2)))
    >>> y = conv2d(x, w, padding=1)
    >>> y.shape
    (1, 1, 4, 4)
    >>> y.sum().backward()
    >>> w.grad[0, 0].tolist()
    [[9.0, 9.0], [9.0, 9.0]]
    """
    values = _values("conv2d", ("input", "weight", "bias"), (x, w) if b is None else (x, w, b))
    return apply(_conv.CONV2D, values, stride=stride, padding=padding, dilation=dilation, groups=groups,
                 needs=_needs(values))


def _stat(a):
    return a.data if isinstance(a, Value) else a


def batch_norm(x, gamma=None, beta=None, running_mean=None, running_var=None, training=True,
               momentum=0.1, eps=1e-5) -> Value:
    """Batch normalization over axis 1 of (N, C) or (N, C, H, W) input (section 3.3.3).

    Training: Algorithm 1 with the batch statistics (eqs. 3.19-3.20), and the running
    statistics (float ndarrays of shape (C,), or None) updated in place:
    ``running = (1 - momentum) running + momentum batch``, the batch variance made
    unbiased by ``m / (m - 1)`` (eq. 3.24, eq. 1.17). Inference (``training=False``):
    eq. 3.24 with the running statistics. ``gamma``/``beta`` default to 1 and 0 (no
    gradient). The backward is eqs. 3.22-3.23.

    >>> import numpy as np
    >>> from tinygrad_notes import Value
    >>> from tinygrad_notes.functional_cnn import batch_norm
    >>> x = Value(np.array([[1.0], [3.0]]))
    >>> mean, var = np.zeros(1), np.ones(1)
    >>> y = batch_norm(x, Value(np.ones(1)), Value(np.zeros(1)), mean, var, eps=0.0)
    >>> y.data.ravel().tolist(), mean.tolist(), var.tolist()
    ([-1.0, 1.0], [0.2], [1.1])
    """
    if isinstance(x, Value) and isinstance(gamma, Value) and isinstance(beta, Value):
        values = (x, gamma, beta)  # a layer's call: nothing to convert
    else:
        if not isinstance(x, Value):
            x = _values("batch_norm", ("input",), (x,))[0]
        data = x.data
        C = data.shape[1] if type(data) is not float and data.ndim >= 2 else 1
        if gamma is None:
            gamma = Value(np.ones(C, x.dtype), requires_grad=False)
        if beta is None:
            beta = Value(np.zeros(C, x.dtype), requires_grad=False)
        values = _values("batch_norm", ("input", "gamma", "beta"), (x, gamma, beta))
    return apply(_bn.BATCH_NORM, values, running_mean=_stat(running_mean), running_var=_stat(running_var),
                 training=bool(training), momentum=momentum, eps=eps,
                 needs=(values[0].requires_grad, values[1].requires_grad, values[2].requires_grad))


def max_pool2d(x, kernel_size, stride=None, padding=0) -> Value:
    """Maximum over each window (NCHW); ``stride`` defaults to ``kernel_size``; padding
    (at most half the kernel) never wins. The gradient goes to the first maximum.

    >>> import numpy as np
    >>> from tinygrad_notes import Value
    >>> from tinygrad_notes.functional_cnn import max_pool2d
    >>> x = Value(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> max_pool2d(x, 2).data[0, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """
    (x,) = _values("max_pool2d", ("input",), (x,))
    return apply(_pool.MAX_POOL2D, (x,), kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0) -> Value:
    """Mean over each window (NCHW); the zero padding counts, so each window divides by
    ``kh * kw`` (PyTorch's ``count_include_pad=True``); ``stride`` defaults to the kernel.

    >>> import numpy as np
    >>> from tinygrad_notes import Value
    >>> from tinygrad_notes.functional_cnn import avg_pool2d
    >>> avg_pool2d(Value(np.ones((1, 1, 2, 2))), 2, padding=1).data[0, 0].tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    """
    (x,) = _values("avg_pool2d", ("input",), (x,))
    return apply(_pool.AVG_POOL2D, (x,), kernel_size=kernel_size, stride=stride, padding=padding)
