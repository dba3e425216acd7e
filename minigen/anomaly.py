"""``detect_anomaly``: stop at the first op whose forward or backward makes NaN or infinity.

A NaN in a loss usually appeared many ops earlier (a log of 0, a division by 0, an
exp that overflowed) and then spread everywhere. Inside ``detect_anomaly()`` every op
checks its result, and every backward checks the gradients it returns; the first
non-finite value raises an ``AnomalyError`` that names the op, the line of *your* code
that called it, and the shapes::

    >>> import minigen
    >>> x = minigen.tensor([1.0, 0.0], requires_grad=True)
    >>> with minigen.detect_anomaly():      # doctest: +ELLIPSIS
    ...     y = minigen.log(x)
    Traceback (most recent call last):
    minigen.anomaly.AnomalyError: Log produced -inf in its forward...

Off by default: outside the block no check runs, so it costs nothing.
"""
from __future__ import annotations

import os
import traceback
from typing import Any

from minigen import autograd, backend, function
from minigen.tensor import Tensor

_MINIGEN_DIR = os.path.dirname(os.path.abspath(__file__))


class AnomalyError(RuntimeError):
    """An op's forward or backward produced NaN or infinity inside ``detect_anomaly()``."""


def _user_frame() -> str:
    """'file:line in function' of the innermost caller outside the minigen package."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_MINIGEN_DIR):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return "unknown location"


def _bad_values(array: Any) -> str | None:
    """'nan', 'inf', '-inf' (the first kind found) or None when every value is finite."""
    if not backend.is_floating(array):
        return None
    xp = backend.array_module(array)
    if bool(xp.isfinite(array).all()):
        return None
    if bool(xp.isnan(array).any()):
        return "nan"
    return "inf" if bool((array == xp.inf).any()) else "-inf"


def _shapes(ctx: Any) -> str:
    return ", ".join(str(t.shape) for t in ctx.inputs)


def _check_forward(ctx: Any, out: Tensor) -> None:
    if autograd.backward_running():
        return  # ops inside a backward pass are checked, as that backward, by _check_backward
    ctx.created_at = _user_frame()  # remembered for a failure in the backward
    bad = _bad_values(out.data)
    if bad:
        raise AnomalyError(
            f"{ctx.op_name} produced {bad} in its forward, called at {ctx.created_at}; "
            f"input shapes {_shapes(ctx)}, output shape {out.shape}")


def _check_backward(ctx: Any, input_grads: tuple[Any, ...]) -> None:
    for i, g in enumerate(input_grads):
        bad = None if g is None else _bad_values(g.data)
        if bad:
            where = getattr(ctx, "created_at", "a line outside detect_anomaly()")
            raise AnomalyError(
                f"{ctx.op_name}.backward produced {bad} in the gradient of input {i} "
                f"(shape {ctx.inputs[i].shape}); the op was created at {where}; "
                f"input shapes {_shapes(ctx)}")


class detect_anomaly:  # noqa: N801 — a context manager named like PyTorch's
    """Within the block, raise ``AnomalyError`` at the first NaN or infinity an op makes."""

    def __enter__(self) -> "detect_anomaly":
        function._forward_hooks.append(_check_forward)
        autograd._backward_hooks.append(_check_backward)
        return self

    def __exit__(self, *exc: object) -> None:
        function._forward_hooks.remove(_check_forward)
        autograd._backward_hooks.remove(_check_backward)
