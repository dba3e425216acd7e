"""A small PixelCNN: the learned prior p(k) over the VQ-VAE's 7x7 code maps.

The VQ-VAE trains as if every code map were equally likely (a uniform prior), so codes
drawn at random decode to noise. The PixelCNN learns the real distribution of the code
maps of the training digits, one position at a time in raster order (*autorregresivo*):

    p(k) = Π_i p(k_i | k_1, ..., k_{i-1}),   i = 1 ... 49

    codes (N, 7, 7) --embedding--> (N, C, 7, 7)
        --MaskedConv 7x7 type A + ReLU--> (N, C, 7, 7)         sees positions < i
        --residual blocks, 3x3 type B-->  (N, C, 7, 7)         still only < i
        --ReLU, 1x1 conv, ReLU, 1x1 conv--> logits (N, K, 7, 7)

Training minimizes the cross-entropy of the true code at every position (all 49 at once:
the masks make each position's logits depend only on the codes before it). ``sample``
draws the 49 codes one after another, each from the softmax of its logits.

>>> import minigen
>>> minigen.manual_seed(0)
>>> prior = PixelCNN(num_codes=16, channels=8, num_blocks=1)
>>> prior(minigen.zeros(2, 7, 7, dtype="int64")).shape
(2, 16, 7, 7)
>>> prior.sample(3).shape
(3, 7, 7)
"""
from __future__ import annotations

from typing import Any

from minigen import backend, checks, nn
from minigen.functional import cross_entropy
from minigen.grad_mode import no_grad
from minigen.models.vqvae import check_code_map
from minigen.nn.masked_conv import MaskedConv2d
from minigen.ops import permute, reshape, softmax
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor


class MaskedResidualBlock(nn.Module):
    """y = x + F(x), F = ReLU, 1x1 C->C/2, ReLU, 3x3 type-B masked C/2->C/2, ReLU, 1x1 C/2->C.

    The 1x1 convolutions mix channels of one position only and the masked 3x3 looks at
    positions <= i, so the block keeps the PixelCNN's causality. Shapes: (N, C, H, W) kept.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        half = max(channels // 2, 1)
        self.block = nn.Sequential(
            nn.ReLU(), nn.Conv2d(channels, half, 1),
            nn.ReLU(), MaskedConv2d(half, half, 3, mask_type="B"),
            nn.ReLU(), nn.Conv2d(half, channels, 1),
        )

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        return x + self.block(x)


class PixelCNN(nn.Module):
    """An autoregressive prior over code maps (N, H, W) of integers in [0, K).

    Args:
        num_codes: K, the codebook size of the VQ-VAE.
        channels: C, the width of the network.
        num_blocks: how many ``MaskedResidualBlock``s follow the type-A layer.
        height, width: the code map's size (7 x 7 for ``VQVAE``).
    """

    def __init__(self, num_codes: int = 128, channels: int = 64, num_blocks: int = 4,
                 height: int = 7, width: int = 7) -> None:
        super().__init__()
        self.num_codes = checks.positive_int("PixelCNN", "num_codes", num_codes, minimum=2)
        checks.positive_int("PixelCNN", "channels", channels)
        checks.positive_int("PixelCNN", "num_blocks", num_blocks, minimum=0)
        self.height = checks.positive_int("PixelCNN", "height", height)
        self.width = checks.positive_int("PixelCNN", "width", width)
        self.embedding = nn.Embedding(num_codes, channels)             # code k -> (C,)
        self.layers = nn.Sequential(
            MaskedConv2d(channels, channels, 7, mask_type="A"), nn.ReLU(),
            *[MaskedResidualBlock(channels) for _ in range(num_blocks)],
            nn.ReLU(), nn.Conv2d(channels, channels, 1),
            nn.ReLU(), nn.Conv2d(channels, num_codes, 1),
        )

    def _check_codes(self, owner: str, codes: Any) -> Any:
        return check_code_map(f"PixelCNN.{owner}", codes, self.num_codes,
                              (self.height, self.width))

    def forward(self, codes: Any) -> Tensor:
        """Logits (N, K, H, W): entry [n, :, r, c] scores the code at (r, c) given the codes
        before it in raster order."""
        codes = self._check_codes("forward", codes)
        h = permute(self.embedding(codes), (0, 3, 1, 2))             # (N, C, H, W)
        return self.layers(h)                                           # (N, K, H, W)

    def loss(self, codes: Any) -> Tensor:
        """The mean cross-entropy -log p(k_i | k_<i) over all positions (nats per code)."""
        codes = self._check_codes("loss", codes)
        logits = self(codes)                                            # (N, K, H, W)
        flat = reshape(permute(logits, (0, 2, 3, 1)), (-1, self.num_codes))   # (N·H·W, K)
        return cross_entropy(flat, codes.reshape(-1))

    def sample(self, n: int, temperature: float = 1.0) -> Tensor:
        """n code maps (n, H, W) drawn position by position: k_i ~ softmax(logits_i(k_<i) / T).

        T = 1 samples the learned distribution; T < 1 sharpens it (likelier, less varied
        maps). H·W forward passes; minigen's seeded generator draws the codes.
        """
        checks.positive_int("PixelCNN.sample", "n", n)
        checks.positive_number("PixelCNN.sample", "temperature", temperature)
        xp = backend.array_module(self.embedding.weight.data)
        rng = backend.rng(xp)
        codes = xp.zeros((n, self.height, self.width), dtype="int64")
        was_training = self.training
        self.eval()
        with no_grad():
            for r in range(self.height):
                for c in range(self.width):
                    p = softmax(self(codes)[:, :, r, c] * (1.0 / temperature), axis=1).data
                    cumulative = p.cumsum(axis=1)                         # (n, K)
                    u = rng.random((n, 1)) * cumulative[:, -1:]          # inverse-CDF draw
                    codes[:, r, c] = xp.minimum((cumulative < u).sum(axis=1),
                                                self.num_codes - 1)
        self.train(was_training)
        return Tensor(codes)

    def extra_repr(self) -> str:
        return f"num_codes={self.num_codes}, map={self.height}x{self.width}"
