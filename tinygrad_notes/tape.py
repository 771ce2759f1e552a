"""The tape: ops in execution order, and backward as the reverse walk over it.

Every `Value` takes the next position on the tape when it is created (``_id``), and an op's
output is always created after its inputs, so execution order is a topological order of
the graph. ``backward()`` collects the part of the graph that leads to the output
(iteratively: a chain of a million ops is fine), sorts it by tape position, newest
first, and walks it once. Each op's backward is a vector-Jacobian product
``g -> (g_in1, g_in2, ...)``; the walk sums what reaches each input, and shapes every
gradient to its input in ONE place, :func:`fit_gradient`.

A recorded node keeps its inputs and what its forward saved, never a reference to the
op's own output, so no reference cycles form and a graph is freed the moment nothing
refers to it. The implicit tape therefore costs nothing when values die unused;
``with Tape() as t`` additionally keeps the ops of a region in a list, for
``t.gradient(y, xs)`` and for drawing.
"""

from __future__ import annotations

import functools
import itertools
import operator
import sys

import numpy as np

# Tape positions; read by value.py for every new Value.
next_position = itertools.count().__next__

_state_grad_enabled = True
_state_anomaly = False
_active_tapes: list["Tape"] = []

_by_position = operator.attrgetter("_id")
_data_of = operator.attrgetter("data")


def is_grad_enabled() -> bool:
    """Return True when ops record themselves for backward (see :class:`no_grad`).

    >>> from tinygrad_notes import is_grad_enabled, no_grad
    >>> with no_grad():
    ...     inside = is_grad_enabled()
    >>> is_grad_enabled(), inside
    (True, False)
    """
    return _state_grad_enabled


def grad_enabled() -> bool:
    """Alias of :func:`is_grad_enabled`."""
    return _state_grad_enabled


class _GradMode:
    """Base of :class:`no_grad` and :class:`enable_grad`: a context manager and decorator."""

    _enabled = True

    def __enter__(self):
        global _state_grad_enabled
        self._previous = _state_grad_enabled
        _state_grad_enabled = self._enabled
        return self

    def __exit__(self, *exc):
        global _state_grad_enabled
        _state_grad_enabled = self._previous
        return False

    def __call__(self, func):
        """Use as a decorator: run ``func`` with this grad mode."""
        mode = type(self)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with mode():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disable recording: ops inside give constants (no graph, no gradient work).

    Works as ``with no_grad(): ...`` and as a decorator ``@no_grad()`` (``@no_grad``
    without parentheses works too).

    >>> from tinygrad_notes import Value, no_grad
    >>> with no_grad():
    ...     y = Value(2.0) * 3
    >>> y.requires_grad
    False
    """

    _enabled = False

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if func is not None and callable(func):
            return self(func)
        return self

    def __init__(self, func=None):
        pass


class enable_grad(no_grad):
    """Re-enable recording inside a :class:`no_grad` region.

    >>> from tinygrad_notes import Value, enable_grad, no_grad
    >>> x = Value(2.0)
    >>> with no_grad():
    ...     frozen = x * 3
    ...     with enable_grad():
    ...         tracked = x * 3
    >>> frozen.requires_grad, tracked.requires_grad
    (False, True)
    """

    _enabled = True


class detect_anomaly:
    """Opt-in anomaly mode: backward raises at the first op that produces NaN or inf.

    The error names the op, its tape position and the shape of the bad gradient.
    ``with detect_anomaly(): loss.backward()``; also a decorator.

    >>> import numpy as np
    >>> from tinygrad_notes import Value, detect_anomaly, sqrt
    >>> x = Value(np.array([4.0, 0.0]))
    >>> with detect_anomaly(), np.errstate(divide="ignore"):  # doctest: +ELLIPSIS
    ...     sqrt(x).sum().backward()  # d sqrt(x)/dx = 1 / (2 sqrt(x)) is inf at 0
    Traceback (most recent call last):
        ...
    FloatingPointError: anomaly: the backward of op 'sqrt' (tape position ...) produced inf in the gradient ...
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    def __enter__(self):
        global _state_anomaly
        self._previous = _state_anomaly
        _state_anomaly = self.enabled
        return self

    def __exit__(self, *exc):
        global _state_anomaly
        _state_anomaly = self._previous
        return False

    def __call__(self, func):
        """Use as a decorator."""

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.enabled):
                return func(*args, **kwargs)

        return wrapper


