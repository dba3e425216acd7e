"""Layers that only reshape: ``Flatten`` (images to vectors) and ``Unflatten`` (back).

>>> import minigen
>>> from minigen import nn
>>> x = minigen.zeros(8, 1, 28, 28)
>>> nn.Flatten()(x).shape
(8, 784)
>>> nn.Unflatten(1, (1, 28, 28))(nn.Flatten()(x)).shape
(8, 1, 28, 28)
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from minigen.nn.module import Module
from minigen.ops import reshape
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor


def _name(layer: Module) -> str:
    """How an error names the layer: ``Flatten(start_dim=1, end_dim=-1)``."""
    return f"{type(layer).__name__}({layer.extra_repr()})"


def _dim(layer: Module, name: str, dim: int, x: Tensor) -> int:
    """``dim`` of ``x`` as a non-negative axis, or a ValueError naming the layer."""
    if not -x.ndim <= dim < x.ndim:
        raise ValueError(f"{_name(layer)}: {name}={dim} is out of range for an input of shape "
                         f"{x.shape} ({x.ndim} dims)")
    return dim % x.ndim


class Flatten(Module):
    """Merge the axes ``start_dim`` … ``end_dim`` into one.

    Shapes: (N, C, H, W) -> (N, C·H·W) with the defaults (start_dim=1 keeps the batch axis).
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        start = _dim(self, "start_dim", self.start_dim, x)
        end = _dim(self, "end_dim", self.end_dim, x)
        if start > end:
            raise ValueError(f"{_name(self)}: start_dim comes after end_dim for an input of shape "
                             f"{x.shape}")
        merged = math.prod(x.shape[start:end + 1])
        return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into the axes ``unflattened_size`` (one entry may be -1).

    Shapes: Unflatten(1, (C, H, W)) maps (N, C·H·W) -> (N, C, H, W).
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        sizes = tuple(unflattened_size)
        if (not sizes or sizes.count(-1) > 1
                or any(not isinstance(s, int) or (s < 1 and s != -1) for s in sizes)):
            raise ValueError(f"Unflatten: unflattened_size must be positive integers (at most "
                             f"one -1), got {unflattened_size!r}")
        self.dim = dim
        self.unflattened_size = sizes

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        dim = _dim(self, "dim", self.dim, x)
        known = math.prod(s for s in self.unflattened_size if s != -1)
        length = x.shape[dim]
        if (length != known) if -1 not in self.unflattened_size else (length % known != 0):
            raise ValueError(f"{_name(self)}: axis {dim} of the input shape {x.shape} has length "
                             f"{length}, which cannot be split into {self.unflattened_size}")
        sizes = tuple(length // known if s == -1 else s for s in self.unflattened_size)
        return reshape(x, x.shape[:dim] + sizes + x.shape[dim + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
