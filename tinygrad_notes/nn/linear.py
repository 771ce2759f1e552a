"""`Linear`: the fully connected layer z = W a + b of eq. 3.2, for a batch of rows."""

from __future__ import annotations

import numpy as np

from ..creation import rng as _rng
from .init import initialize
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """z = a W^T + b for a batch ``a`` of shape (N, in); W has shape (out, in) as in the notes.

    The backward of the matmul is BP2 (dL/da = delta W) and BP3 (dL/dW = delta^T a), and
    the bias gradient sums delta over the batch (BP4).

    >>> import numpy as np
    >>> from tinygrad_notes import Value, nn
    >>> layer = nn.Linear(3, 2, seed=0)
    >>> layer(Value(np.ones((4, 3), dtype=np.float32))).shape
    (4, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: str = "fan_in_uniform", seed=None):
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear needs positive sizes, got in={in_features}, out={out_features}")
        self.in_features, self.out_features = in_features, out_features
        generator = _rng(seed)
        self.weight = Parameter(initialize((out_features, in_features), init, seed=generator))
        if bias:
            bound = 1.0 / np.sqrt(in_features)
            self.bias = Parameter(generator.uniform(-bound, bound, out_features).astype(np.float32))
        else:
            self.bias = None

    def forward(self, x):
        """Apply the layer to ``x`` of shape (..., in_features)."""
        if x.shape[-1:] != (self.in_features,):
            raise ValueError(
                f"Linear({self.in_features}, {self.out_features}): input shape {x.shape} must end "
                f"in {self.in_features}"
            )
        z = x @ self.weight.T
        return z + self.bias if self.bias is not None else z

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"
