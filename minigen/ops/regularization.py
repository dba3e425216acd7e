"""Dropout: while training, zero each element with probability p (a regularizer).

*Inverted* dropout scales the kept elements by 1 / (1 - p), so every element keeps its
expected value, E[y] = (1 - p) · x / (1 - p) = x, and evaluation needs no rescaling: it
is the identity. The random mask comes from minigen's seeded generator, so
``minigen.manual_seed`` makes it repeat.
"""
from __future__ import annotations

from typing import Any

from minigen import backend, checks
from minigen.function import Context, Function
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor


class Dropout(Function):
    """y = x · m with m = 1/(1 - p) where kept (probability 1 - p), 0 where dropped;
    ∂L/∂x = ∂L/∂y · m (the same mask: y is linear in x).

    ``p = 1`` drops everything (m = 0), as PyTorch.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, p: float) -> Any:
        keep = backend.rng(ctx.xp).random(x.shape) >= p        # True with probability 1 - p
        scale = 1.0 / (1.0 - p) if p < 1 else 0.0
        mask = keep.astype(x.dtype) * x.dtype.type(scale)
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (mask,) = ctx.saved_tensors
        return grad * mask


def dropout(input: Any, p: float = 0.5, training: bool = True) -> Tensor:  # noqa: A002
    """Inverted dropout, as ``torch.nn.functional.dropout``: the identity when not
    ``training`` or when p = 0.

    >>> import minigen
    >>> x = minigen.ones(8)
    >>> minigen.manual_seed(0)
    >>> a = dropout(x, p=0.5).tolist()
    >>> minigen.manual_seed(0)
    >>> a == dropout(x, p=0.5).tolist()      # the same mask again
    True
    >>> sorted(set(a))                       # dropped, or kept and scaled by 1/(1-p)
    [0.0, 2.0]
    """
    x = as_tensor(input)
    checks.in_range("dropout", "p", p, 0, 1)          # the probability of dropping an element
    if not backend.is_floating(x.data):
        raise TypeError(f"dropout: expected a floating-point input, got dtype {x.dtype}")
    if not training or p == 0:
        return x
    return Dropout.apply(x, p=float(p))
