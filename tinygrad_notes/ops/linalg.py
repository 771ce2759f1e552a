"""Matrix product with numpy's semantics (1-D, 2-D and broadcast batches).

For a fully connected layer z = W a + b (eq. 3.2), the gradient of the left factor is
BP2's (W^T delta, eq. 3.5) and that of the weights is BP3's (delta a^T, eq. 3.6).
"""

from __future__ import annotations

import numpy as np

from .registry import register


def _matmul_fwd(a, b):
    if type(a) is float or type(b) is float:
        raise TypeError("matmul needs tensors of at least 1 dimension; use * for scalars")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: 0-d operands {a.shape} @ {b.shape}; use * instead")
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner_b:
        raise ValueError(
            f"matmul: shapes {a.shape} @ {b.shape} do not fit: the last axis of the left "
            f"({a.shape[-1]}) must equal the {'only' if b.ndim == 1 else 'second-to-last'} "
            f"axis of the right ({inner_b})"
        )
    try:
        return np.matmul(a, b), None
    except ValueError as e:
        raise ValueError(f"matmul: {a.shape} @ {b.shape}: batch axes do not broadcast ({e})") from None


def _matmul_bwd(g, saved, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * b, g * a
    if a.ndim == 1:
        g_row = np.expand_dims(g, -2)
        ga = np.matmul(g_row, np.swapaxes(b, -1, -2))[..., 0, :]
        gb = np.expand_dims(a, -1) * g_row
        return ga, gb
    if b.ndim == 1:
        g_col = np.expand_dims(g, -1)
        ga = g_col * b
        gb = np.matmul(np.swapaxes(a, -1, -2), g_col)[..., 0]
        return ga, gb
    return np.matmul(g, np.swapaxes(b, -1, -2)), np.matmul(np.swapaxes(a, -1, -2), g)


MATMUL = register("matmul", _matmul_fwd, _matmul_bwd, equations=("BP2", "BP3"), symbol="@")
