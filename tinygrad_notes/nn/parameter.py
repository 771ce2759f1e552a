"""`Parameter`: a leaf `Value` that a `Module` owns and an optimizer updates."""

from __future__ import annotations

import numpy as np

from ..value import Value, as_data


class Parameter(Value):
    """A trainable leaf tensor (requires_grad=True); its ``name`` is set to its module path.

    >>> import numpy as np
    >>> from tinygrad_notes.nn import Parameter
    >>> p = Parameter(np.zeros((2, 3), dtype=np.float32))
    >>> p.requires_grad, p.shape, p.is_leaf
    (True, (2, 3), True)
    """

    __slots__ = ()

    def __init__(self, data, *, name: str | None = None, dtype=None):
        data = as_data(data, dtype, where="Parameter")
        if type(data) is float:
            data = np.asarray(data, dtype=np.float32)
        super().__init__(data, requires_grad=True, name=name)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.dtype}" + (f", name={self.name!r})" if self.name else ")")
