"""Turning op arguments into tensors, and checking shapes before anything is computed."""
from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.tensor import Tensor


def as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor; a Python number takes the dtype and device of ``like``.

    ``x * 2`` must stay float32 when ``x`` is float32, so a bare number is converted to
    the other operand's floating dtype (or the default float dtype for a float number
    next to integer data).
    """
    if isinstance(value, Tensor):
        return value
    if backend.is_array(value):
        return Tensor(value)
    module = backend.array_module(like.data) if like is not None else backend.xp
    if isinstance(value, (bool, int, float)) or backend.np.isscalar(value):
        if like is not None and backend.is_floating(like.data):
            return Tensor(module.asarray(value, dtype=like.dtype))
        if isinstance(value, float) or (hasattr(value, "dtype") and value.dtype.kind == "f"):
            return Tensor(module.asarray(value, dtype=backend.get_default_dtype()))
        return Tensor(module.asarray(value))
    raise TypeError(f"expected a Tensor, an array or a number, got {type(value).__name__}")


def as_floating(x: Any) -> Tensor:
    """``x`` as a tensor, integer or boolean data cast to the default float dtype first:
    the rule of every floating-point op (exp, log, sigmoid, ...), as in PyTorch, where
    ``torch.sigmoid`` of an integer tensor is a float tensor (NumPy's would be float64,
    and an op computing in the integer dtype would truncate to 0)."""
    x = as_tensor(x)
    if x.dtype.kind in "iub":
        return Tensor(x.data.astype(backend.get_default_dtype()))
    return x


def as_tensors(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as tensors (numbers follow the tensor operand)."""
    if isinstance(a, Tensor):
        a, b = a, as_tensor(b, like=a)
    else:
        b = as_tensor(b)
        a = as_tensor(a, like=b)
    # Integer data next to floats becomes that float type (int64 + float32 would give float64).
    if backend.is_floating(a.data) and b.dtype.kind in "iub":
        b = Tensor(b.data.astype(a.dtype))
    elif backend.is_floating(b.data) and a.dtype.kind in "iub":
        a = Tensor(a.data.astype(b.dtype))
    return a, b


def broadcast_shape(op_name: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The common broadcast shape, or a ValueError naming the op and all shapes."""
    if all(s == shapes[0] for s in shapes[1:]):
        return tuple(shapes[0])  # the common case, without NumPy's general rule
    try:
        return tuple(backend.np.broadcast_shapes(*shapes))
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise ValueError(f"{op_name}: shapes {listed} cannot be broadcast together") from None


def normalize_axis(op_name: str, axis: Any, ndim: int) -> tuple[int, ...] | None:
    """``axis`` (None, an int or a tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{op_name}: axis {a} is out of range for a tensor with {ndim} dims")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{op_name}: repeated axis in {axis}")
    return tuple(sorted(out))


def keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape a reduction over ``axes`` has with ``keepdims=True``."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))
