"""`Module`: a named tree of parameters, buffers and sub-modules, with train/eval modes and
a state dict.

Attributes are discovered in assignment order: a `Parameter` attribute is a parameter, a
`Module` (or a list/tuple of Modules) is a sub-module, and arrays registered with
:meth:`Module.register_buffer` are buffers (state that is saved but not trained, like
batch normalization's running statistics of eq. 3.24).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..tape import next_position
from .parameter import Parameter


class Module:
    """Base class of every layer and model.

    >>> from tinygrad_notes import nn
    >>> model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 1, seed=1))
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    training: bool = True

    def __init__(self):
        object.__setattr__(self, "_buffers", OrderedDict())
        self.training = True

    def __setattr__(self, name, value):
        if isinstance(value, Parameter) and value.name is None:
            value.name = name
        object.__setattr__(self, name, value)

    def __call__(self, *args, **kwargs):
        # The tape positions taken during this call: the graph drawing uses them to put
        # each op in the module that ran it (only the latest call is kept).
        start = next_position()
        out = self.forward(*args, **kwargs)
        object.__setattr__(self, "_span", (start, next_position()))
        return out

    def forward(self, *args, **kwargs):
        """Compute the module's output; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    # ------------------------------------------------------------------ the tree
    def named_children(self):
        """Yield ``(name, module)`` for each direct sub-module (list items as ``name.i``)."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}" if name != "_layers" else str(i), item

    def named_modules(self, prefix: str = ""):
        """Yield ``(path, module)`` for this module and every module below it."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self, prefix: str = ""):
        """Yield ``(path, parameter)``, e.g. ``('layer1.weight', p)``, each parameter once."""
        seen = set()
        for path, module in self.named_modules(prefix):
            for name, value in vars(module).items():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{path}.{name}" if path else name), value

    def parameters(self) -> list:
        """Every parameter of the tree, in a stable order."""
        return [p for _, p in self.named_parameters()]

    def register_buffer(self, name: str, array: np.ndarray) -> None:
        """Keep ``array`` as state of this module (saved and loaded, not trained)."""
        self._buffers[name] = array
        object.__setattr__(self, name, array)

    def named_buffers(self, prefix: str = ""):
        """Yield ``(path, array)`` for every buffer of the tree."""
        for path, module in self.named_modules(prefix):
            for name in module._buffers:
                yield (f"{path}.{name}" if path else name), getattr(module, name)

    def name_parameters(self) -> "Module":
        """Set every parameter's ``name`` to its full path (for errors and graph drawings)."""
        for path, p in self.named_parameters():
            p.name = path
        return self

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> "Module":
        """Training mode (batch statistics in batch norm, dropout active); returns self."""
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> "Module":
        """Evaluation mode (running statistics, no dropout); returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Reset every parameter's gradient to None."""
        for p in self.parameters():
            p.grad = None

    # ------------------------------------------------------------------ state
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter and buffer, keyed by path."""
        state = OrderedDict((name, np.array(p.data, copy=True)) for name, p in self.named_parameters())
        state.update((name, np.array(b, copy=True)) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state) -> None:
        """Copy ``state`` into the parameters and buffers, all or nothing.

        A missing key, an unexpected key, or a shape mismatch raises a KeyError/ValueError
        that lists every problem, and the module is left unchanged.
        """
        targets = OrderedDict((name, p.data) for name, p in self.named_parameters())
        targets.update(self.named_buffers())
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        mismatched = [
            f"{k}: checkpoint {np.shape(state[k])} vs model {targets[k].shape}"
            for k in targets if k in state and np.shape(state[k]) != targets[k].shape
        ]
        if missing or unexpected or mismatched:
            lines = []
            if missing:
                lines.append(f"missing keys: {', '.join(missing)}")
            if unexpected:
                lines.append(f"unexpected keys: {', '.join(unexpected)}")
            if mismatched:
                lines.append(f"shape mismatches: {'; '.join(mismatched)}")
            raise ValueError(f"load_state_dict into {type(self).__name__}: " + " | ".join(lines))
        for name, target in targets.items():
            target[...] = np.asarray(state[name], dtype=target.dtype)

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        body = "\n".join(f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children)
        return f"{type(self).__name__}(\n{body}\n)"

    def extra_repr(self) -> str:
        """The arguments shown in the module's repr."""
        return ""
