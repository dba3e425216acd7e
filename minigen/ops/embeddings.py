"""Embedding: a lookup table of learned vectors, one row per token (or codebook entry).

``embedding(indices, weight)`` replaces every integer of ``indices`` by that row of
``weight`` (num_embeddings, dim). It is the same as multiplying one-hot vectors by the
weight matrix, without building them. The VQ-VAE's codebook is such a table.
"""
from __future__ import annotations

from typing import Any

from minigen import backend, checks
from minigen.ops.arguments import as_tensor
from minigen.ops.indexing import getitem
from minigen.tensor import Tensor


def embedding(input: Any, weight: Any) -> Tensor:  # noqa: A002 — PyTorch's name
    """Rows of ``weight`` (num_embeddings, dim) picked by the integers ``input`` (any shape),
    as ``torch.nn.functional.embedding``: the result has shape input.shape + (dim,).

    >>> import minigen
    >>> weight = minigen.tensor([[0.0, 0.5], [1.0, 1.5], [2.0, 2.5]])
    >>> embedding(minigen.tensor([[2, 0], [2, 2]]), weight).shape
    (2, 2, 2)
    >>> embedding([1], weight).tolist()
    [[1.0, 1.5]]
    """
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, dim), got shape "
                         f"{weight.shape}")
    xp = backend.array_module(weight.data)
    indices = input.data if isinstance(input, Tensor) else input
    indices = backend.to_module(indices if backend.is_array(indices) else
                                backend.np.asarray(indices), xp)
    checks.indices_in_range("embedding", "indices", indices, weight.shape[0], IndexError)
    # y[..., :] = W[i[...], :]: plain indexing, whose backward scatter-adds ∂L/∂y into the
    # rows (a row picked twice collects both gradients, a row never picked gets 0).
    return getitem(weight, indices)
