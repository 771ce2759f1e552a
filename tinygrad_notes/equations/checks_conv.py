"""Checks of eq. 3.9-3.15, CONV-BP2..4 and the worked example eq. 3.12-3.13.

The notes' setting is two single-channel convolutional layers, stride 1, no padding:
z^l = a^{l-1} * w^l + b^l, a^l = sigma(z^l), z^{l+1} = a^l * w^{l+1} + b^{l+1},
L = mse(sigma(z^{l+1}), y). Each closed form is held against every tape convolution
available and against central differences, in float64. The last check generalizes to
batches, channels, stride and padding.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import functional as F
from ..tape import grad
from ..value import Value
from . import conv
from .activations import loss, loss_gradient, sigma, sigma_prime
from .compare import EXACT, NUMERIC, Tally, numeric_grad
from .registry import register
from .tape_cnn import conv2d_implementations

# (input shape, kernel of layer l, kernel of layer l+1, activation); the first is eq. 3.12's.
CASES = (
    ((6, 6), (3, 3), (3, 3), "sigmoid"),
    ((7, 5), (2, 3), (3, 2), "tanh"),
    ((5, 6), (2, 2), (3, 4), "relu"),
    ((5, 5), (1, 1), (2, 2), "sigmoid"),
)

# (N, C, H, W, out channels, r, c, stride, padding)
STRIDED = (
    (2, 2, 5, 6, 3, 3, 2, 2, 1),
    (1, 3, 6, 6, 2, 3, 3, 1, 2),
    (2, 1, 7, 5, 2, 2, 3, 3, 0),
    (1, 2, 4, 5, 1, 1, 1, 2, 0),
)


def make_case(shape, k1, k2, activation, seed):
    """Input, kernels, biases and target, with every z away from ReLU's kink."""
    rng = np.random.default_rng(100 + seed)
    while True:
        a0 = rng.standard_normal(shape)
        w1, w2 = rng.standard_normal(k1) / np.sqrt(np.prod(k1)), rng.standard_normal(k2) / np.sqrt(np.prod(k2))
        b1, b2 = float(rng.standard_normal()), float(rng.standard_normal())
        z1 = conv.conv_forward(a0, w1, b1)
        z2 = conv.conv_forward(sigma(activation, z1), w2, b2)
        if min(np.abs(z1).min(), np.abs(z2).min()) > 1e-3:
            break
    target = rng.standard_normal(z2.shape)
    return dict(a0=a0, w1=w1, w2=w2, b1=b1, b2=b2, target=target, activation=activation)


def closed_forms(case) -> dict:
    """Forward by eq. 3.9/3.10 and every backward closed form of the notes."""
    act, a0, w1, w2, b1 = case["activation"], case["a0"], case["w1"], case["w2"], case["b1"]
    z1 = conv.conv_forward(a0, w1, b1)
    a1 = sigma(act, z1)
    z2 = conv.conv_forward(a1, w2, case["b2"])
    a2 = sigma(act, z2)
    delta2 = loss_gradient("mse", a2, case["target"]) * sigma_prime(act, z2)  # BP1
    delta1 = conv.conv_bp2_element(delta2, w2, z1, act)
    matrix = conv.conv_backprop_matrix(delta2, w2, z1, act, a0)
    return dict(
        z1=z1, z1_element=conv.conv_forward_element(a0, w1, b1), a1=a1, z2=z2, loss=loss("mse", a2, case["target"]),
        delta2=delta2, delta1=delta1, delta1_matrix=matrix[0],
        delta1_printed=conv.eq_3_14_as_printed(delta2, w2, z1, act),
        gw1=conv.conv_bp3_element(delta1, a0, w1.shape), gw1_matrix=matrix[1],
        gw2=conv.conv_bp3_element(delta2, a1, w2.shape), gw2_matrix=conv.conv_bp3_matrix(delta2, a1),
        gb1=conv.conv_bp4_element(delta1), gb1_matrix=matrix[2], gb1_printed=conv.eq_3_15_bias_as_printed(b1, delta1),
        gb2=conv.conv_bp4_element(delta2),
    )


