"""Elementwise arithmetic: each output element depends on the same element of each input.

Binary ops broadcast their inputs (NumPy's rules). Their backward returns gradients in
the broadcast shape; the engine sums them back to each input's shape.
"""
from __future__ import annotations

import math
from typing import Any

from minigen import backend
from minigen.function import Context, Function
from minigen.ops.arguments import as_floating, as_tensor, as_tensors, broadcast_shape
from minigen.tensor import Tensor


class Add(Function):
    """y = a + b;  ∂L/∂a = ∂L/∂y,  ∂L/∂b = ∂L/∂y."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        return a + b

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, grad


class Sub(Function):
    """y = a - b;  ∂L/∂a = ∂L/∂y,  ∂L/∂b = -∂L/∂y."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        return a - b

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, Tensor]:
        return grad, neg(grad)


class Mul(Function):
    """y = a · b;  ∂L/∂a = ∂L/∂y · b,  ∂L/∂b = ∂L/∂y · a."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        # BEGIN SOLUTION mul_backward
        grad_a = grad * b if ctx.needs_input_grad[0] else None
        grad_b = grad * a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b
        # END SOLUTION


class Div(Function):
    """y = a / b;  ∂L/∂a = ∂L/∂y / b,  ∂L/∂b = -∂L/∂y · a / b²."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        grad_a = grad / b if ctx.needs_input_grad[0] else None
        grad_b = neg(grad) * a / (b * b) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    """y = -x;  ∂L/∂x = -∂L/∂y."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return -x

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return neg(grad)


class Pow(Function):
    """y = xᵖ for a constant exponent p;  ∂L/∂x = ∂L/∂y · p xᵖ⁻¹."""

    @staticmethod
    def forward(ctx: Context, x: Any, exponent: float) -> Any:
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        return x ** exponent

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        p = ctx.exponent
        return grad * (p * pow(x, p - 1))


class Exp(Function):
    """y = eˣ;  ∂L/∂x = ∂L/∂y · y."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        y = ctx.xp.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return grad * y


