"""Checks of the perceptron (eq. 2.3-2.11), XOR, and Novikoff's bound."""

from __future__ import annotations

import functools

import numpy as np

from .. import functional as F
from ..tape import grad
from ..value import Value
from . import perceptron as pc
from .compare import EXACT, NUMERIC, Tally, numeric_grad
from .registry import register

# (points, dimension, learning rate)
DATASETS = ((20, 2, 1.0), (40, 3, 0.5), (30, 5, 0.1), (60, 2, 1.0))


@functools.lru_cache(maxsize=None)
def separable(index: int, margin: float = 0.02):
    """Points in [-1, 1]^d labelled by a random hyperplane, none closer to it than ``margin``;
    returns X, y, the generating (w, b), and the learning rate."""
    n, d, eta = DATASETS[index]
    rng = np.random.default_rng(2100 + index)
    w, b = rng.standard_normal(d), 0.3 * rng.standard_normal()
    norm = np.sqrt(w @ w + b * b)
    rows = []
    while len(rows) < n:
        x = rng.uniform(-1, 1, d)
        if abs(x @ w + b) / norm >= margin:
            rows.append(x)
    X = np.array(rows)
    return X, np.where(X @ w + b > 0, 1.0, -1.0), (w, b), eta


@functools.lru_cache(maxsize=None)
def runs(index: int):
    """The primal and dual runs on dataset ``index``."""
    X, y, _, eta = separable(index)
    return pc.perceptron_primal(X, y, eta), pc.perceptron_dual(X, y, eta)


def _random_plane(rng, d):
    return rng.standard_normal(d), float(rng.standard_normal())


def check_eq_2_4():
    """Eq. 2.3 is the distance to the foot of the perpendicular; eq. 2.4 sums it over M."""
    tally = Tally()
    rng = np.random.default_rng(203)
    for index in range(len(DATASETS)):
        X, y, _, _ = separable(index)
        w, b = _random_plane(rng, X.shape[1])
        for x0 in X[:5]:
            foot = x0 - (w @ x0 + b) / (w @ w) * w
            tally.close(pc.distance(w, b, x0), np.linalg.norm(x0 - foot), **EXACT, name="eq. 2.3", kind="geometry")
            tally.zero(w @ foot + b, np.linalg.norm(w) * np.linalg.norm(x0), 1e-12, "foot on the plane", "geometry")
        m = pc.misclassified(w, b, X, y)
        total = sum(pc.distance(w, b, x) for x in X[m])
        tally.close(pc.total_distance(w, b, X, y), total, **EXACT, name="eq. 2.4 = sum of eq. 2.3", kind="sum")
    return tally.result()


def check_eq_2_5():
    """L >= 0, L = ||w|| * eq. 2.4, and the tape computes the same L."""
    tally = Tally()
    rng = np.random.default_rng(205)
    for index in range(len(DATASETS)):
        X, y, _, _ = separable(index)
        w, b = _random_plane(rng, X.shape[1])
        loss = pc.perceptron_loss(w, b, X, y)
        tally.require(loss >= 0, "L >= 0")
        tally.close(loss, np.linalg.norm(w) * pc.total_distance(w, b, X, y), **EXACT, name="||w|| eq. 2.4",
                    kind="eq. 2.4")
        m = pc.misclassified(w, b, X, y)
        tape = -(Value(y[m], requires_grad=False) * (Value(X[m], requires_grad=False) @ Value(w) + Value(b))).sum()
        tally.close(loss, float(tape.data), **EXACT, name="tape", kind="tape")
    return tally.result()


ERRATUM_2_6 = ("'In Eq. 2.6, 1/||w|| can be ignored' refers to eq. 2.4: eq. 2.6 has no 1/||w||; eq. 2.4 = "
               "eq. 2.5 / ||w|| is unchanged by scaling (w, b), eq. 2.5/2.6 scale with it")


def check_eq_2_6():
    """The factor 1/||w|| is in eq. 2.4: dropping it gives eq. 2.5, the objective of eq. 2.6;
    the algorithm reaches that objective's value 0 on separable data."""
    tally = Tally()
    rng = np.random.default_rng(206)
    shown = True
    for index in range(len(DATASETS)):
        X, y, _, _ = separable(index)
        w, b = _random_plane(rng, X.shape[1])
        c = 3.0
        d1, d3 = pc.total_distance(w, b, X, y), pc.total_distance(c * w, c * b, X, y)
        l1, l3 = pc.perceptron_loss(w, b, X, y), pc.perceptron_loss(c * w, c * b, X, y)
        tally.close(d3, d1, **EXACT, name="eq. 2.4 scale-invariant", kind="eq. 2.4 scaling")
        tally.close(l3, c * l1, **EXACT, name="eq. 2.6 objective scales", kind="eq. 2.6 scaling")
        tally.close(np.linalg.norm(w) * d1, l1, **EXACT, name="||w|| eq. 2.4 = eq. 2.5", kind="eq. 2.5")
        shown &= l1 > 0 and not np.isclose(l3, l1)
        primal, _ = runs(index)
        tally.require(primal.converged, f"dataset {index}: converged")
        tally.close(pc.perceptron_loss(primal.w, primal.b, X, y), 0.0, **EXACT, name="min is 0", kind="minimum")
    return tally.result(erratum=ERRATUM_2_6 if shown else None)


