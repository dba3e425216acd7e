"""Autoencoders for 1x28x28 images: ``Autoencoder``, ``VAE`` and the conditional ``CVAE``.

All three share one encoder body and one decoder body (``ConvEncoder``, ``ConvDecoder``);
they differ only in what sits between them:

    x (N, 1, 28, 28) --ConvEncoder--> h (N, 3136) --head(s)--> z (N, D) --ConvDecoder--> logits

* ``Autoencoder``: one Linear head, z = W h + b. Deterministic.
* ``VAE``: two Linear heads give q(z|x) = N(μ, σ²) as (μ, logvar); training samples
  z = μ + σ ⊙ ε (``reparameterize``) and minimizes the negative ELBO (``elbo_loss``).
* ``CVAE``: a VAE told the class y: its one-hot vector is joined to h before the heads
  (q(z|x, y)) and to z before decoding (p(x|z, y)). Asking for class c then draws a c.

The decoder outputs **logits** s, one per pixel: σ(s) is the pixel in [0, 1], and the
losses take the logits directly (``binary_cross_entropy_with_logits``), which is stable.
``sample`` and ``reconstruct`` apply σ and return images in [0, 1].

>>> import minigen
>>> minigen.manual_seed(0)
>>> vae = VAE(latent_dim=8)
>>> logits, mu, logvar = vae(minigen.zeros(5, 1, 28, 28))
>>> logits.shape, mu.shape, logvar.shape
((5, 1, 28, 28), (5, 8), (5, 8))
>>> vae.sample(3).shape
(3, 1, 28, 28)
"""
from __future__ import annotations

from typing import Any

from minigen import checks, nn
from minigen.generative import reparameterize
from minigen.generative.conditioning import one_hot_labels, with_label
from minigen.grad_mode import no_grad
from minigen.models.common import IMAGE_SHAPE, NUM_CLASSES, array_module_of, standard_normal
from minigen.ops import sigmoid
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor

FEATURES = 64 * 7 * 7   # 3136: the length of the encoder's flattened output


class ConvEncoder(nn.Module):
    """The encoder body shared by the three models: images -> flat features.

        Conv 1->32  k3 s2 p1 + ReLU    (N, 1, 28, 28) -> (N, 32, 14, 14)
        Conv 32->64 k3 s2 p1 + ReLU                   -> (N, 64, 7, 7)
        Flatten                                       -> (N, 3136)

    >>> import minigen
    >>> ConvEncoder()(minigen.zeros(2, 1, 28, 28)).shape
    (2, 3136)
    """

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.ReLU(),    # (N, 32, 14, 14)
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),   # (N, 64, 7, 7)
            nn.Flatten(),                                           # (N, 3136)
        )

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE:
            raise ValueError(f"{type(self).__name__}: expected images (N, 1, 28, 28), "
                             f"got shape {x.shape}")
        return self.layers(x)


class ConvDecoder(nn.Module):
    """The decoder body, the encoder's mirror image: a code vector -> pixel logits.

        Linear in->3136 + ReLU                       (N, in) -> (N, 3136)
        Unflatten                                            -> (N, 64, 7, 7)
        ConvTranspose 64->32 k3 s2 p1 op1 + ReLU             -> (N, 32, 14, 14)
        ConvTranspose 32->1  k3 s2 p1 op1                    -> (N, 1, 28, 28)  logits

    ``in_features`` is the latent size D (plus the number of classes for the CVAE).
    ``output_padding=1`` makes 7 -> 14 -> 28 exact: (7 - 1)·2 - 2 + 3 + 1 = 14.

    >>> import minigen
    >>> ConvDecoder(16)(minigen.zeros(2, 16)).shape
    (2, 1, 28, 28)
    """

    def __init__(self, in_features: int) -> None:
        super().__init__()
        self.in_features = in_features
        self.layers = nn.Sequential(
            nn.Linear(in_features, FEATURES), nn.ReLU(),                     # (N, 3136)
            nn.Unflatten(1, (64, 7, 7)),                                     # (N, 64, 7, 7)
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),                                                       # (N, 32, 14, 14)
            nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1, output_padding=1),
        )                                                                    # (N, 1, 28, 28)

    def forward(self, z: Any) -> Tensor:
        z = as_tensor(z)
        if z.ndim != 2 or z.shape[1] != self.in_features:
            raise ValueError(f"{type(self).__name__}: expected codes (N, {self.in_features}), "
                             f"got shape {z.shape}")
        return self.layers(z)


