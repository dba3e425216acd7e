"""Indexing: ``x[index]`` and its adjoint, the scatter-add; and ``one_hot``.

``x[index]`` picks elements; its backward must put each gradient element back where
its input element came from. With integer arrays the same element can be picked
twice (``x[[0, 0]]``), and then both gradients must add up: a *scatter-add*.
"""
from __future__ import annotations

from typing import Any

from minigen import backend, checks
from minigen.function import Context, Function
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor


class GetItem(Function):
    """y = x[index];  ∂L/∂x = zeros(x.shape) with ∂L/∂y scatter-added at ``index``."""

    @staticmethod
    def forward(ctx: Context, x: Any, index: Any) -> Any:
        ctx.index = index
        return x[index]

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        # BEGIN SOLUTION getitem_backward
        return ScatterAdd.apply(grad, index=ctx.index, shape=ctx.inputs[0].shape)
        # END SOLUTION


class ScatterAdd(Function):
    """y = zeros(shape) with y[index] += g (repeated indices add up);  ∂L/∂g = ∂L/∂y[index].

    The backward of ``GetItem``; its own backward is ``GetItem`` again. A caller that
    knows no element is picked twice passes ``unique=True`` for a plain (faster) assignment.
    """

    @staticmethod
    def forward(ctx: Context, g: Any, index: Any, shape: tuple[int, ...],
                unique: bool = False) -> Any:
        ctx.index = index
        # BEGIN SOLUTION getitem_backward
        out = ctx.xp.zeros(shape, dtype=g.dtype)
        if unique or _is_basic(index):
            out[index] = g  # slices and ints never pick an element twice
        else:
            backend.scatter_add(out, index, g)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return GetItem.apply(grad, index=ctx.index)


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice, backend.np.integer))
               for i in items)


def _consumed(item: Any) -> int:
    """How many axes of the indexed tensor an index item walks over."""
    if item is None or item is Ellipsis:
        return 0
    if isinstance(item, Tensor):
        item = item.data
    if isinstance(item, list):
        item = backend.np.asarray(item)
    if backend.is_array(item) and item.dtype == bool:
        return item.ndim
    return 1


def _normalize_index(index: Any, xp: Any, shape: tuple[int, ...]) -> Any:
    """Tensors and lists in an index become integer arrays on the data's device; a boolean
    mask becomes the integer indices of its True elements (NumPy's own equivalence),
    after checking, as NumPy does, that its shape is that of the axes it masks."""
    items = index if isinstance(index, tuple) else (index,)
    out: list[Any] = []
    axis = 0                                    # the tensor's axis the next item indexes
    for k, item in enumerate(items):
        if item is Ellipsis:                    # the items after it index the last axes
            axis = len(shape) - sum(_consumed(later) for later in items[k + 1:])
            out.append(item)
            continue
        if isinstance(item, Tensor):
            item = item.data
        elif isinstance(item, list):
            item = backend.np.asarray(item)
        if backend.is_array(item):
            item = backend.to_module(item, xp)
            if item.dtype == bool:
                masked = tuple(shape[axis:axis + item.ndim])
                if masked != tuple(item.shape):
                    raise IndexError(f"getitem: a boolean mask of shape {tuple(item.shape)} "
                                     f"does not match the axes {masked} it indexes")
                out.extend(item.nonzero())
                axis += item.ndim
                continue
            if item.dtype.kind not in "iu":
                raise IndexError(f"getitem: index arrays must hold integers or booleans, got {item.dtype}")
        out.append(item)
        axis += _consumed(item)
    return tuple(out) if isinstance(index, tuple) or len(out) != 1 else out[0]


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]`` with NumPy's rules: ints, slices, None, ``...``, integer arrays, masks."""
    x = as_tensor(x)
    if isinstance(index, Tensor) and index.requires_grad:
        raise TypeError("getitem: an index cannot require grad")
    index = _normalize_index(index, backend.array_module(x.data), x.shape)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as err:
        raise IndexError(f"getitem: {err} (tensor of shape {x.shape})") from None


def one_hot(labels: Any, num_classes: int) -> Tensor:
    """One-hot rows: ``labels`` of shape (N,) -> (N, num_classes) with a 1 at each label.

    >>> one_hot([2, 0], 3).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    labels = labels.data if isinstance(labels, Tensor) else labels
    xp = backend.array_module(labels) if backend.is_array(labels) else backend.xp
    labels = xp.asarray(labels)
    checks.indices_in_range("one_hot", "labels", labels, num_classes)
    eye = xp.eye(num_classes, dtype=backend.get_default_dtype())
    return Tensor(eye[labels])
