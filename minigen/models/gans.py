"""GANs for 1x28x28 digits: the two players (*los dos jugadores*) of the course.

A generator (*generador*) G maps noise z ~ N(0, I) to an image; a discriminator
(*discriminador*) D maps an image to one logit s, with D(x) = σ(s) the probability that
x is real. Images live in [-1, 1] (G ends in tanh); ``sample`` and ``generate`` map them
back to [0, 1] for the metrics and the pictures: x = (G(z) + 1) / 2.

| model                          | input                              | output                   |
|--------------------------------|------------------------------------|--------------------------|
| ``MLPGenerator``               | z (N, Z)                           | images (N, 1, 28, 28)    |
| ``MLPDiscriminator``           | images (N, 1, 28, 28)              | logits (N,)              |
| ``Generator`` (DCGAN)          | z (N, Z)                           | images (N, 1, 28, 28)    |
| ``Discriminator`` (DCGAN)      | images (N, 1, 28, 28)              | logits (N,)              |
| ``ConditionalGenerator``       | z (N, Z), labels (N,)              | images (N, 1, 28, 28)    |
| ``ConditionalDiscriminator``   | images (N, 1, 28, 28), labels (N,) | logits (N,)              |
| ``Critic`` (WGAN-GP)           | images (N, 1, 28, 28)              | scores (N,), any real    |

The DCGAN bodies (Radford et al., 2015), with C = ``channels`` (64 by default)::

    Generator                                   Discriminator
    z (N, Z)                                    x (N, 1, 28, 28)
    Linear Z->2C·7·7, BN, ReLU  (N, 2C, 7, 7)   Conv 1->C k4 s2 p1, LeakyReLU(0.2) (N, C, 14, 14)
    ConvT 2C->C k4 s2 p1, BN, ReLU              Conv C->2C k4 s2 p1, BN, LeakyReLU  (N, 2C, 7, 7)
                               (N, C, 14, 14)   Flatten, Linear 2C·7·7->1           (N,) logits
    ConvT C->1 k4 s2 p1, tanh  (N, 1, 28, 28)

Batch norm everywhere except at the generator's output and the discriminator's input;
weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02), biases 0 (``dcgan_init_``). A
4x4 kernel with stride 2 and padding 1 exactly doubles (ConvT) or halves (Conv) the side:
(7 - 1)·2 - 2 + 4 = 14.

The conditional GAN (CGAN, Mirza & Osindero 2014) gives both players the label y
(``minigen.generative.conditioning``): the generator reads [z, onehot(y)] (N, Z + 10);
the discriminator reads the image with ten constant planes joined to it, plane k all
ones when y = k (N, 1 + 10, 28, 28).

The WGAN-GP ``Critic`` (*crítico*) is the DCGAN discriminator without batch norm: the
gradient penalty constrains ‖∇_x f(x)‖ per image, and batch norm would mix the images of
a batch.

>>> import minigen
>>> minigen.manual_seed(0)
>>> G, D = Generator(latent_dim=8, channels=4), Discriminator(channels=4)
>>> z = G.noise(5)
>>> z.shape, G(z).shape, D(G(z)).shape
((5, 8), (5, 1, 28, 28), (5,))
>>> images = G.sample(3)                 # in [0, 1], for metrics and pictures
>>> images.shape, bool(images.numpy().min() >= 0)
((3, 1, 28, 28), True)
"""
from __future__ import annotations

from typing import Any

from minigen import checks, nn
from minigen.grad_mode import no_grad
from minigen.generative.conditioning import with_label, with_label_planes
from minigen.models.common import IMAGE_SHAPE, NUM_CLASSES, array_module_of, standard_normal
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor

LATENT_DIM = 100        # the DCGAN paper's z size
CHANNELS = 64           # C of the DCGAN bodies: C and 2C feature maps
PIXELS = 28 * 28


# ---------------------------------------------------------------- helpers
def dcgan_init_(module: nn.Module) -> None:
    """DCGAN's initialization of one layer: conv, transposed conv and linear weights ~
    N(0, 0.02); batch-norm scales γ ~ N(1, 0.02); every bias 0. Use ``model.apply``."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def _check_codes(owner: str, z: Any, latent_dim: int) -> Tensor:
    z = as_tensor(z)
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(f"{owner}: expected noise z of shape (N, {latent_dim}), got {z.shape}")
    return z


def _check_images(owner: str, x: Any) -> Tensor:
    x = as_tensor(x)
    if x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"{owner}: expected images (N, 1, 28, 28) in [-1, 1], got shape "
                         f"{x.shape}")
    return x


def to_signed(images: Any) -> Any:
    """[0, 1] -> [-1, 1], the range of the generator's tanh: x ↦ 2x - 1 (arrays or tensors)."""
    return images * 2.0 - 1.0


def to_unit(images: Any) -> Any:
    """[-1, 1] -> [0, 1]: x = (G(z) + 1) / 2 (arrays, or tensors detached: for metrics and
    pictures)."""
    unit = (images + 1.0) * 0.5
    return unit.detach() if isinstance(unit, Tensor) else unit