def tape_values(case, impl) -> dict:
    """The same two layers on the tape with the convolution ``impl``."""
    act = case["activation"]
    x = Value(case["a0"][None, None], requires_grad=False)
    w1, w2 = Value(case["w1"][None, None]), Value(case["w2"][None, None])
    b1, b2 = Value(np.array([case["b1"]])), Value(np.array([case["b2"]]))
    z1 = impl(x, w1, b1, 1, 0)
    a1 = getattr(z1, act)()
    z2 = impl(a1, w2, b2, 1, 0)
    out = F.mse(getattr(z2, act)(), Value(case["target"][None, None], requires_grad=False))
    g = grad(out, [z1, a1, z2, w1, b1, w2, b2])
    return dict(z1=z1.data[0, 0], loss=float(out.data), delta1=g[0][0, 0], grad_a1=g[1][0, 0], delta2=g[2][0, 0],
                gw1=g[3][0, 0], gb1=float(g[4][0]), gw2=g[5][0, 0], gb2=float(g[6][0]))


def numeric_values(case) -> dict:
    """Central differences of the closed-form cost."""
    act, target = case["activation"], case["target"]

    def from_z2(z2):
        return loss("mse", sigma(act, z2), target)

    def from_a1(a1):
        return from_z2(conv.conv_forward(a1, case["w2"], case["b2"]))

    def from_z1(z1):
        return from_a1(sigma(act, z1))

    def from_params(w1, b1, w2, b2):
        a1 = sigma(act, conv.conv_forward(case["a0"], w1, float(b1)))
        return from_z2(conv.conv_forward(a1, w2, float(b2)))

    z1 = conv.conv_forward(case["a0"], case["w1"], case["b1"])
    a1 = sigma(act, z1)
    gw1, gb1, gw2, gb2 = numeric_grad(from_params, [case["w1"], case["b1"], case["w2"], case["b2"]])
    return dict(delta1=numeric_grad(from_z1, [z1])[0], grad_a1=numeric_grad(from_a1, [a1])[0],
                delta2=numeric_grad(from_z2, [conv.conv_forward(a1, case["w2"], case["b2"])])[0],
                gw1=gw1, gb1=float(gb1), gw2=gw2, gb2=float(gb2))


@functools.lru_cache(maxsize=None)
def computed(index: int) -> dict:
    """Closed forms, every tape implementation and central differences for case ``index``."""
    case = make_case(*CASES[index], seed=index)
    tapes = {name: tape_values(case, impl) for name, impl in conv2d_implementations().items()}
    return dict(case=case, closed=closed_forms(case), tapes=tapes, numeric=numeric_values(case))


_LABELS = {"delta1": "CONV-BP2"}


def _against(tally, index, closed_key, key, numeric=True, exact=()):
    """Compare closed[closed_key] with every tape's [key], the numeric [key] and closed[exact...]."""
    c = computed(index)
    value = c["closed"][closed_key]
    for name, tape in c["tapes"].items():
        tally.close(value, tape[key], **EXACT, name=f"case {index} {closed_key} vs {name}", kind=name)
    if numeric:
        tally.close(value, c["numeric"][key], **NUMERIC, name=f"case {index} {closed_key} vs numeric", kind="numeric")
    for other in exact:
        label = _LABELS.get(other, other)
        tally.close(value, c["closed"][other], **EXACT, name=f"case {index} {closed_key} vs {label}", kind=label)


def _simple(*comparisons):
    """A check made of ``(closed_key, key, numeric, exact)`` comparisons on every case."""
    def check():
        tally = Tally()
        for i in range(len(CASES)):
            for closed_key, key, numeric, exact in comparisons:
                _against(tally, i, closed_key, key, numeric, exact)
        return tally.result()
    return check


def check_forward_element():
    """Eq. 3.9 one element at a time against every tape convolution's z^l."""
    tally = Tally()
    for i in range(len(CASES)):
        c = computed(i)
        for name, tape in c["tapes"].items():
            tally.close(c["closed"]["z1_element"], tape["z1"], **EXACT, name=f"case {i} vs {name}", kind=name)
    return tally.result()


def check_forward_matrix():
    """Eq. 3.10 against eq. 3.9, and against every tape's z^l and cost."""
    tally = Tally()
    for i in range(len(CASES)):
        c = computed(i)
        tally.close(c["closed"]["z1"], c["closed"]["z1_element"], **EXACT, name=f"case {i} vs eq. 3.9", kind="eq. 3.9")
        for name, tape in c["tapes"].items():
            tally.close(c["closed"]["z1"], tape["z1"], **EXACT, name=f"case {i} vs {name}", kind=name)
            tally.close(c["closed"]["loss"], tape["loss"], **EXACT, name=f"case {i} loss vs {name}", kind=name)
    return tally.result()


ERRATUM_3_14 = ("delta^l = pad_{r-1,c-1}(delta^{l+1}) * rot180(w^{l+1}) (x) sigma'(z^l): with the valid '*' of "
                "eq. 3.10, delta^{l+1} * rot180(w) has shape (H'-r+1, W'-c+1), not z^l's; the zero padding "
                "of eq. 3.13 (a 'full' correlation) is needed")


