"""max_pool2d and avg_pool2d as tape ops, NCHW (the notes have no equation for pooling).

max: each output's gradient goes to the cell that won its window (the first maximum,
row-major; a NaN wins, as in PyTorch). avg: the zero padding counts in the mean
(PyTorch's default ``count_include_pad=True``), so each cell of a window gets
``1 / (kh kw)`` of that window's gradient. ``stride`` defaults to the kernel size;
padding may be at most half the kernel (as in PyTorch). dtypes follow the conv2d op's
rule (float32/float64 only); kernels in :mod:`tinygrad_notes.kernels.pool`.
"""

from __future__ import annotations

import numpy as np

from .conv import float_arrays, kernels, pair
from .registry import register


def pool_params(op, shape, kernel_size, stride, padding):
    """Validate a pooling's input shape and settings; returns (kernel, stride, padding)."""
    if len(shape) != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {shape}")
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else pair(stride, "stride", op, 1)
    padding = pair(padding, "padding", op, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel {kernel}")
    Hp, Wp = shape[2] + 2 * padding[0], shape[3] + 2 * padding[1]
    if kernel[0] > Hp or kernel[1] > Wp:
        raise ValueError(
            f"{op}: kernel {kernel[0]}x{kernel[1]} is larger than the padded input {Hp}x{Wp} "
            f"(input {shape}, padding {padding})"
        )
    return kernel, stride, padding


def _max_pool_fwd(x, kernel_size=2, stride=None, padding=0):
    (x,), dtype = float_arrays("max_pool2d", {"input": x})
    settings = pool_params("max_pool2d", x.shape, kernel_size, stride, padding)
    y = kernels().max_pool2d_forward(x, *settings)
    return y, (y, settings, dtype)


def _max_pool_bwd(g, saved, x):
    y, settings, dtype = saved
    (x,), _ = float_arrays("max_pool2d", {"input": x})
    g = np.ascontiguousarray(g, dtype=dtype)
    return (kernels().max_pool2d_backward(g, x.astype(dtype, copy=False), y, *settings),)


def _avg_pool_fwd(x, kernel_size=2, stride=None, padding=0):
    (x,), dtype = float_arrays("avg_pool2d", {"input": x})
    settings = pool_params("avg_pool2d", x.shape, kernel_size, stride, padding)
    return kernels().avg_pool2d_forward(x, *settings), (settings, x.shape, dtype)


def _avg_pool_bwd(g, saved, x):
    settings, shape, dtype = saved
    return (kernels().avg_pool2d_backward(np.ascontiguousarray(g, dtype=dtype), shape, *settings),)


MAX_POOL2D = register("max_pool2d", _max_pool_fwd, _max_pool_bwd)
AVG_POOL2D = register("avg_pool2d", _avg_pool_fwd, _avg_pool_bwd)
