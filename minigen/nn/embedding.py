"""``Embedding``: a learned vector for each of a fixed set of indices (labels, codes)."""
from __future__ import annotations

from typing import Any

from minigen import backend, checks
from minigen.nn import init
from minigen.nn.module import Module
from minigen.nn.parameter import Parameter
from minigen.ops import embedding
from minigen.tensor import Tensor


class Embedding(Module):
    """y = W[indices]: integer indices of any shape (...) -> vectors (..., embedding_dim).

    ``weight`` W (num_embeddings, embedding_dim) starts ~ N(0, 1), as in PyTorch. Looking
    up row i is the same as one_hot(i) @ W, without building the one-hot matrix.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int) -> None:
        super().__init__()
        self.num_embeddings = checks.positive_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = checks.positive_int("Embedding", "embedding_dim", embedding_dim)
        self.weight = Parameter(backend.xp.empty((num_embeddings, embedding_dim),
                                                 dtype=backend.get_default_dtype()))
        init.normal_(self.weight)

    def forward(self, indices: Any) -> Tensor:
        return embedding(indices, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