def check_eq_3_14():
    """Eq. 3.14 with eq. 3.13's padding against the tapes, central differences and CONV-BP2;
    the form as printed against z^l's shape."""
    tally = Tally()
    printed_wrong = True
    for i in range(len(CASES)):
        _against(tally, i, "delta1_matrix", "delta1", True, ("delta1",))
        c = computed(i)
        printed = c["closed"]["delta1_printed"]
        printed_wrong &= printed is None or printed.shape != c["closed"]["delta1"].shape
    return tally.result(erratum=ERRATUM_3_14 if printed_wrong else None)


ERRATUM_3_15_BIAS = "dL/db^l = sum_{i,j} delta^l_ij (as CONV-BP4), not sum_{i,j} b^l"
ERRATUM_3_15_DELTA = "the first line needs the zero padding of eq. 3.13, as eq. 3.14"


def check_eq_3_15():
    """Eq. 3.15, corrected, against the tapes and central differences; the printed bias line
    and first line against the truth."""
    tally = Tally()
    bias_wrong = delta_wrong = True
    for i in range(len(CASES)):
        for closed_key, key in (("delta1_matrix", "delta1"), ("gw1_matrix", "gw1"), ("gw2_matrix", "gw2"),
                                ("gb1_matrix", "gb1")):
            _against(tally, i, closed_key, key)
        closed = computed(i)["closed"]
        bias_wrong &= not np.isclose(closed["gb1_printed"], computed(i)["numeric"]["gb1"], rtol=1e-3, atol=1e-6)
        printed = closed["delta1_printed"]
        delta_wrong &= printed is None or printed.shape != closed["delta1"].shape
    found = [text for text, shown in ((ERRATUM_3_15_BIAS, bias_wrong), (ERRATUM_3_15_DELTA, delta_wrong)) if shown]
    return tally.result(erratum="; ".join(found) or None)


ERRATUM_3_12 = ("the nine terms of eq. 3.12 sum to dL/da^l_{1,1}; delta^l_{1,1} = dL/dz^l_{1,1} is that sum times "
                "sigma'(z^l_{1,1}), as in CONV-BP2")


def check_eq_3_12():
    """The example as printed is dL/da^l_{1,1}; times sigma'(z^l_{1,1}) it is delta^l_{1,1}."""
    tally = Tally()
    c = computed(0)
    closed, case = c["closed"], c["case"]
    printed = conv.example_3_12(closed["delta2"], case["w2"])
    corrected = printed * sigma_prime(case["activation"], closed["z1"][0, 0])
    printed_wrong = True
    for name, tape in c["tapes"].items():
        tally.close(printed, tape["grad_a1"][0, 0], **EXACT, name=f"sum vs {name} dL/da", kind=name)
        tally.close(corrected, tape["delta1"][0, 0], **EXACT, name=f"corrected vs {name} delta", kind=name)
        printed_wrong &= not np.isclose(printed, tape["delta1"][0, 0], rtol=1e-3)
    tally.close(corrected, c["numeric"]["delta1"][0, 0], **NUMERIC, name="corrected vs numeric", kind="numeric")
    tally.close(corrected, closed["delta1"][0, 0], **EXACT, name="corrected vs CONV-BP2", kind="CONV-BP2")
    return tally.result(erratum=ERRATUM_3_12 if printed_wrong else None)


def check_eq_3_13():
    """The padded 6 x 6 correlation equals eq. 3.12 at (1,1) and dL/da^l everywhere."""
    tally = Tally()
    c = computed(0)
    closed, case = c["closed"], c["case"]
    full = conv.example_3_13(closed["delta2"], case["w2"])
    tally.close(full[0, 0], conv.example_3_12(closed["delta2"], case["w2"]), **EXACT, name="(1,1) vs eq. 3.12",
                kind="eq. 3.12")
    for name, tape in c["tapes"].items():
        tally.close(full, tape["grad_a1"], **EXACT, name=f"vs {name} dL/da^l", kind=name)
    tally.close(full, c["numeric"]["grad_a1"], **NUMERIC, name="vs numeric dL/da^l", kind="numeric")
    return tally.result()


