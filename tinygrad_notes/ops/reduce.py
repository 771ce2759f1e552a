"""Reductions: sum, mean, max over an axis (or axes, or everything), with keepdims."""

from __future__ import annotations

import numpy as np

from .registry import register


def normalize_axes(axis, ndim: int, name: str):
    """Return ``axis`` as a sorted tuple of non-negative axes (``None`` stays ``None``)."""
    if axis is None:
        return None
    if type(axis) is int and -ndim <= axis < ndim:
        return (axis % ndim,)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{name}: axis {a} is out of range for an array of {ndim} dimensions")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: axis {axis} repeats an axis")
    return tuple(sorted(out))


def kept_shape(shape: tuple, axes) -> tuple:
    """``shape`` with the reduced ``axes`` set to 1 (all of them when ``axes`` is None)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _product(shape) -> int:
    n = 1
    for k in shape:
        n *= k
    return n


def spread(g, shape: tuple, kept: tuple, dtype):
    """Copy the reduced gradient ``g`` back over every element of ``shape`` (a fresh array)."""
    out = np.empty(shape, dtype=dtype)
    out[...] = np.reshape(g, kept)
    return out


def _sum_fwd(x, axis=None, keepdims=False):
    if type(x) is float:
        return x, None
    axes = normalize_axes(axis, x.ndim, "sum")
    return x.sum(axis=axes, keepdims=keepdims), kept_shape(x.shape, axes)


def _sum_bwd(g, kept, x):
    if kept is None:
        return (g,)
    return (spread(g, x.shape, kept, x.dtype),)


SUM = register("sum", _sum_fwd, _sum_bwd, equations=("BP4",))


def _mean_fwd(x, axis=None, keepdims=False):
    if type(x) is float:
        return x, None
    axes = normalize_axes(axis, x.ndim, "mean")
    kept = kept_shape(x.shape, axes)
    count = x.size // max(1, _product(kept)) if x.size else 0
    if count == 0:
        raise ValueError(f"mean of an empty selection (shape {x.shape}, axis {axis})")
    return np.true_divide(x.sum(axis=axes, keepdims=keepdims), count), (kept, count)


def _mean_bwd(g, saved, x):
    if saved is None:
        return (g,)
    kept, count = saved
    return (spread(np.multiply(g, 1.0 / count, dtype=x.dtype), x.shape, kept, x.dtype),)


MEAN = register("mean", _mean_fwd, _mean_bwd)


def _max_fwd(x, axis=None, keepdims=False):
    """Maximum; ties share the gradient equally (a valid subgradient, symmetric in ties)."""
    if type(x) is float:
        return x, None
    axes = normalize_axes(axis, x.ndim, "max")
    if x.size == 0:
        raise ValueError(f"max of an empty array (shape {x.shape})")
    kept = x.max(axis=axes, keepdims=True)
    out = kept if keepdims else (kept.reshape(()) if axes is None else kept.squeeze(axes))
    return out, (kept, axes)


def _max_bwd(g, saved, x):
    if saved is None:
        return (g,)
    kept, axes = saved
    mask = x == kept
    share = mask / mask.sum(axis=axes, keepdims=True)
    return (share * np.reshape(g, kept.shape),)


MAX = register("max", _max_fwd, _max_bwd)
