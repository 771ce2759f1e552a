"""Elementwise math: exp, log, sqrt, abs, clip (floats use `math`, arrays use numpy)."""

from __future__ import annotations

import math

import numpy as np

from .registry import register


def _exp_fwd(x):
    out = math.exp(x) if type(x) is float else np.exp(x)
    return out, out


def _exp_bwd(g, out, x):
    return (g * out,)


EXP = register("exp", _exp_fwd, _exp_bwd)


def _log_fwd(x):
    if type(x) is float:
        if x <= 0.0:
            raise ValueError(f"log needs x > 0, got {x!r}")
        return math.log(x), None
    return np.log(x), None


def _log_bwd(g, saved, x):
    return (g / x,)


LOG = register("log", _log_fwd, _log_bwd)


def _sqrt_fwd(x):
    if type(x) is float:
        if x < 0.0:
            raise ValueError(f"sqrt needs x >= 0, got {x!r}")
        out = math.sqrt(x)
    else:
        out = np.sqrt(x)
    return out, out


def _sqrt_bwd(g, out, x):
    return (g * 0.5 / out,)


SQRT = register("sqrt", _sqrt_fwd, _sqrt_bwd)


def _abs_fwd(x):
    return abs(x), None


def _abs_bwd(g, saved, x):
    if type(x) is float:
        return (g * (1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)),)
    return (g * np.sign(x),)


ABS = register("abs", _abs_fwd, _abs_bwd)


def _clip_fwd(x, low=None, high=None):
    """Clamp to [low, high]; the gradient passes where low <= x <= high (as in PyTorch)."""
    if low is not None and high is not None and low > high:
        raise ValueError(f"clip needs low <= high, got low={low!r}, high={high!r}")
    if type(x) is float:
        out = x
        if low is not None and out < low:
            out = float(low)
        if high is not None and out > high:
            out = float(high)
        return out, (low, high)
    return np.clip(x, low, high), (low, high)


def _clip_bwd(g, saved, x):
    low, high = saved
    if type(x) is float:
        inside = (low is None or x >= low) and (high is None or x <= high)
        return (g if inside else 0.0,)
    mask = np.ones(x.shape, dtype=bool)
    if low is not None:
        mask &= x >= low
    if high is not None:
        mask &= x <= high
    return (g * mask,)


CLIP = register("clip", _clip_fwd, _clip_bwd)
