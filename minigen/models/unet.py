"""The noise predictor ε_θ(x_t, t, y) of a diffusion model: a small UNet for 1x28x28.

A UNet (Ronneberger et al. 2015) goes down in resolution and back up, and joins each
level of the way up with the same level of the way down (skip connections, *conexiones
de salto*), so the output sees both the fine detail and the whole image. DDPM's version
(Ho et al. 2020) adds the step t to every residual block: a sinusoidal embedding of t
(``minigen.generative.diffusion.timestep_embedding``) through a small MLP, added to the
block's feature maps channel by channel. For classifier-free guidance a learned
embedding of the class y is added to it; class ``num_classes`` is the "no class" ∅.

With C = ``channels`` = (c0, c1, c2), E = 4·c0 the embedding size:

    x_t (N, 1, 28, 28)
    stem conv 3x3 1->c0                      (N, c0, 28, 28)   ── s0
    ResBlock c0->c0                          (N, c0, 28, 28)   ── s1
    conv 3x3 stride 2, ResBlock c0->c1       (N, c1, 14, 14)   ── s2
    conv 3x3 stride 2, ResBlock c1->c2       (N, c2, 7, 7)
    middle: ResBlock, self-attention, ResBlock at 7x7 (attention optional)
    upsample x2, join s2, ResBlock c2+c1->c1 (N, c1, 14, 14)
    upsample x2, join s1, ResBlock c1+c0->c0 (N, c0, 28, 28)
    join s0, ResBlock c0+c0->c0, GroupNorm, SiLU, conv 3x3 c0->1   ε̂ (N, 1, 28, 28)

ResBlock(x, e) = x' + conv(SiLU(GN(conv(SiLU(GN(x))) + Linear(SiLU(e))))), with x' = x
or a 1x1 conv of it when the channels change. The default (16, 32, 64) with attention
and ten classes has 337 585 parameters (``UNet().num_parameters()``).

>>> import minigen
>>> minigen.manual_seed(0)
>>> net = UNet(channels=(8, 8, 16), num_classes=10)
>>> net(minigen.zeros(2, 1, 28, 28), [0, 999], [3, 10]).shape      # 10: no class
(2, 1, 28, 28)
"""
from __future__ import annotations

import math
from typing import Any

from minigen import backend, checks, nn
from minigen.generative.conditioning import one_hot_labels
from minigen.generative.diffusion import timestep_embedding
from minigen.models.common import IMAGE_SHAPE
from minigen.ops import cat, interpolate, reshape, scaled_dot_product_attention, transpose
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor

GROUPS = 8          # GroupNorm groups: every channel count of the UNet is a multiple of 8


