"""``EnergyNet``: a small CNN that gives every digit image one energy E_θ(x).

An energy-based model (*modelo basado en energía*) defines p_θ(x) ∝ exp(-E_θ(x)); the
network only has to output one number per image, low for digit-like images. Smooth
activations (SiLU, x·σ(x)) matter: Langevin sampling follows ∇_x E, and a ReLU network's
input gradient is piecewise constant (Du & Mordatch 2019 use smooth ones too).

Architecture (x: (N, 1, 28, 28), pixels in [-1, 1]):

    Conv 1->C    k5 s2 p4 + SiLU     -> (N, C, 16, 16)
    Conv C->2C   k3 s2 p1 + SiLU     -> (N, 2C, 8, 8)
    Conv 2C->4C  k3 s2 p1 + SiLU     -> (N, 4C, 4, 4)
    Conv 4C->4C  k3 s2 p1 + SiLU     -> (N, 4C, 2, 2)
    Flatten, Linear 16C->4C + SiLU   -> (N, 4C)
    Linear 4C->1                     -> (N,)  the energies

With C = 16: 76 993 parameters.

>>> import minigen
>>> minigen.manual_seed(0)
>>> EnergyNet(channels=4)(minigen.zeros(3, 1, 28, 28)).shape
(3,)
"""
from __future__ import annotations

from typing import Any

from minigen import checks, nn
from minigen.models.common import IMAGE_SHAPE
from minigen.ops import reshape
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor


class EnergyNet(nn.Module):
    """E_θ(x): images (N, 1, 28, 28) in [-1, 1] -> energies (N,).

    Args:
        channels: C, the width of the first convolution (the others are 2C and 4C).
    """

    def __init__(self, channels: int = 16) -> None:
        super().__init__()
        c = checks.positive_int("EnergyNet", "channels", channels)
        self.net = nn.Sequential(
            nn.Conv2d(1, c, 5, stride=2, padding=4), nn.SiLU(),             # (N, C, 16, 16)
            nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), nn.SiLU(),         # (N, 2C, 8, 8)
            nn.Conv2d(2 * c, 4 * c, 3, stride=2, padding=1), nn.SiLU(),     # (N, 4C, 4, 4)
            nn.Conv2d(4 * c, 4 * c, 3, stride=2, padding=1), nn.SiLU(),     # (N, 4C, 2, 2)
            nn.Flatten(), nn.Linear(16 * c, 4 * c), nn.SiLU(),
            nn.Linear(4 * c, 1),
        )

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE:
            raise ValueError(f"EnergyNet: expected images (N, 1, 28, 28), got {x.shape}")
        return reshape(self.net(x), (-1,))                                  # (N,)
