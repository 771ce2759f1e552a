"""Delta (``dL/dy``) laid out in rows of a padded width, as the conv backward passes read it.

Both the im2col path (:mod:`.conv2d`) and the direct weight gradient
(:mod:`.conv2d_direct`) take delta one channel per row with each output row spanning
``Wq`` columns, the extra columns zero, and sum each channel on the way (CONV-BP4).
"""

from __future__ import annotations

from numba import uint64

from ._jit import REDUCTION_MATH, jit


@jit(fastmath=REDUCTION_MATH)
def pack_delta(dy, dyw, sums, Ho, Wo, Wq, lo, hi):
    """``dyw[k, (n Ho + oh) Wq + ow] = dy[n, k, oh, ow]`` (junk columns 0) for the channels
    ``lo <= k < hi``: delta in the GEMMs' layout; adds each channel's sum to ``sums[k]``
    on the way (CONV-BP4). Columns of ``dyw`` past ``m Ho Wq`` are left as they are.

    >>> import numpy as np
    >>> dyw, sums = np.full((1, 7), 9.0), np.zeros(1)
    >>> pack_delta(np.ones((1, 1, 2, 2)), dyw, sums, 2, 2, 3, 0, 1)
    >>> dyw, sums
    (array([[1., 1., 0., 1., 1., 0., 9.]]), array([4.]))
    """
    m = dy.shape[0]
    for k in range(lo, hi):
        dst = dyw[k]
        s = 0.0
        for n in range(m):
            for oh in range(Ho):
                row = dy[n, k, oh]
                start = uint64((n * Ho + oh) * Wq)
                for ow in range(Wo):
                    v = row[ow]
                    dst[start + uint64(ow)] = v
                    s += v
                for ow in range(Wo, Wq):
                    dst[start + uint64(ow)] = 0
        sums[k] += s
