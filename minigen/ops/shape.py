"""Shape ops: they move or regroup elements without changing their values.

Their backward passes move the gradient back the same way: a reshape is undone by the
inverse reshape, a transpose by the inverse permutation, a concatenation by slicing.
"""
from __future__ import annotations

from typing import Any, Sequence

from minigen.function import Context, Function
from minigen.ops.arguments import as_tensor
from minigen.ops.indexing import getitem
from minigen.tensor import Tensor


class Reshape(Function):
    """y = x with a new shape (same elements, row-major order);  ∂L/∂x = ∂L/∂y reshaped back."""

    @staticmethod
    def forward(ctx: Context, x: Any, shape: tuple[int, ...]) -> Any:
        return x.reshape(shape)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return reshape(grad, ctx.inputs[0].shape)


class Transpose(Function):
    """y = x with axes permuted (y.shape[i] = x.shape[axes[i]]);  ∂L/∂x = ∂L/∂y permuted back."""

    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        inverse = [0] * len(ctx.axes)
        for i, a in enumerate(ctx.axes):
            inverse[a] = i
        return transpose(grad, tuple(inverse))


class Concat(Function):
    """y = the inputs joined along ``axis``;  each input gets its own slice of ∂L/∂y."""

    @staticmethod
    def forward(ctx: Context, *arrays: Any, axis: int) -> Any:
        ctx.axis = axis
        return ctx.xp.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, ...]:
        grads = []
        start = 0
        for t in ctx.inputs:
            stop = start + t.shape[ctx.axis]
            index = (slice(None),) * ctx.axis + (slice(start, stop),)
            grads.append(getitem(grad, index))
            start = stop
        return tuple(grads)


def reshape(x: Any, shape: Any) -> Tensor:
    """The same elements in a new shape; one entry may be -1 (inferred)."""
    x = as_tensor(x)
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    known = 1
    for s in shape:
        known *= s if s != -1 else 1
    fits = (known == x.size) if -1 not in shape else (known > 0 and x.size % known == 0)
    if shape.count(-1) > 1 or not fits:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.size} elements) into shape {shape}")
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape=shape)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (reverse them when ``axes`` is None), like ``numpy.transpose``."""
    x = as_tensor(x)
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(a % max(x.ndim, 1) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes "
                         f"of shape {x.shape}")
    return Transpose.apply(x, axes=axes)


def permute(x: Any, axes: Sequence[int]) -> Tensor:
    """PyTorch's name for ``transpose`` with explicit axes."""
    return transpose(x, axes)


def flatten(x: Any, start_axis: int = 0) -> Tensor:
    """Merge the axes from ``start_axis`` on into one: (N, C, H, W) -> (N, C·H·W) for 1."""
    x = as_tensor(x)
    start = start_axis % max(x.ndim, 1)
    return reshape(x, x.shape[:start] + (-1,))


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """Remove size-1 axes (all of them, or those named; naming a larger axis is an error)."""
    x = as_tensor(x)
    if axis is None:
        axes = {i for i, s in enumerate(x.shape) if s == 1}
    else:
        axes = {a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)}
        for a in axes:
            if x.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1")
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in axes))


def unsqueeze(x: Any, axis: int) -> Tensor:
    """Insert a size-1 axis at position ``axis`` (negative counts from the end, as PyTorch)."""
    x = as_tensor(x)
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for shape {x.shape}")
    axis = axis % (x.ndim + 1)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def concat(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; all other axes must match."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concat: needs at least one tensor")
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("concat: 0-d tensors cannot be concatenated; use stack")
    axis = axis % first.ndim
    for t in tensors[1:]:
        if t.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape))
                                       if i != axis):
            raise ValueError(f"concat: shapes {first.shape} and {t.shape} differ outside axis {axis}")
    return Concat.apply(*tensors, axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: all tensors need one shape, got {tensors[0].shape} and {t.shape}")
    return concat([unsqueeze(t, axis) for t in tensors], axis % (tensors[0].ndim + 1))


def split(x: Any, split_size_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Cut ``x`` along ``axis`` into pieces (PyTorch's rule).

    An int gives pieces of that size (the last may be smaller); a list gives the size of
    each piece, which must add up to the axis length.
    """
    x = as_tensor(x)
    axis = axis % x.ndim
    length = x.shape[axis]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: piece size must be positive, got {split_size_or_sections}")
        sizes = [split_size_or_sections] * (length // split_size_or_sections)
        if length % split_size_or_sections:
            sizes.append(length % split_size_or_sections)
    else:
        sizes = list(split_size_or_sections)
        total = 0
        for s in sizes:
            total += s
        if total != length:
            raise ValueError(f"split: sizes {sizes} add up to {total}, but axis {axis} of shape "
                             f"{x.shape} has length {length}")
    pieces, start = [], 0
    for s in sizes:
        pieces.append(getitem(x, (slice(None),) * axis + (slice(start, start + s),)))
        start += s
    return pieces
