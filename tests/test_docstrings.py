"""Every public function and class of the API has a runnable example (a ``>>>`` doctest).

pytest runs the examples themselves (``--doctest-modules``); this test makes sure none is
missing. A module with ``__all__`` is covered by the functions and classes of that list; any other
module by the public (no leading underscore) functions and classes defined in it, so that
imported objects (numpy, graphviz, or the engine helpers a module uses) are skipped.
Third-party objects are skipped in ``__all__`` too. An object re-exported by several
modules is checked once.
"""

from __future__ import annotations

import importlib
import inspect

MODULES = (
    "tinygrad_notes",
    "tinygrad_notes.nn",
    "tinygrad_notes.optim",
    "tinygrad_notes.viz",
    "tinygrad_notes.data",
    "tinygrad_notes.serialization",
    "tinygrad_notes.fileio",
    "tinygrad_notes.functional_cnn",
    "tinygrad_notes.gradcheck",
)


def _public_api():
    """``{id(obj): (qualified name, obj)}`` for every public function and class of MODULES."""
    found = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        listed = getattr(module, "__all__", None)
        names = listed if listed is not None else [n for n in vars(module) if not n.startswith("_")]
        for name in names:
            if name.startswith("_"):
                continue
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue  # submodules, constants, __version__
            home = getattr(obj, "__module__", None) or ""
            if not home.startswith("tinygrad_notes"):
                continue  # imported from numpy, graphviz, the standard library, ...
            if listed is None and home != module_name:
                continue  # a helper imported from elsewhere in the package: not this module's API
            found.setdefault(id(obj), (f"{obj.__module__}.{obj.__qualname__}", obj))
    return found


def test_the_api_is_collected():
    names = {name for name, _ in _public_api().values()}
    # A few from each kind of module, so that a broken collector cannot pass vacuously.
    for expected in ("tinygrad_notes.value.Value", "tinygrad_notes.functional.exp", "tinygrad_notes.nn.linear.Linear",
                     "tinygrad_notes.optim.SGD", "tinygrad_notes.viz.draw", "tinygrad_notes.data.moons",
                     "tinygrad_notes.serialization.save", "tinygrad_notes.fileio.atomic_path",
                     "tinygrad_notes.gradcheck.GradcheckReport"):
        assert expected in names
    assert not any(name.startswith(("numpy", "graphviz", "pathlib")) for name in names)


def test_every_public_function_and_class_has_an_example():
    missing = sorted(name for name, obj in _public_api().values() if ">>>" not in (inspect.getdoc(obj) or ""))
    assert not missing, (
        f"{len(missing)} public functions/classes have no `>>>` example in their docstring:\n  "
        + "\n  ".join(missing)
    )