def check_eq_2_7():
    """nabla L for a fixed M: closed form vs tape vs central differences."""
    tally = Tally()
    rng = np.random.default_rng(207)
    for index in range(len(DATASETS)):
        X, y, _, _ = separable(index)
        w, b = _random_plane(rng, X.shape[1])
        m = pc.misclassified(w, b, X, y)
        gw, gb = pc.perceptron_gradient(w, b, X, y, m)
        wv, bv = Value(w), Value(b)
        loss = -(Value(y[m], requires_grad=False) * (Value(X[m], requires_grad=False) @ wv + bv)).sum()
        tw, tb = grad(loss, [wv, bv])
        tally.close(gw, tw, **EXACT, name="dw vs tape", kind="tape")
        tally.close(gb, tb, **EXACT, name="db vs tape", kind="tape")
        nw, nb = numeric_grad(lambda w, b: pc.perceptron_loss(w, float(b), X, y, m), [w, np.array(b)])
        tally.close(gw, nw, **NUMERIC, name="dw vs numeric", kind="numeric")
        tally.close(gb, nb, **NUMERIC, name="db vs numeric", kind="numeric")
    return tally.result()


def check_eq_2_8():
    """The update for one misclassified point is a gradient step on its own loss."""
    tally = Tally()
    rng = np.random.default_rng(208)
    for index in range(len(DATASETS)):
        X, y, _, eta = separable(index)
        w, b = _random_plane(rng, X.shape[1])
        for i in np.flatnonzero(pc.misclassified(w, b, X, y))[:3]:
            wv, bv = Value(w), Value(b)
            tw, tb = grad(-y[i] * ((Value(X[i], requires_grad=False) @ wv) + bv), [wv, bv])
            new_w, new_b = pc.perceptron_update(w, b, X[i], y[i], eta)
            tally.close(new_w, w - eta * tw, **EXACT, name="w step", kind="tape SGD step")
            tally.close(new_b, b - eta * tb, **EXACT, name="b step", kind="tape SGD step")
    return tally.result()


def check_eq_2_9():
    """The primal algorithm stops on separable data, with every point on its side."""
    tally = Tally()
    counts = []
    for index in range(len(DATASETS)):
        X, y, _, _ = separable(index)
        primal, _ = runs(index)
        tally.require(primal.converged, f"dataset {index}: {primal.explanation}")
        tally.require(np.all(y * (X @ primal.w + primal.b) > 0), f"dataset {index}: all points separated")
        tally.require(np.array_equal(pc.predict(primal.w, primal.b, X), y), f"dataset {index}: eq. 2.1 predicts y")
        counts.append(f"{primal.total_updates} updates/{primal.epochs} epochs")
    return tally.result(detail="converged after " + ", ".join(counts))


def check_eq_2_10():
    """alpha_i = n_i eta, and sum alpha_i y_i x_i, sum alpha_i y_i give the primal w, b."""
    tally = Tally()
    for index in range(len(DATASETS)):
        X, y, _, eta = separable(index)
        primal, dual = runs(index)
        w, b = pc.dual_to_primal(primal.updates * eta, X, y)
        tally.close(w, primal.w, **EXACT, name="w from n_i", kind="primal")
        tally.close(b, primal.b, **EXACT, name="b from n_i", kind="primal")
        tally.close(dual.alpha, primal.updates * eta, **EXACT, name="alpha = n eta", kind="dual alpha")
    return tally.result()


def check_eq_2_11():
    """The dual algorithm (Gram matrix only) converges to the primal's hyperplane."""
    tally = Tally()
    for index in range(len(DATASETS)):
        X, y, _, _ = separable(index)
        primal, dual = runs(index)
        tally.require(dual.converged, f"dataset {index}: {dual.explanation}")
        tally.close(dual.w, primal.w, **EXACT, name="w", kind="primal")
        tally.close(dual.b, primal.b, **EXACT, name="b", kind="primal")
        tally.require(dual.total_updates == primal.total_updates, "same number of updates")
    return tally.result()


