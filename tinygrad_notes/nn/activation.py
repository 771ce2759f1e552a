"""Activation modules: sigma of eq. 3.1, whose derivative enters BP1 and BP2."""

from __future__ import annotations

from .module import Module


class ReLU(Module):
    """max(x, 0).

    >>> from tinygrad_notes import Value, nn
    >>> nn.ReLU()(Value([-1.0, 0.5, 2.0])).data.tolist()
    [0.0, 0.5, 2.0]
    """

    def forward(self, x):
        """Apply ReLU elementwise."""
        return x.relu()


class Sigmoid(Module):
    """1 / (1 + exp(-x)).

    >>> from tinygrad_notes import Value, nn
    >>> [round(s, 4) for s in nn.Sigmoid()(Value([-2.0, 0.0, 2.0])).data.tolist()]
    [0.1192, 0.5, 0.8808]
    """

    def forward(self, x):
        """Apply the sigmoid elementwise."""
        return x.sigmoid()


class Tanh(Module):
    """tanh(x).

    >>> from tinygrad_notes import Value, nn
    >>> [round(t, 4) for t in nn.Tanh()(Value([-1.0, 0.0, 1.0])).data.tolist()]
    [-0.7616, 0.0, 0.7616]
    """

    def forward(self, x):
        """Apply tanh elementwise."""
        return x.tanh()