def set_detect_anomaly(enabled: bool) -> None:
    """Turn anomaly mode on or off globally (see :class:`detect_anomaly`).

    >>> import numpy as np
    >>> from tinygrad_notes import Value, log, set_detect_anomaly
    >>> set_detect_anomaly(True)
    >>> try:
    ...     (log(Value(np.array([1.0, 2.0]))) * np.nan).sum().backward()
    ... except FloatingPointError as e:
    ...     print(str(e).split(" (")[0])
    anomaly: the backward of op 'mul'
    >>> set_detect_anomaly(False)
    """
    global _state_anomaly
    _state_anomaly = bool(enabled)


class Tape:
    """Records, in execution order, every op applied inside ``with Tape() as t:``.

    ``t.gradient(y, [x1, x2])`` returns dy/dx1, dy/dx2 without touching ``.grad``
    (GradientTape style); only ops recorded on this tape carry gradient, so values
    computed before the ``with`` block act as constants unless they are sources.
    The tape holds its ops until it is deleted; ``t.ops`` lists them.

    >>> from tinygrad_notes import Value, Tape
    >>> x = Value(3.0)
    >>> with Tape() as t:
    ...     y = x * x + 1
    >>> t.gradient(y, [x])
    [6.0]
    """

    def __init__(self):
        self.ops: list = []

    def __enter__(self) -> "Tape":
        _active_tapes.append(self)
        return self

    def __exit__(self, *exc):
        _active_tapes.remove(self)
        return False

    def __len__(self) -> int:
        return len(self.ops)

    def __iter__(self):
        return iter(self.ops)

    def gradient(self, target, sources, grad=None):
        """Gradients of ``target`` with respect to each of ``sources``, as a list.

        ``grad`` is the upstream gradient for a non-scalar target. A source that the
        target does not depend on gets ``None``. The graph is kept (call it again).
        """
        recorded = {id(op) for op in self.ops}
        if id(target) not in recorded and target._bw is not None:
            raise ValueError(
                "Tape.gradient: the target was not computed inside this tape's `with` "
                "block; compute it inside, or use target.backward()"
            )
        return _gradients(target, sources, grad, inside=recorded)

    def clear(self) -> None:
        """Forget the recorded ops (frees the graph if nothing else holds it)."""
        self.ops.clear()


def record(node) -> None:
    """Append a new op node to every active :class:`Tape` (called by value.py)."""
    for tape in _active_tapes:
        tape.ops.append(node)


def _already_freed(g, saved, *inputs):
    raise RuntimeError("backward through a freed graph")  # pragma: no cover (checked upfront)


class _Unreached:
    """Marks a collected node that no gradient has reached yet (kept in ``_g``)."""

    __slots__ = ()

    def __repr__(self):
        return "<unreached>"


UNREACHED = _Unreached()


class _Many:
    """In a node's ``_b`` slot: the op has more than two inputs, held as a tuple in ``_a``."""

    __slots__ = ()

    def __repr__(self):
        return "<many>"


MANY = _Many()


def _freed_error(node) -> RuntimeError:
    return RuntimeError(
        f"backward: op '{node._op}' (tape position {node._id}) belongs to a graph that an "
        f"earlier backward() freed. To backpropagate through the same graph twice, pass "
        f"retain_graph=True to the first backward(). If that value is meant to be a "
        f"parameter, make it a leaf: build it under no_grad() or call .detach() on it"
    )


def _collect(root, inside=None):
    """Nodes reachable from ``root`` that carry gradient, newest first (the reverse tape).

    Iterative, so any depth works. Each collected node's ``_g`` is set to ``UNREACHED``
    (which also marks it as seen). With ``inside`` (a set of ids), ops outside it are
    treated as constants: their inputs are not followed.
    """
    if root._bw is _already_freed:
        raise _freed_error(root)
    unreached, many, freed = UNREACHED, MANY, _already_freed
    root._g = unreached
    nodes = [root]
    stack = [root]
    pop, push, keep = stack.pop, stack.append, nodes.append
    try:
        while stack:
            node = pop()
            a = node._a
            if a is None or (inside is not None and id(node) not in inside):
                continue
            b = node._b
            if b is many:
                b = None
                for parent in a:
                    if parent._g is None and parent.requires_grad:
                        if parent._bw is freed:
                            raise _freed_error(parent)
                        parent._g = unreached
                        keep(parent)
                        push(parent)
            elif a._g is None and a.requires_grad:
                if a._bw is freed:
                    raise _freed_error(a)
                a._g = unreached
                keep(a)
                push(a)
            if b is not None and b._g is None and b.requires_grad:
                if b._bw is freed:
                    raise _freed_error(b)
                b._g = unreached
                keep(b)
                push(b)
    except BaseException:
        for node in nodes:
            node._g = None
        raise
    nodes.sort(key=_by_position, reverse=True)
    return nodes


