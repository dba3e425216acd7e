"""Training a diffusion model: one step of the noise-prediction loss, the average weights
samples are drawn with, and guided sampling.

One training step, as DDPM's algorithm box writes it (with classifier-free guidance's
label dropout)::

    x_0, y ~ data;  y ← ∅ with probability p             (drop_labels)
    t ~ U{0, ..., T - 1};  ε ~ N(0, I)
    x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε                         (q_sample)
    θ ← θ - lr · ∇_θ ‖ε - ε_θ(x_t, t, y)‖²                (diffusion_loss)
    θ̄ ← d θ̄ + (1 - d) θ,  d warmed up from 0.1              (update_ema)

Samples come from θ̄, an exponential moving average (*media móvil exponencial*) of the
weights: it changes slowly, so it is not thrown around by the last noisy batches.

>>> import minigen
>>> from minigen.optim import Adam
>>> minigen.manual_seed(0)
>>> config = DiffusionConfig(width=8, timesteps=20)
>>> unet, average = build_unet(config), build_unet(config)
>>> x0 = minigen.rand(4, 1, 28, 28) * 2 - 1
>>> logs = diffusion_step(unet, average, Adam(unet.parameters()), linear_schedule(20), x0,
...                       [1, 2, 3, 4], config)
>>> sorted(logs)
['loss']
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import minigen
from minigen import backend, metrics, nn
from minigen.generative.diffusion import (NoiseSchedule, cosine_schedule, ddim_sample,
                                          diffusion_loss, drop_labels, guided_eps,
                                          linear_schedule)
from minigen.grad_mode import no_grad
from minigen.models.common import NUM_CLASSES
from minigen.models.gans import to_unit
from minigen.models.unet import UNet
from minigen.optim import Optimizer
from minigen.tensor import Tensor
from minigen.training.common import optimizer_step
from minigen.training.config import (ConfigError, RunConfig, check_choice, check_int,
                                     check_positive, check_range, option, seed_option,
                                     test_size_option, train_size_option)

NULL = NUM_CLASSES          # the label ∅ ("no class") of classifier-free guidance
SCHEDULES = {"linear": linear_schedule, "cosine": cosine_schedule}


@dataclass
class DiffusionConfig(RunConfig):
    """Everything that defines a run of ``minigen train ddpm``; the defaults are the
    command's. ``width`` is c0 of the UNet's channels (c0, 2c0, 4c0)."""

    MODELS = ("ddpm",)
    model: str = "ddpm"
    epochs: int = option(15, "total epochs to train to")
    batch_size: int = option(64, "images per batch")
    lr: float = option(1e-3, "Adam's learning rate")
    schedule: str = option("linear", "the noise schedule", choices=SCHEDULES)
    timesteps: int = option(1000, "T, the number of noising steps")
    prediction: str = option("eps", "what the UNet predicts: the noise eps or v",
                             choices=("eps", "v"))
    guidance_dropout: float = option(0.1, "probability p of training with the label dropped "
                                          "(the null class of classifier-free guidance)")
    width: int = option(16, "c0 of the UNet's channels (c0, 2c0, 4c0), a multiple of 8")
    no_attention: bool = option(False, "leave out the self-attention at 7x7 (faster)")
    ema_decay: float = option(0.999, "decay d of the weights' moving average")
    sample_steps: int = option(50, "DDIM steps of the pictures and of minigen sample")
    guidance: float = option(1.0, "guidance scale w of the pictures and of minigen sample "
                                  "(0: the conditional model alone)")
    epoch_samples: int = option(40, "samples judged after every epoch (0: none)")
    final_samples: int = option(100, "samples per guidance scale of the final sweep, on noise "
                                     "held out from the pictures' (0: no sweep)")
    seed: int = seed_option()
    train_size: int | None = train_size_option()
    test_size: int | None = test_size_option()

    def check(self) -> None:
        self.check_common(positive=("timesteps", "sample_steps"))
        check_choice("schedule", self.schedule, SCHEDULES)
        check_choice("prediction", self.prediction, ("eps", "v"))
        check_range("guidance_dropout", self.guidance_dropout, 0.0, 1.0, closed="low")
        check_int("width", self.width, minimum=8)
        if self.width % 8:
            raise ConfigError(f"--width must be a multiple of 8 (GroupNorm's groups), got "
                              f"{self.width}")
        check_range("ema_decay", self.ema_decay, 0.0, 1.0, closed="low")
        if self.sample_steps > self.timesteps:
            raise ConfigError(f"--sample-steps {self.sample_steps} cannot exceed --timesteps "
                              f"{self.timesteps}")
        check_positive("guidance", self.guidance, allow_zero=True)
        check_int("epoch_samples", self.epoch_samples, minimum=0)
        check_int("final_samples", self.final_samples, minimum=0)

    def noise_schedule(self) -> NoiseSchedule:
        return SCHEDULES[self.schedule](self.timesteps)


def build_unet(config: DiffusionConfig) -> UNet:
    """A fresh UNet of the config's width, conditional on the ten digits (and ∅)."""
    w = config.width
    return UNet(channels=(w, 2 * w, 4 * w), num_classes=NUM_CLASSES,
                attention=not config.no_attention)


