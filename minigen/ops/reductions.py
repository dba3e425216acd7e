"""Reductions: sum, mean, max, min, var, std, logsumexp, softmax, and argmax / argmin.

``axis`` is None (all axes), an int or a tuple; ``keepdims`` keeps reduced axes with
size 1, exactly as in NumPy. The backward of a reduction spreads ∂L/∂y back over the
reduced axes: it first restores them as size-1 axes, then broadcasts.
"""
from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.function import Context, Function
from minigen.ops.arguments import as_tensor, broadcast_shape, keepdims_shape, normalize_axis
from minigen.ops.shape import reshape
from minigen.ops.elementwise import exp, sqrt
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
        return _restore_axes(ctx, grad) * exp(x - _restore_axes(ctx, y))


def _drop_axes(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _reduce(op: type[Function], name: str, x: Any, axis: Any, keepdims: bool) -> Tensor:
    x = as_tensor(x)
    axes = normalize_axis(name, axis, x.ndim)
    if x.size == 0 and op is not Sum:
        raise ValueError(f"{name}: cannot reduce an empty tensor of shape {x.shape}")
    return op.apply(x, axes=axes, keepdims=keepdims)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Σ of the elements over ``axis`` (all by default)."""
    return _reduce(Sum, "sum", x, axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis``: Σ x / n."""
    x = as_tensor(x)
    axes = normalize_axis("mean", axis, x.ndim)
    n = x.size if axes is None else _count(x.shape, axes)
    return sum(x, axes, keepdims) * (1.0 / n)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Largest element over ``axis``."""
    return _reduce(Max, "max", x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Smallest element over ``axis``."""
    return _reduce(Min, "min", x, axis, keepdims)


def var(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over ``axis``: Σ (x - mean)² / (n - ddof).

    ``ddof=0`` (NumPy's default) is the biased variance that batch norm uses;
    ``ddof=1`` is the unbiased estimate (PyTorch's ``unbiased=True``).
    """
    x = as_tensor(x)
    axes = normalize_axis("var", axis, x.ndim)
    n = x.size if axes is None else _count(x.shape, axes)
    if n - ddof <= 0:
        raise ValueError(f"var: {n} elements with ddof={ddof} leave no degrees of freedom")
    centred = x - mean(x, axes, keepdims=True)
    return sum(centred * centred, axes, keepdims) * (1.0 / (n - ddof))


def std(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Standard deviation over ``axis``: √var."""
    return sqrt(var(x, axis, keepdims, ddof))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """log Σ exp(x) over ``axis``, computed without overflow."""
    return _reduce(LogSumExp, "logsumexp", x, axis, keepdims)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """log softmax(x) = x - logsumexp(x) over ``axis``: stable for any logits.

    Computed from x - m, with m the (constant) maximum along ``axis``: the result does not
    change, but the large parts cancel exactly instead of after rounding. Otherwise
    logits of 1e4 in float32 would lose three digits (x and logsumexp(x) are ≈ 1e4, where
    float32 numbers lie 2⁻¹⁰ apart).
    """
    x = as_tensor(x)
    axes = normalize_axis("log_softmax", axis, x.ndim)
    if x.size:
        xp = backend.array_module(x.data)
        m = x.data.max(axis=axes, keepdims=True)
        x = x - Tensor(xp.where(xp.isfinite(m), m, 0))  # all -inf rows: left to logsumexp
    return x - logsumexp(x, axis, keepdims=True)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """softmax(x)_i = exp(x_i) / Σ_j exp(x_j) over ``axis``, as exp(log_softmax(x))."""
    return exp(log_softmax(x, axis))


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the largest element (the first on ties); an integer tensor, no gradient."""
    x = as_tensor(x)
    return Tensor(x.data.argmax(axis=axis, keepdims=keepdims))


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest element (the first on ties); an integer tensor, no gradient."""
    x = as_tensor(x)
    return Tensor(x.data.argmin(axis=axis, keepdims=keepdims))


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
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and x.shape[lead + i] != 1)
    total = sum(x, axes, keepdims=True)  # x.ndim axes, summed ones kept with size 1
    return reshape(total, shape) if lead else total
