"""Training an autoregressive model of binarized digits: the exact NLL, one step, the test NLL.

The gated PixelCNN (``minigen.models.GatedPixelCNN``) gives p(x) = Π_i p(x_i | x_<i) for
binary images, so its negative log-likelihood is exact:

    NLL(x) = -log p(x) = Σ_i BCE(logit_i, x_i)       nats per image

-- compared with a VAE's negative ELBO or importance-weighted bound, which only bound it
from above (``minigen.training.autoencoders.iwae_nats``). The digits are binarized by a
fixed threshold (0.5), the same for every model compared.

>>> import minigen
>>> from minigen.optim import Adam
>>> minigen.manual_seed(0)
>>> net = build_pixelcnn(AutoregressiveConfig(channels=8, layers=2))
>>> x = binarize(minigen.rand(4, 1, 28, 28).numpy())
>>> logs = train_step(net, Adam(net.parameters()), x)
>>> sorted(logs)
['loss']
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minigen import backend
from minigen.models.gated_pixelcnn import GatedPixelCNN
from minigen.optim import Optimizer
from minigen.training.common import mean_parts, optimizer_step
from minigen.training.config import (ConfigError, RunConfig, check_int, check_range, option,
                                     seed_option, test_size_option, train_size_option)

THRESHOLD = 0.5      # a pixel is 1 where the digit's grey value exceeds it


def binarize(images: Any, threshold: float = THRESHOLD) -> Any:
    """Images in [0, 1] -> {0, 1} (float32): 1 where the pixel exceeds ``threshold``."""
    return (backend.np.asarray(images) > threshold).astype("float32")


@dataclass
class AutoregressiveConfig(RunConfig):
    """Everything that defines a run of ``minigen train pixelcnn-digits``."""

    MODELS = ("pixelcnn-digits",)
    model: str = "pixelcnn-digits"
    epochs: int = option(6, "total epochs to train to")
    batch_size: int = option(32, "images per batch")
    lr: float = option(1e-3, "Adam's learning rate")
    channels: int = option(32, "C, the width of both stacks")
    layers: int = option(6, "gated layers (the first reads the image)")
    kernel_size: int = option(3, "size of the masked convolutions (odd)")
    picture_samples: int = option(16, "images drawn pixel by pixel after every epoch for "
                                      "samples.png (0: none)")
    seed: int = seed_option()
    train_size: int | None = train_size_option()
    test_size: int | None = test_size_option()

    def check(self) -> None:
        self.check_common(positive=("channels", "layers"))
        check_int("kernel_size", self.kernel_size, minimum=1)
        if self.kernel_size % 2 == 0:
            raise ConfigError(f"--kernel-size must be odd (the centre is the pixel), got "
                              f"{self.kernel_size}")
        check_int("picture_samples", self.picture_samples, minimum=0)
        check_range("picture_samples", self.picture_samples, 0, 100)


def build_pixelcnn(config: AutoregressiveConfig) -> GatedPixelCNN:
    return GatedPixelCNN(config.channels, config.layers, config.kernel_size)


def train_step(net: GatedPixelCNN, optimizer: Optimizer, x: Any) -> dict[str, float]:
    """One step on binary images x (N, 1, 28, 28): the NLL (nats per image) down."""
    loss = net.nll(x)
    optimizer_step(optimizer, loss)
    return {"loss": loss.item()}


def evaluate_nll(net: GatedPixelCNN, images: Any) -> float:
    """The mean exact NLL over binary ``images``, in nats per image, without a graph."""
    return mean_parts(lambda x: {"nll": net.nll(x)}, (images,), net)["nll"]
