"""The kernels' docstring examples. pytest's --doctest-modules would import kernels/ by
its path as a top-level 'kernels' package, which the package refuses (see
kernels/__init__.py), so they run here under their real name."""

import doctest
import importlib

import pytest

MODULES = ["tinygrad_notes.kernels.conv2d", "tinygrad_notes.kernels.batchnorm", "tinygrad_notes.kernels.pool",
           "tinygrad_notes.kernels._jit", "tinygrad_notes.kernels._threads", "tinygrad_notes.kernels._workspace",
           "tinygrad_notes.kernels._blas", "tinygrad_notes.kernels.conv2d_direct",
           "tinygrad_notes.kernels._registers", "tinygrad_notes.kernels._delta",
           "tinygrad_notes.kernels.conv2d_winograd", "tinygrad_notes.kernels.conv2d_weight_grad_wide",
           "tinygrad_notes.kernels.activation", "tinygrad_notes.kernels._caches",
           "tinygrad_notes.kernels._stream", "tinygrad_notes.kernels._spin",
           "tinygrad_notes.kernels._transpose", "tinygrad_notes.kernels._lanes",
           "tinygrad_notes.kernels._bn_rows", "tinygrad_notes.kernels.batchnorm_items"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_kernels_module_is_listed():
    from pathlib import Path

    import tinygrad_notes.kernels as package

    found = {f"tinygrad_notes.kernels.{p.stem}" for p in Path(package.__file__).parent.glob("*.py")
             if p.stem != "__init__"}
    assert found == set(MODULES)
