"""`Value`: one type for scalars (a Python float) and tensors (a float32/float64 ndarray).

A Value is a node of the recorded graph: its ``data``, its ``grad`` after backward, the
op that made it (``_op``), the values it was made from (``_prev``), and what the op's
forward saved for its backward. The scalar API is micrograd's, so code written for
micrograd's ``Value`` runs unchanged; the tensor API follows numpy.

Dtype rule (one rule, numpy's): float32 with float64 gives float64; a Python number or a
scalar Value is "weak" and takes the tensor's dtype. Integer constants in arithmetic are
converted to the other operand's float dtype. Gradients always have their input's dtype.
"""

from __future__ import annotations

import numpy as np

from . import tape as _tape
from .tape import MANY
from .ops import activation as _act
from .ops import arithmetic as _ar
from .ops import elementwise as _el
from .ops import linalg as _la
from .ops import reduce as _red
from .ops import shape as _sh

DEFAULT_DTYPE = np.float32
_ndarray = np.ndarray
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_next_position = _tape.next_position


def _not_differentiable(dtype, where: str) -> TypeError:
    return TypeError(
        f"{where}: data of dtype {dtype} is not differentiable; only float32 and float64 "
        f"are. Convert it first, e.g. np.asarray(data, dtype=np.float32)"
    )


def as_data(data, dtype=None, where: str = "Value"):
    """Normalize user data: Python numbers become floats, the rest float32/float64 arrays.

    Lists and tuples become ``DEFAULT_DTYPE`` (float32) arrays unless ``dtype`` says
    otherwise; float ndarrays keep their dtype (and their memory: no copy).
    """
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype not in _FLOAT_DTYPES:
            raise _not_differentiable(dtype, where)
    if type(data) is float and dtype is None:
        return data
    if isinstance(data, (bool, int, float)) and not isinstance(data, np.generic) and dtype is None:
        return float(data)
    if isinstance(data, Value):
        raise TypeError(f"{where}: data is already a Value; use value.detach() for a copy without history")
    if isinstance(data, (list, tuple)):
        try:
            arr = np.asarray(data, dtype=dtype or DEFAULT_DTYPE)
        except (ValueError, TypeError) as e:
            raise TypeError(f"{where}: cannot make a float array from this {type(data).__name__}: {e}") from None
        return arr
    arr = np.asarray(data)
    if arr.dtype not in _FLOAT_DTYPES:
        if dtype is None or arr.dtype.kind not in "iub":
            raise _not_differentiable(arr.dtype, where)
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return arr


def _constant_data(x, like):
    """Data for a non-Value operand of arithmetic: integers take the float dtype of ``like``."""
    if type(x) is float:
        return x
    if isinstance(x, (bool, int, float)) and not isinstance(x, np.generic):
        return float(x)
    arr = np.asarray(x)
    if arr.dtype.kind in "iub":
        target = like.dtype if type(like) is _ndarray else np.float64
        return arr.astype(target)
    if arr.dtype not in _FLOAT_DTYPES:
        raise _not_differentiable(arr.dtype, "arithmetic")
    return arr


def _fix_result(data):
    """numpy returns numpy scalars for 0-d results; keep them as 0-d arrays."""
    return np.asarray(data)


