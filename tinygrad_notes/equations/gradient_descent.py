"""Gradient descent (notes 2.2, eq. 2.12-2.15), in numpy.

The model used to check it is logistic regression, L(w) = (1/N) sum_i log(1 + exp(-y_i x_i.w))
with labels y_i in {-1, +1}: its gradient is closed form and its Hessian is bounded by
lambda = ||X||_2^2 / (4N), which turns the "o(rho)" of eq. 2.12 into a number:
|Delta L - grad L . Delta w| <= lambda/2 ||Delta w||^2.
"""

from __future__ import annotations

import numpy as np


def logistic_loss(w, X, y) -> float:
    """L(w) = (1/N) sum_i log(1 + exp(-y_i x_i . w)), computed without overflow."""
    return float(np.mean(np.logaddexp(0.0, -y * (X @ w))))


def logistic_gradient(w, X, y):
    """nabla_w L = -(1/N) sum_i y_i x_i sigmoid(-y_i x_i . w)."""
    margins = y * (X @ w)
    return -(X.T @ (y / (1.0 + np.exp(margins)))) / X.shape[0]


def smoothness(X) -> float:
    """A bound lambda on the Hessian of :func:`logistic_loss`: ||X||_2^2 / (4N)."""
    return float(np.linalg.norm(X, 2) ** 2 / (4 * X.shape[0]))


def first_order_change(grad, delta_w) -> float:
    """Eq. 2.12-2.13: Delta L ~ sum_i dL/dw_i Delta w_i = nabla L^T Delta w."""
    return float(np.dot(np.ravel(grad), np.ravel(delta_w)))


def descent_direction(grad, eta: float):
    """Eq. 2.14: Delta w = -eta nabla L."""
    return -eta * np.asarray(grad)


def predicted_change(grad, eta: float) -> float:
    """Eq. 2.14: Delta L ~ -eta ||nabla L||_2^2 <= 0."""
    return -eta * float(np.sum(np.asarray(grad) ** 2))


def descend(w, gradient, eta: float, steps: int):
    """Eq. 2.15, ``steps`` times: w <- w - eta nabla L(w). Returns every iterate."""
    path = [np.asarray(w, dtype=np.float64)]
    for _ in range(steps):
        path.append(path[-1] - eta * gradient(path[-1]))
    return path
