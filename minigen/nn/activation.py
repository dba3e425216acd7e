"""Activation layers: module forms of the elementwise functions in ``minigen.functional``.

A module form can go in a ``Sequential``; it has no parameters.

>>> import minigen
>>> from minigen import nn
>>> nn.LeakyReLU(0.5)(minigen.tensor([-1.0, 2.0])).tolist()
[-0.5, 2.0]
"""
from __future__ import annotations

from typing import Any

from minigen import functional as F
from minigen.nn.module import Module
from minigen.tensor import Tensor


class ReLU(Module):
    """y = max(x, 0)."""

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    """y = x for x > 0, ``negative_slope``·x otherwise (GAN discriminators use 0.2)."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    """y = tanh x, in (-1, 1): the output layer of image generators scaled to [-1, 1]."""

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class Sigmoid(Module):
    """y = 1 / (1 + e⁻ˣ), in (0, 1)."""

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)
