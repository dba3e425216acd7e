"""Which minigen a tree's tests run: the tree's own, or they stop and say why.

A student copy made by ``minigen assignment build`` is a whole repository; if another
minigen is installed (the instructor's editable install of the solutions, say), a plain
``pytest`` in the copy could import *that* one and pass a wrong exercise. ``setup.cfg``
puts the tree's root first on pytest's path (``pythonpath = .``), and the tests'
``conftest.py`` calls ``foreign_minigen`` to make sure: when ``import minigen`` has
loaded another tree's package anyway, the run stops with one line naming both paths and the
fix.

>>> from pathlib import Path
>>> import minigen
>>> foreign_minigen(Path(minigen.__file__).resolve().parents[1] / "tests") is None
True
"""
from __future__ import annotations

from pathlib import Path

import minigen


def foreign_minigen(tests_dir: str | Path) -> str | None:
    """None when the imported ``minigen`` package is the one beside ``tests_dir``; else the
    one-line message that names both and the fix."""
    tree = Path(tests_dir).resolve().parent
    loaded = Path(minigen.__file__).resolve().parent
    if not (tree / "minigen").is_dir() or loaded == (tree / "minigen").resolve():
        return None
    return (f"the tests in {tree} would test another minigen, {loaded}: run "
            f"`pip install -e .` in {tree}, or `python -m pytest` from {tree}")
