"""The packages a fitted model needs to be unpickled and run: found by pickling it.

A pickle names every class and function it holds by module; the top-level modules of those
(`sklearn`, `numpy`, `lightgbm`, `xgboost`, a user's own package, ...) are what the loading
process must import, at the versions that made the pickle. `needed_packages` pickles the
model once (array data out of band, so a large model costs no copy) and collects them,
mapped to their distributions (`sklearn` -> `scikit-learn`). The standard library is left
out. A class defined in the training script itself (`__main__`) cannot be loaded anywhere
else, so `Bundle.add` refuses it, naming the class.
"""

from __future__ import annotations

import functools
import io
import pickle
import sys
from collections.abc import Mapping
from importlib import metadata
from typing import Any

# the import names whose distribution is named otherwise, for what hubship always records
KNOWN_DISTRIBUTIONS = {"sklearn": "scikit-learn", "numpy": "numpy", "scipy": "scipy"}


class _ModuleCollector(pickle.Pickler):
    """A pickler that writes nowhere and remembers the module of everything it pickles."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), protocol=5, buffer_callback=lambda _buffer: None)
        self.modules: set[str] = set()

    def reducer_override(self, obj: Any) -> Any:
        kind = obj if isinstance(obj, type) else type(obj)
        self.modules.add(getattr(kind, "__module__", None) or "builtins")
        if callable(obj) and not isinstance(obj, type):
            self.modules.add(getattr(obj, "__module__", None) or "builtins")
        return NotImplemented


def top_level_modules(model: Any) -> set[str]:
    from hubship.bundle_checks import Problem  # pandas and scikit-learn: not for the backend

    collector = _ModuleCollector()
    try:
        collector.dump(model)
    except Exception as exc:  # pickle raises many types (PicklingError, AttributeError, ...)
        raise Problem(f"cannot be pickled: {type(exc).__name__}: {exc}",
                      "replace lambdas and local functions with named module-level ones") \
            from None
    return {module.split(".")[0] for module in collector.modules}


def needed_packages(model: Any) -> list[str]:
    """Sorted distribution names the pickled `model` imports (Problem for `__main__`)."""
    from hubship.bundle_checks import Problem

    modules = top_level_modules(model)
    if "__main__" in modules:
        raise Problem("the model holds a class or function defined in the training script "
                      "itself (__main__), which the backend cannot import",
                      "move it into a module of your project (or a package) and import it")
    stdlib = set(sys.stdlib_module_names) | {"builtins"}
    return sorted({distribution_of(module) for module in modules - stdlib})


def distribution_of(module: str) -> str:
    """The distribution a top-level module comes from (itself when unknown)."""
    if module in KNOWN_DISTRIBUTIONS:
        return KNOWN_DISTRIBUTIONS[module]
    return (_packages_distributions().get(module) or [module])[0]


@functools.cache
def _packages_distributions() -> Mapping[str, list[str]]:
    return metadata.packages_distributions()
