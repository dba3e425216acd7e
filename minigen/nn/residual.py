"""``ResidualBlock``: y = x + F(x), the building block of CycleGAN's ResNet generator."""
from __future__ import annotations

from typing import Any

from minigen import checks
from minigen.nn.activation import ReLU
from minigen.nn.containers import Sequential
from minigen.nn.conv import Conv2d
from minigen.nn.linear import Identity
from minigen.nn.module import Module
from minigen.nn.normalization import BatchNorm2d, InstanceNorm2d
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor

_NORMS = {"instance": InstanceNorm2d, "batch": BatchNorm2d, "none": None}


class ResidualBlock(Module):
    """y = x + F(x) with F = conv3x3 - norm - ReLU - conv3x3 - norm (channels kept).

    The skip connection lets the block start as (almost) the identity and learn only a
    correction, which keeps deep generators trainable. Each 3×3 convolution pads by one
    pixel with ``padding_mode`` ("reflect" in CycleGAN, "zeros" or "replicate" too).
    With a normalization the convolutions have a bias only for instance norm (batch
    norm's β makes it redundant), as in the CycleGAN reference code.
    Shapes: (N, channels, H, W) -> (N, channels, H, W).
    """

    def __init__(self, channels: int, norm: str = "instance", padding_mode: str = "reflect") -> None:
        super().__init__()
        checks.one_of("ResidualBlock", "norm", norm, tuple(_NORMS))
        norm_layer = _NORMS[norm]
        bias = norm != "batch"

        def conv() -> Conv2d:
            return Conv2d(channels, channels, 3, padding=1, bias=bias, padding_mode=padding_mode)

        def normalize() -> Module:
            return norm_layer(channels) if norm_layer is not None else Identity()

        self.channels = channels
        self.block = Sequential(conv(), normalize(), ReLU(), conv(), normalize())

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        return x + self.block(x)

    def extra_repr(self) -> str:
        return f"channels={self.channels}"