# ---------------------------------------------------------------- helpers
def _pixels(logits: Tensor) -> Tensor:
    """Images in [0, 1] from pixel logits: σ(s), detached from any graph."""
    return sigmoid(logits).detach()


# ---------------------------------------------------------------- the three models
class Autoencoder(nn.Module):
    """A deterministic autoencoder: z = encode(x), x̂ = σ(decode(z)).

    Trained by minimizing the reconstruction error, BCE-with-logits summed over the 784
    pixels. Nothing makes its codes fill N(0, I), so ``sample`` (which decodes z ~ N(0, I))
    mostly draws blobs: the point of comparison with the VAE.

    Shapes: x (N, 1, 28, 28) in [0, 1]; z (N, D); logits (N, 1, 28, 28).
    """

    def __init__(self, latent_dim: int = 16) -> None:
        super().__init__()
        self.latent_dim = checks.positive_int("Autoencoder", "latent_dim", latent_dim)
        self.encoder = ConvEncoder()                       # (N, 3136)
        self.to_z = nn.Linear(FEATURES, latent_dim)        # (N, D)
        self.decoder = ConvDecoder(latent_dim)             # (N, 1, 28, 28) logits

    def encode(self, x: Any) -> Tensor:
        """z = W·encoder(x) + b: (N, 1, 28, 28) -> (N, D)."""
        return self.to_z(self.encoder(x))

    def decode(self, z: Any) -> Tensor:
        """Pixel logits (N, 1, 28, 28) of codes z (N, D)."""
        return self.decoder(z)

    def forward(self, x: Any) -> Tensor:
        """The logits of the reconstruction of x: decode(encode(x))."""
        return self.decode(self.encode(x))

    def sample(self, n: int) -> Tensor:
        """n images (n, 1, 28, 28) in [0, 1] decoded from z ~ N(0, I) (seeded generator)."""
        checks.positive_int("Autoencoder.sample", "n", n)
        with no_grad():
            return _pixels(self.decode(standard_normal(self, n, self.latent_dim)))

    def reconstruct(self, x: Any) -> Tensor:
        """σ(decode(encode(x))): the reconstructions (N, 1, 28, 28) in [0, 1]."""
        with no_grad():
            return _pixels(self(x))

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}"


