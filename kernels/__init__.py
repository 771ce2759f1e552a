"""Numba kernels: pure functions on contiguous ndarrays (no `Value`, no tape).

Installed as ``tinygrad_notes.kernels``; the conv2d, batchnorm and pooling kernels of
the notes' section 3.2.2 and 3.3.3 land here.

- :mod:`.conv2d`: eq. 3.9 forward; CONV-BP2 / eq. 3.14, CONV-BP3, CONV-BP4 backward;
  at stride 1 through the direct, register-blocked kernels of :mod:`.conv2d_direct`
  (Winograd's F(2x2, 3x3), :mod:`.conv2d_winograd`, when ``TINYGRAD_NOTES_WINOGRAD=1``).
- :mod:`.batchnorm`: Algorithm 1 (eqs. 3.19-3.20), the fused backward (eqs. 3.22-3.23),
  inference (eq. 3.24).
- :mod:`.pool`: max and average pooling, forward and backward.
- :mod:`.activation`: ReLU forward and backward for large arrays, on the kernel threads.

Every jitted function is compiled with ``cache=True`` (see :mod:`._jit` for the cache
folder's fallback when the package folder is read-only) and ``nogil=True``; kernels
that split work across threads use a small pool of Python threads (:mod:`._threads`).
Float32 and float64, NCHW; the ops in ``tinygrad_notes.ops`` validate and convert
their inputs before calling these.
"""

if __name__ != "tinygrad_notes.kernels":
    # numba's on-disk cache is keyed by source file but records the module's name; had
    # these files been compiled as a top-level "kernels" package (importable from the
    # repository root), the cache would fail later under the real name with
    # "No module named 'kernels'". So there is only one name.
    raise ImportError(
        f"the numba kernels must be imported as tinygrad_notes.kernels, not as {__name__!r} "
        f"(a second name would corrupt numba's cache for the first)"
    )

from .activation import relu_backward, relu_forward
from .batchnorm import batchnorm_backward, batchnorm_forward_infer, batchnorm_forward_train
from .conv2d import conv2d_backward, conv2d_forward
from .pool import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward
from ._workspace import clear_workspaces, workspace_bytes

__all__ = [
    "conv2d_forward", "conv2d_backward",
    "batchnorm_forward_train", "batchnorm_backward", "batchnorm_forward_infer",
    "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
    "relu_forward", "relu_backward",
    "clear_workspaces", "workspace_bytes",
]
