"""Arithmetic: + - * / ** and negation, on Python floats and ndarrays alike.

Gradients keep the broadcast shape; the tape sums them down to each input's shape.
"""

from __future__ import annotations

import math

import numpy as np

from .registry import register


def _add_fwd(a, b):
    return a + b, None


def _add_bwd(g, saved, a, b):
    return g, g


ADD = register("add", _add_fwd, _add_bwd, symbol="+")


def _sub_fwd(a, b):
    return a - b, None


def _sub_bwd(g, saved, a, b):
    return g, -g


SUB = register("sub", _sub_fwd, _sub_bwd, symbol="-")


def _mul_fwd(a, b):
    return a * b, None


def _mul_bwd(g, saved, a, b):
    return g * b, g * a


MUL = register("mul", _mul_fwd, _mul_bwd, symbol="*")


def _div_fwd(a, b):
    return a / b, None


def _div_bwd(g, saved, a, b):
    gb = g / b
    return gb, -gb * a / b


DIV = register("div", _div_fwd, _div_bwd, symbol="/")


def _neg_fwd(a):
    return -a, None


def _neg_bwd(g, saved, a):
    return (-g,)


NEG = register("neg", _neg_fwd, _neg_bwd, symbol="-")


def _pow_fwd(a, exponent):
    """x ** p for a constant exponent p; d/dx = p * x**(p-1)."""
    out = a**exponent
    if type(out) is complex:
        raise ValueError(
            f"{a!r} ** {exponent!r} is not a real number (negative base, fractional exponent)"
        )
    return out, exponent


def _pow_bwd(g, exponent, a):
    return (g * (exponent * a ** (exponent - 1)),)


POW = register("pow", _pow_fwd, _pow_bwd, symbol="**")


def _pow_value_fwd(a, b):
    """a ** b where the exponent is differentiable too: d/db = a**b * log(a)."""
    out = a**b
    if type(out) is complex:
        raise ValueError(f"{a!r} ** {b!r} is not a real number (negative base)")
    return out, out


def _pow_value_bwd(g, out, a, b):
    ga = g * (b * a ** (b - 1))
    if type(a) is float:
        log_a = math.log(a) if a > 0.0 else math.nan  # d/db a**b is undefined for a <= 0
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            log_a = np.log(a)
    return ga, g * out * log_a


POW_VALUE = register("pow_value", _pow_value_fwd, _pow_value_bwd, symbol="**")
