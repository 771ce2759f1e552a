"""batch_norm as a tape op (section 3.3.3), per channel (axis 1) of (N, C) or (N, C, ...).

Training forward: Algorithm 1 (eqs. 3.19-3.20) with the batch's mean and biased variance;
it also updates the running statistics in place,
``running = (1 - momentum) running + momentum batch``, the variance made unbiased by
``m / (m - 1)`` (eq. 3.24 and eq. 1.17; m values per channel). Inference forward: eq. 3.24
with the running statistics. Backward: eq. 3.22 (dgamma, dbeta) and eq. 3.23 (dx), fused
in :mod:`tinygrad_notes.kernels.batchnorm`; in inference, dx = gamma / sigma dy.

Inputs are ``(x, gamma, beta)``; ``running_mean``/``running_var`` are plain ndarrays (C,),
passed as parameters and never differentiated. dtypes follow the conv2d op's rule: float32
or float64 only, mixed inputs promoted to float64; the running statistics keep their own
dtype. Training with one value per channel raises (the variance is undefined).
"""

from __future__ import annotations

import math

import numpy as np

from .conv import float_arrays, kernels, plain_floats
from .registry import register


def _check_stat(name, a, C, training):
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f" or a.shape != (C,):
        shape = getattr(a, "shape", type(a).__name__)
        raise TypeError(f"batch_norm: {name} must be a float ndarray of shape ({C},), got {shape}")
    if training and not a.flags.writeable:
        raise ValueError(f"batch_norm: {name} is read-only; training updates it in place")


def _batch_norm_fwd(x, gamma, beta, running_mean=None, running_var=None, training=True, momentum=0.1,
                    eps=1e-5, needs=(True, True, True)):
    """Algorithm 1 / eqs. 3.19-3.20 (training) or eq. 3.24 (inference)."""
    if plain_floats(x, gamma, beta):
        x3, g, b, dtype = x, gamma, beta, x.dtype
    else:
        (x3, g, b), dtype = float_arrays("batch_norm", {"input": x, "gamma": gamma, "beta": beta})
    if x3.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C) or (N, C, H, W), got shape {x.shape}")
    C = x3.shape[1]
    if g.shape != (C,) or b.shape != (C,):
        raise ValueError(
            f"batch_norm: gamma {g.shape} and beta {b.shape} must have shape ({C},) for input {x.shape}"
        )
    if not 0.0 <= float(momentum) <= 1.0 or not float(eps) >= 0.0:
        raise ValueError(f"batch_norm: momentum must be in [0, 1] and eps >= 0, got {momentum}, {eps}")
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is not None:
            _check_stat(name, stat, C, training)
    shape = x3.shape
    x3 = x3.reshape(shape[0], C, math.prod(shape[2:]))  # -1 fails on an empty batch
    m = x3.shape[0] * x3.shape[2]
    if training:
        if m <= 1:
            raise ValueError(
                f"batch_norm: training needs more than one value per channel to estimate a "
                f"variance, got input shape {shape} ({m} value per channel)"
            )
        y, mean, var, invstd = kernels().batchnorm_forward_train(x3, g, b, float(eps), running_mean, running_var,
                                                                 float(momentum))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: inference (training=False) needs running_mean and running_var")
        mean = np.array(running_mean, dtype=np.float64)  # a copy: later training steps move it
        y, invstd = kernels().batchnorm_forward_infer(x3, g, b, mean, running_var, float(eps))
    return y.reshape(shape), (mean, invstd, bool(training), needs, dtype)


def _batch_norm_bwd(grad, saved, x, gamma, beta):
    """Eq. 3.22 (dgamma, dbeta) and eq. 3.23 (dx), one fused kernel."""
    mean, invstd, training, needs, dtype = saved
    if not plain_floats(x, grad) or x.dtype != dtype:
        x, grad = np.ascontiguousarray(x, dtype=dtype), np.ascontiguousarray(grad, dtype=dtype)
    shape = x.shape
    x3 = x.reshape(shape[0], shape[1], math.prod(shape[2:]))
    g3 = grad.reshape(x3.shape)
    dx, dgamma, dbeta = kernels().batchnorm_backward(g3, x3, gamma, mean, invstd, training)
    return (dx.reshape(shape) if needs[0] else None,
            dgamma.astype(dtype) if needs[1] else None,
            dbeta.astype(dtype) if needs[2] else None)


BATCH_NORM = register("batch_norm", _batch_norm_fwd, _batch_norm_bwd, equations=("eq. 3.22", "eq. 3.23"))
