"""conv2d as a tape op: the forward of eq. 3.9/3.10 and the backward of CONV-BP (eq. 3.15).

``conv2d(x, w, b)`` with x (N, C, H, W), w (K, C/groups, kh, kw), b (K,) or absent. The
backward returns dx by CONV-BP2 (the full convolution of delta with rot180(W), eq. 3.14),
dw by CONV-BP3 and db by CONV-BP4; the numbers come from :mod:`tinygrad_notes.kernels.conv2d`
(imported on first use, so that importing the engine does not import numba).

Input rules (shared with the batch_norm and pooling ops):

* dtypes: float32 and float64 only (integers, bools, float16 raise TypeError). Mixed
  float32/float64 inputs are promoted to float64 -- numpy's rule, the engine's rule for
  every op -- so the output is float64; each gradient is handed back in its own input's
  dtype by the tape.
* non-contiguous inputs (slices, transposes) are copied to contiguous arrays first;
  gradients that arrive as read-only or broadcast views are never written to.
* ``stride``, ``padding`` and ``dilation`` are an int or an (height, width) pair.

Errors name the op and the shapes: wrong ndim, channel mismatch between input and weight,
a kernel larger than the padded input, a non-positive stride or dilation, a negative
padding, a bad bias shape, bad groups.
"""

from __future__ import annotations

import numpy as np

from .registry import register

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


_kernels = None


def kernels():
    """The numba kernels package, imported on first use: ``import tinygrad_notes`` then
    does not pay for importing numba (about 0.2 s) until a CNN op runs. Kept once
    imported: an ``import`` statement on every call costs a module lookup per op."""
    global _kernels
    if _kernels is None:
        import tinygrad_notes.kernels as k

        _kernels = k
    return _kernels


def pair(value, name: str, op: str, minimum: int) -> tuple:
    """``value`` (an int or a pair of ints) as an (height, width) tuple, each >= ``minimum``."""
    items = (value, value) if isinstance(value, (int, np.integer)) else value
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    ok = len(items) == 2 and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items)
    if not ok or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(items) < minimum:
        what = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be {what}, got {value!r}")
    return int(items[0]), int(items[1])


def plain_floats(*arrays) -> bool:
    """Whether every one of ``arrays`` is a C-contiguous ndarray (not 0-d) of the first
    one's float dtype: the usual case, in which :func:`float_arrays` has nothing to
    refuse or convert, tested first with as little work as possible."""
    dtype = getattr(arrays[0], "dtype", None)
    if dtype not in _FLOATS:
        return False
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != dtype or not a.ndim or not a.flags.c_contiguous:
            return False
    return True


def float_arrays(op: str, named: dict) -> tuple:
    """Check that every array is float32/float64 (not a scalar) and convert them all to
    their promoted dtype, contiguous. Returns ``(arrays, dtype)``."""
    for name, a in named.items():
        if type(a) is float or not isinstance(a, np.ndarray) or a.ndim == 0:
            raise TypeError(f"{op}: {name} must be a tensor, got {type(a).__name__} {a!r:.40}")
        if a.dtype not in _FLOATS:
            raise TypeError(
                f"{op}: {name} has dtype {a.dtype}; only float32 and float64 are supported "
                f"(convert it, e.g. a.astype(np.float32))"
            )
    arrays = list(named.values())
    dtype = arrays[0].dtype
    if all(a.dtype == dtype and a.flags.c_contiguous for a in arrays):  # the usual case: nothing to convert
        return arrays, dtype
    dtype = np.result_type(*arrays)
    return [np.ascontiguousarray(a, dtype=dtype) for a in arrays], dtype


def conv2d_params(x_shape, w_shape, b_shape, stride, padding, dilation, groups):
    """Validate a conv2d's shapes and settings; returns (stride, padding, dilation, groups)."""
    op = "conv2d"
    if len(x_shape) != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {x_shape}")
    if len(w_shape) != 4:
        raise ValueError(f"{op}: weight must be 4-D (K, C/groups, kh, kw), got shape {w_shape}")
    stride = pair(stride, "stride", op, 1)
    padding = pair(padding, "padding", op, 0)
    dilation = pair(dilation, "dilation", op, 1)
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    N, C, H, W = x_shape
    K, Cg, kh, kw = w_shape
    if min(K, Cg, kh, kw) == 0 or min(C, H, W) == 0:
        raise ValueError(f"{op}: empty input {x_shape} or weight {w_shape}")
    if C % groups or K % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide the input channels ({C}) and the output "
            f"channels ({K}); input {x_shape}, weight {w_shape}"
        )
    if Cg * groups != C:
        raise ValueError(
            f"{op}: channel mismatch: input {x_shape} has {C} channels but weight {w_shape} "
            f"expects {Cg * groups} ({Cg} per group, groups={groups})"
        )
    if b_shape is not None and tuple(b_shape) != (K,):
        raise ValueError(f"{op}: bias must have shape ({K},) for weight {w_shape}, got {tuple(b_shape)}")
    span_h, span_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    Hp, Wp = H + 2 * padding[0], W + 2 * padding[1]
    if span_h > Hp or span_w > Wp:
        raise ValueError(
            f"{op}: kernel {kh}x{kw} (dilation {dilation}) spans {span_h}x{span_w}, larger "
            f"than the padded input {Hp}x{Wp} (input {x_shape}, padding {padding})"
        )
    return stride, padding, dilation, int(groups)


def _conv2d_fwd(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, needs=(True, True, True)):
    """Eq. 3.9/3.10: ``z = a * w + b`` (a cross-correlation, as in the notes)."""
    if plain_floats(x, w) if b is None else plain_floats(x, w, b):
        arrays, dtype = (x, w, b), x.dtype
    else:
        named = {"input": x, "weight": w} if b is None else {"input": x, "weight": w, "bias": b}
        arrays, dtype = float_arrays("conv2d", named)
    settings = conv2d_params(x.shape, w.shape, None if b is None else np.shape(b), stride, padding,
                             dilation, groups)
    y = kernels().conv2d_forward(arrays[0], arrays[1], arrays[2] if b is not None else None, *settings)
    return y, (settings, tuple(needs), dtype)


def _conv2d_bwd(g, saved, x, w, b=None):
    """CONV-BP2 / eq. 3.14 (dx), CONV-BP3 (dw), CONV-BP4 (db)."""
    settings, needs, dtype = saved
    g, x, w = (np.ascontiguousarray(a, dtype=dtype) for a in (g, x, w))
    want = (needs[0], needs[1], b is not None and needs[2])
    dx, dw, db = kernels().conv2d_backward(g, x, w, *settings, needs=want)
    return (dx, dw) if b is None else (dx, dw, db)


CONV2D = register("conv2d", _conv2d_fwd, _conv2d_bwd,
                  equations=("CONV-BP2", "CONV-BP3", "CONV-BP4", "eq. 3.14", "eq. 3.15"))
