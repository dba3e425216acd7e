"""Every differentiable op of minigen must have a hypothesis gradient test.

The test imports every ``tests/test_*.py`` module (so their ``@covers`` declarations
are recorded), finds every ``Function`` subclass defined inside the ``minigen``
package, and fails naming each one that no hypothesis test covers.
"""
import importlib
import pkgutil
from pathlib import Path

import minigen
from minigen.function import Function

from gradient_registry import COVERED

TESTS = Path(__file__).parent


def _all_subclasses(cls):
    found, stack = set(), [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    return found


def minigen_functions():
    """Every Function subclass defined in the minigen package (all modules imported first)."""
    for module in pkgutil.walk_packages(minigen.__path__, prefix="minigen."):
        if module.name != "minigen.testing":  # needs hypothesis only; imported below anyway
            importlib.import_module(module.name)
    importlib.import_module("minigen.testing")
    return {f for f in _all_subclasses(Function) if f.__module__.startswith("minigen.")}


def test_every_function_has_a_gradient_test():
    for path in sorted(TESTS.glob("test_*.py")):
        importlib.import_module(path.stem)
    functions = minigen_functions()
    assert len(functions) >= 30, "the walk over minigen found too few ops"
    missing = sorted(f"{f.__module__}.{f.__qualname__}" for f in functions if f not in COVERED)
    assert not missing, "ops without a hypothesis gradient test: " + ", ".join(missing)


def test_coverage_registry_only_names_functions():
    for fn, tests in COVERED.items():
        assert isinstance(fn, type) and issubclass(fn, Function), (fn, tests)