class VAE(nn.Module):
    """A variational autoencoder: the encoder gives q(z|x) = N(μ, diag σ²), the decoder p(x|z).

        μ = W_μ h + b_μ,  logvar = log σ² = W_v h + b_v,  h = encoder(x)  (N, 3136)
        z = μ + σ ⊙ ε,  ε ~ N(0, I)                                        (N, D)
        -ELBO(x) = Σ_pixels BCE(decode(z), x) + KL(N(μ, σ²) || N(0, I))

    Because the KL term pulls every q(z|x) towards the prior N(0, I), decoding z ~ N(0, I)
    (``sample``) gives plausible images.
    """

    def __init__(self, latent_dim: int = 16) -> None:
        super().__init__()
        self.latent_dim = checks.positive_int(type(self).__name__, "latent_dim", latent_dim)
        self.encoder = ConvEncoder()                         # (N, 3136)
        self.to_mu = nn.Linear(self._head_features(), latent_dim)       # (N, D)
        self.to_logvar = nn.Linear(self._head_features(), latent_dim)   # (N, D)
        self.decoder = ConvDecoder(self._decoder_features())

    def _head_features(self) -> int:
        return FEATURES

    def _decoder_features(self) -> int:
        return self.latent_dim

    def encode(self, x: Any) -> tuple[Tensor, Tensor]:
        """(μ, logvar) of q(z|x), each (N, D)."""
        h = self.encoder(x)                                  # (N, 3136)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: Any) -> Tensor:
        """Pixel logits (N, 1, 28, 28) of codes z (N, D)."""
        return self.decoder(z)

    def forward(self, x: Any) -> tuple[Tensor, Tensor, Tensor]:
        """(logits (N, 1, 28, 28), μ (N, D), logvar (N, D)) with one z = μ + σ ⊙ ε per image:
        exactly what ``elbo_loss(logits, x, mu, logvar)`` takes."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar)                       # (N, D)
        return self.decode(z), mu, logvar

    def sample(self, n: int) -> Tensor:
        """n new images (n, 1, 28, 28) in [0, 1]: σ(decode(z)) with z ~ N(0, I), the prior."""
        checks.positive_int(f"{type(self).__name__}.sample", "n", n)
        with no_grad():
            return _pixels(self.decode(standard_normal(self, n, self.latent_dim)))

    def reconstruct(self, x: Any) -> Tensor:
        """σ(decode(μ(x))): the reconstructions (N, 1, 28, 28) in [0, 1], decoded from the
        mean code (no sampling noise)."""
        with no_grad():
            mu, _ = self.encode(x)
            return _pixels(self.decode(mu))

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}"


class CVAE(VAE):
    """A conditional VAE: q(z|x, y) and p(x|z, y), with y the class as a one-hot vector.

        h = [encoder(x), onehot(y)]         (N, 3136 + C)
        μ, logvar = W_μ h + b_μ, W_v h + b_v  (N, D) each
        logits = decoder([z, onehot(y)])      (N, 1, 28, 28),   decoder input (N, D + C)

    The prior stays N(0, I) for every class, so the class must come from y: ``sample(n,
    labels)`` draws images of the classes asked for. Labels are integers in [0, C),
    given as a list, a NumPy array or an integer Tensor of shape (N,).

    Nothing stops z from *also* learning the class, and with a large latent it does: then
    a z drawn from N(0, I) may say "7" while the label says "1", and the sample follows z.
    A small latent (2-3 dimensions) leaves z room only for the style, so the decoder must
    take the class from the label (``minigen train cvae`` uses 2 by default).

    >>> import minigen
    >>> minigen.manual_seed(0)
    >>> cvae = CVAE(latent_dim=4)
    >>> cvae.sample(3, labels=[7, 7, 1]).shape
    (3, 1, 28, 28)
    >>> cvae.sample_labels(12).tolist()       # labels=None: the classes in turn
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    """

    def __init__(self, latent_dim: int = 16, num_classes: int = NUM_CLASSES) -> None:
        # plain attribute: read by the two methods below
        self.num_classes = checks.positive_int("CVAE", "num_classes", num_classes, minimum=2)
        super().__init__(latent_dim)

    def _head_features(self) -> int:
        return FEATURES + self.num_classes

    def _decoder_features(self) -> int:
        return self.latent_dim + self.num_classes

    def encode(self, x: Any, labels: Any = None) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        """(μ, logvar) of q(z|x, y), each (N, D)."""
        h = with_label(self.encoder(x), labels, self.num_classes, "CVAE.encode")  # (N, 3136 + C)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: Any, labels: Any = None) -> Tensor:  # type: ignore[override]
        """Pixel logits (N, 1, 28, 28) of codes z (N, D) for the classes ``labels`` (N,)."""
        z = as_tensor(z)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"CVAE.decode: expected codes (N, {self.latent_dim}), "
                             f"got shape {z.shape}")
        return self.decoder(with_label(z, labels, self.num_classes, "CVAE.decode"))  # (N, D + C)

    def forward(self, x: Any,  # type: ignore[override]
                labels: Any = None) -> tuple[Tensor, Tensor, Tensor]:
        """(logits, μ, logvar) as ``VAE.forward``, with the labels given to both networks."""
        mu, logvar = self.encode(x, labels)
        z = reparameterize(mu, logvar)                              # (N, D)
        return self.decode(z, labels), mu, logvar

    def sample_labels(self, n: int) -> Any:
        """The labels ``sample`` uses when none are given: 0, 1, ..., C-1, 0, 1, ... (n,)."""
        checks.positive_int("CVAE.sample_labels", "n", n)
        return array_module_of(self).arange(n) % self.num_classes

    def sample(self, n: int, labels: Any = None) -> Tensor:  # type: ignore[override]
        """n images (n, 1, 28, 28) in [0, 1] of the classes ``labels`` (n,), decoded from
        z ~ N(0, I). Without labels the classes take turns (``sample_labels``)."""
        checks.positive_int("CVAE.sample", "n", n)
        if labels is None:
            labels = self.sample_labels(n)
        # checked before z is drawn: a bad label leaves the random state as it was
        one_hot_labels("CVAE.sample", labels, n, self.num_classes, array_module_of(self))
        with no_grad():
            z = standard_normal(self, n, self.latent_dim)           # (n, D)
            return _pixels(self.decoder(with_label(z, labels, self.num_classes, "CVAE.sample")))

    def reconstruct(self, x: Any, labels: Any = None) -> Tensor:  # type: ignore[override]
        """σ(decode(μ(x, y), y)): reconstructions (N, 1, 28, 28) in [0, 1]."""
        with no_grad():
            mu, _ = self.encode(x, labels)
            return _pixels(self.decode(mu, labels))

    def extra_repr(self) -> str:
        return f"latent_dim={self.latent_dim}, num_classes={self.num_classes}"
