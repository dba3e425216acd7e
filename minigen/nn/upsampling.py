"""``Upsample``: enlarge feature maps by repeating pixels (nearest neighbour)."""
from __future__ import annotations

from typing import Any

from minigen.nn.module import Module
from minigen.ops import interpolate
from minigen.tensor import Tensor


class Upsample(Module):
    """(N, C, H, W) -> (N, C, H·s, W·s), each pixel copied into an s×s block.

    Upsampling followed by a convolution is the usual alternative to a transposed
    convolution; it avoids checkerboard artefacts.
    """

    def __init__(self, scale_factor: Any = 2, mode: str = "nearest") -> None:
        super().__init__()
        self.scale_factor, self.mode = scale_factor, mode

    def forward(self, x: Any) -> Tensor:
        return interpolate(x, scale_factor=self.scale_factor, mode=self.mode)

    def extra_repr(self) -> str:
        return f"scale_factor={self.scale_factor}, mode={self.mode!r}"
