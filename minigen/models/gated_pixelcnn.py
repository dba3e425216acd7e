"""The gated PixelCNN for binarized digits: an exact likelihood, pixel by pixel.

An autoregressive model (*modelo autorregresivo*) of binary images x (N, 1, 28, 28):

    p(x) = Π_i p(x_i | x_1, ..., x_{i-1}),   i = 1 ... 784 in raster order,

each factor a Bernoulli whose logit the network computes from the pixels before i. The
negative log-likelihood is then exact, Σ_i BCE(logit_i, x_i) nats per image: no bound,
as a VAE's ELBO is.

Layers (van den Oord et al. 2016): two stacks, so that no pixel before i is missed
(``minigen.nn.masked_conv`` draws the masks and the blind spot of the plain stack):

    vertical:   v ← gate(conv_V(v))                      sees every row up to i's
    horizontal: h ← h + 1x1(gate(conv_H(h) + 1x1(shift_down(conv_V(v)))))
                (the first layer: mask "HA" and no residual; later ones "HB")
    gate(a) = tanh(a_f) ⊙ σ(a_g)                         (the two halves of a's channels)
    logits = 1x1(ReLU(1x1(ReLU(h))))                     (N, 1, 28, 28)

Shifting the vertical features down one row makes row i's horizontal stack see rows < i
only, and its own masks see the centre row's left part: together every pixel before i.

Sampling draws the 784 pixels one after another, one forward pass each. A pass may run on
the whole image, or (``window=True``, the default) on the only part pixel (r, c)'s logit
can see: L layers of k x k kernels reach L·(k // 2) + 1 rows up and L·(k // 2) columns to
either side (``reach``). Borders are zero-padded in both cases, so the logits, and with
the same seed the samples, are the same; the window is about 10x fewer multiplications.

>>> import minigen
>>> minigen.manual_seed(0)
>>> net = GatedPixelCNN(channels=8, layers=2)
>>> net(minigen.zeros(2, 1, 28, 28)).shape
(2, 1, 28, 28)
"""
from __future__ import annotations

from typing import Any

from minigen import backend, checks, nn
from minigen.functional import binary_cross_entropy_with_logits
from minigen.grad_mode import no_grad
from minigen.models.common import IMAGE_SHAPE
from minigen.nn.masked_conv import MaskedConv2d
from minigen.ops import pad, sigmoid, tanh
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor


def gate(a: Tensor) -> Tensor:
    """tanh(a_f) ⊙ σ(a_g) with a = [a_f, a_g] along the channels: (N, 2C, ...) -> (N, C, ...)."""
    c = a.shape[1] // 2
    return tanh(a[:, :c]) * sigmoid(a[:, c:])


def shift_down(x: Tensor) -> Tensor:
    """Row r of the result is row r - 1 of x (row 0 zeros): (N, C, H, W) kept."""
    return pad(x, (0, 0, 1, 0))[:, :, :-1]


class GatedLayer(nn.Module):
    """One layer of both stacks: (v, h) (N, C_in, H, W) each -> (N, C, H, W) each."""

    def __init__(self, in_channels: int, channels: int, kernel_size: int, first: bool) -> None:
        super().__init__()
        self.first = first
        self.v_conv = MaskedConv2d(in_channels, 2 * channels, kernel_size, mask_type="V")
        self.v_to_h = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.h_conv = MaskedConv2d(in_channels, 2 * channels, kernel_size,
                                   mask_type="HA" if first else "HB")
        self.h_out = nn.Conv2d(channels, channels, 1)

    def forward(self, v: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        v_features = self.v_conv(v)                                  # rows <= r
        h_features = self.h_conv(h) + self.v_to_h(shift_down(v_features))   # rows < r, left
        h_new = self.h_out(gate(h_features))
        return gate(v_features), h_new if self.first else h + h_new


class GatedPixelCNN(nn.Module):
    """Bernoulli logits (N, 1, 28, 28) of binary images: entry [n, 0, r, c] is the logit of
    pixel (r, c) given the pixels before it in raster order.

    Args:
        channels: C, the width of both stacks.
        layers: how many ``GatedLayer``s (the first reads the image).
        kernel_size: of the masked convolutions (odd).
    """

    def __init__(self, channels: int = 32, layers: int = 6, kernel_size: int = 3) -> None:
        super().__init__()
        checks.positive_int("GatedPixelCNN", "channels", channels)
        checks.positive_int("GatedPixelCNN", "layers", layers)
        # (rows up, columns to either side) a logit can see: each layer's k x k kernel
        # reaches k // 2 further, and the shift down of the vertical stack one more row.
        self.reach = (layers * (kernel_size // 2) + 1, layers * (kernel_size // 2))
        self.layers = nn.ModuleList(
            [GatedLayer(IMAGE_SHAPE[0] if k == 0 else channels, channels, kernel_size, k == 0)
             for k in range(layers)])
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
                                  nn.Conv2d(channels, IMAGE_SHAPE[0], 1))

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE:
            raise ValueError(f"GatedPixelCNN: expected images (N, 1, 28, 28), got {x.shape}")
        return self.logits(x)

    def logits(self, x: Tensor) -> Tensor:
        """The logits of images or crops of them (N, 1, H, W) -> (N, 1, H, W): at a crop's
        edges the convolutions see zeros, as at the image's."""
        v = h = x
        for layer in self.layers:
            v, h = layer(v, h)
        return self.head(h)                                          # (N, 1, 28, 28)

    def nll(self, x: Any) -> Tensor:
        """-log p(x) = Σ_i BCE(logit_i, x_i), in nats per image (the mean over N)."""
        x = as_tensor(x)
        return binary_cross_entropy_with_logits(self(x), x, reduction="sum") * (1.0 / x.shape[0])

    def sample(self, n: int, progress: bool = False, window: bool = True) -> Tensor:
        """n binary images drawn pixel by pixel: x_i ~ Bernoulli(σ(logit_i(x_<i))), 784
        forward passes, with minigen's seeded generator. ``window``: each pass runs on the
        part of the image the pixel's logit can see (``reach``), not the whole image; the
        same samples, faster."""
        checks.positive_int("GatedPixelCNN.sample", "n", n)
        xp = backend.array_module(self.head[1].weight.data)
        rng = backend.rng(xp)
        _, height, width = IMAGE_SHAPE
        x = xp.zeros((n,) + IMAGE_SHAPE, dtype=self.head[1].weight.dtype)
        positions = [(r, c) for r in range(height) for c in range(width)]
        if progress:
            from tqdm.auto import tqdm  # noqa: PLC0415
            positions = tqdm(positions, desc="pixels", unit="pixel", leave=False)
        up, side = self.reach
        with no_grad():
            for r, c in positions:
                top, left = (max(r - up, 0), max(c - side, 0)) if window else (0, 0)
                seen = x[:, :, top:r + 1, left:c + side + 1] if window else x
                logit = self.logits(Tensor(seen))[:, 0, r - top, c - left]      # (n,)
                p = sigmoid(logit).data
                x[:, 0, r, c] = (rng.random(n) < p).astype(x.dtype)
        return Tensor(x)
