"""Shape ops: reshape, transpose, indexing, concat and stack. They move data; their
backward moves the gradient back (indexing adds it, so repeated indices accumulate)."""

from __future__ import annotations

import numpy as np

from .registry import register


def _need_tensor(x, name):
    if type(x) is float:
        raise TypeError(f"{name} needs a tensor Value, got a scalar")


def _reshape_fwd(x, shape):
    _need_tensor(x, "reshape")
    try:
        return x.reshape(shape), x.shape
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape shape {x.shape} ({x.size} elements) into {tuple(shape)}"
        ) from None


def _reshape_bwd(g, shape, x):
    return (np.reshape(g, shape),)


RESHAPE = register("reshape", _reshape_fwd, _reshape_bwd)


def _transpose_fwd(x, axes=None):
    _need_tensor(x, "transpose")
    if axes is None:
        axes = tuple(range(x.ndim))[::-1]
    axes = tuple(int(a) % x.ndim if -x.ndim <= a < x.ndim else a for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(
            f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}"
        )
    return x.transpose(axes), np.argsort(axes)


def _transpose_bwd(g, inverse, x):
    return (np.transpose(g, inverse),)


TRANSPOSE = register("transpose", _transpose_fwd, _transpose_bwd)


def _is_advanced(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (list, np.ndarray)) for p in parts)


def _getitem_fwd(x, index):
    _need_tensor(x, "getitem")
    try:
        out = x[index]
    except IndexError as e:
        raise IndexError(f"getitem: {e} (shape {x.shape}, index {index!r})") from None
    return out, (index, _is_advanced(index))


def _getitem_bwd(g, saved, x):
    index, advanced = saved
    gx = np.zeros(x.shape, dtype=x.dtype)
    if advanced:
        np.add.at(gx, index, g)
    else:
        gx[index] = g
    return (gx,)


GETITEM = register("getitem", _getitem_fwd, _getitem_bwd)


def _concat_fwd(*xs, axis=0):
    for x in xs:
        _need_tensor(x, "concat")
    try:
        out = np.concatenate(xs, axis=axis)
    except (ValueError, np.exceptions.AxisError) as e:
        shapes = ", ".join(str(x.shape) for x in xs)
        raise ValueError(f"concat along axis {axis}: {e} (shapes {shapes})") from None
    sizes = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return out, (sizes, axis)


def _concat_bwd(g, saved, *xs):
    sizes, axis = saved
    return tuple(np.split(g, sizes, axis=axis))


CONCAT = register("concat", _concat_fwd, _concat_bwd)


def _stack_fwd(*xs, axis=0):
    try:
        out = np.stack(xs, axis=axis)
    except (ValueError, np.exceptions.AxisError) as e:
        shapes = ", ".join(str(np.shape(x)) for x in xs)
        raise ValueError(f"stack along axis {axis}: {e} (shapes {shapes})") from None
    return out, (len(xs), axis)


def _stack_bwd(g, saved, *xs):
    count, axis = saved
    moved = np.moveaxis(g, axis, 0)
    return tuple(moved[i] for i in range(count))


STACK = register("stack", _stack_fwd, _stack_bwd)
