"""Differentiable ops, forward and backward side by side, grouped by family.

Importing this package registers every op in :data:`registry.OPS`.
"""

from . import activation, arithmetic, batchnorm, conv, elementwise, linalg, loss, pool, reduce, shape  # noqa: F401
from .registry import OPS, Op, lookup, register

__all__ = ["OPS", "Op", "lookup", "register"]
