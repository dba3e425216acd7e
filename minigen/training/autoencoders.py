"""Training autoencoders, VAEs and CVAEs: the losses, one step, the test loss.

The losses, each a mean over the N images of a batch (nats per image):

* ``autoencoder_loss``: the reconstruction BCE-with-logits summed over the 784 pixels,
  Σ_p softplus(s_p) - x_p s_p;
* ``vae_loss``: the negative ELBO (*cota inferior de la evidencia*),
  -ELBO = reconstruction BCE + KL(q(z|x) || N(0, I)) (``minigen.generative.elbo_loss``),
  with its two parts; a CVAE is also told the labels: q(z|x, y), p(x|z, y).

>>> import minigen
>>> from minigen.models import VAE
>>> from minigen.optim import Adam
>>> minigen.manual_seed(0)
>>> vae = VAE(latent_dim=2)
>>> parts = train_step(vae, Adam(vae.parameters()), vae_loss, minigen.rand(4, 1, 28, 28))
>>> sorted(parts)
['kl', 'loss', 'reconstruction']
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from minigen import nn
from minigen.data import DataLoader, load_digits, load_fashion
from minigen.functional import binary_cross_entropy_with_logits
from minigen.generative import elbo_loss
from minigen.generative.vae import importance_weighted_bound
from minigen.grad_mode import no_grad
from minigen.ops import cat, reshape, sum
from minigen.models.autoencoders import CVAE, VAE, Autoencoder
from minigen.optim import Optimizer
from minigen.tensor import Tensor
from minigen.training.common import mean_parts, optimizer_step
from minigen.training.config import (RunConfig, check_choice, option, seed_option,
                                     test_size_option, train_size_option)

MODELS: dict[str, type[nn.Module]] = {"ae": Autoencoder, "vae": VAE, "cvae": CVAE}
DATASETS: dict[str, Callable[[str], tuple[Any, Any]]] = {"digits": load_digits,
                                                        "fashion": load_fashion}
DEFAULT_LATENT_DIM = {"ae": 16, "vae": 16, "cvae": 2}   # see AutoencoderConfig
Parts = dict[str, Tensor]


# ---------------------------------------------------------------- the losses
def autoencoder_loss(model: nn.Module, x: Tensor, labels: Any = None) -> Parts:
    """{"loss": BCE summed over pixels, mean over images} of images x (N, 1, 28, 28).
    ``labels`` must be None: an autoencoder is not conditional."""
    if labels is not None:
        raise ValueError("autoencoder_loss: an autoencoder takes no labels")
    n = x.shape[0]
    logits = model(x)                                                     # (N, 1, 28, 28)
    return {"loss": binary_cross_entropy_with_logits(logits, x, reduction="sum") * (1.0 / n)}


def vae_loss(model: nn.Module, x: Tensor, labels: Any = None) -> Parts:
    """The negative ELBO of images x (N, 1, 28, 28) and its parts: {"loss", "reconstruction",
    "kl"}, means over the images. ``labels`` (N,) go to a conditional model (a CVAE)."""
    logits, mu, logvar = model(x) if labels is None else model(x, labels)
    elbo = elbo_loss(logits, x, mu, logvar)           # -ELBO = reconstruction + KL
    return {"loss": elbo.loss, "reconstruction": elbo.reconstruction, "kl": elbo.kl}


LOSSES: dict[str, Callable[..., Parts]] = {"ae": autoencoder_loss, "vae": vae_loss,
                                           "cvae": vae_loss}


def train_step(model: nn.Module, optimizer: Optimizer, loss: Callable[..., Parts], x: Tensor,
               labels: Any = None) -> Parts:
    """One step of Adam (or any optimizer) on ``loss(model, x, labels)["loss"]``; returns
    the parts (scalar tensors)."""
    parts = loss(model, x, labels)
    optimizer_step(optimizer, parts["loss"])
    return parts


def evaluate(model: nn.Module, loss: Callable[..., Parts], images: Any,
             labels: Any = None) -> dict[str, float]:
    """The mean loss parts over all ``images`` (N, 1, 28, 28) (with their ``labels`` (N,)
    for a conditional model), without a graph, in evaluation mode."""
    if labels is None:
        return mean_parts(lambda x: loss(model, x), (images,), model)
    return mean_parts(lambda x, y: loss(model, x, y), (images, labels), model)


def iwae_nats(model: VAE, images: Any, k: int = 100, batch_size: int = 50) -> float:
    """-log p(x) by the importance-weighted bound with k samples, in nats per image (the
    mean over ``images`` (N, 1, 28, 28)): an upper bound on the true NLL, tighter than the
    negative ELBO (k = 1), for comparing a VAE's likelihood with exact ones (PixelCNN)."""
    was_training = model.training
    model.eval()
    total = 0.0
    with no_grad():
        for (x,) in DataLoader((images,), batch_size):
            mu, logvar = model.encode(x)                                  # (B, D) each

            def log_likelihood(z: Tensor) -> Tensor:                      # z (k, B, D)
                kk, b, d = z.shape
                logits = model.decode(reshape(z, (kk * b, d)))            # (k·B, 1, 28, 28)
                target = reshape(cat([x] * kk, dim=0), logits.shape)
                bce = binary_cross_entropy_with_logits(logits, target, reduction="none")
                return reshape(sum(reshape(bce, (kk * b, -1)), dim=1), (kk, b)) * -1.0

            total += sum(importance_weighted_bound(log_likelihood, mu, logvar, k)).item()
    model.train(was_training)
    return -total / len(images)


# ---------------------------------------------------------------- the run's settings
@dataclass
class AutoencoderConfig(RunConfig):
    """Everything that defines a run of ``minigen train ae|vae|cvae``; the defaults are the
    command's.

    40 epochs: with these settings the VAE's test negative ELBO is about 114 nats/image
    after 20 epochs, 112 after 30 and 111 after 40 (1-2 minutes on a 2-core CPU).

    The latent size is 16 for ``ae`` and ``vae`` but 2 for ``cvae`` (``DEFAULT_LATENT_DIM``):
    with 16 dimensions the CVAE's z also learns the class (digits decoded with another
    label keep their own class), so only ~57 % of its samples show the class asked for
    after 40 epochs; with 2 dimensions z has room only for the style (slant, width), the
    decoder must take the class from the label, and ~96 % do.
    """

    MODELS = tuple(MODELS)
    model: str = "vae"
    epochs: int = option(40, "total epochs to train to")
    batch_size: int = option(64, "images per batch")
    latent_dim: int | None = option(None, "size D of the code z (default 16; cvae: 2)",
                                    type=int)
    lr: float = option(1e-3, "Adam's learning rate")
    dataset: str = option("digits", "the embedded data set", choices=DATASETS)
    seed: int = seed_option()
    train_size: int | None = train_size_option()
    test_size: int | None = test_size_option()

    def __post_init__(self) -> None:
        if self.latent_dim is None:
            self.latent_dim = DEFAULT_LATENT_DIM.get(self.model, 16)

    def check(self) -> None:
        """Raise a ConfigError naming the first bad field (the message reads as a CLI error)."""
        self.check_common(positive=("latent_dim",))
        check_choice("dataset", self.dataset, DATASETS)


def build_model(config: AutoencoderConfig) -> nn.Module:
    """A fresh ``Autoencoder`` ("ae"), ``VAE`` ("vae") or ``CVAE`` ("cvae")."""
    return MODELS[config.model](config.latent_dim)
