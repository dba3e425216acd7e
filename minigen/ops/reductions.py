"""Reductions: sum, prod, mean, max, min, var, std, logsumexp, softmax, and argmax / argmin.

``dim`` is None (all axes), an int or a tuple; ``keepdim`` keeps reduced axes with
size 1 (PyTorch's names; NumPy's ``axis`` and ``keepdims`` are accepted as aliases). The backward of a reduction spreads ∂L/∂y back over the
reduced axes: it first restores them as size-1 axes, then broadcasts.
"""
from __future__ import annotations

from typing import Any

from minigen import backend, checks, return_types
from minigen.function import Context, Function
from minigen.ops.arguments import as_tensor, broadcast_shape, keepdims_shape, normalize_axis
from minigen.ops.shape import reshape
from minigen.ops.elementwise import exp, maximum, minimum, sqrt
from minigen.tensor import Tensor


def _restore_axes(ctx: Context, grad: Tensor) -> Tensor:
    """∂L/∂y of a reduction reshaped to keepdims form (size-1 axes where it reduced)."""
    return reshape(grad, keepdims_shape(ctx.inputs[0].shape, ctx.axes))


class Sum(Function):
    """y = Σ over ``axes`` of x;  ∂L/∂x = ∂L/∂y broadcast back over the summed axes."""

    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...] | None, keepdims: bool) -> Any:
        ctx.axes = axes
        return x.sum(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        # BEGIN SOLUTION sum_backward
        return broadcast_to(_restore_axes(ctx, grad), ctx.inputs[0].shape)
        # END SOLUTION


class Max(Function):
    """y = max over ``axes`` of x;  ∂L/∂x_i = ∂L/∂y / k where x_i is one of the k maxima, else 0.

    Ties share the gradient equally (like PyTorch's ``amax``).
    """

    reduce = "max"  # the array method that picks; Min changes only this

    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...] | None, keepdims: bool) -> Any:
        ctx.axes = axes
        y = getattr(x, ctx.op.reduce)(axis=axes, keepdims=True)
        winners = (x == y).astype(x.dtype)
        ctx.save_for_backward(winners / winners.sum(axis=axes, keepdims=True))
        return y if keepdims else y.reshape(_drop_axes(x.shape, axes))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (share,) = ctx.saved_tensors
        return _restore_axes(ctx, grad) * share


class Min(Max):
    """y = min over ``axes`` of x;  the gradient is shared by the minima, as for ``Max``."""

    reduce = "min"


class LogSumExp(Function):
    """y = log Σ exp(x) over ``axes``;  ∂L/∂x = ∂L/∂y · exp(x - y)  (the softmax).

    Computed as m + log Σ exp(x - m) with m the maximum, so no exp overflows.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...] | None, keepdims: bool) -> Any:
        xp = ctx.xp
        ctx.axes = axes
        m = x.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or inf) rows: leave them to log/exp
        y = m + xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True))
        y = y if keepdims else y.reshape(_drop_axes(x.shape, axes))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x, y = ctx.saved_tensors
        # BEGIN SOLUTION softmax_cross_entropy_backward
        return _restore_axes(ctx, grad) * exp(x - _restore_axes(ctx, y))
        # END SOLUTION


def _drop_axes(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in axes)


class Prod(Function):
    """y = Π over ``axes`` of x;  ∂L/∂x_i = ∂L/∂y · y / x_i  (the product of the other factors).

    The quotient needs every x_i ≠ 0: a zero factor gives an inf or nan gradient here
    (PyTorch handles zeros with a separate, slower formula).
    """

    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...] | None, keepdims: bool) -> Any:
        ctx.axes = axes
        y = x.prod(axis=axes, keepdims=keepdims)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x, y = ctx.saved_tensors
        return _restore_axes(ctx, grad) * _restore_axes(ctx, y) / x


def dims(name: str, dim: Any, keepdim: Any, axis: Any, keepdims: Any) -> tuple[Any, bool]:
    """PyTorch's ``dim``/``keepdim`` or their NumPy aliases ``axis``/``keepdims`` (not both)."""
    return (checks.alias(name, "dim", dim, "axis", axis),
            bool(checks.alias(name, "keepdim", keepdim, "keepdims", keepdims, default=False)))