def dcgan_generator_body(in_features: int, channels: int) -> nn.Sequential:
    """(N, in_features) -> (N, 1, 28, 28) in [-1, 1]; see the module's table."""
    c = channels
    return nn.Sequential(
        nn.Linear(in_features, 2 * c * 7 * 7, bias=False),                # (N, 2C·49)
        nn.Unflatten(1, (2 * c, 7, 7)), nn.BatchNorm2d(2 * c), nn.ReLU(),  # (N, 2C, 7, 7)
        nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(c), nn.ReLU(),                                      # (N, C, 14, 14)
        nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1), nn.Tanh(),       # (N, 1, 28, 28)
    )


def dcgan_discriminator_body(in_channels: int, channels: int, batch_norm: bool) -> nn.Sequential:
    """(N, in_channels, 28, 28) -> (N, 1) logits; without batch norm for the WGAN critic."""
    c = channels
    middle = ([nn.Conv2d(c, 2 * c, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(2 * c)]
              if batch_norm else [nn.Conv2d(c, 2 * c, 4, stride=2, padding=1)])
    return nn.Sequential(
        nn.Conv2d(in_channels, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # (N, C, 14, 14)
        *middle, nn.LeakyReLU(0.2),                                            # (N, 2C, 7, 7)
        nn.Flatten(), nn.Linear(2 * c * 7 * 7, 1),                             # (N, 1)
    )


# ---------------------------------------------------------------- generators
class _GeneratorBase(nn.Module):
    """What every generator shares: noise, ``generate`` and ``sample`` (images in [0, 1])."""

    latent_dim: int

    def noise(self, n: int) -> Tensor:
        """z ~ N(0, I) of shape (n, Z), from minigen's seeded generator."""
        checks.positive_int(f"{type(self).__name__}.noise", "n", n)
        return standard_normal(self, n, self.latent_dim)

    def generate(self, z: Any, labels: Any = None) -> Tensor:
        """Images (N, 1, 28, 28) in [0, 1] for the noise z (N, Z), without a graph, in
        evaluation mode (batch norm uses its running averages)."""
        was_training = self.training
        self.eval()
        with no_grad():
            out = self(z) if labels is None else self(z, labels)
        self.train(was_training)
        return to_unit(out)

    def sample(self, n: int) -> Tensor:
        """n new images (n, 1, 28, 28) in [0, 1]: (G(z) + 1) / 2 with z ~ N(0, I)."""
        return self.generate(self.noise(n))

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}"


class MLPGenerator(_GeneratorBase):
    """The 2014 paper's setting: a fully connected generator.

        Linear Z->H1, ReLU, Linear H1->H2, ReLU, Linear H2->784, tanh, reshape
        z (N, Z) -> images (N, 1, 28, 28) in [-1, 1]

    >>> import minigen
    >>> MLPGenerator(latent_dim=8, hidden=(16, 32))(minigen.zeros(2, 8)).shape
    (2, 1, 28, 28)
    """

    def __init__(self, latent_dim: int = LATENT_DIM, hidden: tuple[int, int] = (256, 512)) -> None:
        super().__init__()
        self.latent_dim = checks.positive_int("MLPGenerator", "latent_dim", latent_dim)
        h1, h2 = (checks.positive_int("MLPGenerator", "hidden", h) for h in hidden)
        self.layers = nn.Sequential(
            nn.Linear(latent_dim, h1), nn.ReLU(),              # (N, H1)
            nn.Linear(h1, h2), nn.ReLU(),                      # (N, H2)
            nn.Linear(h2, PIXELS), nn.Tanh(),                  # (N, 784)
            nn.Unflatten(1, IMAGE_SHAPE),                      # (N, 1, 28, 28)
        )

    def forward(self, z: Any) -> Tensor:
        return self.layers(_check_codes("MLPGenerator", z, self.latent_dim))


class Generator(_GeneratorBase):
    """DCGAN generator: z (N, Z) -> images (N, 1, 28, 28) in [-1, 1] (the module's table)."""

    def __init__(self, latent_dim: int = LATENT_DIM, channels: int = CHANNELS) -> None:
        super().__init__()
        self.latent_dim = checks.positive_int(type(self).__name__, "latent_dim", latent_dim)
        self.channels = checks.positive_int(type(self).__name__, "channels", channels)
        self.layers = dcgan_generator_body(self._in_features(), channels)
        self.apply(dcgan_init_)

    def _in_features(self) -> int:
        return self.latent_dim

    def forward(self, z: Any) -> Tensor:
        return self.layers(_check_codes(type(self).__name__, z, self.latent_dim))

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}, channels={self.channels}"


