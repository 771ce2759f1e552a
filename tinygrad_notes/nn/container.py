"""Containers: `Sequential` (one module after another) and `Residual` (y = F(x) + x, the
residual learning of section 3.4)."""

from __future__ import annotations

from .module import Module


class Sequential(Module):
    """Apply modules in order; they are named "0", "1", ... in parameter paths.

    >>> from tinygrad_notes import nn
    >>> len(nn.Sequential(nn.Linear(2, 2, seed=0), nn.Tanh()))
    2
    """

    def __init__(self, *modules: Module):
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: item {i} is a {type(m).__name__}, not a Module")
        self._layers = list(modules)

    def forward(self, x):
        """Feed ``x`` through every module in turn."""
        for layer in self._layers:
            x = layer(x)
        return x

    def __len__(self) -> int:
        return len(self._layers)

    def __getitem__(self, i):
        return self._layers[i]

    def __iter__(self):
        return iter(self._layers)


class Residual(Module):
    """y = F(x) + shortcut(x): the shortcut is x itself, or ``projection(x)`` when F changes the shape.

    Section 3.4: F learns the residual H(x) - x, and pushing F to zero is easier than
    fitting the identity with a plain stack.

    >>> import numpy as np
    >>> from tinygrad_notes import Value, nn
    >>> body = nn.Linear(2, 2, seed=0)
    >>> body.weight.data[:], body.bias.data[:] = 0.0, 0.0  # F = 0: the block is the identity
    >>> nn.Residual(body)(Value([[1.0, 2.0]])).data.tolist()
    [[1.0, 2.0]]
    >>> nn.Residual(nn.Linear(2, 3, seed=0), projection=nn.Linear(2, 3, seed=1))(Value([[1.0, 2.0]])).shape
    (1, 3)
    """

    def __init__(self, body: Module, projection: Module | None = None):
        super().__init__()
        self.body = body
        self.projection = projection

    def forward(self, x):
        """F(x) + x (or + projection(x))."""
        fx = self.body(x)
        shortcut = self.projection(x) if self.projection is not None else x
        if fx.shape != shortcut.shape:
            raise ValueError(
                f"Residual: the body maps {x.shape} to {fx.shape}, which cannot be added to the "
                f"shortcut of shape {shortcut.shape}; pass projection= (e.g. a Linear or 1x1 Conv2d)"
            )
        return fx + shortcut