class ResBlock(nn.Module):
    """x' + F(x, e): two GroupNorm-SiLU-conv layers with the embedding e (N, E) projected
    to the channels and added between them. (N, C_in, H, W) -> (N, C_out, H, W)."""

    def __init__(self, in_channels: int, out_channels: int, embedding_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(GROUPS, in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.embed = nn.Linear(embedding_dim, out_channels)
        self.norm2 = nn.GroupNorm(GROUPS, out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.act = nn.SiLU()
        self.skip = (nn.Identity() if in_channels == out_channels
                     else nn.Conv2d(in_channels, out_channels, 1))

    def forward(self, x: Tensor, e: Tensor) -> Tensor:
        h = self.conv1(self.act(self.norm1(x)))                          # (N, C_out, H, W)
        shift = self.embed(self.act(e))                                  # (N, C_out)
        h = h + reshape(shift, shift.shape + (1, 1))                     # the step, per channel
        h = self.conv2(self.act(self.norm2(h)))
        return self.skip(x) + h


class AttentionBlock(nn.Module):
    """x + proj(attention(q, k, v)) over the H·W positions: every pixel of a feature map
    looks at every other one. q, k, v are 1x1 convolutions of GN(x). (N, C, H, W) kept."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(GROUPS, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        qkv = reshape(self.qkv(self.norm(x)), (n, 3, c, h * w))          # (N, 3, C, HW)
        q, k, v = (transpose(qkv[:, i], 1, 2) for i in range(3))         # each (N, HW, C)
        out = scaled_dot_product_attention(q, k, v)                      # (N, HW, C)
        return x + self.proj(reshape(transpose(out, 1, 2), (n, c, h, w)))


class UNet(nn.Module):
    """ε_θ(x_t, t, y): noisy images (N, 1, 28, 28), steps t (N,) and, for a conditional
    net, labels y (N,) in [0, num_classes] (num_classes meaning ∅) -> ε̂ (N, 1, 28, 28)."""

    def __init__(self, channels: tuple[int, int, int] = (16, 32, 64),
                 num_classes: int | None = 10, attention: bool = True) -> None:
        super().__init__()
        c0, c1, c2 = (checks.positive_int("UNet", "channels", c) for c in channels)
        for c in (c0, c1, c2):
            if c % GROUPS:
                raise ValueError(f"UNet: every channel count must be a multiple of {GROUPS} "
                                 f"(GroupNorm's groups), got channels={tuple(channels)}")
        self.channels, self.attention = (c0, c1, c2), bool(attention)
        self.num_classes = (None if num_classes is None
                            else checks.positive_int("UNet", "num_classes", num_classes))
        e = 4 * c0
        self.time_mlp = nn.Sequential(nn.Linear(c0, e), nn.SiLU(), nn.Linear(e, e))
        self.class_embedding = (None if num_classes is None
                                else nn.Embedding(num_classes + 1, e))   # + 1: the ∅ class
        self.stem = nn.Conv2d(IMAGE_SHAPE[0], c0, 3, padding=1)
        self.down0 = ResBlock(c0, c0, e)
        self.pool1, self.down1 = nn.Conv2d(c0, c0, 3, stride=2, padding=1), ResBlock(c0, c1, e)
        self.pool2, self.down2 = nn.Conv2d(c1, c1, 3, stride=2, padding=1), ResBlock(c1, c2, e)
        self.mid1 = ResBlock(c2, c2, e)
        self.mid_attention = AttentionBlock(c2) if attention else nn.Identity()
        self.mid2 = ResBlock(c2, c2, e)
        self.up2 = ResBlock(c2 + c1, c1, e)
        self.up1 = ResBlock(c1 + c0, c0, e)
        self.up0 = ResBlock(c0 + c0, c0, e)
        self.out = nn.Sequential(nn.GroupNorm(GROUPS, c0), nn.SiLU(),
                                 nn.Conv2d(c0, IMAGE_SHAPE[0], 3, padding=1))

    def embedding(self, t: Any, labels: Any, n: int) -> Tensor:
        """e = MLP(sinusoidal(t)) (+ the class embedding of y): (N, E)."""
        xp = backend.array_module(self.stem.weight.data)
        steps = Tensor(backend.to_module(timestep_embedding(t, self.channels[0]).data, xp))
        e = self.time_mlp(steps)                                         # (N, E)
        if self.class_embedding is None:
            if labels is not None:
                raise ValueError("UNet: labels given to an unconditional net (num_classes=None)")
            return e
        one_hot_labels("UNet", labels, n, self.num_classes + 1, xp)      # checked: [0, K]
        labels = labels.data if isinstance(labels, Tensor) else labels
        return e + self.class_embedding(backend.to_module(backend.np.asarray(labels), xp))

    def forward(self, x: Any, t: Any, labels: Any = None) -> Tensor:
        x = as_tensor(x)
        if x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE:
            raise ValueError(f"UNet: expected images (N, 1, 28, 28), got shape {x.shape}")
        if len(t) != x.shape[0]:
            raise ValueError(f"UNet: t must have one step per image ({x.shape[0]},), got "
                             f"{len(t)}")
        e = self.embedding(t, labels, x.shape[0])
        s0 = self.stem(x)                                                # (N, c0, 28, 28)
        s1 = self.down0(s0, e)                                           # (N, c0, 28, 28)
        s2 = self.down1(self.pool1(s1), e)                               # (N, c1, 14, 14)
        h = self.down2(self.pool2(s2), e)                                # (N, c2, 7, 7)
        h = self.mid2(self.mid_attention(self.mid1(h, e)), e)            # (N, c2, 7, 7)
        h = self.up2(cat([interpolate(h, scale_factor=2), s2], dim=1), e)   # (N, c1, 14, 14)
        h = self.up1(cat([interpolate(h, scale_factor=2), s1], dim=1), e)   # (N, c0, 28, 28)
        h = self.up0(cat([h, s0], dim=1), e)                             # (N, c0, 28, 28)
        return self.out(h)                                               # ε̂ (N, 1, 28, 28)

    def num_parameters(self) -> int:
        return sum(math.prod(p.shape) for p in self.parameters())

    def extra_repr(self) -> str:
        return (f"channels={self.channels}, num_classes={self.num_classes}, "
                f"attention={self.attention}")