class ConditionalGenerator(Generator):
    """CGAN generator: G(z, y) reads [z, onehot(y)] (N, Z + 10) into the DCGAN body.

    Labels are integers in [0, 10), a list, a NumPy array or an integer Tensor of shape (N,).

    >>> import minigen
    >>> minigen.manual_seed(0)
    >>> G = ConditionalGenerator(latent_dim=8, channels=4)
    >>> G.sample(3, labels=[7, 7, 1]).shape
    (3, 1, 28, 28)
    >>> G.sample_labels(12).tolist()        # labels=None: the classes in turn
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    """

    num_classes = NUM_CLASSES

    def _in_features(self) -> int:
        return self.latent_dim + self.num_classes

    def forward(self, z: Any, labels: Any = None) -> Tensor:  # type: ignore[override]
        z = _check_codes("ConditionalGenerator", z, self.latent_dim)
        zy = with_label(z, labels, self.num_classes, "ConditionalGenerator")   # (N, Z + 10)
        return self.layers(zy)

    def sample_labels(self, n: int) -> Any:
        """The labels ``sample`` uses when none are given: 0, 1, ..., 9, 0, 1, ... (n,)."""
        checks.positive_int("ConditionalGenerator.sample_labels", "n", n)
        return array_module_of(self).arange(n) % self.num_classes

    def generate(self, z: Any, labels: Any = None) -> Tensor:
        """Images in [0, 1] of the classes ``labels`` (N,) for the noise z (N, Z)."""
        if labels is None:
            raise ValueError("ConditionalGenerator: labels are required (the model is "
                             "conditional)")
        return super().generate(z, labels)

    def sample(self, n: int, labels: Any = None) -> Tensor:  # type: ignore[override]
        """n images (n, 1, 28, 28) in [0, 1] of the classes ``labels`` (n,) (default: the
        classes in turn)."""
        z = self.noise(n)
        return self.generate(z, self.sample_labels(n) if labels is None else labels)


# ---------------------------------------------------------------- discriminators
class MLPDiscriminator(nn.Module):
    """The 2014 paper's setting: a fully connected discriminator.

        Flatten, Linear 784->H1, LeakyReLU(0.2), Linear H1->H2, LeakyReLU(0.2), Linear H2->1
        images (N, 1, 28, 28) -> logits (N,)

    >>> import minigen
    >>> MLPDiscriminator(hidden=(16, 8))(minigen.zeros(2, 1, 28, 28)).shape
    (2,)
    """

    def __init__(self, hidden: tuple[int, int] = (512, 256)) -> None:
        super().__init__()
        h1, h2 = (checks.positive_int("MLPDiscriminator", "hidden", h) for h in hidden)
        self.layers = nn.Sequential(
            nn.Flatten(),                                      # (N, 784)
            nn.Linear(PIXELS, h1), nn.LeakyReLU(0.2),          # (N, H1)
            nn.Linear(h1, h2), nn.LeakyReLU(0.2),              # (N, H2)
            nn.Linear(h2, 1),                                  # (N, 1)
        )

    def forward(self, x: Any) -> Tensor:
        x = _check_images("MLPDiscriminator", x)
        return self.layers(x).reshape(x.shape[0])              # (N,) logits


class Discriminator(nn.Module):
    """DCGAN discriminator: images (N, 1, 28, 28) in [-1, 1] -> logits (N,)."""

    batch_norm = True
    in_channels = 1

    def __init__(self, channels: int = CHANNELS) -> None:
        super().__init__()
        self.channels = checks.positive_int(type(self).__name__, "channels", channels)
        self.layers = dcgan_discriminator_body(self.in_channels, channels, self.batch_norm)
        self.apply(dcgan_init_)

    def forward(self, x: Any) -> Tensor:
        x = _check_images(type(self).__name__, x)
        return self.layers(x).reshape(x.shape[0])              # (N,)

    def extra_repr(self) -> str:
        return f"channels={self.channels}"


class Critic(Discriminator):
    """WGAN-GP critic f: images (N, 1, 28, 28) -> scores (N,), the DCGAN discriminator
    without batch norm. Its scores are not probabilities: E f(x) - E f(G(z)) estimates the
    Wasserstein-1 distance when f is 1-Lipschitz, which the gradient penalty encourages."""

    batch_norm = False


class ConditionalDiscriminator(Discriminator):
    """CGAN discriminator: D(x, y) reads the image with ten label planes joined to it,
    (N, 1 + 10, 28, 28), into the DCGAN body -> logits (N,).

    >>> import minigen
    >>> D = ConditionalDiscriminator(channels=4)
    >>> D(minigen.zeros(2, 1, 28, 28), labels=[3, 9]).shape
    (2,)
    """

    in_channels = 1 + NUM_CLASSES

    def forward(self, x: Any, labels: Any = None) -> Tensor:  # type: ignore[override]
        x = _check_images("ConditionalDiscriminator", x)
        xy = with_label_planes(x, labels, NUM_CLASSES, "ConditionalDiscriminator")
        return self.layers(xy).reshape(x.shape[0])           # input (N, 1 + 10, 28, 28)
