"""Constructors: ``zeros``, ``ones``, ``randn``, ``uniform``, seeded for reproducibility.

New tensors are float32 unless ``dtype=`` says otherwise. ``seed=`` makes one call
reproducible; without it the values come from a module generator that
:func:`manual_seed` resets.
"""

from __future__ import annotations

import numpy as np

from .value import Value, as_data

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the generator used by ``randn``/``uniform`` calls without ``seed=``."""
    global _generator
    _generator = np.random.default_rng(seed)


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    return shape


def rng(seed=None) -> np.random.Generator:
    """A generator for ``seed``; without one, the module generator that :func:`manual_seed` resets."""
    return _generator if seed is None else np.random.default_rng(seed)


def _make(array, dtype, requires_grad, name):
    return Value(as_data(array.astype(dtype, copy=False), where="constructor"), requires_grad=requires_grad, name=name)


def zeros(*shape, dtype=np.float32, requires_grad: bool = True, name=None) -> Value:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _make(np.zeros(_shape(shape)), dtype, requires_grad, name)


def ones(*shape, dtype=np.float32, requires_grad: bool = True, name=None) -> Value:
    """A tensor of ones."""
    return _make(np.ones(_shape(shape)), dtype, requires_grad, name)


def randn(*shape, seed=None, dtype=np.float32, requires_grad: bool = True, name=None) -> Value:
    """Standard normal samples.

    >>> from tinygrad_notes import randn
    >>> bool((randn(2, 3, seed=0).data == randn((2, 3), seed=0).data).all())
    True
    """
    return _make(rng(seed).standard_normal(_shape(shape)), dtype, requires_grad, name)


def uniform(*shape, low: float = 0.0, high: float = 1.0, seed=None, dtype=np.float32,
            requires_grad: bool = True, name=None) -> Value:
    """Samples uniform on [low, high)."""
    if not low < high:
        raise ValueError(f"uniform needs low < high, got low={low}, high={high}")
    return _make(rng(seed).uniform(low, high, _shape(shape)), dtype, requires_grad, name)
