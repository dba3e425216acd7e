"""Activation functions, written in forms that stay finite for inputs of any size."""
from __future__ import annotations

import math
from typing import Any

from minigen import checks
from minigen.function import Context, Function
from minigen.grad_mode import is_grad_enabled
from minigen.ops.arguments import as_floating, as_tensor
from minigen.ops.elementwise import erf
from minigen.tensor import Tensor


class ReLU(Function):
    """y = max(x, 0);  ∂L/∂x = ∂L/∂y · [x > 0]  (so relu'(0) = 0, as in PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x > 0)   # a boolean mask: multiplying by it is as fast, and
        return ctx.xp.maximum(x, 0)    # it skips a conversion pass over x

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (positive,) = ctx.saved_tensors
        return grad * positive


class LeakyReLU(Function):
    """y = x if x > 0 else s·x;  ∂L/∂x = ∂L/∂y · (1 if x > 0 else s)  (s at x = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Any, slope: float) -> Any:
        factor = ctx.xp.where(x > 0, 1.0, slope).astype(x.dtype)
        ctx.save_for_backward(factor)
        return x * factor

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (factor,) = ctx.saved_tensors
        return grad * factor


def _sigmoid_array(xp: Any, x: Any) -> Any:
    """σ(x) of an array, from e = e^(-|x|) in (0, 1], which never overflows:

        σ(x) = 1 / (1 + e)  for x ≥ 0,     σ(x) = e / (1 + e)  for x < 0

    The two numerators are one: max(e, [x ≥ 0]) is 1 for x ≥ 0 and e for x < 0 (e ≤ 1).
    (A ``where`` choosing between the two quotients gives the same numbers, several
    times slower on large arrays.) The dtype of x is kept."""
    e = xp.exp(-xp.abs(x))                            # e^(-|x|) in (0, 1]
    return (xp.maximum(e, x >= 0) / (1 + e)).astype(x.dtype, copy=False)


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e⁻ˣ);  ∂L/∂x = ∂L/∂y · y (1 - y).

    Computed from e^(-|x|), which never overflows:
    σ(x) = 1 / (1 + e^(-|x|)) for x ≥ 0 and e^(-|x|) / (1 + e^(-|x|)) for x < 0.
    """

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        y = _sigmoid_array(ctx.xp, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


class SiLU(Function):
    """y = x·σ(x) (SiLU, or swish);  ∂L/∂x = ∂L/∂y · σ(x) (1 + x (1 - σ(x))).

    (The product rule: d/dx x·σ(x) = σ(x) + x·σ(x)(1 - σ(x)).) One op rather than a
    ``Mul`` of x and ``Sigmoid``: its backward is one expression instead of two ops'
    worth of products and a sum, on the UNet's largest feature maps.
    """

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        s = _sigmoid_array(ctx.xp, x)                  # σ(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x, s = ctx.saved_tensors                       # s comes back a constant
        if is_grad_enabled():
            # a gradient of this gradient is wanted (create_graph=True): σ(x) must be a
            # function of x in the graph, not the constant saved in the forward
            s = sigmoid(x)
        return grad * (s * (1 + x * (1 - s)))


class Tanh(Function):
    """y = tanh x;  ∂L/∂x = ∂L/∂y · (1 - y²)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        y = ctx.xp.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


class Softplus(Function):
    """y = ln(1 + eˣ);  ∂L/∂x = ∂L/∂y · σ(x).

    Computed as max(x, 0) + ln(1 + e^(-|x|)), finite for any x (``logaddexp(0, x)``).
    """

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return ctx.xp.logaddexp(0, x).astype(x.dtype)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * sigmoid(x)


def relu(x: Any) -> Tensor:
    """max(x, 0) elementwise."""
    return ReLU.apply(as_tensor(x))


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, ``negative_slope`` · x otherwise (PyTorch's name and default)."""
    return LeakyReLU.apply(as_tensor(x), slope=negative_slope)


def sigmoid(x: Any) -> Tensor:
    """σ(x) = 1 / (1 + e⁻ˣ), stable for large |x|."""
    return Sigmoid.apply(as_floating(x))


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent."""
    return Tanh.apply(as_floating(x))


def softplus(x: Any) -> Tensor:
    """ln(1 + eˣ), stable for large |x|."""
    return Softplus.apply(as_floating(x))


def silu(x: Any) -> Tensor:
    """SiLU (swish): x·σ(x), as ``torch.nn.functional.silu``."""
    return SiLU.apply(as_floating(x))


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """GELU: x·Φ(x), Φ the standard normal CDF, as PyTorch.

    ``approximate="none"`` (PyTorch's default) is the exact form Φ(x) = ½(1 + erf(x/√2));
    ``approximate="tanh"`` is the tanh approximation of Hendrycks & Gimpel,
    ½x(1 + tanh(√(2/π)(x + 0.044715x³))). Both are composed of existing ops.
    """
    checks.one_of("gelu", "approximate", approximate, ("none", "tanh"))
    x = as_floating(x)
    if approximate == "tanh":
        inner = (x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + tanh(inner))
    return 0.5 * x * (1 + erf(x * (1 / math.sqrt(2))))
