"""Activation modules: sigma of eq. 3.1, whose derivative enters BP1 and BP2."""

from __future__ import annotations

from .module import Module


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x):
        """Apply ReLU elementwise."""
        return x.relu()


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x):
        """Apply the sigmoid elementwise."""
        return x.sigmoid()


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x):
        """Apply tanh elementwise."""
        return x.tanh()
