"""Seeded weight initializers (Glorot/Xavier and He/Kaiming) returning float32 arrays.

``fan_in`` and ``fan_out`` follow the usual convention: for a weight of shape
(out, in, *kernel) they are in * prod(kernel) and out * prod(kernel).
"""

from __future__ import annotations

import math

import numpy as np

from ..creation import rng as _rng


def fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape`` (out, in, *kernel)."""
    if len(shape) < 2:
        raise ValueError(f"fan_in/fan_out need a weight with at least 2 dimensions, got shape {tuple(shape)}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def xavier_uniform(shape, gain: float = 1.0, seed=None) -> np.ndarray:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = fans(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _rng(seed).uniform(-bound, bound, shape).astype(np.float32)


def xavier_normal(shape, gain: float = 1.0, seed=None) -> np.ndarray:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return (_rng(seed).standard_normal(shape) * std).astype(np.float32)


def he_uniform(shape, seed=None) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / fan_in) (He et al., 2015), for ReLU networks."""
    fan_in, _ = fans(shape)
    bound = math.sqrt(6.0 / fan_in)
    return _rng(seed).uniform(-bound, bound, shape).astype(np.float32)


def he_normal(shape, seed=None) -> np.ndarray:
    """N(0, 2 / fan_in) (He et al., 2015), for ReLU networks."""
    fan_in, _ = fans(shape)
    return (_rng(seed).standard_normal(shape) * math.sqrt(2.0 / fan_in)).astype(np.float32)


def fan_in_uniform(shape, seed=None) -> np.ndarray:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for Linear and Conv2d."""
    fan_in, _ = fans(shape)
    bound = 1.0 / math.sqrt(fan_in)
    return _rng(seed).uniform(-bound, bound, shape).astype(np.float32)


INITIALIZERS = {
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "fan_in_uniform": fan_in_uniform,
}


def initialize(shape, name: str, seed=None) -> np.ndarray:
    """Initialize a weight of ``shape`` with the initializer called ``name``."""
    try:
        init = INITIALIZERS[name]
    except KeyError:
        raise ValueError(f"unknown initializer {name!r}; choose one of {sorted(INITIALIZERS)}") from None
    return init(tuple(shape), seed=seed)
