"""Losses: mean squared error and cross-entropy (from logits, via a stable log-softmax).

The gradient of either with respect to the network output is the dL/da^L that BP1 /
eq. 3.4 multiplies by sigma'(z^L).
"""

from __future__ import annotations

import numpy as np

from .registry import register


def _mse_fwd(prediction, target):
    """mean((prediction - target)^2); shapes must match exactly (no silent broadcast)."""
    if np.shape(prediction) != np.shape(target):
        raise ValueError(
            f"mse: prediction shape {np.shape(prediction)} and target shape "
            f"{np.shape(target)} differ; reshape one of them (broadcasting here is "
            f"almost always a bug)"
        )
    diff = prediction - target
    if type(diff) is float:
        return diff * diff, (diff, 1)
    return np.mean(diff * diff), (diff, diff.size)


def _mse_bwd(g, saved, prediction, target):
    diff, count = saved
    grad = diff * (2.0 * g / count)
    return grad, -grad


MSE = register("mse", _mse_fwd, _mse_bwd, equations=("BP1",))


def _check_targets(logits, target):
    n, c = logits.shape
    target = np.asarray(target)
    if target.dtype.kind in "iub":
        if target.shape != (n,):
            raise ValueError(
                f"cross_entropy: class-index targets must have shape ({n},) for logits "
                f"of shape {logits.shape}, got {target.shape}"
            )
        if n and (target.min() < 0 or target.max() >= c):
            raise ValueError(
                f"cross_entropy: class indices must be in [0, {c}), got values from "
                f"{target.min()} to {target.max()}"
            )
        onehot = np.zeros(logits.shape, dtype=logits.dtype)
        onehot[np.arange(n), target] = 1
        return onehot
    if target.dtype.kind == "f":
        if target.shape != logits.shape:
            raise ValueError(
                f"cross_entropy: probability targets must have the logits' shape "
                f"{logits.shape}, got {target.shape}"
            )
        return target.astype(logits.dtype, copy=False)
    raise TypeError(f"cross_entropy: targets of dtype {target.dtype} are neither class indices nor probabilities")


def _cross_entropy_fwd(logits, target):
    """-mean_n sum_c t[n, c] * log_softmax(logits)[n, c] for logits of shape (N, C)."""
    if type(logits) is float or logits.ndim not in (1, 2):
        raise ValueError(
            f"cross_entropy needs logits of shape (N, C) or (C,), got {np.shape(logits)}"
        )
    squeeze = logits.ndim == 1
    if squeeze:
        logits = logits[None, :]
        target = np.asarray(target)
        target = target[None] if target.ndim in (0, 1) and target.dtype.kind == "f" else target.reshape(1)
    if logits.shape[0] == 0:
        raise ValueError("cross_entropy of an empty batch")
    probs_target = _check_targets(logits, target)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = logits.shape[0]
    loss = -(probs_target * log_probs).sum() / n + 0.0  # + 0.0 turns -0.0 into 0.0
    return np.asarray(loss, dtype=logits.dtype), (log_probs, probs_target, n, squeeze)


def _cross_entropy_bwd(g, saved, logits):
    log_probs, probs_target, n, squeeze = saved
    grad = (np.exp(log_probs) * probs_target.sum(axis=1, keepdims=True) - probs_target) * (g / n)
    return (grad[0] if squeeze else grad,)


CROSS_ENTROPY = register("cross_entropy", _cross_entropy_fwd, _cross_entropy_bwd, equations=("BP1",))
