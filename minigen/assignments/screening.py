"""Reading a student's region before it runs: what an exercise's code may not do.

An exercise asks for math: a backward pass, a loss, a step. Code that reaches the process,
the files or the checking tools cannot earn points, so the grader reads each region (with
Python's ``ast``, without running it) and grades a region that does any of the following as
``invalid``, with the reason:

* imports anything but math and array modules and minigen itself (not ``os``, ``sys``,
  ``subprocess``, ``pytest``, ``hypothesis``, nor ``minigen.gradient_check``,
  ``minigen.testing`` or ``minigen.assignments``, the tools that check it);
* names a builtin that runs code or reaches outside (``exec``, ``eval``, ``open``,
  ``__import__``, ``globals``, ``setattr``, ``exit`` ...), or the modules ``os``/``sys``/...
  that the surrounding file may have imported;
* reads or writes a dunder attribute (``f.__globals__``, ``x.__class__.__subclasses__``);
* declares ``global`` or ``nonlocal`` names (changing the module around it), or raises
  ``SystemExit`` / ``KeyboardInterrupt``.

This is the first of two guards; the second (``pytest_plugin``) fails any test after
which the checking tools changed. Together they keep an honest grade for students; they
are not a sandbox for hostile code (grade untrusted code in a container).

>>> screen("grad_a = grad * b\\nreturn grad_a, None")
[]
>>> screen("import os\\nos._exit(0)")
['line 1: imports os (an exercise may import only math and array modules and minigen)', \
'line 2: uses os (not allowed in an exercise)']
"""
from __future__ import annotations

import ast
import textwrap

ALLOWED_IMPORTS = ("math", "cmath", "numbers", "numpy", "cupy", "functools", "itertools",
                   "operator", "typing", "collections", "dataclasses", "minigen")
PROTECTED_MODULES = ("minigen.gradient_check", "minigen.testing", "minigen.assignments")
_PROTECTED_PARTS = {"gradient_check", "testing", "assignments"}  # also numpy.testing, ..testing
FORBIDDEN_NAMES = frozenset({
    "exec", "eval", "compile", "open", "__import__", "globals", "locals", "vars", "setattr",
    "delattr", "getattr", "breakpoint", "exit", "quit", "help", "memoryview",
    "__builtins__", "__loader__", "__spec__", "SystemExit", "KeyboardInterrupt",
    "GeneratorExit", "BaseException",
    "os", "sys", "subprocess", "shutil", "pathlib", "io", "builtins", "importlib", "ctypes",
    "signal", "atexit", "gc", "inspect", "threading", "multiprocessing", "socket", "tempfile",
    "pytest", "hypothesis", "pickle", "marshal", "types", "gradient_check", "testing"})


def screen(code: str) -> list[str]:
    """The problems of one region's code (its lines between the markers), one sentence
    each with its line in the region; an empty list when it may run.

    A region that does not parse is reported as a syntax error here too."""
    source = textwrap.dedent(code)
    try:
        tree = ast.parse("async def _region():\n" + textwrap.indent(source or "pass", " ")
                         if _needs_function(source) else source)
        offset = 1 if _needs_function(source) else 0
    except SyntaxError as err:
        line = (err.lineno or 1) - (1 if _needs_function(source) else 0)
        return [f"line {max(line, 1)}: syntax error: {err.msg}"]
    problems: list[str] = []
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', 1) - offset}"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for name in _imported(node):
                if set(name.split(".")) & _PROTECTED_PARTS:
                    problems.append(f"{where}: imports {name} (the tools that check an "
                                    "exercise are not the exercise's to use)")
                elif not _allowed_import(name):
                    problems.append(f"{where}: imports {name} (an exercise may import only "
                                    "math and array modules and minigen)")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            problems.append(f"{where}: uses {node.id} (not allowed in an exercise)")
        elif isinstance(node, ast.Attribute) and _dunder(node.attr):
            problems.append(f"{where}: uses the attribute {node.attr} (not allowed in an "
                            "exercise)")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            kind = "global" if isinstance(node, ast.Global) else "nonlocal"
            problems.append(f"{where}: declares {kind} {', '.join(node.names)} (an exercise "
                            "works with its own variables)")
    return list(dict.fromkeys(problems))


def _needs_function(source: str) -> bool:
    """Whether the region must be parsed as a function body (it returns or yields)."""
    try:
        ast.parse(source)
        return False
    except SyntaxError:
        return True


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The full names an import statement binds: ``a.b`` for ``import a.b``, ``m.x`` for
    ``from m import x``, ``..x`` for a relative ``from .. import x``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    module = "." * node.level + (node.module or "")
    return [f"{module}.{alias.name}" if not module.endswith(".") else module + alias.name
            for alias in node.names]


def _allowed_import(name: str) -> bool:
    if name.startswith("."):  # a relative import: inside minigen
        return True
    return name.split(".")[0] in ALLOWED_IMPORTS


def _dunder(attr: str) -> bool:
    return attr.startswith("__") and attr.endswith("__")
