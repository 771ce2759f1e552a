"""How the checks compare numbers: worst-case errors, a tally over many comparisons, and
central differences in float64 on plain numpy functions.

Errors are reported as ``max |a - b|`` and the norm-wise relative error
``max |a - b| / max |b|`` (``b`` the reference; a reference that is exactly zero has no
scale, and its relative error is the absolute one). A comparison passes when every element
has ``|a - b| <= atol + rtol * |b|``, numpy's ``allclose`` rule.
"""

from __future__ import annotations

import numpy as np

from .registry import CheckResult

# Tolerances in float64: two exact computations (tape vs closed form) differ only by
# rounding; a central difference with step 1e-6 carries an O(eps^2) + O(u / eps) error.
EXACT = dict(rtol=1e-10, atol=1e-12)
NUMERIC = dict(rtol=1e-6, atol=1e-8)
EPS = 1e-6


def errors(a, b) -> tuple[float, float]:
    """``(max |a - b|, max |a - b| / max |b|)`` for arrays or numbers of one shape."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0, 0.0
    diff = float(np.max(np.abs(a - b)))
    scale = float(np.max(np.abs(b)))
    rel = diff / scale if scale > 0 else diff
    return diff, rel


class Tally:
    """Collects comparisons and sums them up into one :class:`CheckResult`.

    >>> t = Tally()
    >>> t.close([1.0, 2.0], [1.0, 2.0 + 1e-13], **EXACT)
    True
    >>> t.result().passed
    True
    """

    def __init__(self):
        self.max_abs = 0.0
        self.max_rel = 0.0
        self.passed = True
        self.failures: list[str] = []
        self.count = 0
        self.by_kind: dict[str, float] = {}
        self.max_z = 0.0

    def record(self, abs_err: float, rel_err: float, ok: bool, name: str = "", kind: str = "") -> bool:
        """Add one comparison that was made elsewhere (e.g. a Monte Carlo z-score).

        ``kind`` groups comparisons for the detail line (``tape``, ``numeric``, ...).
        """
        self.count += 1
        if kind:
            previous = self.by_kind.get(kind, 0.0)
            self.by_kind[kind] = max(previous, float(abs_err)) if np.isfinite(abs_err) else np.inf
        self.max_abs = max(self.max_abs, float(abs_err)) if np.isfinite(abs_err) else np.inf
        self.max_rel = max(self.max_rel, float(rel_err)) if np.isfinite(rel_err) else np.inf
        if not ok:
            self.passed = False
            self.failures.append(f"{name}: abs err {abs_err:.3g}, rel err {rel_err:.3g}")
        return bool(ok)

    def close(self, a, b, rtol: float, atol: float, name: str = "", kind: str = "") -> bool:
        """Compare ``a`` with the reference ``b`` elementwise; shapes must be equal."""
        a64 = np.asarray(a, dtype=np.float64)
        b64 = np.asarray(b, dtype=np.float64)
        if a64.shape != b64.shape:
            return self.record(np.inf, np.inf, False, f"{name}: shape {a64.shape} vs {b64.shape}", kind)
        abs_err, rel_err = errors(a64, b64)
        ok = bool(np.all(np.abs(a64 - b64) <= atol + rtol * np.abs(b64))) and bool(np.all(np.isfinite(a64)))
        return self.record(abs_err, rel_err, ok, name, kind)

    def zero(self, value, scale: float, atol: float, name: str = "", kind: str = "") -> bool:
        """``value`` is 0 up to ``atol``; its relative error is measured against ``scale``
        (the size of the quantities it was computed from), as a zero has no size of its own."""
        abs_err = float(np.max(np.abs(np.asarray(value, dtype=np.float64))))
        return self.record(abs_err, abs_err / scale, abs_err <= atol, name, kind)

    def monte_carlo(self, estimate: float, exact: float, standard_error: float, name: str = "",
                    z: float = 5.0) -> bool:
        """A Monte Carlo ``estimate`` of ``exact`` passes within ``z`` standard errors."""
        err = abs(float(estimate) - float(exact))
        self.max_z = max(self.max_z, err / standard_error if standard_error > 0 else np.inf)
        scale = abs(float(exact)) or 1.0
        return self.record(err, err / scale, err <= z * standard_error, f"{name} (|z| {err / standard_error:.1f})",
                           "Monte Carlo")

    def require(self, condition: bool, name: str) -> bool:
        """A yes/no fact (e.g. 'the perceptron converged'); it carries no error size."""
        return self.record(0.0, 0.0, bool(condition), name)

    def result(self, erratum: str | None = None, detail: str = "") -> CheckResult:
        """The :class:`CheckResult` of everything recorded so far."""
        if self.count == 0:
            return CheckResult(np.nan, np.nan, False, None, "no comparison was made")
        if not detail and self.by_kind:
            detail = "max abs err " + ", ".join(f"vs {k} {v:.1e}" for k, v in self.by_kind.items())
            if "Monte Carlo" in self.by_kind:
                detail += f"; Monte Carlo max |z| {self.max_z:.2f} (5 allowed)"
        if self.failures:
            more = len(self.failures) - 3
            detail = "; ".join(self.failures[:3]) + (f" (and {more} more)" if more > 0 else "")
        return CheckResult(self.max_abs, self.max_rel, self.passed, erratum if self.passed else None, detail)


def numeric_grad(f, arrays, eps: float = EPS) -> list[np.ndarray]:
    """Central differences ``(f(x + eps) - f(x - eps)) / (2 eps)`` of a scalar numpy
    function ``f(*arrays)`` with respect to each array, in float64.

    >>> [g.round(6).tolist() for g in numeric_grad(lambda x: float((x ** 2).sum()), [np.array([1.0, 3.0])])]
    [[2.0, 6.0]]
    """
    arrays = [np.array(a, dtype=np.float64, copy=True) for a in arrays]
    grads = []
    for a in arrays:
        g = np.empty_like(a)
        flat, gflat = a.reshape(-1), g.reshape(-1)
        for j in range(flat.size):
            x0 = flat[j]
            flat[j] = x0 + eps
            up = f(*arrays)
            flat[j] = x0 - eps
            down = f(*arrays)
            flat[j] = x0
            gflat[j] = (up - down) / (2 * eps)
        grads.append(g)
    return grads
