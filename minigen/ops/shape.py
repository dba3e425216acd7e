"""Shape ops: they move or regroup elements without changing their values.

Their backward passes move the gradient back the same way: a reshape is undone by the
inverse reshape, a transpose by the inverse permutation, a concatenation by slicing.
"""
from __future__ import annotations

from typing import Any, Sequence

from minigen import checks
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
        return permute(grad, tuple(inverse))


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
    fits = (known == x.numel()) if -1 not in shape else (known > 0 and x.numel() % known == 0)
    if shape.count(-1) > 1 or not fits:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.numel()} elements) into shape {shape}")
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape=shape)


def permute(x: Any, dims: Sequence[int]) -> Tensor:
    """The axes reordered: ``y.shape[i] = x.shape[dims[i]]`` (``numpy.transpose`` with axes)."""
    x = as_tensor(x)
    dims = tuple(_axis("permute", d, x.ndim) for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {x.ndim} axes "
                         f"of shape {x.shape}")
    return Transpose.apply(x, axes=dims)


def transpose(x: Any, dim0: int, dim1: int) -> Tensor:
    """Swap the axes ``dim0`` and ``dim1`` (PyTorch's transpose; ``permute`` reorders all)."""
    x = as_tensor(x)
    axes = list(range(x.ndim))
    a, b = _axis("transpose", dim0, x.ndim), _axis("transpose", dim1, x.ndim)
    axes[a], axes[b] = axes[b], axes[a]
    return Transpose.apply(x, axes=tuple(axes))


def _axis(name: str, dim: Any, ndim: int) -> int:
    """One axis in [-ndim, ndim) as a non-negative int, or a ValueError naming the op."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{name}: a dim must be an int, got {dim!r}")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise ValueError(f"{name}: dim {dim} is out of range for a tensor with {ndim} dims")
    return dim % max(ndim, 1)


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge the axes ``start_dim`` … ``end_dim`` into one: (N, C, H, W) -> (N, C·H·W) for 1."""
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = _axis("flatten", start_dim, x.ndim), _axis("flatten", end_dim, x.ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for "
                         f"shape {x.shape}")
    return reshape(x, x.shape[:start] + (-1,) + x.shape[end + 1:])


def squeeze(x: Any, dim: int | Sequence[int] | None = None, *, axis: Any = None) -> Tensor:
    """Remove size-1 axes: all of them, or those in ``dim``. Naming an axis of another size
    leaves it (PyTorch's rule; NumPy's ``squeeze(axis=...)`` raises instead, and so does
    minigen with the alias ``axis``)."""
    x = as_tensor(x)
    strict = axis is not None
    dim = checks.alias("squeeze", "dim", dim, "axis", axis)
    if dim is None:
        axes = {i for i, s in enumerate(x.shape) if s == 1}
    else:
        named = {_axis("squeeze", a, x.ndim) for a in ((dim,) if isinstance(dim, int) else dim)}
        if strict:
            for a in named:
                if x.shape[a] != 1:
                    raise ValueError(f"squeeze: axis {a} of shape {x.shape} has size "
                                     f"{x.shape[a]}, not 1")
        axes = {a for a in named if x.ndim and x.shape[a] == 1}
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in axes))


def unsqueeze(x: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Insert a size-1 axis at position ``dim`` (negative counts from the end, as PyTorch)."""
    x = as_tensor(x)
    dim = checks.alias("unsqueeze", "dim", dim, "axis", axis)
    if dim is None:
        raise TypeError("unsqueeze: missing the dim where the new axis goes")
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise ValueError(f"unsqueeze: dim {dim} is out of range for shape {x.shape}")
    dim = dim % (x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def cat(tensors: Sequence[Any], dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing axis ``dim`` (default 0); all other axes must match."""
    dim = checks.alias("cat", "dim", dim, "axis", axis, default=0)
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: needs at least one tensor")
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("cat: 0-d tensors cannot be concatenated; use stack")
    dim = _axis("cat", dim, first.ndim)
    for t in tensors[1:]:
        if t.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape))
                                       if i != dim):
            raise ValueError(f"cat: shapes {first.shape} and {t.shape} differ outside dim {dim}")
    return Concat.apply(*tensors, axis=dim)


concat = cat  # NumPy's (and PyTorch's alias) name


def stack(tensors: Sequence[Any], dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Join tensors of one shape along a new axis ``dim`` (default 0)."""
    dim = checks.alias("stack", "dim", dim, "axis", axis, default=0)
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: all tensors need one shape, got {tensors[0].shape} and {t.shape}")
    return cat([unsqueeze(t, dim) for t in tensors], dim % (tensors[0].ndim + 1))


def split(x: Any, split_size_or_sections: int | Sequence[int], dim: int | None = None, *,
          axis: int | None = None) -> list[Tensor]:
    """Cut ``x`` along ``dim`` (default 0) into pieces (PyTorch's rule).

    An int gives pieces of that size (the last may be smaller); a list gives the size of
    each piece, which must add up to the axis length.
    """
    x = as_tensor(x)
    dim = _axis("split", checks.alias("split", "dim", dim, "axis", axis, default=0), x.ndim)
    length = x.shape[dim]
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
            raise ValueError(f"split: sizes {sizes} add up to {total}, but dim {dim} of shape "
                             f"{x.shape} has length {length}")
    pieces, start = [], 0
    for s in sizes:
        pieces.append(getitem(x, (slice(None),) * dim + (slice(start, start + s),)))
        start += s
    return pieces


def chunk(x: Any, chunks: int, dim: int | None = None, *, axis: int | None = None) -> list[Tensor]:
    """Cut ``x`` along ``dim`` (default 0) into ``chunks`` pieces of ⌈length / chunks⌉ (the
    last smaller; fewer pieces when they run out first), as ``torch.chunk``."""
    x = as_tensor(x)
    checks.positive_int("chunk", "chunks", chunks)
    dim = _axis("chunk", checks.alias("chunk", "dim", dim, "axis", axis, default=0), x.ndim)
    length = x.shape[dim]
    return split(x, max(-(-length // chunks), 1), dim)
