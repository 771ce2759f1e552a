"""Gradient checking by central differences in float64.

For ``y = f(*inputs)`` the tape's gradient of ``L = sum(y * v)`` (``v`` a fixed random
projection, or 1 for a scalar ``y``) is compared element by element with
``(L(x + eps) - L(x - eps)) / (2 eps)``. An element passes when
``|analytic - numeric| <= atol + rtol * |numeric|``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tape import grad as _grad
from .tape import no_grad
from .value import Value


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when a gradient is out of tolerance; the message has the worst element.

    >>> from tinygrad_notes import GradcheckError, gradcheck
    >>> try:  # x * x.detach() hides one of the two factors from the tape: its gradient is x, not 2x
    ...     gradcheck(lambda x: (x * x.detach()).sum(), [[1.0, 2.0]])
    ... except GradcheckError as e:
    ...     print(str(e).split(";")[0])
    gradcheck FAILED on 2 of 2 elements
    """


@dataclass
class GradcheckReport:
    """What :func:`gradcheck` compared: the worst element over all inputs, and how many failed.

    >>> from tinygrad_notes import gradcheck
    >>> report = gradcheck(lambda x: (x * x.detach()).sum(), [[1.0, 2.0]], raise_on_failure=False)
    >>> bool(report), report.failures, report.checked, report.input_index, report.element
    (False, 2, 2, 0, (1,))
    >>> round(report.analytic, 6), round(report.numeric, 6)  # the tape says x, the truth is 2x
    (2.0, 4.0)
    """

    passed: bool
    input_index: int | None
    element: tuple | None
    analytic: float
    numeric: float
    abs_err: float
    rel_err: float
    failures: int
    checked: int
    atol: float
    rtol: float

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if self.input_index is None:
            return "gradcheck: no elements to check"
        verdict = "passed" if self.passed else f"FAILED on {self.failures} of {self.checked} elements"
        return (
            f"gradcheck {verdict}; worst element: input {self.input_index} at index "
            f"{self.element}: analytic {self.analytic:.10g}, numeric {self.numeric:.10g}, "
            f"abs err {self.abs_err:.3g}, rel err {self.rel_err:.3g} "
            f"(atol {self.atol:g}, rtol {self.rtol:g})"
        )


def _as_float64(x):
    data = x.data if isinstance(x, Value) else x
    if isinstance(data, (int, float)) and not isinstance(data, np.ndarray):
        return float(data)
    return np.array(data, dtype=np.float64, copy=True)


def _objective(f, values, projection) -> float:
    with no_grad():
        out = f(*values)
    data = out.data if isinstance(out, Value) else out
    return float(np.sum(np.asarray(data, dtype=np.float64) * projection))


def gradcheck(f, inputs, eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-4, seed: int = 0,
              raise_on_failure: bool = True) -> GradcheckReport:
    """Check the tape's gradients of ``f(*inputs)`` against central differences, in float64.

    ``inputs`` are Values, arrays or numbers; float64 copies are differentiated, so the
    caller's data is never touched. Returns a :class:`GradcheckReport` (truthy when it
    passed); on failure raises :class:`GradcheckError` naming the worst element, unless
    ``raise_on_failure=False``.

    >>> from tinygrad_notes import gradcheck
    >>> bool(gradcheck(lambda x: (x * x).sum(), [[1.0, 2.0, 3.0]]))
    True
    """
    values = [Value(_as_float64(x)) for x in inputs]
    out = f(*values)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    rng = np.random.default_rng(seed)
    shape = out.shape
    projection = 1.0 if shape == () else rng.standard_normal(shape)
    seed_grad = None if shape == () else projection.astype(out.dtype)
    analytic = _grad(out, values, grad=seed_grad, retain_graph=False)

    worst = None
    failures = checked = 0
    for i, value in enumerate(values):
        expected_shape = np.shape(value.data)
        g = analytic[i]
        g = np.zeros(expected_shape) if g is None else np.asarray(g, dtype=np.float64)
        if g.shape != expected_shape:
            raise GradcheckError(
                f"gradcheck: the gradient of input {i} has shape {g.shape}, the input has shape {expected_shape}"
            )
        scalar = type(value.data) is float
        flat = None if scalar else value.data.reshape(-1)
        for j in range(1 if scalar else flat.size):
            if scalar:
                x0 = value.data
                value.data = x0 + eps
                up = _objective(f, values, projection)
                value.data = x0 - eps
                down = _objective(f, values, projection)
                value.data = x0
            else:
                x0 = flat[j]
                flat[j] = x0 + eps
                up = _objective(f, values, projection)
                flat[j] = x0 - eps
                down = _objective(f, values, projection)
                flat[j] = x0
            numeric = (up - down) / (2 * eps)
            exact = float(g.reshape(-1)[j]) if not scalar else float(g)
            err = abs(exact - numeric)
            allowed = atol + rtol * abs(numeric)
            checked += 1
            failures += err > allowed or not np.isfinite(exact)
            score = err / allowed if np.isfinite(exact) else np.inf
            if worst is None or score > worst[0]:
                index = () if scalar else tuple(int(k) for k in np.unravel_index(j, expected_shape))
                worst = (score, i, index, exact, numeric, err, err / max(abs(numeric), 1e-300))
    if worst is None:
        report = GradcheckReport(True, None, None, 0.0, 0.0, 0.0, 0.0, 0, 0, atol, rtol)
    else:
        _, i, index, exact, numeric, err, rel = worst
        report = GradcheckReport(failures == 0, i, index, exact, numeric, err, rel, failures, checked, atol, rtol)
    if not report.passed and raise_on_failure:
        raise GradcheckError(str(report))
    return report
