"""ReLU forward and backward (eq. 3.1's sigma and the sigma' of BP1/BP2) for large arrays,
one pass over memory, split across the kernel threads (:mod:`._threads`).

numpy's ``np.maximum(x, 0)`` runs on one thread, and its backward ``g * (x > 0)`` makes
two passes and a boolean temporary. These give the same numbers, elementwise, NaNs
included: the forward keeps ``x`` where ``x > 0`` or ``x`` is NaN, else gives +0.0 (as
numpy's maximum does for -0.0 too), the backward multiplies ``g`` by
1 or 0 (so a NaN or infinite ``g`` still gives NaN where ``x <= 0``, as the product
does). Measured on the 2-core machine, float32, ms, numpy vs these, for the CNN's
first activation (64 x 16 x 28 x 28): forward 0.40-0.46 vs 0.27-0.33, backward 0.86-1.06
vs 0.38-0.42. Waking the kernel threads costs 50-90 us, so small arrays stay on numpy
(the thresholds are in ``tinygrad_notes.ops.activation``).
"""

from __future__ import annotations

import numpy as np
from numba import uint64

from ._jit import jit
from ._threads import run_split

#: Below this many elements a kernel runs on the calling thread alone.
MIN_ELEMENTS_PER_THREAD = 1 << 15


@jit
def _relu_forward(x, y, lo, hi):
    zero = x.dtype.type(0)
    for q in range(lo, hi):
        i = uint64(q)  # unsigned: no wraparound checks, so LLVM vectorizes (not gathers)
        v = x[i]
        y[i] = v if (v > zero or v != v) else zero


@jit
def _relu_backward(g, x, out, lo, hi):
    zero, one = x.dtype.type(0), x.dtype.type(1)
    for q in range(lo, hi):
        i = uint64(q)
        out[i] = g[i] * (one if x[i] > zero else zero)


def relu_forward(x: np.ndarray) -> np.ndarray:
    """``np.maximum(x, 0)`` of a contiguous float array, on the kernel threads.

    >>> relu_forward(np.array([-1.0, 0.5, np.nan]))
    array([0. , 0.5, nan])
    """
    y = np.empty_like(x)
    run_split(_relu_forward, x.size, (x.reshape(-1), y.reshape(-1)), min_per_thread=MIN_ELEMENTS_PER_THREAD)
    return y


def relu_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``g * (x > 0)`` (sigma'(z) of BP1/BP2 for ReLU) of two contiguous float arrays of
    one shape and dtype, on the kernel threads.

    >>> relu_backward(np.array([2.0, 3.0, np.inf]), np.array([1.0, -1.0, 0.0]))
    array([ 2.,  0., nan])
    """
    out = np.empty_like(g)
    run_split(_relu_backward, g.size, (g.reshape(-1), x.reshape(-1), out.reshape(-1)),
              min_per_thread=MIN_ELEMENTS_PER_THREAD)
    return out