def _seed(root, grad, where: str):
    """The upstream gradient that starts the walk, checked against the root's shape."""
    data = root.data
    if grad is None:
        if type(data) is float:
            return 1.0
        if data.size != 1:
            raise ValueError(
                f"{where}: the output has shape {data.shape}; backward() without grad= "
                f"needs a scalar. Pass grad=np.ones({data.shape}) (the gradient of the "
                f"sum of its elements) or reduce it first, e.g. y.sum().backward()"
            )
        return np.ones_like(data)
    if type(data) is float:
        if np.size(grad) != 1:
            raise ValueError(f"{where}: grad has shape {np.shape(grad)}, the output is a scalar")
        return float(np.asarray(grad).reshape(()))
    grad = np.asarray(grad, dtype=data.dtype)  # no copy: backward never writes into it
    if grad.shape != data.shape:
        raise ValueError(
            f"{where}: grad has shape {grad.shape} but the output has shape {data.shape}; "
            f"they must be equal"
        )
    return grad


def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``g`` over the axes that broadcasting added or stretched, down to ``shape``."""
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


def fit_gradient(g, data, node=None):
    """Shape and type a gradient like the input it flows into: THE broadcast reduction.

    A scalar input gets a Python float; a tensor input gets an array of its own shape
    (broadcast axes summed) and dtype (a float64 gradient flowing into a float32 input
    is cast to float32).
    """
    if type(data) is float:
        return g if type(g) is float else float(np.sum(g))
    if type(g) is not np.ndarray:
        g = np.asarray(g, dtype=data.dtype)
    if g.shape != data.shape:
        reduced = unbroadcast(g, data.shape)
        if reduced.shape != data.shape:
            op = f"'{node._op}'" if node is not None else "an op"
            raise RuntimeError(
                f"backward of {op} returned a gradient of shape {g.shape} for an input "
                f"of shape {data.shape}; this is a bug in that op's backward"
            )
        g = reduced
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
    return g


def _unshared_memory(g: np.ndarray) -> bool:
    """Whether ``g`` owns its memory, or views all of a buffer that only ``g`` refers to
    (the buffer's references: ``g``'s base pointer, the local ``base``, getrefcount's argument)."""
    base = g.base
    if base is None:
        return True
    return (type(base) is np.ndarray and base.base is None and base.nbytes == g.nbytes
            and sys.getrefcount(base) <= 3)


def _store_grad(node, g) -> None:
    """Accumulate a tensor gradient into ``node.grad``.

    A leaf gets an array of its own (writable); an intermediate node gets a read-only
    view, because the same array may also be flowing to other nodes.
    """
    current = node.grad
    if current is None:
        if node._bw is None:
            # A leaf owns its gradient. An array that only this call refers to (the walk's
            # local, this argument, getrefcount's argument) is taken as it is when it owns
            # its memory or is a whole-buffer view (a reshape) of memory nothing else
            # refers to; anything else (shared with other nodes, part of a buffer) is copied.
            if not (g.flags.writeable and sys.getrefcount(g) <= 3 and _unshared_memory(g)):
                g = g.copy()
        else:
            g = g.view()
            g.flags.writeable = False
        node.grad = g
    else:
        node.grad = current + g


def _check_finite(node, grads) -> None:
    for i, gp in enumerate(grads):
        if gp is None:
            continue
        if not np.all(np.isfinite(gp)):
            bad = "NaN" if np.any(np.isnan(gp)) else "inf"
            shape = np.shape(gp)
            raise FloatingPointError(
                f"anomaly: the backward of op '{node._op}' (tape position {node._id}, "
                f"output shape {np.shape(node.data)}) produced {bad} in the gradient of "
                f"input {i} (shape {shape})"
            )


_MATH_ERRORS = (ZeroDivisionError, OverflowError, ValueError)


def _backward_error(node, error) -> Exception:
    """A math error of an op's backward, re-raised naming the op (scalars use Python's math)."""
    return type(error)(
        f"backward of op '{node._op}' (tape position {node._id}, output {np.shape(node.data)}): {error}; "
        f"the derivative is infinite or undefined at this input"
    )


def _walk(root, seed, nodes, accumulate: bool, retain_graph: bool, capture=None, inside=None):
    """One reverse pass over ``nodes`` (newest first, from :func:`_collect`), from ``root``.

    ``capture`` maps nodes to the gradient that reached them; ``inside`` (a set of ids)
    stops the pass at ops that were not recorded on the tape in use. Unary and binary
    ops are unrolled: this loop is the whole cost of a scalar backward.
    """
    root._g = seed
    anomaly = _state_anomaly
    fit = fit_gradient
    unreached, many, freed, store = UNREACHED, MANY, _already_freed, _store_grad  # locals: faster lookups
    data_of, ndarray = _data_of, np.ndarray
    try:
        for node in nodes:
            g = node._g
            node._g = None
            backward = node._bw
            if g is unreached:
                if not retain_graph and backward is not None:
                    node._ctx = None
                    node._bw = freed
                continue
            if accumulate:
                if type(g) is float:
                    current = node.grad
                    node.grad = g if current is None else current + g
                else:
                    store(node, g)
            if capture is not None and node in capture:
                capture[node] = g
            if backward is None or (inside is not None and id(node) not in inside):
                continue
            saved = node._ctx
            if not retain_graph:
                node._ctx = None
                node._bw = freed
            a = node._a
            b = node._b
            if b is None:
                da = a.data
                try:
                    (ga,) = backward(g, saved, da)
                except _MATH_ERRORS as e:
                    raise _backward_error(node, e) from None
                if anomaly:
                    _check_finite(node, (ga,))
                if ga is not None and a.requires_grad:
                    if type(ga) is not float or type(da) is not float:
                        ga = fit(ga, da, node)
                    previous = a._g
                    a._g = ga if previous is unreached else previous + ga
                ga = previous = None  # no stale references: _store_grad counts them
                continue
            if b is not many:
                da, db = a.data, b.data
                try:
                    ga, gb = backward(g, saved, da, db)
                except _MATH_ERRORS as e:
                    raise _backward_error(node, e) from None
                if anomaly:
                    _check_finite(node, (ga, gb))
                if ga is not None and a.requires_grad:
                    if type(ga) is not float or type(da) is not float:
                        ga = fit(ga, da, node)
                    previous = a._g
                    a._g = ga if previous is unreached else previous + ga
                if gb is not None and b.requires_grad:
                    if type(gb) is not float or type(db) is not float:
                        gb = fit(gb, db, node)
                    previous = b._g
                    b._g = gb if previous is unreached else previous + gb
                ga = gb = previous = None
                continue
            try:
                grads = backward(g, saved, *map(data_of, a))
            except _MATH_ERRORS as e:
                raise _backward_error(node, e) from None
            if anomaly:
                _check_finite(node, grads)
            for parent, gp in zip(a, grads):
                if gp is None or not parent.requires_grad:
                    continue
                data = parent.data
                if type(gp) is ndarray:
                    if type(data) is not ndarray or gp.shape != data.shape or gp.dtype != data.dtype:
                        gp = fit(gp, data, node)
                elif type(gp) is not float or type(data) is not float:
                    gp = fit(gp, data, node)
                previous = parent._g
                parent._g = gp if previous is unreached else previous + gp
            grads = gp = previous = None
    except BaseException:
        for node in nodes:
            node._g = None
        raise


def backward(root, grad=None, retain_graph: bool = False) -> None:
    """Backpropagate from ``root``: accumulate d(root)/d(node) into every node's ``.grad``."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this value does not require grad (it was built from constants, "
            "from requires_grad=False values, or under no_grad()), so there is nothing "
            "to differentiate"
        )
    seed = _seed(root, grad, "backward")
    nodes = _collect(root)
    _walk(root, seed, nodes, accumulate=True, retain_graph=retain_graph)


def _gradients(target, sources, grad, inside=None, retain_graph=True):
    sources = list(sources)
    if not target.requires_grad:
        return [None] * len(sources)
    seed = _seed(target, grad, "gradient")
    nodes = _collect(target, inside)
    capture = {s: None for s in sources}
    _walk(target, seed, nodes, False, retain_graph, capture=capture, inside=inside)
    return [capture[s] for s in sources]


def grad(output, inputs, grad=None, retain_graph: bool = True):
    """Return d(output)/d(input) for each of ``inputs``, leaving every ``.grad`` untouched.

    ``grad`` is the upstream gradient for a non-scalar output; an input the output does
    not depend on gets ``None``.

    >>> from tinygrad_notes import Value, grad
    >>> x = Value(2.0)
    >>> grad(x ** 3, [x])
    [12.0]
    """
    return _gradients(output, inputs, grad, retain_graph=retain_graph)
