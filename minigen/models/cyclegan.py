"""CycleGAN's networks: ``ResnetGenerator``, ``PatchDiscriminator``, ``CycleGAN``.

Two generators translate between domains X and Y with no paired examples (*datos no
emparejados*): G: X -> Y and F: Y -> X. Two discriminators judge: D_Y tells real y from
G(x), D_X tells real x from F(y). The objective (``minigen.generative.cyclegan``) makes
the generators compete with the discriminators (LSGAN) and cooperate with each other
through cycle consistency, F(G(x)) ≈ x and G(F(y)) ≈ y.

The paper's notation (Zhu et al. 2017, appendix), used in the docstrings below:

* ``c7s1-k``: 7×7 Conv (stride 1, reflection padding 3) - InstanceNorm - ReLU, k filters;
* ``dk``: 3×3 Conv stride 2 (zero padding 1) - InstanceNorm - ReLU (downsampling);
* ``Rk``: a residual block, two reflection-padded 3×3 convs with k filters;
* ``uk``: 3×3 transposed Conv stride ½ - InstanceNorm - ReLU (upsampling);
* ``Ck``: 4×4 Conv stride 2 - InstanceNorm - LeakyReLU(0.2) (the discriminator).

Instance norm (*normalización por instancia*) has no learned scale and no running
statistics (as the reference code): it computes the same in training and evaluation.
Since it removes each channel's mean, the bias of the conv before it is cancelled; the
reference code keeps those biases anyway, and so do we, which gives the paper's
parameter counts: 11 378 179 (9 blocks) and 7 837 699 (6 blocks) for an RGB generator
with ngf = 64, 2 764 737 for the 3-layer PatchGAN with ndf = 64.

Sizes: ``PAPER`` for 256×256 RGB photos (a GPU); ``SMALL`` for 28×28 digits on a CPU.

>>> import minigen
>>> minigen.manual_seed(0)
>>> model = CycleGAN(channels=1, **SMALL)
>>> x = minigen.zeros(2, 1, 28, 28)
>>> model.g(x).shape, model.d_y(x).shape          # a 5x5 map of patch scores
((2, 1, 28, 28), (2, 1, 5, 5))
>>> model.d_y.receptive_field()
34
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from minigen import checks, nn
from minigen.models.gans import dcgan_init_
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor

# The paper's networks (256x256 photos: 9 blocks; 128x128: 6) and the course's small ones
# for 28x28 digits: 28 -> 14 -> 7 in the generator, a 2-layer PatchGAN (5x5 map of 34x34
# patches; the paper's 3-layer one would see the whole 28x28 image as one patch).
PAPER: dict[str, int] = {"ngf": 64, "n_blocks": 9, "ndf": 64, "n_layers": 3}
SMALL: dict[str, int] = {"ngf": 16, "n_blocks": 3, "ndf": 16, "n_layers": 2}


def _check_images(owner: str, x: Tensor, channels: int, multiple: int = 1) -> None:
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{owner}: expected images (N, {channels}, H, W), got shape {x.shape}")
    if x.shape[2] % multiple or x.shape[3] % multiple:
        raise ValueError(f"{owner}: height and width must be multiples of {multiple} (two "
                         f"stride-2 downsamplings, then two upsamplings), got shape {x.shape}")


class ResnetGenerator(nn.Module):
    """The ResNet generator: encoder, residual "transformer", decoder.

    For ngf = k and n_blocks = n (the paper: k = 64, n = 9 for 256×256 images)::

        c7s1-k, d2k, d4k, R4k × n, u2k, uk, c7s1-out, tanh
        (N, in, H, W) -> (N, k, H, W) -> (N, 2k, H/2, W/2) -> (N, 4k, H/4, W/4)
                      -> ... (N, 4k, H/4, W/4) ... -> (N, 2k, H/2, W/2) -> (N, k, H, W)
                      -> (N, out, H, W) in [-1, 1]

    Downsampling: Conv k3 s2 p1, H -> H/2. Upsampling: ConvTranspose k3 s2 p1
    output_padding 1, (H/2 - 1)·2 - 2 + 3 + 1 = H. H and W must be multiples of 4.
    The residual blocks (``nn.ResidualBlock``: y = x + F(x)) do the translation at a
    quarter of the resolution; ``stages()`` names each step in the paper's notation.

    >>> import minigen
    >>> ResnetGenerator(1, 1, ngf=8, n_blocks=2)(minigen.zeros(1, 1, 28, 28)).shape
    (1, 1, 28, 28)
    """

    def __init__(self, in_ch: int = 3, out_ch: int = 3, ngf: int = 64, n_blocks: int = 9) -> None:
        super().__init__()
        for name, value in (("in_ch", in_ch), ("out_ch", out_ch), ("ngf", ngf)):
            checks.positive_int("ResnetGenerator", name, value)
        checks.positive_int("ResnetGenerator", "n_blocks", n_blocks, minimum=0)
        self.in_ch, self.out_ch, self.ngf, self.n_blocks = in_ch, out_ch, ngf, n_blocks

        def block(conv: nn.Module, channels: int) -> nn.Sequential:   # conv - IN - ReLU
            return nn.Sequential(conv, nn.InstanceNorm2d(channels), nn.ReLU())

        k = ngf
        self.encoder = nn.Sequential(OrderedDict([
            (f"c7s1-{k}", block(nn.Conv2d(in_ch, k, 7, padding=3, padding_mode="reflect"), k)),
            (f"d{2 * k}", block(nn.Conv2d(k, 2 * k, 3, stride=2, padding=1), 2 * k)),
            (f"d{4 * k}", block(nn.Conv2d(2 * k, 4 * k, 3, stride=2, padding=1), 4 * k)),
        ]))                                                              # (N, 4k, H/4, W/4)
        self.transformer = nn.Sequential(OrderedDict(
            (f"R{4 * k}_{i + 1}", nn.ResidualBlock(4 * k, norm="instance", padding_mode="reflect"))
            for i in range(n_blocks)))                                   # (N, 4k, H/4, W/4)
        self.decoder = nn.Sequential(OrderedDict([
            (f"u{2 * k}", block(nn.ConvTranspose2d(4 * k, 2 * k, 3, stride=2, padding=1,
                                                   output_padding=1), 2 * k)),
            (f"u{k}", block(nn.ConvTranspose2d(2 * k, k, 3, stride=2, padding=1,
                                               output_padding=1), k)),
            (f"c7s1-{out_ch}", nn.Sequential(
                nn.Conv2d(k, out_ch, 7, padding=3, padding_mode="reflect"), nn.Tanh())),
        ]))                                                              # (N, out, H, W)

    def stages(self) -> list[tuple[str, nn.Module]]:
        """(the paper's name, the module) of every step, in order: c7s1-k, d2k, ..., c7s1-out."""
        return [(name.split("_")[0], m) for part in (self.encoder, self.transformer, self.decoder)
                for name, m in part.named_children()]

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        _check_images("ResnetGenerator", x, self.in_ch, multiple=4)
        return self.decoder(self.transformer(self.encoder(x)))

    def extra_repr(self) -> str:
        return f"in_ch={self.in_ch}, out_ch={self.out_ch}, ngf={self.ngf}, n_blocks={self.n_blocks}"


class PatchDiscriminator(nn.Module):
    """PatchGAN: a map of scores, one per overlapping image patch, instead of one score.

    For ndf = k and n_layers = L (the paper: C64-C128-C256-C512, k = 64, L = 3)::

        Conv4 s2 (in -> k) - LeakyReLU(0.2)                        no norm on the first
        Conv4 s2 (k·2^(l-1) -> k·2^l) - IN - LeakyReLU(0.2)        l = 1 .. L-1
        Conv4 s1 (-> k·2^L) - IN - LeakyReLU(0.2)
        Conv4 s1 (-> 1)                                            raw scores (LSGAN)

    (channel multipliers capped at 8, all paddings 1, as the reference code). Each score
    judges one patch of ``receptive_field()`` pixels square: 70 for L = 3, 34 for L = 2.
    On 256×256 input the paper's D gives a 30×30 map; on 28×28 the 2-layer one a 5×5 map.
    (Instance norm mixes statistics of the whole image into every score; the patch is
    the field of the convolutions, which is what ``norm="none"`` makes exact.)

    >>> import minigen
    >>> d = PatchDiscriminator(3, ndf=8, n_layers=3)
    >>> d(minigen.zeros(1, 3, 256, 256)).shape, d.receptive_field()
    ((1, 1, 30, 30), 70)
    """

    def __init__(self, in_ch: int = 3, ndf: int = 64, n_layers: int = 3,
                 norm: str = "instance") -> None:
        super().__init__()
        for name, value in (("in_ch", in_ch), ("ndf", ndf), ("n_layers", n_layers)):
            checks.positive_int("PatchDiscriminator", name, value)
        checks.one_of("PatchDiscriminator", "norm", norm, ("instance", "none"))
        self.in_ch, self.ndf, self.n_layers, self.norm = in_ch, ndf, n_layers, norm

        def c(c_in: int, c_out: int, stride: int, normalize: bool = True) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 4, stride=stride, padding=1)]
            if normalize and norm == "instance":
                layers.append(nn.InstanceNorm2d(c_out))
            return layers + [nn.LeakyReLU(0.2)]

        widths = [ndf * min(2 ** n, 8) for n in range(n_layers + 1)]    # 64, 128, 256, 512
        layers = c(in_ch, widths[0], 2, normalize=False)
        for n in range(1, n_layers):
            layers += c(widths[n - 1], widths[n], 2)
        layers += c(widths[n_layers - 1], widths[n_layers], 1)
        layers.append(nn.Conv2d(widths[n_layers], 1, 4, stride=1, padding=1))
        self.layers = nn.Sequential(*layers)

    def _convs(self) -> list[nn.Conv2d]:
        return [m for m in self.layers if isinstance(m, nn.Conv2d)]

    def receptive_field(self) -> int:
        """The side of the square patch each score sees, by shape algebra.

        Walking back from one output pixel, a layer with kernel k and stride s turns a
        field of r pixels into (r - 1)·s + k: 1 -> 4 -> 7 -> 16 -> 34 -> 70 for L = 3.
        """
        r = 1
        for conv in reversed(self._convs()):
            r = (r - 1) * conv.stride[0] + conv.kernel_size[0]
        return r

    def patch(self, i: int, j: int) -> tuple[int, int, int]:
        """(top, left, size) of the input patch judged by score (i, j); may reach past the
        border into the zero padding.

        With J_l the product of the strides before layer l, the score (i, j) of the last
        layer sees rows from i·J - Σ_l p_l J_l on (J = the product of all strides).
        """
        jump, start = 1, 0
        for conv in self._convs():
            start -= conv.padding[0] * jump
            jump *= conv.stride[0]
        return start + i * jump, start + j * jump, self.receptive_field()

    def output_size(self, size: int) -> int:
        """The side of the score map for a ``size``×``size`` input: Σ ⌊(n + 2p - k)/s⌋ + 1."""
        for conv in self._convs():
            size = (size + 2 * conv.padding[0] - conv.kernel_size[0]) // conv.stride[0] + 1
        return size

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        _check_images("PatchDiscriminator", x, self.in_ch)
        if self.output_size(min(x.shape[2:])) < 1:
            raise ValueError(f"PatchDiscriminator: images of shape {x.shape} are too small for "
                             f"{self.n_layers} layers (the score map would be empty)")
        return self.layers(x)                               # (N, 1, H', W') raw scores

    def extra_repr(self) -> str:
        return f"in_ch={self.in_ch}, ndf={self.ndf}, n_layers={self.n_layers}, norm={self.norm!r}"


