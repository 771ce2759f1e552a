"""Checks of BP1-BP4, eq. 3.4-3.8 and FC-BP: closed form vs tape vs central differences.

Each case is a small network (several shapes, every activation, both losses) in float64.
The tape's deltas are its gradients with respect to the intermediate values z^l.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import functional as F
from ..tape import grad
from ..value import Value
from . import fc
from .activations import loss, one_hot, sigma
from .compare import EXACT, NUMERIC, Tally, numeric_grad
from .registry import register

# (layer sizes, batch size, hidden activation, loss, output activation)
CASES = (
    ((3, 4, 2), 3, "sigmoid", "mse", "sigmoid"),
    ((4, 5, 3, 3), 2, "tanh", "cross_entropy", "tanh"),
    ((3, 4, 4, 2), 4, "relu", "mse", "relu"),
    ((2, 3, 4), 3, "relu", "cross_entropy", "identity"),
    ((3, 2, 3, 2), 2, "sigmoid", "cross_entropy", "sigmoid"),
    ((2, 5, 3), 2, "tanh", "mse", "identity"),
)


def make_case(sizes, batch, activation, loss_name, output_activation, seed=0):
    """Random float64 parameters, inputs and targets, away from ReLU's kink at 0."""
    rng = np.random.default_rng(seed)
    while True:
        a0 = rng.standard_normal((batch, sizes[0]))
        weights = [rng.standard_normal((m, n)) / np.sqrt(n) for n, m in zip(sizes[:-1], sizes[1:])]
        biases = [0.5 * rng.standard_normal(m) for m in sizes[1:]]
        zs, _ = fc.fc_forward(a0, weights, biases, activation, output_activation)
        if min(np.abs(z).min() for z in zs) > 1e-3:
            break
    if loss_name == "mse":
        target = rng.standard_normal((batch, sizes[-1]))
        classes = None
    else:
        classes = rng.integers(0, sizes[-1], batch)
        target = one_hot(classes, sizes[-1])
    return dict(a0=a0, weights=weights, biases=biases, target=target, classes=classes, activation=activation,
                loss_name=loss_name, output_activation=output_activation)


def tape_network(case, dtype=np.float64):
    """The same network on the tape: returns (loss Value, [z^l Values], [W Values], [b Values])."""
    x = Value(case["a0"].astype(dtype), requires_grad=False)
    ws = [Value(w.astype(dtype)) for w in case["weights"]]
    bs = [Value(b.astype(dtype)) for b in case["biases"]]
    zs, a = [], x
    for l, (w, b) in enumerate(zip(ws, bs)):
        z = a @ w.T + b
        zs.append(z)
        name = case["output_activation"] if l == len(ws) - 1 else case["activation"]
        a = z if name == "identity" else getattr(z, name)()
    if case["loss_name"] == "mse":
        out = F.mse(a, Value(case["target"].astype(dtype), requires_grad=False))
    else:
        out = F.cross_entropy(a, case["classes"])
    return out, zs, ws, bs


def tape_gradients(case, dtype=np.float64) -> dict:
    """The tape's loss, z^l, deltas dL/dz^l and weight and bias gradients."""
    out, zs, ws, bs = tape_network(case, dtype)
    grads = grad(out, zs + ws + bs)
    n = len(ws)
    return dict(loss=float(out.data), zs=[z.data for z in zs], deltas=grads[:n], grad_w=grads[n:2 * n],
                grad_b=grads[2 * n:])


def numeric_gradients(case) -> dict:
    """Central differences of the closed-form cost with respect to every z^l, W^l and b^l."""
    act, out_act = case["activation"], case["output_activation"]
    weights, biases, target, name = case["weights"], case["biases"], case["target"], case["loss_name"]
    count = len(weights)
    zs, acts = fc.fc_forward(case["a0"], weights, biases, act, out_act)

    def cost_from(l):
        def f(z):
            a = sigma(out_act if l == count - 1 else act, z)
            for m in range(l + 1, count):
                z_m = a @ weights[m].T + biases[m]
                a = sigma(out_act if m == count - 1 else act, z_m)
            return loss(name, a, target)
        return f

    def cost(*params):
        _, acts = fc.fc_forward(case["a0"], params[:count], params[count:], act, out_act)
        return loss(name, acts[-1], target)

    deltas = [numeric_grad(cost_from(l), [zs[l]])[0] for l in range(count)]
    params = numeric_grad(cost, list(weights) + list(biases))
    return dict(deltas=deltas, grad_w=params[:count], grad_b=params[count:])


