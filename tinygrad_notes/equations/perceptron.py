"""The perceptron (notes 2.1, eq. 2.1-2.11), in numpy: the model, its loss and gradient,
the primal and the dual learning algorithms, and Novikoff's bound (beyond the notes).

Examples are rows of ``X``; labels ``y`` are +1 or -1. Both algorithms visit the examples
in order 0, 1, ..., N-1, 0, 1, ... ("choose one example" of step (b)). On data that is
not linearly separable (XOR) they would run forever: they stop when the whole state
repeats at the same position (then the future repeats too: the run is a cycle with no
end) or after ``max_epochs`` passes, and say why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([-1.0, 1.0, 1.0, -1.0])


def sign(x):
    """Eq. 2.2: +1 for x >= 0, -1 for x < 0."""
    return np.where(np.asarray(x) >= 0, 1.0, -1.0)


def predict(w, b: float, X):
    """Eq. 2.1: f(x) = sign(w^T x + b) for every row of ``X``."""
    return sign(X @ w + b)


def distance(w, b: float, x0) -> float:
    """Eq. 2.3: the distance |w^T x0 + b| / ||w|| from ``x0`` to the hyperplane."""
    return float(abs(np.dot(w, x0) + b) / np.linalg.norm(w))


def misclassified(w, b: float, X, y):
    """The set M as a boolean mask: the examples with y_i (w^T x_i + b) <= 0 (step (c))."""
    return y * (X @ w + b) <= 0


def total_distance(w, b: float, X, y) -> float:
    """Eq. 2.4: -(1/||w||) sum_{x_i in M} y_i (w^T x_i + b)."""
    m = misclassified(w, b, X, y)
    return float(-(y[m] * (X[m] @ w + b)).sum() / np.linalg.norm(w))


def perceptron_loss(w, b: float, X, y, mask=None) -> float:
    """Eq. 2.5 (and the objective of eq. 2.6): L(w, b) = -sum_{x_i in M} y_i (w^T x_i + b);
    ``mask`` fixes M (eq. 2.7 assumes it fixed), by default M of (w, b)."""
    m = misclassified(w, b, X, y) if mask is None else mask
    return float(-(y[m] * (X[m] @ w + b)).sum()) + 0.0  # + 0.0 turns -0.0 into 0.0


def perceptron_gradient(w, b: float, X, y, mask=None):
    """Eq. 2.7: nabla_w L = -sum_{M} y_i x_i, nabla_b L = -sum_{M} y_i, for a fixed M."""
    m = misclassified(w, b, X, y) if mask is None else mask
    return -(y[m, None] * X[m]).sum(axis=0), float(-y[m].sum())


def perceptron_update(w, b: float, x_i, y_i: float, eta: float):
    """Eq. 2.8 / 2.9: w <- w + eta y_i x_i, b <- b + eta y_i."""
    return w + eta * y_i * x_i, b + eta * y_i


@dataclass
class Run:
    """The outcome of a perceptron run: the hyperplane, how it ended and why."""

    w: np.ndarray
    b: float
    converged: bool
    cycled: bool
    updates: np.ndarray  # n_i: how many times example i triggered an update
    epochs: int
    explanation: str
    alpha: np.ndarray | None = None
    history: list = field(default_factory=list)  # (w, b) after every update

    @property
    def total_updates(self) -> int:
        """The number of mistakes made, sum_i n_i."""
        return int(self.updates.sum())


def _ending(kind: str, epochs: int, updates: int) -> str:
    if kind == "converged":
        return f"converged: no misclassified point after {updates} updates in {epochs} epochs"
    if kind == "cycled":
        return (f"cycling: after {updates} updates the state (hyperplane and position) repeated, so the run "
                f"repeats forever without separating the data; the data is not linearly separable")
    return f"stopped after {epochs} epochs and {updates} updates without separating the data"


def perceptron_primal(X, y, eta: float = 1.0, w0=None, b0: float = 0.0, max_epochs: int = 1000) -> Run:
    """The learning algorithm of 2.1.2, steps (a)-(d) with eq. 2.9, in cyclic order.

    It has converged when N visits in a row made no update. A state (w, b, position)
    seen before, with updates since, means the run is periodic: it cycles forever.
    """
    n = len(y)
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=np.float64)
    b = float(b0)
    updates = np.zeros(n, dtype=int)
    seen, history = set(), []
    since_update = 0
    for step in range(max_epochs * n):
        epoch = step // n + 1
        if since_update == n:
            return Run(w, b, True, False, updates, epoch, _ending("converged", epoch, updates.sum()), None, history)
        i = step % n
        state = (w.tobytes(), b, i)
        if state in seen:
            return Run(w, b, False, True, updates, epoch, _ending("cycled", epoch, updates.sum()), None, history)
        seen.add(state)
        since_update += 1
        if y[i] * (np.dot(w, X[i]) + b) <= 0:
            w, b = perceptron_update(w, b, X[i], y[i], eta)
            updates[i] += 1
            history.append((w.copy(), b))
            since_update = 0
    converged = since_update == n
    return Run(w, b, converged, False, updates, max_epochs,
               _ending("converged" if converged else "stopped", max_epochs, updates.sum()), None, history)


def gram_matrix(X):
    """G_ij = x_i^T x_j, all the dual algorithm needs of the data."""
    return X @ X.T


def dual_to_primal(alpha, X, y):
    """Eq. 2.10: w = sum_i alpha_i y_i x_i, b = sum_i alpha_i y_i."""
    return (alpha * y) @ X, float((alpha * y).sum())


def perceptron_dual(X, y, eta: float = 1.0, max_epochs: int = 1000) -> Run:
    """The dual algorithm of 2.1.3 with eq. 2.11, from alpha = 0, b = 0, using only the
    Gram matrix: example i is misclassified when y_i (sum_j alpha_j y_j x_j^T x_i + b) <= 0.

    alpha only grows, so the state that detects cycling is the vector of scores
    sum_j alpha_j y_j G_ji + b on the training set (with the position): it fixes every
    later step.
    """
    n = len(y)
    G = gram_matrix(X)
    alpha = np.zeros(n)
    b = 0.0
    seen, history = set(), []
    since_update = 0
    ending, epoch = "stopped", max_epochs
    for step in range(max_epochs * n):
        epoch = step // n + 1
        if since_update == n:
            ending = "converged"
            break
        i = step % n
        scores = (alpha * y) @ G + b
        state = (scores.tobytes(), i)
        if state in seen:
            ending = "cycled"
            break
        seen.add(state)
        since_update += 1
        if y[i] * scores[i] <= 0:
            alpha[i] += eta
            b += eta * y[i]
            history.append((alpha.copy(), b))
            since_update = 0
    else:
        if since_update == n:
            ending = "converged"
    w, _ = dual_to_primal(alpha, X, y)
    counts = np.rint(alpha / eta).astype(int)
    return Run(w, b, ending == "converged", ending == "cycled", counts, epoch, _ending(ending, epoch, counts.sum()),
               alpha, history)


def novikoff_bound(X, y, w_sep, b_sep) -> tuple[float, float, float]:
    """Novikoff's theorem (the convergence proof the notes leave out): with
    x_hat = (x, 1), R = max ||x_hat_i|| and a separating (w, b) of unit norm with margin
    gamma = min_i y_i (w^T x_i + b), the algorithm makes at most (R / gamma)^2 updates.
    Returns ``(R, gamma, (R / gamma)^2)``."""
    norm = np.sqrt(np.dot(w_sep, w_sep) + b_sep ** 2)
    gamma = float(np.min(y * (X @ w_sep + b_sep)) / norm)
    if gamma <= 0:
        raise ValueError("(w_sep, b_sep) does not separate the data")
    R = float(np.max(np.sqrt((X ** 2).sum(axis=1) + 1.0)))
    return R, gamma, (R / gamma) ** 2
