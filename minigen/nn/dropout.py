"""``Dropout``: zero random activations while training (inverted dropout)."""
from __future__ import annotations

from typing import Any

from minigen.nn.module import Module
from minigen.ops import dropout
from minigen.tensor import Tensor


class Dropout(Module):
    """Each element is zeroed with probability p and the rest scaled by 1/(1 - p), so the
    expected activation is unchanged; the identity after ``eval()``. The masks come from
    minigen's seeded generator (``minigen.manual_seed``)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def forward(self, x: Any) -> Tensor:
        return dropout(x, self.p, training=self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
