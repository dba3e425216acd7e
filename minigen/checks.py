"""Argument checks shared by the whole library, with one style of message.

Every check takes the ``owner`` (who is checking: ``"Linear"``, ``"VAE.sample"``) and the
argument's ``name``, and raises with a message of the form

    "{owner}: {name} must be <what is allowed>, got <what was given>"

so a wrong argument names the function, the argument and the value. A check returns
the value it accepted (as a plain ``int`` or ``float`` where it checks a number), so a
caller can check and store in one line::

    self.latent_dim = checks.positive_int("VAE", "latent_dim", latent_dim)

Bools are refused wherever a number is expected: ``True`` is an ``int`` to Python, but
``Linear(True, 3)`` is always a mistake. NumPy integers and floats are accepted.

This module sits below everything else in minigen: it imports only ``minigen.backend``
and the standard library, so the ops, layers, models and the command line can all use it.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Collection

from minigen import backend

_CLOSED = ("both", "low", "high", "neither")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    """A finite real number: inf and NaN are refused everywhere a number is checked."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def positive_int(owner: str, name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an ``int`` if it is an integer >= ``minimum`` (1: a positive integer),
    else a ValueError.

    >>> positive_int("Linear", "in_features", 3)
    3
    >>> positive_int("Linear", "in_features", 0)
    Traceback (most recent call last):
    ...
    ValueError: Linear: in_features must be a positive integer, got 0
    >>> positive_int("ResnetGenerator", "n_blocks", -1, minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: ResnetGenerator: n_blocks must be an integer >= 0, got -1
    """
    if not _is_int(value) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{owner}: {name} must be {what}, got {value!r}")
    return int(value)


def positive_number(owner: str, name: str, value: Any) -> float:
    """``value`` as a ``float`` if it is a real number > 0, else a ValueError.

    >>> positive_number("PixelCNN.sample", "temperature", 0.5)
    0.5
    >>> positive_number("PixelCNN.sample", "temperature", 0)
    Traceback (most recent call last):
    ...
    ValueError: PixelCNN.sample: temperature must be a positive number, got 0
    """
    if not _is_number(value) or not value > 0:        # `not >` also refuses NaN
        raise ValueError(f"{owner}: {name} must be a positive number, got {value!r}")
    return float(value)


def in_range(owner: str, name: str, value: Any, low: float, high: float | None = None,
             closed: str = "both") -> float:
    """``value`` as a ``float`` if it is a real number between ``low`` and ``high``, else a
    ValueError. ``high=None`` leaves it unbounded above. ``closed`` says which ends are
    allowed: "both" [low, high], "low" [low, high), "high" (low, high], "neither" (low, high).

    >>> in_range("VectorQuantizer", "decay", 0.99, 0, 1, closed="neither")
    0.99
    >>> in_range("VectorQuantizer", "decay", 1, 0, 1, closed="neither")
    Traceback (most recent call last):
    ...
    ValueError: VectorQuantizer: decay must lie in (0, 1), got 1
    >>> in_range("SGD", "lr", -0.1, 0)
    Traceback (most recent call last):
    ...
    ValueError: SGD: lr must be a number >= 0, got -0.1
    """
    if closed not in _CLOSED:
        raise ValueError(f"in_range: closed must be one of {_CLOSED}, got {closed!r}")
    low_in, high_in = closed in ("both", "low"), closed in ("both", "high")
    ok = _is_number(value) and (value >= low if low_in else value > low)
    if high is not None:
        ok = ok and (value <= high if high_in else value < high)
    if not ok:
        if high is None:
            what = f"a number {'>=' if low_in else '>'} {low}"
        else:
            what = f"lie in {'[' if low_in else '('}{low}, {high}{']' if high_in else ')'}"
        raise ValueError(f"{owner}: {name} must {'be ' if high is None else ''}{what}, "
                         f"got {value!r}")
    return float(value)


def one_of(owner: str, name: str, value: Any, choices: Collection[Any]) -> Any:
    """``value`` if it is one of ``choices``, else a ValueError listing them.

    >>> one_of("MaskedConv2d", "mask_type", "C", ("A", "B"))
    Traceback (most recent call last):
    ...
    ValueError: MaskedConv2d: mask_type must be 'A' or 'B', got 'C'
    """
    if value not in choices:
        names = [repr(c) for c in choices]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        raise ValueError(f"{owner}: {name} must be {listed}, got {value!r}")
    return value


def indices_in_range(owner: str, what: str, values: Any, count: int,
                     error: type[Exception] = ValueError) -> Any:
    """``values`` (a NumPy or CuPy array) if it holds integers in [0, ``count``): a TypeError
    for another dtype, else ``error`` (ValueError, or IndexError for a lookup) naming the
    smallest and largest value. An empty array passes.

    >>> import numpy as np
    >>> indices_in_range("one_hot", "labels", np.array([0, 9]), 10).tolist()
    [0, 9]
    >>> indices_in_range("one_hot", "labels", np.array([0, 10, -1]), 10)
    Traceback (most recent call last):
    ...
    ValueError: one_hot: labels must lie in [0, 10), got values from -1 to 10
    """
    if not backend.is_array(values):
        raise TypeError(f"{owner}: {what} must be an array of integers, got "
                        f"{type(values).__name__}")
    if values.dtype.kind not in "iu":
        raise TypeError(f"{owner}: {what} must be integers, got dtype {values.dtype}")
    if values.size:
        smallest, largest = int(values.min()), int(values.max())
        if smallest < 0 or largest >= count:
            raise error(f"{owner}: {what} must lie in [0, {count}), got values from "
                        f"{smallest} to {largest}")
    return values


def alias(owner: str, name: str, value: Any, alias_name: str, alias_value: Any,
          default: Any = None) -> Any:
    """The argument given as ``name`` (PyTorch's keyword) or as ``alias_name`` (NumPy's),
    ``default`` when neither is given (None means not given); a TypeError when both are.

    >>> alias("sum", "dim", 1, "axis", None)
    1
    >>> alias("sum", "keepdim", None, "keepdims", True, default=False)
    True
    >>> alias("sum", "dim", 1, "axis", 0)
    Traceback (most recent call last):
    ...
    TypeError: sum: give dim or its NumPy alias axis, not both (got dim=1, axis=0)
    """
    if value is not None and alias_value is not None:
        raise TypeError(f"{owner}: give {name} or its NumPy alias {alias_name}, not both "
                        f"(got {name}={value!r}, {alias_name}={alias_value!r})")
    if value is not None:
        return value
    return default if alias_value is None else alias_value


def load_problem(array: Any, dtype: Any) -> str | None:
    """Why ``array`` may not be loaded into a tensor of ``dtype`` (None: it may), the rule
    of every ``load_state_dict``: a floating tensor takes floating values that are finite
    after the cast to its dtype; an integer one integers; a boolean one booleans."""
    kind = backend.np.dtype(dtype).kind
    if kind == "f":
        if array.dtype.kind != "f":
            return f"{array.dtype} values for a {dtype} tensor (expected floating point)"
        xp = backend.array_module(array)
        # Only a narrowing cast can overflow; otherwise check the values as they are.
        narrower = backend.np.dtype(dtype).itemsize < array.dtype.itemsize
        with backend.np.errstate(over="ignore"):
            cast = array.astype(dtype) if narrower else array
        if not bool(xp.all(xp.isfinite(cast))):
            return f"NaN or infinite values in {dtype} (a diverged run, or values too large)"
        return None
    if kind in "iu" and array.dtype.kind not in "iu":
        return f"{array.dtype} values for an integer tensor"
    if kind == "b" and array.dtype.kind != "b":
        return f"{array.dtype} values for a boolean tensor"
    return None