class CycleGAN(nn.Module):
    """The four networks: ``g`` (X -> Y), ``f`` (Y -> X), ``d_x`` (judges X), ``d_y`` (judges Y).

    Built with the GAN initialization of the reference code: conv weights N(0, 0.02), biases
    0 (``dcgan_init_``). The paper's model
    for RGB photos is ``CycleGAN(3, **PAPER)``.
    """

    def __init__(self, channels: int = 3, ngf: int = 64, n_blocks: int = 9, ndf: int = 64,
                 n_layers: int = 3) -> None:
        super().__init__()
        self.channels = channels
        self.g = ResnetGenerator(channels, channels, ngf, n_blocks).apply(dcgan_init_)
        self.f = ResnetGenerator(channels, channels, ngf, n_blocks).apply(dcgan_init_)
        self.d_x = PatchDiscriminator(channels, ndf, n_layers).apply(dcgan_init_)
        self.d_y = PatchDiscriminator(channels, ndf, n_layers).apply(dcgan_init_)

    def generator_parameters(self) -> list[Tensor]:
        return [*self.g.parameters(), *self.f.parameters()]

    def discriminator_parameters(self) -> list[Tensor]:
        return [*self.d_x.parameters(), *self.d_y.parameters()]

    def forward(self, x: Any, y: Any) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(G(x), F(G(x)), F(y), G(F(y))): both translations and both round trips."""
        fake_y, fake_x = self.g(x), self.f(y)
        return fake_y, self.f(fake_y), fake_x, self.g(fake_x)


# ---------------------------------------------------------------- training
