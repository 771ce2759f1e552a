"""The table of differentiable ops: each a forward and a backward on plain data.

An op never sees a `Value`. ``forward(*inputs, **params)`` takes Python floats or
ndarrays and returns ``(output, saved)``; ``backward(g, saved, *inputs)`` is the
vector-Jacobian product: given the gradient of the output, what the forward saved and the
inputs' data, it returns one gradient per input (``None`` for an input that has none). Gradients may keep the broadcast shape: the tape reduces
them to each input's shape in one place (`tinygrad_notes.tape.fit_gradient`).

``equations`` names the labels of the notes that the backward implements, for the
`verify` report and the graph drawing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True, slots=True)
class Op:
    """A differentiable op: its name, forward, backward and the notes' labels it cites."""

    name: str
    forward: Callable
    backward: Callable
    equations: tuple = ()
    symbol: str = ""


OPS: dict[str, Op] = {}


def register(name: str, forward: Callable, backward: Callable, equations=(), symbol="") -> Op:
    """Create an :class:`Op` and add it to :data:`OPS` under ``name``."""
    if name in OPS:
        raise ValueError(f"op {name!r} is registered twice")
    op = Op(name, forward, backward, tuple(equations), symbol)
    OPS[name] = op
    return op


def lookup(name: str) -> Op:
    """Return the registered op called ``name`` (KeyError lists the known ones)."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}; known ops: {sorted(OPS)}") from None