class Log(Function):
    """y = ln x;  ∂L/∂x = ∂L/∂y / x."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad / x


class Log1p(Function):
    """y = ln(1 + x), accurate for small x;  ∂L/∂x = ∂L/∂y / (1 + x)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return ctx.xp.log1p(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad / (x + 1.0)


class Atanh(Function):
    """y = atanh x = ½ ln((1 + x) / (1 - x)) for |x| < 1;  ∂L/∂x = ∂L/∂y / (1 - x²)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return ctx.xp.arctanh(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad / (1.0 - x * x)


class Sqrt(Function):
    """y = √x;  ∂L/∂x = ∂L/∂y / (2 y)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        y = ctx.xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return grad / (2 * y)


class Abs(Function):
    """y = |x|;  ∂L/∂x = ∂L/∂y · sign(x), with sign(0) = 0 (PyTorch's convention)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(ctx.xp.sign(x))
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (sign,) = ctx.saved_tensors
        return grad * sign


class Maximum(Function):
    """y = max(a, b) elementwise;  the gradient goes to the larger input, split ½–½ on ties."""

    choose = "maximum"  # the array function that picks; Minimum changes only this

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        xp = ctx.xp
        y = getattr(xp, ctx.op.choose)(a, b)
        share_a = (a == y) - 0.5 * (a == b)  # 1 where a was chosen, ½ on a tie, 0 where b was
        ctx.save_for_backward(share_a.astype(xp.result_type(a, b)))
        return y

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, Tensor]:
        (share_a,) = ctx.saved_tensors
        return grad * share_a, grad * (1 - share_a)


class Minimum(Maximum):
    """y = min(a, b) elementwise;  the gradient goes to the smaller input, split ½–½ on ties."""

    choose = "minimum"


class Clip(Function):
    """y = min(max(x, lo), hi);  ∂L/∂x = ∂L/∂y where lo ≤ x ≤ hi, else 0 (as PyTorch's clamp)."""

    @staticmethod
    def forward(ctx: Context, x: Any, lo: float | None, hi: float | None) -> Any:
        xp = ctx.xp
        inside = xp.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        ctx.save_for_backward(inside.astype(x.dtype))
        return xp.clip(x, lo, hi)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (inside,) = ctx.saved_tensors
        return grad * inside


class Where(Function):
    """y = a where condition else b;  each input gets ∂L/∂y where it was chosen, else 0."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any, condition: Any) -> Any:
        ctx.save_for_backward(condition.astype(ctx.xp.result_type(a, b)))
        return ctx.xp.where(condition, a, b)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, Tensor]:
        (chosen_a,) = ctx.saved_tensors
        return grad * chosen_a, grad * (1 - chosen_a)


class Erf(Function):
    """y = erf x = (2/√π) ∫₀ˣ e^(-t²) dt;  ∂L/∂x = ∂L/∂y · (2/√π) e^(-x²).

    The forward is the library erf of the array module (``backend.erf``), exact to the
    last digit of the dtype.
    """

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return backend.erf(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * (2 / math.sqrt(math.pi)) * exp(neg(x * x))


class Cast(Function):
    """y = x converted to another dtype;  ∂L/∂x = ∂L/∂y converted back."""

    @staticmethod
    def forward(ctx: Context, x: Any, dtype: Any) -> Any:
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return cast(grad, ctx.inputs[0].dtype)


# ---------------------------------------------------------------- the functions users call
def _binary(op: type[Function], a: Any, b: Any) -> Tensor:
    a, b = as_tensors(a, b)
    broadcast_shape(op.__name__.lower(), a.shape, b.shape)
    return op.apply(a, b)


def add(a: Any, b: Any) -> Tensor:
    """a + b, broadcasting."""
    return _binary(Add, a, b)


def sub(a: Any, b: Any) -> Tensor:
    """a - b, broadcasting."""
    return _binary(Sub, a, b)


def mul(a: Any, b: Any) -> Tensor:
    """a · b elementwise, broadcasting."""
    return _binary(Mul, a, b)


def div(a: Any, b: Any) -> Tensor:
    """a / b elementwise, broadcasting."""
    return _binary(Div, a, b)


def neg(x: Any) -> Tensor:
    """-x."""
    return Neg.apply(as_tensor(x))


def pow(base: Any, exponent: Any) -> Tensor:  # noqa: A001 — PyTorch's name
    """baseᵉˣᵖᵒⁿᵉⁿᵗ.

    A number as exponent uses ``Pow``; a tensor exponent is computed as
    ``exp(exponent · ln base)``, which needs a positive base.
    """
    if not isinstance(exponent, Tensor):
        return Pow.apply(as_tensor(base), exponent=exponent)
    if not isinstance(base, Tensor):
        return exp(exponent * math.log(base))
    return exp(exponent * log(base))


def exp(x: Any) -> Tensor:
    """eˣ elementwise."""
    return Exp.apply(as_floating(x))


def log(x: Any) -> Tensor:
    """Natural logarithm elementwise."""
    return Log.apply(as_floating(x))


def log1p(x: Any) -> Tensor:
    """ln(1 + x) elementwise, without the rounding of 1 + x for small x."""
    return Log1p.apply(as_floating(x))


def atanh(x: Any) -> Tensor:
    """The inverse hyperbolic tangent elementwise, for |x| < 1."""
    return Atanh.apply(as_floating(x))


def sqrt(x: Any) -> Tensor:
    """√x elementwise."""
    return Sqrt.apply(as_floating(x))


def abs(x: Any) -> Tensor:  # noqa: A001
    """|x| elementwise."""
    return Abs.apply(as_tensor(x))


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum of two tensors, broadcasting."""
    return _binary(Maximum, a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum of two tensors, broadcasting."""
    return _binary(Minimum, a, b)


def clip(x: Any, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """x limited to [min, max] (either bound may be None; both are numbers)."""
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    return Clip.apply(as_tensor(x), lo=min, hi=max)


clamp = clip  # PyTorch's name (PyTorch has clip as its alias, too)


def erf(x: Any) -> Tensor:
    """The error function elementwise."""
    return Erf.apply(as_floating(x))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elementwise ``a if condition else b``, broadcasting all three."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    a, b = as_tensors(a, b)
    cond = backend.to_module(backend.np.asarray(cond) if not backend.is_array(cond) else cond,
                             backend.array_module(a.data))
    if cond.dtype != bool:
        raise TypeError(f"where: condition must be boolean, got dtype {cond.dtype}")
    broadcast_shape("where", tuple(cond.shape), a.shape, b.shape)
    return Where.apply(a, b, condition=cond)


def cast(x: Any, dtype: Any) -> Tensor:
    """x converted to ``dtype`` (``"float32"``, ``"float64"``, ...)."""
    x = as_tensor(x)
    if backend.np.dtype(dtype) == x.dtype:
        return x
    return Cast.apply(x, dtype=backend.np.dtype(dtype))


_COMPARISONS = {"<": "less", "<=": "less_equal", ">": "greater", ">=": "greater_equal",
                "==": "equal", "!=": "not_equal"}


def compare(a: Any, b: Any, op: str) -> Tensor:
    """``a <op> b`` elementwise as a boolean tensor (no gradient)."""
    a, b = as_tensors(a, b)
    broadcast_shape(op, a.shape, b.shape)
    xp = backend.array_module(a.data)
    return Tensor(getattr(xp, _COMPARISONS[op])(a.data, b.data))


def _comparison(name: str, op: str) -> Any:
    def comparison(a: Any, b: Any) -> Tensor:
        return compare(a, b, op)

    comparison.__name__ = comparison.__qualname__ = name
    comparison.__doc__ = f"a {op} b elementwise, as a boolean tensor (no gradient)."
    return comparison


# PyTorch's names of the comparisons.
eq, ne = _comparison("eq", "=="), _comparison("ne", "!=")
lt, le = _comparison("lt", "<"), _comparison("le", "<=")
gt, ge = _comparison("gt", ">"), _comparison("ge", ">=")


def logical(a: Any, b: Any, op: str) -> Tensor:
    """``a and b``, ``a or b`` or ``a xor b`` (``op`` "&", "|", "^") of two boolean tensors,
    elementwise and broadcast (no gradient); integers and floats are refused, as the
    bitwise meaning of ``&`` on them is not PyTorch's logical one."""
    a, b = as_tensors(a, b)
    if a.dtype != bool or b.dtype != bool:
        raise TypeError(f"{op}: needs boolean tensors (e.g. x > 0), got dtypes {a.dtype} and "
                        f"{b.dtype}")
    broadcast_shape(op, a.shape, b.shape)
    xp = backend.array_module(a.data)
    name = {"&": "logical_and", "|": "logical_or", "^": "logical_xor"}[op]
    return Tensor(getattr(xp, name)(a.data, b.data))


def logical_and(a: Any, b: Any) -> Tensor:
    """a and b elementwise, for boolean tensors (no gradient)."""
    return logical(a, b, "&")


def logical_or(a: Any, b: Any) -> Tensor:
    """a or b elementwise, for boolean tensors (no gradient)."""
    return logical(a, b, "|")


def logical_xor(a: Any, b: Any) -> Tensor:
    """a xor b elementwise, for boolean tensors (no gradient)."""
    return logical(a, b, "^")


def logical_not(a: Any) -> Tensor:
    """not a elementwise, for a boolean tensor (no gradient)."""
    a = as_tensor(a)
    if a.dtype != bool:
        raise TypeError(f"~: needs a boolean tensor (e.g. x > 0), got dtype {a.dtype}")
    return Tensor(backend.array_module(a.data).logical_not(a.data))