def train_xor_mlp(hidden: int = 4, eta: float = 0.5, max_steps: int = 2000, seed: int = 0):
    """A 2-layer MLP (tanh hidden layer, 2 logits, cross-entropy) trained on XOR on the
    tape with eq. 2.15; returns (steps, loss, predictions)."""
    rng = np.random.default_rng(seed)
    X = Value(pc.XOR_X, requires_grad=False)
    classes = (pc.XOR_Y > 0).astype(int)
    params = [Value(rng.standard_normal((2, hidden))), Value(np.zeros(hidden)),
              Value(rng.standard_normal((hidden, 2)) / np.sqrt(hidden)), Value(np.zeros(2))]
    for step in range(1, max_steps + 1):
        w1, b1, w2, b2 = params
        logits = (X @ w1 + b1).tanh() @ w2 + b2
        loss = F.cross_entropy(logits, classes)
        predictions = np.argmax(logits.data, axis=1)
        if np.array_equal(predictions, classes) and float(loss.data) < 0.05:
            return step, float(loss.data), predictions
        for p, g in zip(params, grad(loss, params, retain_graph=False)):
            p.data = p.data - eta * g
    return max_steps, float(loss.data), predictions


def check_xor():
    """Neither algorithm separates XOR (both detect the cycle); an MLP on the tape does."""
    tally = Tally()
    for eta in (1.0, 0.5):
        primal = pc.perceptron_primal(pc.XOR_X, pc.XOR_Y, eta)
        dual = pc.perceptron_dual(pc.XOR_X, pc.XOR_Y, eta)
        tally.require(primal.cycled and not primal.converged, f"primal eta {eta}: {primal.explanation}")
        tally.require(dual.cycled and not dual.converged, f"dual eta {eta}: {dual.explanation}")
    steps, loss, predictions = train_xor_mlp()
    tally.require(np.array_equal(predictions, (pc.XOR_Y > 0).astype(int)), "MLP classifies XOR")
    tally.require(loss < 0.05, f"MLP cross-entropy {loss:.3f} < 0.05")
    return tally.result(detail=f"{primal.explanation}; tape MLP: 4/4 correct after {steps} steps, loss {loss:.3f}")


def check_novikoff():
    """Updates <= (R / gamma)^2 on every dataset (gamma of the generating hyperplane)."""
    tally = Tally()
    for index in range(len(DATASETS)):
        X, y, (w, b), _ = separable(index)
        primal, _ = runs(index)
        _, _, bound = pc.novikoff_bound(X, y, w, b)
        ratio = primal.total_updates / bound
        tally.record(0.0, ratio, ratio <= 1.0, f"dataset {index}: {primal.total_updates} updates, bound {bound:.0f}",
                     "updates / bound")
    return tally.result(detail="max rel err = the largest updates / (R/gamma)^2")


register("eq. 2.4", "2.1.2", "distance |w.x+b|/||w|| (eq. 2.3) vs the foot of the perpendicular; eq. 2.4 = sum over M",
         pc.total_distance, check_eq_2_4)
register("eq. 2.5", "2.1.2", "L = -sum_M y (w.x+b) >= 0, = ||w|| eq. 2.4, vs tape", pc.perceptron_loss, check_eq_2_5)
register("eq. 2.6", "2.1.2", "min L: eq. 2.4 is scale-invariant, eq. 2.5/2.6 scale; the algorithm reaches L = 0",
         pc.perceptron_loss, check_eq_2_6)
register("eq. 2.7", "2.1.2", "grad_w L = -sum_M y x, grad_b L = -sum_M y (M fixed) vs tape and central differences",
         pc.perceptron_gradient, check_eq_2_7)
register("eq. 2.8", "2.1.2", "w + eta y x, b + eta y = an SGD step on the point's loss (tape gradient)",
         pc.perceptron_update, check_eq_2_8)
register("eq. 2.9", "2.1.2", "primal algorithm converges on 4 separable datasets; every point separated",
         pc.perceptron_primal, check_eq_2_9)
register("eq. 2.10", "2.1.3", "w = sum alpha y x, b = sum alpha y with alpha = n eta: primal and dual",
         pc.dual_to_primal, check_eq_2_10)
register("eq. 2.11", "2.1.3", "dual algorithm with the Gram matrix converges to the primal's hyperplane",
         pc.perceptron_dual, check_eq_2_11)
register("XOR", "2.1", "perceptron (primal, dual) cycles on XOR, detected and stopped; a tape MLP separates it",
         pc.perceptron_primal, check_xor)
register("Novikoff", "2.1.2+", "updates <= (R/gamma)^2 on 4 separable datasets", pc.novikoff_bound, check_novikoff)
