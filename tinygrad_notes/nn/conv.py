"""`Conv2d` (eq. 3.9-3.10, backward CONV-BP2-4) and the pooling layers, on NCHW tensors."""

from __future__ import annotations

import numpy as np

from ..creation import rng as _rng
from .init import initialize
from .module import Module
from .parameter import Parameter


def _pair(v, name: str) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or a pair, got {v!r}")
    return int(pair[0]), int(pair[1])


class Conv2d(Module):
    """2-D convolution (cross-correlation, as in eq. 3.9) of an (N, C, H, W) input.

    >>> import numpy as np
    >>> from tinygrad_notes import Value, nn
    >>> conv = nn.Conv2d(1, 4, 3, padding=1, seed=0)
    >>> conv(Value(np.zeros((2, 1, 8, 8), dtype=np.float32))).shape
    (2, 4, 8, 8)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, init: str = "fan_in_uniform", seed=None):
        super().__init__()
        kh, kw = _pair(kernel_size, "kernel_size")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = (kh, kw), _pair(stride, "stride"), _pair(padding, "padding")
        generator = _rng(seed)
        self.weight = Parameter(initialize((out_channels, in_channels, kh, kw), init, seed=generator))
        if bias:
            bound = 1.0 / np.sqrt(in_channels * kh * kw)
            self.bias = Parameter(generator.uniform(-bound, bound, out_channels).astype(np.float32))
        else:
            self.bias = None

    def forward(self, x):
        """Convolve ``x`` with the kernels (and add the bias)."""
        from ..functional_cnn import conv2d

        return conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")


class MaxPool2d(Module):
    """Max pooling over ``kernel_size`` windows (stride defaults to the kernel size).

    >>> import numpy as np
    >>> from tinygrad_notes import Value, nn
    >>> x = Value(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> nn.MaxPool2d(2)(x).data[0, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        """Pool ``x``."""
        from ..functional_cnn import max_pool2d

        return max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(MaxPool2d):
    """Average pooling; zero padding counts in the average (PyTorch's default).

    >>> import numpy as np
    >>> from tinygrad_notes import Value, nn
    >>> x = Value(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> nn.AvgPool2d(2)(x).data[0, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    >>> nn.AvgPool2d(2, padding=1)(Value(np.ones((1, 1, 2, 2)))).data[0, 0].tolist()  # padding counts
    [[0.25, 0.25], [0.25, 0.25]]
    """

    def forward(self, x):
        """Pool ``x``."""
        from ..functional_cnn import avg_pool2d

        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)
