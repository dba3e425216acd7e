"""Padding: grow a tensor by a border on chosen axes (``F.pad``, PyTorch's conventions).

``pad`` lists the border widths from the *last* axis backwards, as PyTorch does:
``(left, right)`` pads the last axis, ``(left, right, top, bottom)`` the last two, and so
on. Three ways to fill the border, shown on one row ``[a b c d]`` padded by 2 on each side:

    constant (value v):  v v | a b c d | v v
    reflect:             c b | a b c d | c b     (mirrored, the edge itself not repeated)
    replicate:           a a | a b c d | d d     (the edge repeated)

The backward pass runs the copying in reverse. A constant border came from nowhere, so
its gradient is dropped: the gradient is cropped. A reflected or replicated border
element is a *copy* of an input element, and a copied value passes its gradient back to
the original (the same rule as ``x[[0, 0]]``): the border's gradient is *folded back*
onto the elements it copied and added to their own gradient.
"""
from __future__ import annotations

from typing import Any, Sequence

from minigen.function import Context, Function
from minigen.ops.arguments import as_tensor
from minigen.ops.indexing import getitem
from minigen.ops.reductions import sum
from minigen.tensor import Tensor

MODES = ("constant", "reflect", "replicate")
_NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


class Pad(Function):
    """y = x with a border of ``widths[axis] = (before, after)`` elements on every axis.

    Along one axis of length n, padded position k (0 ≤ k < before + n + after) holds

        constant:   v                       outside, x[k - before] inside
        reflect:    x[|k - before|]         left of x,  x[2(n-1) - (k - before)] right of x
        replicate:  x[0]                    left of x,  x[n-1] right of x

    ∂L/∂x: the gradient of the inside, plus (reflect, replicate) the gradient of every
    border element added onto the element of x that it copied. Axes are independent
    (padding a 2-D image pads the rows, then the columns), so the backward folds one
    axis at a time; a corner element is folded along both axes, back to the element of
    x it copied.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, widths: tuple[tuple[int, int], ...], mode: str,
                value: float) -> Any:
        ctx.widths, ctx.mode = widths, mode
        if mode == "constant":
            return ctx.xp.pad(x, widths, mode="constant", constant_values=value)
        return ctx.xp.pad(x, widths, mode=_NUMPY_MODE[mode])

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        if ctx.mode == "constant":  # the border holds no input: keep the inside
            inside = tuple(slice(before, before + n)
                           for (before, _), n in zip(ctx.widths, ctx.inputs[0].shape))
            return getitem(grad, inside)
        for axis, (before, after) in enumerate(ctx.widths):
            if before or after:
                grad = _fold_border(grad, axis, before, after, ctx.mode)
        return grad


def _fold_border(grad: Tensor, axis: int, before: int, after: int, mode: str) -> Tensor:
    """∂L/∂x along one axis, from ∂L/∂y over the padded axis (length before + n + after).

    reflect, n = 4, before = after = 2 (x = [a b c d], y = [c b a b c d c b]):
        the left border [c b] copied x[2], x[1]  -> flipped, it adds onto x[1:3]
        the right border [c b] copied x[2], x[1] -> flipped, it adds onto x[1:3]
    replicate (y = [a a a b c d d d]): the left border adds onto x[0], the right onto x[n-1].
    """
    n = grad.shape[axis] - before - after
    inside = _take(grad, axis, before, before + n)  # the gradient of x's own elements
    left = _take(grad, axis, 0, before)             # gradients of the left border
    right = _take(grad, axis, before + n, before + n + after)
    if mode == "replicate":
        # Every left copy is x[0], every right copy is x[n-1]: their gradients add up there.
        if before:
            inside = inside + _place(sum(left, axis, keepdims=True), axis, 0, n)
        if after:
            inside = inside + _place(sum(right, axis, keepdims=True), axis, n - 1, n)
    else:  # reflect
        # left[k] copied x[before - k]: flipped, left lines up with x[1 : before + 1].
        if before:
            inside = inside + _place(_flip(left, axis), axis, 1, n)
        # right[k] copied x[n - 2 - k]: flipped, right lines up with x[n - 1 - after : n - 1].
        if after:
            inside = inside + _place(_flip(right, axis), axis, n - 1 - after, n)
    return inside


def _take(t: Tensor, axis: int, start: int, stop: int) -> Tensor:
    """t[..., start:stop, ...] along ``axis``."""
    return getitem(t, (slice(None),) * axis + (slice(start, stop),))


def _flip(t: Tensor, axis: int) -> Tensor:
    """t reversed along ``axis``."""
    return getitem(t, (slice(None),) * axis + (slice(None, None, -1),))


def _place(piece: Tensor, axis: int, start: int, length: int) -> Tensor:
    """``piece`` put at ``start`` of an axis of ``length`` zeros: itself a constant pad."""
    widths = [(0, 0)] * piece.ndim
    widths[axis] = (start, length - start - piece.shape[axis])
    return Pad.apply(piece, widths=tuple(widths), mode="constant", value=0.0)


def pad(input: Any, pad: Sequence[int], mode: str = "constant",  # noqa: A002 — PyTorch's names
        value: float = 0.0) -> Tensor:
    """Pad ``input`` with the border widths ``pad`` = (left, right, top, bottom, ...),
    last axis first, as ``torch.nn.functional.pad``.

    ``mode`` is ``"constant"`` (fill with ``value``), ``"reflect"`` (mirror, each pad must
    be smaller than its axis) or ``"replicate"`` (repeat the edge). Widths must be ≥ 0.

    >>> import minigen
    >>> x = minigen.tensor([[1.0, 2.0, 3.0]])
    >>> pad(x, (2, 1), mode="reflect").tolist()
    [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
    >>> pad(x, (1, 1, 1, 0)).shape     # columns 1 + 1, rows 1 on top
    (2, 5)
    """
    x = as_tensor(input)
    if mode not in MODES:
        hint = " ('circular' is not implemented)" if mode == "circular" else ""
        raise ValueError(f"pad: unknown mode {mode!r}{hint}; expected one of {', '.join(MODES)}")
    if mode != "constant" and value != 0:
        raise ValueError(f"pad: value={value} only applies to mode='constant', not {mode!r}")
    widths = _widths(x.shape, pad, mode)
    if all(w == (0, 0) for w in widths):
        return x
    return Pad.apply(x, widths=widths, mode=mode, value=float(value))


def _widths(shape: tuple[int, ...], pad: Sequence[int], mode: str) -> tuple[tuple[int, int], ...]:
    """PyTorch's flat ``pad`` (last axis first) as NumPy's (before, after) for every axis."""
    pad = tuple(pad) if isinstance(pad, (tuple, list)) else pad
    if not isinstance(pad, tuple) or not all(isinstance(p, int) and not isinstance(p, bool)
                                             for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints (left, right, top, bottom, ...), "
                        f"got {pad!r}")
    if len(pad) % 2 or len(pad) > 2 * len(shape):
        raise ValueError(f"pad: pad {pad} must have an even length of at most 2 × {len(shape)} "
                         f"(one (before, after) pair per axis, last axis first) for shape {shape}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {pad} is not supported (crop with slicing)")
    widths = [(0, 0)] * len(shape)
    for k in range(len(pad) // 2):
        widths[len(shape) - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    for axis, ((before, after), n) in enumerate(zip(widths, shape)):
        if mode == "reflect" and (before or after) and (before >= n or after >= n):
            raise ValueError(f"pad: reflect padding ({before}, {after}) of axis {axis} must be "
                             f"smaller than its length {n} (input shape {shape})")
        if mode == "replicate" and (before or after) and n == 0:
            raise ValueError(f"pad: cannot replicate the edge of the empty axis {axis} "
                             f"(input shape {shape})")
    return tuple(widths)
