"""Scaled dot-product attention (*atención*), written with minigen's own matmul and softmax.

Each query q_i looks at every key k_j, weighs it by how well they match, and returns the
weighted mean of the values:

    A = softmax(Q Kᵀ · s)   (..., L, S), each row sums to 1,   s = 1/√E by default
    out = A V               (..., L, E_v)

with Q (..., L, E), K (..., S, E), V (..., S, E_v). A composition of differentiable ops,
so its backward is theirs; the leading dimensions (batch, heads) broadcast as in matmul.

>>> import minigen
>>> q = k = v = minigen.ones(2, 3, 4)
>>> scaled_dot_product_attention(q, k, v).shape
(2, 3, 4)
"""
from __future__ import annotations

import math
from typing import Any

from minigen import checks
from minigen.ops.arguments import as_tensor
from minigen.ops.linalg import matmul
from minigen.ops.reductions import softmax
from minigen.ops.shape import transpose
from minigen.tensor import Tensor


def scaled_dot_product_attention(query: Any, key: Any, value: Any,
                                 scale: float | None = None) -> Tensor:
    """softmax(Q Kᵀ · scale) V over the last two dimensions, as
    ``torch.nn.functional.scaled_dot_product_attention`` without a mask or dropout.

    Args:
        query: (..., L, E); key: (..., S, E); value: (..., S, E_v).
        scale: the factor on the scores; default 1/√E, which keeps their variance near 1
            when q and k have unit-variance entries (so the softmax does not saturate).
    """
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(f"scaled_dot_product_attention: query, key and value need (..., L, E), "
                         f"got shapes {q.shape}, {k.shape} and {v.shape}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"scaled_dot_product_attention: query {q.shape} and key {k.shape} "
                         "must share their last dimension E")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: key {k.shape} and value {v.shape} "
                         "must have as many rows S")
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else checks.positive_number(
        "scaled_dot_product_attention", "scale", scale)
    scores = matmul(q, transpose(k, -2, -1)) * s                         # (..., L, S)
    weights = softmax(scores, dim=-1)                                    # rows sum to 1
    return matmul(weights, v)                                            # (..., L, E_v)
