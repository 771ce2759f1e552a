"""`Flatten` and `Dropout`."""

from __future__ import annotations

import numpy as np

from ..creation import rng as _rng
from .module import Module


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` (by default all but the batch axis).

    >>> import numpy as np
    >>> from tinygrad_notes import Value, nn
    >>> x = Value(np.zeros((2, 3, 4, 4)))
    >>> nn.Flatten()(x).shape, nn.Flatten(2)(x).shape
    ((2, 48), (2, 3, 16))
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        """Flatten ``x``."""
        return x.flatten(self.start_dim, self.end_dim)


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1-p).

    In eval mode it is the identity. ``seed`` makes the masks reproducible.

    >>> import numpy as np
    >>> from tinygrad_notes import Value, nn
    >>> drop, x = nn.Dropout(0.5, seed=0), Value(np.ones(1000, dtype=np.float32))
    >>> sorted(set(drop(x).data.tolist()))  # dropped, or kept and scaled by 1 / (1 - p)
    [0.0, 2.0]
    >>> drop.eval()(x) is x
    True
    """

    def __init__(self, p: float = 0.5, seed=None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout needs 0 <= p < 1, got {p}")
        self.p = p
        self._generator = np.random.default_rng(seed) if seed is not None else _rng(None)

    def forward(self, x):
        """Drop elements of ``x`` in training mode."""
        if not self.training or self.p == 0.0:
            return x
        keep = self._generator.random(x.shape) >= self.p
        return x * (keep.astype(x.dtype) / np.asarray(1.0 - self.p, dtype=x.dtype))

    def extra_repr(self) -> str:
        return f"p={self.p}"
