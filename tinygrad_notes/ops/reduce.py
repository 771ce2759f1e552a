"""Reductions: sum, mean, max over an axis (or axes, or everything), with keepdims."""

from __future__ import annotations

import numpy as np

from .registry import register


def normalize_axes(axis, ndim: int, name: str):
    """Return ``axis`` as a sorted tuple of non-negative axes (``None`` stays ``None``)."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{name}: axis {a} is out of range for an array of {ndim} dimensions")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: axis {axis} repeats an axis")
    return tuple(sorted(out))


def _expand_back(g, shape, axes, keepdims):
    """Put the reduced axes back (size 1) so that ``g`` broadcasts against ``shape``."""
    g = np.asarray(g)
    if axes is None:
        return g.reshape((1,) * len(shape))
    if not keepdims:
        g = np.expand_dims(g, axes)
    return g


def _sum_fwd(x, axis=None, keepdims=False):
    if type(x) is float:
        return x, None
    axes = normalize_axes(axis, x.ndim, "sum")
    return x.sum(axis=axes, keepdims=keepdims), (x.shape, axes, keepdims)


def _sum_bwd(g, saved, x):
    if saved is None:
        return (g,)
    shape, axes, keepdims = saved
    return (np.broadcast_to(_expand_back(g, shape, axes, keepdims), shape),)


SUM = register("sum", _sum_fwd, _sum_bwd, equations=("BP4",))


def _mean_fwd(x, axis=None, keepdims=False):
    if type(x) is float:
        return x, None
    axes = normalize_axes(axis, x.ndim, "mean")
    count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
    if count == 0:
        raise ValueError(f"mean of an empty selection (shape {x.shape}, axis {axis})")
    return x.mean(axis=axes, keepdims=keepdims), (x.shape, axes, keepdims, count)


def _mean_bwd(g, saved, x):
    if saved is None:
        return (g,)
    shape, axes, keepdims, count = saved
    g = _expand_back(g, shape, axes, keepdims) / count
    return (np.broadcast_to(g, shape),)


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
    return out, (kept, axes, keepdims)


def _max_bwd(g, saved, x):
    if saved is None:
        return (g,)
    kept, axes, keepdims = saved
    mask = x == kept
    share = mask / mask.sum(axis=axes, keepdims=True)
    return (share * _expand_back(g, x.shape, axes, keepdims),)


MAX = register("max", _max_fwd, _max_bwd)
