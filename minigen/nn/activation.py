"""Activation layers: module forms of the elementwise functions in ``minigen.functional``.

A module form can go in a ``Sequential``; it has no parameters.

``inplace=`` is accepted where PyTorch has it (``nn.ReLU(True)``,
``nn.LeakyReLU(0.2, inplace=True)``), but minigen always computes out of place: it never
overwrites an array, which is what keeps every saved value, and so the graph, correct. The
flag only saves memory in PyTorch; here it changes nothing.

>>> import minigen
>>> from minigen import nn
>>> nn.LeakyReLU(0.5)(minigen.tensor([-1.0, 2.0])).tolist()
[-0.5, 2.0]
"""
from __future__ import annotations

from typing import Any

from minigen import checks
from minigen import functional as F
from minigen.nn.module import Module
from minigen.tensor import Tensor


class _Inplace(Module):
    """An activation with PyTorch's ``inplace`` flag, kept but unused (see the module doc)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """y = max(x, 0). ``inplace`` is accepted, computed out of place."""

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class LeakyReLU(_Inplace):
    """y = x for x > 0, ``negative_slope``·x otherwise (GAN discriminators use 0.2).
    ``inplace`` is accepted, computed out of place."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return ", ".join([f"negative_slope={self.negative_slope}"]
                         + (["inplace=True"] if self.inplace else []))


class SiLU(_Inplace):
    """y = x·σ(x) (swish). ``inplace`` is accepted, computed out of place."""

    def forward(self, x: Any) -> Tensor:
        return F.silu(x)


class GELU(Module):
    """y = x·Φ(x); ``approximate="none"`` (exact, with erf) or ``"tanh"``, as ``F.gelu``."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = checks.one_of("GELU", "approximate", approximate, ("none", "tanh"))

    def forward(self, x: Any) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Tanh(Module):
    """y = tanh x, in (-1, 1): the output layer of image generators scaled to [-1, 1]."""

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class Sigmoid(Module):
    """y = 1 / (1 + e⁻ˣ), in (0, 1)."""

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)
