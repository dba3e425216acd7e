"""Training a VQ-VAE and its PixelCNN prior: the losses, the test metrics, the code maps.

The VQ-VAE's loss of a batch x (N, 1, 28, 28), its reconstruction x̂ and encoder output z_e
(the codebook and commitment terms are in ``minigen.generative.vq``)::

    L = mean((x - x̂)²) / var(x)  +  ||sg[z_e] - e_k||²  +  β ||z_e - sg[e_k]||²
        (reconstruction)            (codebook)            (commitment — pérdida de compromiso)

var(x) is the variance of the training pixels, so a model that outputs the mean image has
a reconstruction loss of about 1. The prior (``PixelCNN``) is trained afterwards on the
code maps k (N, 7, 7) of the training images, by the mean cross-entropy
-log p(k_i | k_<i) over all positions (``PixelCNN.loss``, nats per code).

>>> import minigen
>>> from minigen.models import VQVAE
>>> minigen.manual_seed(0)
>>> sorted(vqvae_loss(VQVAE(), minigen.rand(2, 1, 28, 28)))
['codebook', 'commitment', 'loss', 'reconstruction']
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import minigen
from minigen import backend
from minigen.data import DataLoader
from minigen.generative.vq import code_counts, counts_perplexity
from minigen.grad_mode import no_grad
from minigen.models.vqvae import VQVAE, VQVAEOutput
from minigen.ops import mean
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor
from minigen.training.autoencoders import DATASETS
from minigen.training.common import EVAL_BATCH
from minigen.training.config import (ConfigError, RunConfig, check_choice, check_int,
                                     check_positive, option, seed_option, test_size_option,
                                     train_size_option)


# ---------------------------------------------------------------- the VQ-VAE's loss
def vqvae_loss(model: VQVAE, x: Any, out: VQVAEOutput | None = None) -> dict[str, Tensor]:
    """The loss of a batch and its parts: ``loss``, ``reconstruction``, ``codebook`` (not
    with ``ema``) and ``commitment``, each a scalar Tensor.

    L = mean((x - x̂)²) / var(x) + L_codebook + β L_commit.
    ``out`` is ``model(x)`` if already computed (else it is computed here).
    """
    x = as_tensor(x)
    out = model(x) if out is None else out
    diff = x - out.x_hat                                             # (N, 1, 28, 28)
    reconstruction = mean(diff * diff) / model.data_variance
    q = out.quantized
    parts = {"loss": reconstruction + q.loss, "reconstruction": reconstruction}
    if q.codebook is not None:
        parts["codebook"] = q.codebook
    parts["commitment"] = q.commitment
    return parts


def evaluate_vqvae(model: VQVAE, images: Any) -> dict[str, float]:
    """Mean loss parts over ``images`` (N, 1, 28, 28), the per-pixel ``mse`` of the
    reconstructions, and the ``codes_used`` and ``perplexity`` of all their codes."""
    was_training = model.training
    model.eval()
    totals: dict[str, float] = {}
    counts = 0
    with no_grad():
        for (x,) in DataLoader((images,), EVAL_BATCH):
            out = model(x)
            parts = {name: value.item() for name, value in vqvae_loss(model, x, out).items()}
            diff = x.data - out.x_hat.data
            parts["mse"] = float((diff * diff).mean())
            for name, value in parts.items():
                totals[name] = totals.get(name, 0.0) + value * x.shape[0]
            counts = counts + code_counts(out.indices, model.num_codes)
    model.train(was_training)
    result = {name: total / len(images) for name, total in totals.items()}
    result["codes_used"] = int((counts > 0).sum())
    result["perplexity"] = counts_perplexity(counts)
    return result


def code_maps(model: VQVAE, images: Any) -> Any:
    """The code maps (N, 7, 7) of ``images`` as one array (of the model's array module):
    the data set the prior learns."""
    xp = backend.array_module(model.quantizer.codebook.data)
    return xp.concatenate([model.codes(x).data for (x,) in DataLoader((images,), EVAL_BATCH)])


def random_codes(num_codes: int, n: int, seed: int) -> Any:
    """n code maps (n, 7, 7) drawn uniformly from [0, num_codes), seeded: what a VQ-VAE
    without a learned prior would decode."""
    minigen.manual_seed(seed)
    return minigen.randint(0, num_codes, (n, 7, 7))


# ---------------------------------------------------------------- the runs' settings
@dataclass
class VQVAEConfig(RunConfig):
    """A run of ``minigen train vqvae``; the defaults are the command's.

    20 epochs (about 2 s each on a 2-core CPU, 1.5 minutes in all on a busy one): test
    per-pixel MSE 0.0057, all 128 codes used on the test set, perplexity 35.
    ``restart_dead`` 20: a code chosen by no position of 20 batches in a row restarts at a
    random encoder output; without it most codes die in the first epoch (4 of 128 used and
    MSE 0.048 after 3 epochs). 0 turns it off. ``ema`` (without restarts) revives codes
    more slowly: 46 used, MSE 0.0085 after 14 epochs.
    """

    MODELS = ("vqvae",)
    model: str = "vqvae"
    epochs: int = option(20, "total epochs to train to")
    batch_size: int = option(64, "images per batch")
    lr: float = option(1e-3, "Adam's learning rate")
    num_codes: int = option(128, "codebook size K")
    code_dim: int = option(16, "code size D")
    beta: float = option(0.25, "commitment cost β")
    ema: bool = option(False, "learn the codebook by moving averages, not by its loss")
    restart_dead: int = option(20, "restart codes unused for R batches; 0: never")
    dataset: str = option("digits", "the embedded data set", choices=DATASETS)
    seed: int = seed_option()
    train_size: int | None = train_size_option()
    test_size: int | None = test_size_option()

    def check(self) -> None:
        """Raise a ConfigError naming the first bad field."""
        self.check_common(positive=("num_codes", "code_dim"))
        check_choice("dataset", self.dataset, DATASETS)
        check_int("restart_dead", self.restart_dead, minimum=0)
        check_positive("beta", self.beta, allow_zero=True)
        if not isinstance(self.ema, bool):
            raise ConfigError(f"ema must be true or false, got {self.ema!r}")


@dataclass
class PixelCNNConfig(RunConfig):
    """A run of ``minigen train pixelcnn``: the prior of the VQ-VAE in the run folder ``vqvae``.

    20 epochs (5-10 s each on a 2-core CPU, with the 100 samples drawn after each): on the
    default vqvae run the test cross-entropy levels off at about 1.51 nats per code from
    epoch 19 on (uniform: log 128 = 4.85), and the classifier's mean confidence on samples
    is 0.83-0.86 against 0.72 on uniformly random codes (0.98 on real test digits).
    """

    MODELS = ("pixelcnn",)
    model: str = "pixelcnn"
    vqvae: str | None = option(None, "the vqvae run folder DIR (required unless --resume)",
                               type=str)
    epochs: int = option(20, "total epochs to train to")
    batch_size: int = option(64, "code maps per batch")
    lr: float = option(2e-3, "Adam's learning rate")
    channels: int = option(32, "width of the network")
    blocks: int = option(3, "masked residual blocks")
    seed: int = seed_option()
    train_size: int | None = train_size_option()
    test_size: int | None = test_size_option()

    def check(self) -> None:
        """Raise a ConfigError naming the first bad field."""
        if not isinstance(self.vqvae, str) or not self.vqvae:
            raise ConfigError("--vqvae DIR is required: the vqvae run folder whose codes the "
                              "prior learns (train one with 'minigen train vqvae')")
        self.check_common(positive=("channels",))
        check_int("blocks", self.blocks, minimum=0)


def build_vqvae(config: VQVAEConfig, data_variance: float = 1.0) -> VQVAE:
    """A fresh ``VQVAE`` with the settings of ``config``."""
    return VQVAE(config.num_codes, config.code_dim, config.beta, ema=config.ema,
                 restart_dead=config.restart_dead or None, data_variance=data_variance)