# ---------------------------------------------------------------- stride and padding
@functools.lru_cache(maxsize=None)
def strided(index: int) -> dict:
    """A strided, padded, multi-channel convolution: closed forms, tapes, central differences."""
    n, ch, h, k, o, r, c, stride, padding = STRIDED[index]
    rng = np.random.default_rng(200 + index)
    x, w, b = rng.standard_normal((n, ch, h, k)), rng.standard_normal((o, ch, r, c)), rng.standard_normal(o)
    z = conv.conv2d_forward(x, w, b, stride, padding)
    projection = rng.standard_normal(z.shape)  # L = sum(z * projection), so delta = projection
    out = dict(z=z, matrix=conv.conv2d_backward(x, w, projection, stride, padding),
               element=conv.conv2d_backward_element(x, w, projection, stride, padding),
               numeric=numeric_grad(lambda x, w, b: float((conv.conv2d_forward(x, w, b, stride, padding)
                                                           * projection).sum()), [x, w, b]), tapes={})
    for name, impl in conv2d_implementations().items():
        xv, wv, bv = Value(x), Value(w), Value(b)
        zv = impl(xv, wv, bv, stride, padding)
        out["tapes"][name] = (zv.data, grad(zv, [xv, wv, bv], grad=projection))
    return out


def check_strided():
    """The generalized CONV-BP2..4 (channels, stride, padding): dilated rot180 form vs
    element rules vs every tape vs central differences."""
    tally = Tally()
    for i in range(len(STRIDED)):
        s = strided(i)
        for j, part in enumerate(("dx", "dw", "db")):
            tally.close(s["matrix"][j], s["element"][j], **EXACT, name=f"case {i} {part} vs element", kind="element")
            tally.close(s["matrix"][j], s["numeric"][j], **NUMERIC, name=f"case {i} {part} vs numeric", kind="numeric")
            for name, (z, grads) in s["tapes"].items():
                tally.close(s["matrix"][j], grads[j], **EXACT, name=f"case {i} {part} vs {name}", kind=name)
        for name, (z, _) in s["tapes"].items():
            tally.close(s["z"], z, **EXACT, name=f"case {i} forward vs {name}", kind=name)
    return tally.result()


_CASES = "on 4 two-layer cases (sigmoid, tanh, relu)"
register("eq. 3.9", "3.2.2", f"z_ij = sum_pq a_(i+p-1,j+q-1) w_pq + b (element form) vs tape forward, {_CASES}",
         conv.conv_forward_element, check_forward_element)
register("eq. 3.10", "3.2.2", "z = a * w + b (valid cross-correlation) vs eq. 3.9, tape forward and cost",
         conv.conv_forward, check_forward_matrix)
register("CONV-BP2", "3.2.2", "delta^l_ij = sum_mn delta^{l+1}_mn w_(i+1-m,j+1-n) sigma'(z_ij) vs tape dL/dz^l "
         "and central differences", conv.conv_bp2_element, _simple(("delta1", "delta1", True, ())))
register("eq. 3.12", "3.2.2", "the worked example delta^l_{1,1} (3x3 kernel, 2x2 delta^{l+1}) vs tape and CONV-BP2",
         conv.example_3_12, check_eq_3_12)
register("eq. 3.13", "3.2.2", "padded 6x6 delta^{l+1} * rot180(w) vs eq. 3.12 and tape dL/da^l",
         conv.example_3_13, check_eq_3_13)
register("eq. 3.14", "3.2.2", "delta^l = delta^{l+1} * rot180(w) (x) sigma'(z^l) vs tape, central differences "
         "and CONV-BP2", conv.conv_bp2_matrix, check_eq_3_14)
register("CONV-BP3", "3.2.2", "dL/dw_pq = sum_ij delta_ij a_(i+p-1,j+q-1) (both layers) vs tape and central "
         "differences", conv.conv_bp3_element,
         _simple(("gw1", "gw1", True, ()), ("gw2", "gw2", True, ())))
register("CONV-BP4", "3.2.2", "dL/db = sum_ij delta_ij (both layers) vs tape and central differences",
         conv.conv_bp4_element, _simple(("gb1", "gb1", True, ()), ("gb2", "gb2", True, ())))
register("eq. 3.15", "3.2.2", "matrix forms: delta^l, dL/dw = a * delta, dL/db vs tape and central differences",
         conv.conv_backprop_matrix, check_eq_3_15)
register("CONV-BP", "3.2.2", "the element forms together (CONV-BP2, CONV-BP3, CONV-BP4) vs tape and central "
         "differences", conv.conv_bp2_element,
         _simple(("delta1", "delta1", True, ()), ("gw1", "gw1", True, ()), ("gb1", "gb1", True, ())))
register("conv stride/padding", "3.2.2+", "dL/dx, dL/dw, dL/db with channels, stride and zero padding: "
         "dilated, padded rot180 form vs element rules, tape and central differences",
         conv.conv2d_backward, check_strided)
