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
    """Reseed the generator used by ``randn``/``uniform`` calls without ``seed=``.

    >>> from tinygrad_notes import manual_seed, randn
    >>> manual_seed(0)
    >>> a = randn(3).data
    >>> manual_seed(0)
    >>> a.tolist() == randn(3).data.tolist()
    True
    """
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
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``.

    >>> from tinygrad_notes import zeros
    >>> z = zeros(2, 3)
    >>> z.shape, z.dtype.name, z.requires_grad, zeros((2, 3)).data.tolist()
    ((2, 3), 'float32', True, [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    """
    return _make(np.zeros(_shape(shape)), dtype, requires_grad, name)


def ones(*shape, dtype=np.float32, requires_grad: bool = True, name=None) -> Value:
    """A tensor of ones.

    >>> import numpy as np
    >>> from tinygrad_notes import ones
    >>> b = ones(3, dtype=np.float64, requires_grad=False, name="bias")
    >>> b.data.tolist(), b.dtype.name, b.requires_grad, b.name
    ([1.0, 1.0, 1.0], 'float64', False, 'bias')
    """
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
    """Samples uniform on [low, high).

    >>> from tinygrad_notes import uniform
    >>> u = uniform(1000, low=-1.0, high=1.0, seed=0)
    >>> u.shape, bool((u.data >= -1.0).all() and (u.data < 1.0).all())
    ((1000,), True)
    >>> uniform(2, 3, seed=7).data.tolist() == uniform((2, 3), seed=7).data.tolist()  # seeded: reproducible
    True
    """
    if not low < high:
        raise ValueError(f"uniform needs low < high, got low={low}, high={high}")
    return _make(rng(seed).uniform(low, high, _shape(shape)), dtype, requires_grad, name)
