"""Batch normalization layers (section 3.3.3): Algorithm 1 in training, eq. 3.24 in eval.

``gamma`` and ``beta`` are the scale and shift of eq. 3.20. The running mean and the
running (unbiased, n/(n-1)) variance are buffers, saved with the model.
"""

from __future__ import annotations

import numpy as np

from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    _ndim = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        if num_features <= 0:
            raise ValueError(f"{type(self).__name__} needs num_features > 0, got {num_features}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.gamma = Parameter(np.ones(num_features, dtype=np.float32))
        self.beta = Parameter(np.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))

    def forward(self, x):
        """Normalize with batch statistics (training) or the running ones (eval)."""
        from ..functional_cnn import batch_norm

        if x.ndim != self._ndim or x.shape[1] != self.num_features:
            expected = "(N, C)" if self._ndim == 2 else "(N, C, H, W)"
            raise ValueError(
                f"{type(self).__name__}({self.num_features}) expects input of shape {expected} with "
                f"C={self.num_features}, got {x.shape}"
            )
        return batch_norm(x, self.gamma, self.beta, self.running_mean, self.running_var,
                          training=self.training, momentum=self.momentum, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) features, per feature.

    >>> import numpy as np
    >>> from tinygrad_notes import Value, nn
    >>> bn = nn.BatchNorm1d(2)
    >>> y = bn(Value(np.array([[1.0, 10.0], [3.0, 30.0]], dtype=np.float32)))
    >>> y.data.round(3).tolist(), [round(m, 4) for m in bn.running_mean.tolist()]
    ([[-1.0, -1.0], [1.0, 1.0]], [0.2, 2.0])
    """

    _ndim = 2


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) maps, per channel over N, H and W.

    >>> import numpy as np
    >>> from tinygrad_notes import Value, nn
    >>> x = Value(np.random.default_rng(0).normal(3.0, 2.0, (4, 3, 5, 5)).astype(np.float32))
    >>> y = nn.BatchNorm2d(3)(x)
    >>> bool(np.allclose(y.data.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)), y.data.std(axis=(0, 2, 3)).round(2).tolist()
    (True, [1.0, 1.0, 1.0])
    """

    _ndim = 4
