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
from minigen.tensor import Tensor

MODES = ("constant", "reflect", "replicate")


class Pad(Function):
    """y = x with a border of ``widths[axis] = (before, after)`` elements on every axis.

    Along one axis of length n, padded position k (0 ≤ k < before + n + after) holds

        constant:   v                       outside, x[k - before] inside
        reflect:    x[|k - before|]         left of x,  x[2(n-1) - (k - before)] right of x
        replicate:  x[0]                    left of x,  x[n-1] right of x

    Axes are independent: x goes inside, then the borders are filled one axis at a time,
    each over the whole extent of the axes filled before it, so a corner copies a border
    that is itself a copy (the element of x mirrored along both axes).
    ∂L/∂x: ``PadBackward`` (constant: the inside of ∂L/∂y).
    """

    @staticmethod
    def forward(ctx: Context, x: Any, widths: tuple[tuple[int, int], ...], mode: str,
                value: float) -> Any:
        ctx.widths, ctx.mode = widths, mode
        shape = tuple(before + n + after for (before, after), n in zip(widths, x.shape))
        y = ctx.xp.full(shape, value, dtype=x.dtype) if mode == "constant" else \
            ctx.xp.empty(shape, dtype=x.dtype)
        y[_inside(widths, x.shape)] = x
        if mode != "constant":
            for axis, (before, after) in enumerate(widths):
                _fill_border(y, axis, before, after, mode)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        if ctx.mode == "constant":  # the border holds no input: keep the inside
            return getitem(grad, _inside(ctx.widths, ctx.inputs[0].shape))
        return PadBackward.apply(grad, widths=ctx.widths, mode=ctx.mode)


class PadBackward(Function):
    """∂L/∂x of a reflect or replicate ``Pad``, from g = ∂L/∂y: the gradient of the inside,
    plus the gradient of every border element added onto the element of x it copied.

    The adjoint of the padding, so it folds the borders back in the reverse order of
    ``Pad.forward`` (last axis first, each fold over the whole extent of the axes still
    padded), and its own backward is the padding again: ∂L/∂g = pad(∂L/∂(∂L/∂x)).
    Shapes: g (the padded shape) -> the shape of x.
    """

    @staticmethod
    def forward(ctx: Context, g: Any, widths: tuple[tuple[int, int], ...], mode: str) -> Any:
        ctx.widths, ctx.mode = widths, mode
        g = g.copy()  # folded in place
        for axis in reversed(range(g.ndim)):
            before, after = widths[axis]
            if before or after:
                g = _fold_border(g, axis, before, after, mode)
        return g

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return Pad.apply(grad, widths=ctx.widths, mode=ctx.mode, value=0.0)


def _inside(widths: tuple[tuple[int, int], ...], shape: tuple[int, ...]) -> tuple[slice, ...]:
    """Where x sits in the padded array."""
    return tuple(slice(before, before + n) for (before, _), n in zip(widths, shape))


def _axis(axis: int, start: int, stop: int) -> tuple:
    """The index ``[..., start:stop, ...]`` on ``axis``."""
    return (slice(None),) * axis + (slice(start, stop),)


def _reversed(axis: int, high: int, low: int) -> tuple:
    """The index of positions high, high - 1, ..., low (both included) on ``axis``."""
    return (slice(None),) * axis + (slice(high, low - 1 if low > 0 else None, -1),)


def _fill_border(y: Any, axis: int, before: int, after: int, mode: str) -> None:
    """Fill y's border along one axis (length before + n + after) from its inside, in place.

    reflect, n = 4, before = after = 2 (x = [a b c d], y = [c b a b c d c b]):
        y[before - k] = y[before + k] and y[last + k] = y[last - k] for k = 1, 2, ...
        (mirrored at x's first element, y[before], and at its last, y[last])
    replicate (y = [a a a b c d d d]): x[0] to the left, x[n-1] to the right.
    """
    last = y.shape[axis] - after - 1  # y's index of x[n-1]
    left, right = _axis(axis, 0, before), _axis(axis, last + 1, last + 1 + after)
    if mode == "replicate":
        y[left] = y[_axis(axis, before, before + 1)]
        y[right] = y[_axis(axis, last, last + 1)]
    else:
        y[left] = y[_reversed(axis, 2 * before, before + 1)]
        y[right] = y[_reversed(axis, last - 1, last - after)]


def _fold_border(g: Any, axis: int, before: int, after: int, mode: str) -> Any:
    """The adjoint of ``_fill_border``: add the border's gradient onto the elements it
    copied (in place), then return the inside along ``axis`` (a view).

    reflect, n = 4, before = after = 2 (g over [c b | a b c d | c b]):
        the left border's gradients, flipped, add onto x[1:3];
        the right border's gradients, flipped, add onto x[1:3].
    replicate: the left border's gradients add up onto x[0], the right border's on x[n-1].
    """
    last = g.shape[axis] - after - 1
    left, right = _axis(axis, 0, before), _axis(axis, last + 1, last + 1 + after)
    if mode == "replicate":
        g[_axis(axis, before, before + 1)] += g[left].sum(axis, keepdims=True)
        g[_axis(axis, last, last + 1)] += g[right].sum(axis, keepdims=True)
    else:
        g[_reversed(axis, 2 * before, before + 1)] += g[left]
        g[_reversed(axis, last - 1, last - after)] += g[right]
    return g[_axis(axis, before, last + 1)]


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