class Value:
    """A scalar or a tensor that records the ops applied to it, for backward.

    >>> from tinygrad_notes import Value
    >>> a, b = Value(2.0), Value(-3.0)
    >>> c = a * b + b ** 2
    >>> c.backward()
    >>> a.grad, b.grad
    (-3.0, -4.0)

    ``requires_grad=False`` marks data and constants: no gradient work is done for them.
    ``name`` labels the value in error messages and graph drawings.
    """

    # The inputs of the op that made this value sit in two slots, not a tuple: one
    # GC-tracked object per op instead of two halves the collector's work on big scalar
    # graphs. `_a` is None for a leaf; `_b` is None for a unary op and MANY for an
    # n-ary op, whose inputs are then the tuple in `_a`. `_prev` gives them as a tuple.
    __slots__ = ("data", "grad", "requires_grad", "name", "_a", "_b", "_op", "_bw", "_ctx", "_id", "_g",
                 "__weakref__")
    __array_ufunc__ = None  # ndarray (op) Value defers to Value's reflected operators

    def __init__(self, data, *, requires_grad: bool = True, name: str | None = None, dtype=None):
        data = as_data(data, dtype)
        self.data = data
        self.grad = 0.0 if type(data) is float else None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._a = None
        self._b = None
        self._op = ""
        self._bw = None
        self._ctx = None
        self._id = _next_position()
        self._g = None

    # ------------------------------------------------------------------ building nodes
    def _unary(self, op, **params):
        try:
            data, saved = op.forward(self.data, **params)
        except _OP_ERRORS as e:
            raise named_error(op, e, f"input {_describe(self)}") from None
        return _node(data, op, self, None, saved, self.requires_grad)

    def _binary(self, op, other, reflected=False):
        if reflected:
            if not isinstance(other, Value):
                other = _constant(other, self.data)
            return _binary(op, other, self)
        return _binary(op, self, other)

    @property
    def _prev(self) -> tuple:
        """The inputs of the op that made this value (empty for a leaf)."""
        a, b = self._a, self._b
        if a is None:
            return ()
        if b is None:
            return (a,)
        if b is MANY:
            return a
        return (a, b)

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return _binary(_ADD, self, other)

    def __radd__(self, other):
        return self._binary(_ar.ADD, other, True)

    def __sub__(self, other):
        return _binary(_SUB, self, other)

    def __rsub__(self, other):
        return self._binary(_ar.SUB, other, True)

    def __mul__(self, other):
        return _binary(_MUL, self, other)

    def __rmul__(self, other):
        return self._binary(_ar.MUL, other, True)

    def __truediv__(self, other):
        return _binary(_DIV, self, other)

    def __rtruediv__(self, other):
        return self._binary(_ar.DIV, other, True)

    def __pow__(self, exponent):
        if isinstance(exponent, Value):
            return self._binary(_ar.POW_VALUE, exponent)
        if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
            return self._unary(_ar.POW, exponent=exponent if type(exponent) is int else float(exponent))
        return self._binary(_ar.POW_VALUE, exponent)

    def __rpow__(self, base):
        return self._binary(_ar.POW_VALUE, base, True)

    def __neg__(self):
        return _unary(_NEG, self)

    def __pos__(self):
        return self

    def __matmul__(self, other):
        return self._binary(_la.MATMUL, other)

    def __rmatmul__(self, other):
        return self._binary(_la.MATMUL, other, True)

    def matmul(self, other):
        """Matrix product with numpy's rules (1-D, 2-D, broadcast batches); see ``@``."""
        return self._binary(_la.MATMUL, other)

    # ------------------------------------------------------------------ elementwise
    def relu(self):
        """max(x, 0)."""
        return _unary(_RELU, self)

    def tanh(self):
        """Hyperbolic tangent; its derivative 1 - tanh^2 is sigma' in BP1/BP2."""
        return _unary(_TANH, self)

    def sigmoid(self):
        """1 / (1 + exp(-x)), computed without overflow for large |x|."""
        return _unary(_SIGMOID, self)

    def exp(self):
        """e ** x."""
        return _unary(_EXP, self)

    def log(self):
        """Natural logarithm (x > 0)."""
        return _unary(_LOG, self)

    def sqrt(self):
        """Square root (x >= 0)."""
        return self._unary(_el.SQRT)

    def abs(self):
        """|x| (gradient 0 at 0)."""
        return self._unary(_el.ABS)

    def __abs__(self):
        return self._unary(_el.ABS)

    def clip(self, low=None, high=None):
        """Clamp into [low, high]; the gradient flows where low <= x <= high."""
        return self._unary(_el.CLIP, low=low, high=high)

    def softmax(self, axis: int = -1):
        """exp(x) / sum(exp(x)) along ``axis`` (the maximum is subtracted first)."""
        return self._unary(_act.SOFTMAX, axis=axis)

    def log_softmax(self, axis: int = -1):
        """x - log(sum(exp(x))) along ``axis``, stable for large logits."""
        return self._unary(_act.LOG_SOFTMAX, axis=axis)

    # ------------------------------------------------------------------ reductions
    def sum(self, axis=None, keepdims: bool = False):
        """Sum over ``axis`` (int, tuple, or None for all elements)."""
        return self._unary(_red.SUM, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        """Mean over ``axis`` (int, tuple, or None for all elements)."""
        return self._unary(_red.MEAN, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False):
        """Maximum over ``axis``; tied maxima share the gradient equally."""
        return self._unary(_red.MAX, axis=axis, keepdims=keepdims)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        """Same data in a new shape (one axis may be -1); ``x.reshape(2, 3)`` or ``((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return self._unary(_sh.RESHAPE, shape=tuple(int(s) for s in shape))

    def transpose(self, *axes):
        """Permute the axes (reversed when none are given), like ``ndarray.transpose``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = axes[0]
        return self._unary(_sh.TRANSPOSE, axes=tuple(axes) if axes else None)

    def permute(self, *dims):
        """Permute the axes into the order ``dims`` (PyTorch's name for transpose)."""
        return self.transpose(*dims)

    @property
    def T(self):
        """The axes reversed (the matrix transpose for 2-D)."""
        return self._unary(_sh.TRANSPOSE, axes=None)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        """Merge axes ``start_dim..end_dim`` into one (all of them by default)."""
        shape = self.shape
        nd = len(shape)
        start, end = start_dim % nd if nd else 0, end_dim % nd if nd else 0
        if nd == 0:
            return self.reshape(1)
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {shape}")
        merged = int(np.prod(shape[start : end + 1]))
        return self.reshape(shape[:start] + (merged,) + shape[end + 1 :])

    def __getitem__(self, index):
        if isinstance(index, Value):
            index = index.data
        return self._unary(_sh.GETITEM, index=index)

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple:
        """The shape; ``()`` for a scalar."""
        data = self.data
        return () if type(data) is float else data.shape

    @property
    def dtype(self):
        """numpy dtype of the data (a scalar is float64)."""
        data = self.data
        return np.dtype(np.float64) if type(data) is float else data.dtype

    @property
    def ndim(self) -> int:
        """Number of axes (0 for a scalar)."""
        data = self.data
        return 0 if type(data) is float else data.ndim

    @property
    def size(self) -> int:
        """Number of elements."""
        data = self.data
        return 1 if type(data) is float else data.size

    @property
    def is_leaf(self) -> bool:
        """True for values that no recorded op produced (inputs, parameters, constants)."""
        return self._bw is None

    def __len__(self) -> int:
        if type(self.data) is float:
            raise TypeError("len() of a scalar Value")
        return len(self.data)

    def item(self) -> float:
        """The value of a one-element Value as a Python float."""
        data = self.data
        if type(data) is float:
            return data
        if data.size != 1:
            raise ValueError(f"item(): the Value has shape {data.shape}, not one element")
        return float(data.reshape(()))

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (a scalar becomes a 0-d float64 array)."""
        return np.asarray(self.data)

    def detach(self) -> "Value":
        """A new leaf Value with the same data and no history (requires_grad=False)."""
        return Value(self.data, requires_grad=False, name=self.name)

    # ------------------------------------------------------------------ gradients
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Backpropagate: accumulate d(self)/d(v) into ``v.grad`` for every ``v`` behind it.

        ``self`` must be a scalar unless ``grad`` (its upstream gradient) is given. The
        graph's saved data is freed afterwards unless ``retain_graph=True``.
        """
        _tape.backward(self, grad, retain_graph)

    def zero_grad(self) -> None:
        """Reset ``.grad`` (0.0 for a scalar, None for a tensor)."""
        self.grad = 0.0 if type(self.data) is float else None

    def __repr__(self) -> str:
        data = self.data
        if type(data) is float:
            return f"Value(data={data}, grad={self.grad})"
        body = np.array2string(data, precision=4, threshold=20, edgeitems=2, separator=", ", prefix="      ")
        extra = f", name={self.name!r}" if self.name else ""
        op = f", op={self._op!r}" if self._op else ""
        return f"Value({body}, dtype={data.dtype}{op}{extra})"


_ADD, _SUB, _MUL, _DIV, _NEG = _ar.ADD, _ar.SUB, _ar.MUL, _ar.DIV, _ar.NEG
_RELU, _TANH, _SIGMOID, _EXP, _LOG = _act.RELU, _act.TANH, _act.SIGMOID, _el.EXP, _el.LOG
_new = object.__new__


def _binary(op, a, b):
    """Apply a binary op (the hot path of every scalar graph: keep it lean)."""
    if b.__class__ is not Value and not isinstance(b, Value):
        b = _constant(b, a.data)
    try:
        data, saved = op.forward(a.data, b.data)
    except _OP_ERRORS as e:
        raise _binary_error(op, a, b, e) from None
    # _node(), inlined: this function runs once per op of every scalar graph.
    out = _new(Value)
    if type(data) is not float and type(data) is not _ndarray:
        data = _fix_result(data)
    out.data = data
    out.grad = 0.0 if type(data) is float else None
    out.name = None
    out._op = op.name
    out._id = _next_position()
    out._g = None
    if (a.requires_grad or b.requires_grad) and _tape._state_grad_enabled:
        out.requires_grad = True
        out._a = a
        out._b = b
        out._bw = op.backward
        out._ctx = saved
        if _tape._active_tapes:
            _tape.record(out)
    else:
        out.requires_grad = False
        out._a = out._b = out._bw = out._ctx = None
    return out


def _unary(op, a):
    """Apply a unary op without parameters."""
    try:
        data, saved = op.forward(a.data)
    except _OP_ERRORS as e:
        raise named_error(op, e, f"input {_describe(a)}") from None
    return _node(data, op, a, None, saved, a.requires_grad)


def _node(data, op, a, b, saved, requires_grad):
    """Create the output Value of ``op`` on inputs ``a``, ``b`` and, when it carries gradient, record it."""
    out = _new(Value)
    if type(data) is not float and type(data) is not _ndarray:
        data = _fix_result(data)
    out.data = data
    out.grad = 0.0 if type(data) is float else None
    out.name = None
    out._op = op.name
    out._id = _next_position()
    out._g = None
    if requires_grad and _tape._state_grad_enabled:
        out.requires_grad = True
        out._a = a
        out._b = b
        out._bw = op.backward
        out._ctx = saved
        if _tape._active_tapes:
            _tape.record(out)
    else:
        out.requires_grad = False
        out._a = out._b = out._bw = out._ctx = None
    return out


def _constant(x, like) -> Value:
    out = Value.__new__(Value)
    out.data = _constant_data(x, like)
    out.grad = 0.0 if type(out.data) is float else None
    out.requires_grad = False
    out.name = None
    out._a = None
    out._b = None
    out._op = ""
    out._bw = None
    out._ctx = None
    out._id = _next_position()
    out._g = None
    return out


def _describe(v: Value) -> str:
    data = v.data
    if type(data) is float:
        return repr(data)
    return f"shape {data.shape}, {data.dtype}"


_OP_ERRORS = (ValueError, TypeError, OverflowError, ZeroDivisionError, IndexError, FloatingPointError)


def named_error(op, error, detail: str = "") -> Exception:
    """The same kind of error, its message starting with the op's name and ending with ``detail``."""
    message = str(error)
    if not message.startswith(op.name):
        message = f"{op.name}: {message}"
    if detail:
        message = f"{message} ({detail})"
    kind = type(error) if type(error) in _OP_ERRORS else ValueError
    return kind(message)


def _binary_error(op, a, b, error):
    sa, sb = np.shape(a.data), np.shape(b.data)
    if "broadcast" in str(error):
        return ValueError(
            f"{op.name}: cannot broadcast shapes {sa} and {sb}; trailing axes must be equal "
            f"or 1 (numpy broadcasting)"
        )
    return named_error(op, error, f"shapes {sa} and {sb}")


def value_args(values, where: str):
    """Turn a sequence of Values / numbers / arrays into Values (for n-ary ops)."""
    values = list(values)
    if not values:
        raise ValueError(f"{where} needs at least one value")
    like = next((v.data for v in values if isinstance(v, Value)), None)
    return tuple(v if isinstance(v, Value) else _constant(v, like) for v in values)


def apply(op, inputs, **params) -> Value:
    """Run a registered op on Values and record it: the general path for n-ary ops."""
    inputs = tuple(inputs)
    arrays = []
    requires_grad = False
    for v in inputs:  # a loop, not generators: this runs once per op of every tensor graph
        arrays.append(v.data)
        requires_grad = requires_grad or v.requires_grad
    try:
        data, saved = op.forward(*arrays, **params)
    except _OP_ERRORS as e:
        raise named_error(op, e, "shapes " + ", ".join(str(v.shape) for v in inputs)) from None
    return _node(data, op, inputs, MANY, saved, requires_grad)
