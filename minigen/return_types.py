"""The named tuples that reductions along one ``dim`` return, as ``torch.return_types``.

>>> import minigen
>>> values, indices = minigen.tensor([[1.0, 5.0], [7.0, 2.0]]).max(dim=1)
>>> values.tolist(), indices.tolist()
([5.0, 7.0], [1, 0])
"""
from __future__ import annotations

from typing import Any, NamedTuple


class max(NamedTuple):  # noqa: N801 — PyTorch's name: torch.return_types.max
    """The largest values along a dim and where they are (the first on ties)."""

    values: Any
    indices: Any


class min(NamedTuple):  # noqa: N801
    """The smallest values along a dim and where they are (the first on ties)."""

    values: Any
    indices: Any
