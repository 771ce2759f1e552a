"""sigma and sigma' (eq. 3.1, BP1, BP2) and the losses' gradients dL/da^L, in numpy.

Written from their definitions, independently of the tape's ops.
"""

from __future__ import annotations

import numpy as np


def sigma(name: str, z: np.ndarray) -> np.ndarray:
    """The activation sigma(z) of eq. 3.1: ``sigmoid``, ``tanh``, ``relu`` or ``identity``."""
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "identity":
        return z.copy()
    raise ValueError(f"unknown activation {name!r}; use sigmoid, tanh, relu or identity")


def sigma_prime(name: str, z: np.ndarray) -> np.ndarray:
    """The derivative sigma'(z) that BP1 and BP2 multiply by (Figure 3.2 for the sigmoid)."""
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "identity":
        return np.ones_like(z)
    raise ValueError(f"unknown activation {name!r}; use sigmoid, tanh, relu or identity")


def one_hot(classes: np.ndarray, count: int) -> np.ndarray:
    """Rows of the identity matrix picked by the class indices ``classes``."""
    return np.eye(count)[np.asarray(classes)]


def _log_softmax(a: np.ndarray) -> np.ndarray:
    shifted = a - a.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def loss(name: str, a: np.ndarray, target: np.ndarray) -> float:
    """The cost L of a batch of outputs ``a`` (N, C): ``mse`` = mean((a - y)^2) over all
    elements, ``cross_entropy`` = -(1/N) sum_n sum_c t_nc log softmax(a_n)_c (``a`` as logits,
    ``target`` one-hot or probabilities)."""
    if name == "mse":
        return float(np.mean((a - target) ** 2))
    if name == "cross_entropy":
        return float(-(target * _log_softmax(a)).sum() / a.shape[0])
    raise ValueError(f"unknown loss {name!r}; use mse or cross_entropy")


def loss_gradient(name: str, a: np.ndarray, target: np.ndarray) -> np.ndarray:
    """nabla_{a^L} L, the first factor of BP1 / eq. 3.4."""
    if name == "mse":
        return 2.0 * (a - target) / a.size
    if name == "cross_entropy":
        return (np.exp(_log_softmax(a)) * target.sum(axis=1, keepdims=True) - target) / a.shape[0]
    raise ValueError(f"unknown loss {name!r}; use mse or cross_entropy")