def update_ema(average: nn.Module, model: nn.Module, decay: float, step: int | None = None
               ) -> None:
    """θ̄ ← d θ̄ + (1 - d) θ for every parameter of ``average`` (the model's buffers copied).

    With ``step`` (the updates so far) the decay warms up, d_t = min(d, (1 + t)/(10 + t)):
    with d = 0.999 from the start, θ̄ would still be 80 % the random initial weights after
    220 steps (0.999²²⁰), and short runs would sample from noise."""
    if step is not None:
        decay = min(decay, (1.0 + step) / (10.0 + step))
    with no_grad():
        for mean_p, p in zip(average.parameters(), model.parameters()):
            mean_p.data *= decay
            mean_p.data += (1.0 - decay) * p.data
        for mean_b, b in zip(average.buffers(), model.buffers()):
            mean_b.data[...] = b.data


def diffusion_step(unet: UNet, average: UNet, optimizer: Optimizer, schedule: NoiseSchedule,
                   x0: Tensor, labels: Any, config: DiffusionConfig) -> dict[str, float]:
    """One step on images x0 (N, 1, 28, 28) in [-1, 1] with their labels (N,): drop labels
    with probability p, the loss, one optimizer update, the moving average."""
    kept = drop_labels(labels, config.guidance_dropout, NULL)
    loss = diffusion_loss(lambda x, t: unet(x, t, kept), schedule, x0,
                          prediction=config.prediction)
    optimizer_step(optimizer, loss)
    update_ema(average, unet, config.ema_decay, step=optimizer.state[0]["step"])
    return {"loss": loss.item()}


GUIDANCE_SWEEP = (0.0, 1.0, 3.0)   # the scales w the final sweep compares


def guidance_sweep(unet: UNet, schedule: NoiseSchedule, n: int, steps: int,
                   seed: int) -> dict[str, Any]:
    """The trade-off guidance makes, measured: for each w of ``GUIDANCE_SWEEP``, the digit
    classifier's accuracy on n samples asked for the classes in turn (the same noise for
    every w), the best w, and the class shares of n unconditional samples (label ∅)."""
    labels = backend.np.arange(n) % NUM_CLASSES
    accuracy = {}
    for w in GUIDANCE_SWEEP:
        minigen.manual_seed(seed)
        accuracy[f"{w:g}"] = metrics.conditional_accuracy(
            sample_digits(unet, schedule, labels, w, steps), labels)
    minigen.manual_seed(seed)
    free = sample_digits(unet, schedule, backend.np.full(n, NULL), 0.0, steps)
    shares = metrics.class_histogram(free) / n
    return {"accuracy": accuracy, "best_guidance": float(max(accuracy, key=accuracy.get)),
            "unconditional_class_shares": [float(s) for s in shares]}


def sample_digits(unet: UNet, schedule: NoiseSchedule, labels: Any, guidance: float,
                  steps: int, eta: float = 0.0, progress: bool = False) -> Any:
    """Images (N, 1, 28, 28) in [0, 1] (NumPy float32) of the classes ``labels`` (N,) (∅ =
    ``NULL``: unconditional), by DDIM in ``steps`` steps with guidance scale w, from
    x_T drawn from minigen's seeded generator. x̂_0 is clamped to [-1, 1] (the data's
    range), with the consistent noise (``ddim_step``)."""
    labels = backend.np.asarray(labels)
    xp = backend.array_module(unet.stem.weight.data)
    x_T = Tensor(backend.rng(xp).standard_normal((len(labels), 1, 28, 28)).astype(
        unet.stem.weight.dtype))
    eps = (guided_eps(unet, labels, guidance, NULL) if guidance > 0
           else (lambda x, t: unet(x, t, labels)))
    x0 = ddim_sample(eps, schedule, x_T, steps=steps, eta=eta, clip_x0=1.0, progress=progress)
    return backend.to_numpy(to_unit(x0).clamp(0.0, 1.0).data).astype("float32")
