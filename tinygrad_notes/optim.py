"""Optimizers and learning-rate schedules.

`SGD` is the update of eq. 2.15, w <- w - eta * grad, with optional momentum and weight
decay; `Adam` follows Kingma & Ba (2015). Updates are in place on ``Parameter.data``.
"""

from __future__ import annotations

import math

import numpy as np


class Optimizer:
    """Holds the parameters and the learning rate; ``step()`` applies one update.

    >>> import numpy as np
    >>> from tinygrad_notes.nn import Parameter
    >>> class SignSGD(Optimizer):  # a new optimizer defines step()
    ...     def step(self):
    ...         for p in self.params:
    ...             p.data -= self.lr * np.sign(p.grad)
    >>> w = Parameter(np.array([1.0, 1.0], dtype=np.float32))
    >>> w.grad = np.array([3.0, -0.5], dtype=np.float32)
    >>> SignSGD([w], lr=0.5).step()
    >>> w.data.tolist()
    [0.5, 1.5]
    """

    def __init__(self, params, lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not lr > 0:
            raise ValueError(f"{type(self).__name__} needs lr > 0, got {lr}")
        self.lr = float(lr)

    def zero_grad(self) -> None:
        """Reset every parameter's gradient."""
        for p in self.params:
            p.grad = None

    def _grads(self):
        for p in self.params:
            g = p.grad
            if g is None:
                continue
            if not np.all(np.isfinite(g)):
                raise FloatingPointError(
                    f"{type(self).__name__}.step: the gradient of {p.name or 'a parameter'} "
                    f"(shape {p.shape}) has NaN or inf; lower the learning rate or run backward "
                    f"under tinygrad_notes.detect_anomaly() to find the op"
                )
            yield p, g

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        raise NotImplementedError


class SGD(Optimizer):
    """w <- w - lr * (grad + weight_decay * w), with momentum v <- momentum * v + that (eq. 2.15).

    >>> import numpy as np
    >>> from tinygrad_notes import optim
    >>> from tinygrad_notes.nn import Parameter
    >>> w = Parameter(np.array([1.0, 2.0], dtype=np.float32))
    >>> w.grad = np.array([0.5, -1.0], dtype=np.float32)
    >>> optim.SGD([w], lr=0.1).step()
    >>> w.data.tolist()
    [0.949999988079071, 2.0999999046325684]
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD needs 0 <= momentum < 1, got {momentum}")
        self.momentum, self.weight_decay = momentum, weight_decay
        self._velocity = {}

    def step(self) -> None:
        """One SGD update."""
        for p, g in self._grads():
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.momentum:
                v = self._velocity.get(id(p))
                if v is None:
                    v = self._velocity[id(p)] = np.array(g, copy=True)
                else:
                    v *= self.momentum
                    v += g
                g = v
            p.data -= self.lr * g


class Adam(Optimizer):
    """Adam: bias-corrected first and second moments of the gradient (Kingma & Ba, 2015).

    >>> import numpy as np
    >>> from tinygrad_notes import optim
    >>> from tinygrad_notes.nn import Parameter
    >>> w = Parameter(np.array([1.0, -1.0], dtype=np.float32))
    >>> w.grad = np.array([10.0, -0.1], dtype=np.float32)
    >>> optim.Adam([w], lr=0.1).step()
    >>> [round(x, 4) for x in w.data.tolist()]  # the first step moves each weight by lr, whatever the gradient's size
    [0.9, -0.9]
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"Adam needs betas in [0, 1), got {betas}")
        self.betas, self.eps, self.weight_decay = (b1, b2), eps, weight_decay
        self._moments = {}
        self.t = 0

    def step(self) -> None:
        """One Adam update."""
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        for p, g in self._grads():
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            m, v = self._moments.setdefault(id(p), (np.zeros_like(p.data), np.zeros_like(p.data)))
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            p.data -= (self.lr / c1) * m / (np.sqrt(v / c2) + self.eps)


class StepLR:
    """Multiply the learning rate by ``gamma`` every ``step_size`` calls of ``step()``.

    >>> import numpy as np
    >>> from tinygrad_notes import optim
    >>> from tinygrad_notes.nn import Parameter
    >>> opt = optim.SGD([Parameter(np.zeros(1, dtype=np.float32))], lr=1.0)
    >>> schedule = optim.StepLR(opt, step_size=2, gamma=0.5)
    >>> [schedule.step() for epoch in range(5)], opt.lr
    ([1.0, 0.5, 0.5, 0.25, 0.25], 0.25)
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        if step_size <= 0:
            raise ValueError(f"StepLR needs step_size > 0, got {step_size}")
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        self.base_lr, self.count = optimizer.lr, 0

    def step(self) -> float:
        """Advance one epoch (or step) and return the new learning rate."""
        self.count += 1
        self.optimizer.lr = self.base_lr * self.gamma ** (self.count // self.step_size)
        return self.optimizer.lr


class CosineLR:
    """Cosine annealing from the base rate to ``min_lr`` over ``total`` calls of ``step()``.

    >>> import numpy as np
    >>> from tinygrad_notes import optim
    >>> from tinygrad_notes.nn import Parameter
    >>> opt = optim.SGD([Parameter(np.zeros(1, dtype=np.float32))], lr=1.0)
    >>> schedule = optim.CosineLR(opt, total=4, min_lr=0.1)
    >>> [round(schedule.step(), 4) for epoch in range(5)]  # then it stays at min_lr
    [0.8682, 0.55, 0.2318, 0.1, 0.1]
    """

    def __init__(self, optimizer: Optimizer, total: int, min_lr: float = 0.0):
        if total <= 0:
            raise ValueError(f"CosineLR needs total > 0, got {total}")
        self.optimizer, self.total, self.min_lr = optimizer, total, min_lr
        self.base_lr, self.count = optimizer.lr, 0

    def step(self) -> float:
        """Advance one epoch (or step) and return the new learning rate."""
        self.count = min(self.count + 1, self.total)
        cos = 0.5 * (1.0 + math.cos(math.pi * self.count / self.total))
        self.optimizer.lr = self.min_lr + (self.base_lr - self.min_lr) * cos
        return self.optimizer.lr