def _reduce(op: type[Function], name: str, x: Any, dim: Any, keepdim: Any, axis: Any = None,
            keepdims: Any = None) -> Tensor:
    x = as_tensor(x)
    dim, keepdim = dims(name, dim, keepdim, axis, keepdims)
    axes = normalize_axis(name, dim, x.ndim)
    if x.numel() == 0 and op is not Sum:
        raise ValueError(f"{name}: cannot reduce an empty tensor of shape {x.shape}")
    return op.apply(x, axes=axes, keepdims=keepdim)


# ``dim`` (an int, a tuple of ints, or None for all) and ``keepdim`` are PyTorch's names;
# ``axis`` and ``keepdims`` are accepted as NumPy-style aliases (giving both is an error).
def sum(x: Any, dim: Any = None, keepdim: bool | None = None, *,  # noqa: A001
        axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """Σ of the elements over ``dim`` (all by default)."""
    return _reduce(Sum, "sum", x, dim, keepdim, axis, keepdims)


def prod(x: Any, dim: Any = None, keepdim: bool | None = None, *,
         axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """Π of the elements over ``dim`` (all by default); its gradient needs nonzero factors."""
    return _reduce(Prod, "prod", x, dim, keepdim, axis, keepdims)


def mean(x: Any, dim: Any = None, keepdim: bool | None = None, *,
         axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """Arithmetic mean over ``dim``: Σ x / n."""
    x = as_tensor(x)
    dim, keepdim = dims("mean", dim, keepdim, axis, keepdims)
    axes = normalize_axis("mean", dim, x.ndim)
    n = x.numel() if axes is None else _count(x.shape, axes)
    return sum(x, axes, keepdim) * (1.0 / n)


def _extreme(op: type[Function], name: str, x: Any, dim: Any, keepdim: Any, axis: Any,
             keepdims: Any) -> Any:
    """max/min as PyTorch: overall with no dim, ``(values, indices)`` along an int ``dim``,
    the elementwise maximum/minimum when the second argument is a tensor. With NumPy's
    ``axis`` (an int or a tuple) only the values come back, as ``numpy.max``/``torch.amax``."""
    if isinstance(dim, Tensor):
        if keepdim is not None or axis is not None or keepdims is not None:
            raise TypeError(f"{name}(input, other): the elementwise form takes no dim or keepdim")
        return maximum(x, dim) if op is Max else minimum(x, dim)
    if dim is None:
        return _reduce(op, name, x, None, keepdim, axis, keepdims)
    checks.alias(name, "dim", dim, "axis", axis)  # both given: the same TypeError as elsewhere
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{name}: dim must be one int (the result is (values, indices)), got "
                        f"{dim!r}; for the values over several dims use axis= or amax/amin")
    keepdim = bool(checks.alias(name, "keepdim", keepdim, "keepdims", keepdims, default=False))
    values = _reduce(op, name, x, dim, keepdim)
    pick = argmax if op is Max else argmin
    result = return_types.max if op is Max else return_types.min
    return result(values, pick(x, dim, keepdim))


def max(x: Any, dim: Any = None, keepdim: bool | None = None, *,  # noqa: A001
        axis: Any = None, keepdims: bool | None = None) -> Any:
    """Largest element; along an int ``dim``, the named tuple ``(values, indices)``;
    ``max(a, b)`` with a tensor ``b`` is ``maximum(a, b)``. Ties share the gradient."""
    return _extreme(Max, "max", x, dim, keepdim, axis, keepdims)


def min(x: Any, dim: Any = None, keepdim: bool | None = None, *,  # noqa: A001
        axis: Any = None, keepdims: bool | None = None) -> Any:
    """Smallest element; along an int ``dim``, ``(values, indices)``; ``min(a, b)`` elementwise."""
    return _extreme(Min, "min", x, dim, keepdim, axis, keepdims)


def amax(x: Any, dim: Any = None, keepdim: bool | None = None, *,
         axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """The largest values over ``dim`` (an int or a tuple), without indices."""
    return _reduce(Max, "amax", x, dim, keepdim, axis, keepdims)


def amin(x: Any, dim: Any = None, keepdim: bool | None = None, *,
         axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """The smallest values over ``dim`` (an int or a tuple), without indices."""
    return _reduce(Min, "amin", x, dim, keepdim, axis, keepdims)


def _correction(name: str, correction: Any, unbiased: Any, ddof: Any) -> int:
    """The ``correction`` of var/std: PyTorch's ``correction`` (default 1), its NumPy alias
    ``ddof``, or PyTorch's older ``unbiased`` (True = 1, False = 0); one of them at most."""
    correction = checks.alias(name, "correction", correction, "ddof", ddof)
    if unbiased is not None:
        if correction is not None:
            raise TypeError(f"{name}: give unbiased or correction (ddof), not both")
        return 1 if unbiased else 0
    return 1 if correction is None else int(correction)


def var(x: Any, dim: Any = None, *, correction: int | None = None, keepdim: bool | None = None,
        unbiased: bool | None = None, ddof: int | None = None, axis: Any = None,
        keepdims: bool | None = None) -> Tensor:
    """Variance over ``dim``: Σ (x - mean)² / (n - correction).

    ``correction=1`` (PyTorch's default) is the unbiased estimate; ``correction=0`` (NumPy's
    default, ``ddof=0``) is the biased variance that batch norm uses.
    """
    x = as_tensor(x)
    dim, keepdim = dims("var", dim, keepdim, axis, keepdims)
    ddof = _correction("var", correction, unbiased, ddof)
    axes = normalize_axis("var", dim, x.ndim)
    n = x.numel() if axes is None else _count(x.shape, axes)
    if n - ddof <= 0:
        raise ValueError(f"var: {n} elements with correction={ddof} leave no degrees of freedom")
    centred = x - mean(x, axes, keepdim=True)
    return sum(centred * centred, axes, keepdim) * (1.0 / (n - ddof))


def std(x: Any, dim: Any = None, *, correction: int | None = None, keepdim: bool | None = None,
        unbiased: bool | None = None, ddof: int | None = None, axis: Any = None,
        keepdims: bool | None = None) -> Tensor:
    """Standard deviation over ``dim``: √var (the same ``correction``, default 1)."""
    return sqrt(var(x, dim, correction=correction, keepdim=keepdim, unbiased=unbiased,
                    ddof=ddof, axis=axis, keepdims=keepdims))


def logsumexp(x: Any, dim: Any = None, keepdim: bool | None = None, *,
              axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """log Σ exp(x) over ``dim``, computed without overflow."""
    return _reduce(LogSumExp, "logsumexp", x, dim, keepdim, axis, keepdims)


def log_softmax(x: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """log softmax(x) = x - logsumexp(x) over ``dim`` (default -1, the last): stable for
    any logits.

    Computed from x - m, with m the (constant) maximum along ``dim``: the result does not
    change, but the large parts cancel exactly instead of after rounding. Otherwise
    logits of 1e4 in float32 would lose three digits (x and logsumexp(x) are ≈ 1e4, where
    float32 numbers lie 2⁻¹⁰ apart).
    """
    x = as_tensor(x)
    dim = checks.alias("log_softmax", "dim", dim, "axis", axis, default=-1)
    axes = normalize_axis("log_softmax", dim, x.ndim)
    if x.numel():
        xp = backend.array_module(x.data)
        m = x.data.max(axis=axes, keepdims=True)
        x = x - Tensor(xp.where(xp.isfinite(m), m, 0))  # all -inf rows: left to logsumexp
    return x - logsumexp(x, dim, keepdim=True)


def softmax(x: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """softmax(x)_i = exp(x_i) / Σ_j exp(x_j) over ``dim`` (default -1), as exp(log_softmax(x))."""
    return exp(log_softmax(x, checks.alias("softmax", "dim", dim, "axis", axis, default=-1)))


def _arg(name: str, x: Any, dim: Any, keepdim: Any, axis: Any, keepdims: Any) -> Tensor:
    x = as_tensor(x)
    dim, keepdim = dims(name, dim, keepdim, axis, keepdims)
    if dim is not None:
        normalize_axis(name, dim, x.ndim)  # an int in range, or a clear error
    return Tensor(getattr(x.data, name)(axis=dim, keepdims=keepdim))


def argmax(x: Any, dim: int | None = None, keepdim: bool | None = None, *,
           axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """Index of the largest element (the first on ties; over all elements, flattened, with no
    dim); an integer tensor, no gradient."""
    return _arg("argmax", x, dim, keepdim, axis, keepdims)


def argmin(x: Any, dim: int | None = None, keepdim: bool | None = None, *,
           axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """Index of the smallest element (the first on ties); an integer tensor, no gradient."""
    return _arg("argmin", x, dim, keepdim, axis, keepdims)


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n



# ---------------------------------------------------------------- broadcasting and its adjoint
class BroadcastTo(Function):
    """y = x repeated along new leading axes and size-1 axes to ``shape``;
    ∂L/∂x = ∂L/∂y summed over the repeated axes (``sum_to``).

    Sum and BroadcastTo are each other's backward: one copies a value to many places, the
    other adds many places into one.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, shape: tuple[int, ...]) -> Any:
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return sum_to(grad, ctx.inputs[0].shape)


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """x repeated (without copying) to ``shape``, NumPy's broadcasting rules."""
    x = as_tensor(x)
    shape = tuple(int(s) for s in shape)
    if broadcast_shape("broadcast_to", x.shape, shape) != shape:
        raise ValueError(f"broadcast_to: shape {x.shape} cannot be broadcast to {shape}")
    if x.shape == shape:
        return x
    return BroadcastTo.apply(x, shape=shape)


def expand(x: Any, sizes: Any) -> Tensor:
    """``broadcast_to`` with PyTorch's -1: an entry -1 keeps the size of that axis of ``x``
    (``x.expand(4, -1)`` turns (1, 3) into (4, 3))."""
    x = as_tensor(x)
    sizes = tuple(int(s) for s in sizes)
    lead = len(sizes) - x.ndim
    if lead < 0 or any(s == -1 for s in sizes[:lead]):
        raise ValueError(f"expand: sizes {sizes} do not fit shape {x.shape} (-1 only where "
                         "the tensor has an axis, and no fewer sizes than axes)")
    shape = sizes[:lead] + tuple(d if s == -1 else s for s, d in zip(sizes[lead:], x.shape))
    return broadcast_to(x, shape)


def sum_to(x: Any, shape: tuple[int, ...]) -> Tensor:
    """Sum ``x`` down to ``shape``: the reverse of broadcasting ``shape`` up to ``x.shape``.

    Leading axes that broadcasting added are summed away, and axes where ``shape`` has
    size 1 are summed with keepdims. Every backward of a broadcasting op ends here.

    >>> import minigen
    >>> sum_to(minigen.ones(2, 3), (1, 3)).tolist()
    [[2.0, 2.0, 2.0]]
    """
    x = as_tensor(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    # BEGIN SOLUTION broadcast_sum
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and x.shape[lead + i] != 1)
    total = sum(x, axes, keepdims=True)  # x.ndim axes, summed ones kept with size 1
    return reshape(total, shape) if lead else total
    # END SOLUTION
