"""The fast kernels: speed-ups of the reference ops, and the switch that turns them off.

Every op of minigen has a *reference* path, written as the lectures draw it (convolution
as im2col, one matrix product and col2im, on ``sliding_windows`` and ``add_windows``).
Some ops also have faster paths chosen by shape; they live in this package, so that the
reference code stays readable and each speed-up is one named place:

* ``fast.conv``: column layouts, columns and rows shared between the ops of one backward,
  col2im by one scatter-add, and ``fast.kn2row`` for layers with few output channels;
* ``fast.pooling``: max pooling's backward when the windows tile the image.

An op asks ``fast_kernels()`` once, at the top of its forward, and takes one path or the
other. The reference path is taken when (first that applies):

1. ``use_reference_kernels(True)`` was called, or inside ``with reference_kernels():``;
2. the environment variable ``MINIGEN_REFERENCE_KERNELS`` is ``1`` (``0`` forces the fast
   kernels), read at each decision, so it can be set after ``import minigen``;
3. ``REFERENCE_KERNELS_DEFAULT`` below is True.

>>> import minigen
>>> with minigen.reference_kernels():
...     minigen.reference_kernels_enabled()
True
"""
from __future__ import annotations

import contextlib
import os
from typing import Iterator

# A student copy whose im2col or col2im exercise is blanked sets this to True (the
# assignment builder rewrites the line below), so that the student's own sliding_windows
# and add_windows run in every convolution and pooling they train with.
REFERENCE_KERNELS_DEFAULT = False

ENVIRONMENT_VARIABLE = "MINIGEN_REFERENCE_KERNELS"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")

_chosen: bool | None = None  # set by use_reference_kernels; None: the environment decides


def reference_kernels_enabled() -> bool:
    """True when ops take their reference paths (see the module docstring for the order)."""
    if _chosen is not None:
        return _chosen
    value = os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if value:
        raise ValueError(f"{ENVIRONMENT_VARIABLE}={value!r}: expected 1 (reference kernels) "
                         "or 0 (fast kernels)")
    return REFERENCE_KERNELS_DEFAULT


def fast_kernels() -> bool:
    """True when ops may take their fast paths: ``not reference_kernels_enabled()``."""
    return not reference_kernels_enabled()


def use_reference_kernels(enabled: bool | None = True) -> None:
    """Run every op on its reference path (True), on its fast paths (False), or let the
    environment variable and ``REFERENCE_KERNELS_DEFAULT`` decide again (None).

    >>> import minigen
    >>> minigen.use_reference_kernels(True)
    >>> minigen.reference_kernels_enabled()
    True
    >>> minigen.use_reference_kernels(None)
    """
    global _chosen
    _chosen = None if enabled is None else bool(enabled)


@contextlib.contextmanager
def reference_kernels(enabled: bool = True) -> Iterator[None]:
    """``use_reference_kernels(enabled)`` inside the block, the previous choice after it.

    >>> import minigen, minigen.functional as F
    >>> with minigen.reference_kernels():     # the im2col / col2im of the lecture
    ...     F.conv2d(minigen.ones(1, 1, 4, 4), minigen.ones(1, 1, 3, 3)).shape
    (1, 1, 2, 2)
    """
    global _chosen
    previous = _chosen
    _chosen = bool(enabled)
    try:
        yield
    finally:
        _chosen = previous
