"""Pooling layers: ``MaxPool2d`` and ``AvgPool2d``."""
from __future__ import annotations

from typing import Any

from minigen.nn.module import Module
from minigen.ops import avg_pool2d, max_pool2d
from minigen.tensor import Tensor


class MaxPool2d(Module):
    """The largest value of each k×k window: (N, C, H, W) -> (N, C, H_out, W_out).
    ``stride`` defaults to ``kernel_size`` (windows side by side, as PyTorch)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Any) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}"


class AvgPool2d(Module):
    """The mean of each k×k window (padded zeros count, PyTorch's default)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Any) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}"
