"""Numba kernels: pure functions on contiguous ndarrays (no `Value`, no tape).

Installed as ``tinygrad_notes.kernels``; the conv2d, batchnorm and pooling kernels of
the notes' section 3.2.2 and 3.3.3 land here.
"""
