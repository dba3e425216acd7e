"""RealNVP for 1 x 28 x 28 digits (Dinh et al. 2017): a multi-scale stack of affine couplings.

The layers, in order (shapes of one image)::

    LogitTransform                          (1, 28, 28)   pixels in [0, 1] -> the real line
    Squeeze                                 (4, 14, 14)   each 2x2 block into 4 channels
    3 x [checkerboard coupling, ActNorm]    (4, 14, 14)   parities 0, 1, 0
    3 x [channel coupling, ActNorm]         (4, 14, 14)
    Squeeze                                 (16, 7, 7)
    3 x [channel coupling, ActNorm]         (16, 7, 7)

(The paper's first couplings work at full resolution; squeezing first does the same
checkerboard on 2x2 blocks at a quarter of the cost, which is what a CPU budget allows.)

Each coupling's s and t come from a small convolutional net on the kept half, x_a: 3x3 conv
to ``hidden`` channels, ReLU, 3x3 conv, ReLU, 3x3 conv to 2C channels whose weights start at
zero, so every coupling starts as the identity (the flow starts as the logit transform and
the ActNorms). The mask (*máscara*) is fed to the net as one more channel, so it knows which
entries it sees. z keeps the image's 784 numbers: p_Z = N(0, I) on all of them.

>>> import minigen
>>> minigen.manual_seed(0)
>>> flow = RealNVP(hidden=8)
>>> x = minigen.rand(2, 1, 28, 28) * 0.9 + 0.05
>>> z, log_det = flow(x)
>>> z.shape, log_det.shape
((2, 16, 7, 7), (2,))
>>> bool(abs(flow.inverse(z) - x).max().item() < 1e-4)
True
"""
from __future__ import annotations

from typing import Any

from minigen import nn
from minigen.generative.flows import (ActNorm, AffineCoupling, Flow, LogitTransform, Squeeze,
                                      checkerboard_mask, channel_mask)
from minigen.ops import broadcast_to, cat
from minigen.tensor import Tensor


class CouplingNet(nn.Module):
    """(s, t) for a coupling: (N, C, H, W) -> (N, 2C, H, W), from x_a and the mask."""

    def __init__(self, channels: int, hidden: int, mask: Tensor) -> None:
        super().__init__()
        self.register_buffer("mask", mask.detach())
        self.body = nn.Sequential(
            nn.Conv2d(channels + 1, hidden, 3, padding=1), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU())
        self.out = nn.Conv2d(hidden, 2 * channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)       # the coupling starts as the identity
        nn.init.zeros_(self.out.bias)

    def forward(self, kept: Any) -> Tensor:
        n, _, h, w = kept.shape
        where = broadcast_to(self.mask[:, :1], (n, 1, h, w))     # (N, 1, H, W): the mask
        return self.out(self.body(cat([kept, where], dim=1)))


def _coupling(channels: int, size: int, hidden: int, kind: str, parity: int) -> list[nn.Module]:
    mask = (checkerboard_mask(size, size, parity) if kind == "checkerboard"  # (1, 1, H, W)
            else channel_mask(channels, parity))                              # (1, C, 1, 1)
    return [AffineCoupling(CouplingNet(channels, hidden, mask), mask), ActNorm(channels)]


class RealNVP(Flow):
    """The digits' RealNVP (see the module): ``hidden`` channels in each coupling's net,
    ``alpha`` of the logit transform. Nine couplings; 148,608 parameters at hidden = 32."""

    def __init__(self, hidden: int = 32, alpha: float = 0.05) -> None:
        layers: list[nn.Module] = [LogitTransform(alpha), Squeeze()]
        for parity in (0, 1, 0):
            layers += _coupling(4, 14, hidden, "checkerboard", parity)
        for parity in (0, 1, 0):
            layers += _coupling(4, 14, hidden, "channel", parity)
        layers.append(Squeeze())
        for parity in (0, 1, 0):
            layers += _coupling(16, 7, hidden, "channel", parity)
        super().__init__(*layers)
        self.hidden, self.alpha = hidden, alpha
