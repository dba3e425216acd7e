"""Matrix multiplication, batched and broadcasting like ``numpy.matmul``."""
from __future__ import annotations

from typing import Any

from minigen.function import Context, Function
from minigen.ops.arguments import as_tensors, broadcast_shape
from minigen.ops.shape import reshape, transpose
from minigen.tensor import Tensor


class MatMul(Function):
    """Y = A @ B for A (..., n, k) and B (..., k, m) -> Y (..., n, m);
    ∂L/∂A = ∂L/∂Y @ Bᵀ,  ∂L/∂B = Aᵀ @ ∂L/∂Y  (ᵀ swaps the last two axes).

    Leading (batch) axes broadcast; the engine sums the gradients back over them.
    """

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        # BEGIN SOLUTION matmul_backward
        grad_a = matmul(grad, _swap_last(b)) if ctx.needs_input_grad[0] else None
        grad_b = matmul(_swap_last(a), grad) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b
        # END SOLUTION


def _swap_last(x: Tensor) -> Tensor:
    return transpose(x, -2, -1)


def matmul(a: Any, b: Any) -> Tensor:
    """a @ b. 1-D operands are treated as a row (left) or a column (right) vector and the
    added axis is removed again, as in NumPy."""
    a, b = as_tensors(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least 1 dim, got shapes {a.shape} and {b.shape}")
    if a.dtype != b.dtype:       # as PyTorch: no silent float32 -> float64 upcast
        raise TypeError(f"matmul: operands must have the same dtype, got {a.dtype} and "
                        f"{b.dtype}; cast one of them (e.g. .to(dtype))")
    a2 = reshape(a, (1,) + a.shape) if a.ndim == 1 else a
    b2 = reshape(b, b.shape + (1,)) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
                         f"{a2.shape[-1]} (last axis of the first) != {b2.shape[-2]}")
    batch = broadcast_shape("matmul", a2.shape[:-2], b2.shape[:-2])
    out = MatMul.apply(a2, b2)
    if a.ndim == 1 or b.ndim == 1:
        shape = batch + ((a2.shape[-2],) if a.ndim > 1 else ()) + ((b2.shape[-1],) if b.ndim > 1 else ())
        out = reshape(out, shape)
    return out


def linear(input: Any, weight: Any, bias: Any = None) -> Tensor:  # noqa: A002
    """y = x Wᵀ + b over the last axis of x, PyTorch's layout: ``weight`` (out, in), ``bias``
    (out,); x (..., in) -> y (..., out)."""
    x, w = as_tensors(input, weight)
    if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape "
                         f"{w.shape}; the weight is (out_features, in_features) and the input "
                         f"(..., in_features)")
    y = matmul(x, transpose(w, 0, 1))
    return y if bias is None else y + bias