@functools.lru_cache(maxsize=None)
def computed(index: int) -> dict:
    """Everything the checks compare for case ``index`` (computed once per process)."""
    case = make_case(*CASES[index], seed=index)
    args = (case["a0"], case["weights"], case["biases"], case["target"], case["activation"], case["loss_name"],
            case["output_activation"])
    element_zs, _ = fc.fc_forward_element(*args[:3], case["activation"], case["output_activation"])
    return dict(matrix=fc.fc_backprop(*args, form="matrix"), element=fc.fc_backprop(*args, form="element"),
                tape=tape_gradients(case), numeric=numeric_gradients(case), element_zs=element_zs)


def _compare(key: str, layers: str, form: str, against: tuple):
    """Adds to a tally: ``form``'s ``key`` (deltas, grad_w, grad_b) on ``layers`` ('last',
    'hidden' or 'all') compared with each source in ``against``, on every case."""

    def fill(tally):
        for i in range(len(CASES)):
            c = computed(i)
            values = c[form][key]
            picked = {"last": [len(values) - 1], "hidden": range(len(values) - 1), "all": range(len(values))}[layers]
            for l in picked:
                for source in against:
                    tol = NUMERIC if source == "numeric" else EXACT
                    tally.close(values[l], c[source][key][l], **tol, name=f"case {i} layer {l + 1} vs {source}",
                                kind=source)
            if layers == "all":
                tally.close(c[form]["loss"], c["tape"]["loss"], **EXACT, name=f"case {i} loss vs tape", kind="tape")

    return fill


def _check(*fills):
    def check():
        tally = Tally()
        for fill in fills:
            fill(tally)
        return tally.result()

    return check


def check_forward():
    """Eq. 3.1 (one neuron at a time) = eq. 3.2 (matrix form) = the tape's z^l."""
    tally = Tally()
    for i in range(len(CASES)):
        c = computed(i)
        for l, z in enumerate(c["matrix"]["zs"]):
            tally.close(z, c["element_zs"][l], **EXACT, name=f"case {i} layer {l + 1} vs eq. 3.1", kind="eq. 3.1")
            tally.close(z, c["tape"]["zs"][l], **EXACT, name=f"case {i} layer {l + 1} vs tape", kind="tape")
    return tally.result()


_SOURCES = ("tape", "numeric")
_SHAPES = "on 6 networks (sigmoid, tanh, relu; mse, cross-entropy)"
register("eq. 3.2", "3.1", "forward z^l = W^l a^{l-1} + b^l, a^l = sigma(z^l) vs eq. 3.1 element by element "
         "and the tape", fc.fc_forward, check_forward)
register("BP1", "3.1", f"delta^L (element form) vs tape dL/dz^L and central differences, {_SHAPES}",
         fc.bp1_element, _check(_compare("deltas", "last", "element", _SOURCES)))
register("eq. 3.4", "3.1", "delta^L = grad_a L (x) sigma'(z^L) vs tape, central differences and BP1",
         fc.bp1_matrix, _check(_compare("deltas", "last", "matrix", _SOURCES + ("element",))))
register("BP2", "3.1", "hidden delta^l (element form) vs tape dL/dz^l and central differences",
         fc.bp2_element, _check(_compare("deltas", "hidden", "element", _SOURCES)))
register("eq. 3.5", "3.1", "delta^l = (W^T delta^{l+1}) (x) sigma'(z^l) vs tape, central differences and BP2",
         fc.bp2_matrix, _check(_compare("deltas", "hidden", "matrix", _SOURCES + ("element",))))
register("BP3", "3.1", "dL/dw_jk = delta_j a_k (element form) vs tape and central differences",
         fc.bp3_element, _check(_compare("grad_w", "all", "element", _SOURCES)))
register("eq. 3.6", "3.1", "dL/dW = delta a^T vs tape, central differences and BP3",
         fc.bp3_matrix, _check(_compare("grad_w", "all", "matrix", _SOURCES + ("element",))))
register("BP4", "3.1", "dL/db_j = delta_j (element form) vs tape and central differences",
         fc.bp4_element, _check(_compare("grad_b", "all", "element", _SOURCES)))
register("eq. 3.7", "3.1", "dL/db = delta vs tape, central differences and BP4",
         fc.bp4_matrix, _check(_compare("grad_b", "all", "matrix", _SOURCES + ("element",))))


def _whole(form: str):
    return _check(*(_compare(key, "all", form, _SOURCES) for key in ("deltas", "grad_w", "grad_b")))


register("FC-BP", "3.2.1", "whole backward pass, element form: every delta, dW, db vs tape and central differences",
         functools.partial(fc.fc_backprop, form="element"), _whole("element"))
register("eq. 3.8", "3.2.1", "whole backward pass, matrix form: every delta, dW, db vs tape and central differences",
         functools.partial(fc.fc_backprop, form="matrix"), _whole("matrix"))
