"""The runs of ``minigen train ddpm``: a conditional diffusion model of the digits.

A run folder holds::

    checkpoint.npz   {"model", "optimizer", "ema", "epoch", "config", "metrics"}
    metrics.json     per epoch: the mean loss, seconds, images/s, and (``epoch_samples``)
                     the digit classifier's accuracy on samples asked for the classes in
                     turn, drawn from the same noise every epoch with the average weights
                     and, after the last epoch, under "final": the class accuracy at
                     each guidance scale w of a sweep on held-out noise, the best w, and
                     the class shares of unconditional samples
    samples.png      up to 100 of those samples (or 100 unjudged ones), column c asked
                     for class c (DDIM, ``sample_steps`` steps, guidance ``guidance``)

``minigen sample RUN`` draws with the average weights (``ema``), as the pictures do.
"""
from __future__ import annotations

from typing import Any, Iterable

import minigen
from minigen import backend, metrics
from minigen.data import DataLoader, load_digits
from minigen.models.common import NUM_CLASSES
from minigen.models.gans import to_signed
from minigen.optim import Adam
from minigen.runs.folder import first_images
from minigen.runs.loop import Picture, Run
from minigen.training.config import ConfigError, check_int, check_positive, check_range
from minigen.training.diffusion import (DiffusionConfig, build_unet, diffusion_step,
                                        guidance_sweep, sample_digits)


class DiffusionRun(Run):
    config_class = DiffusionConfig
    descriptions = {"ddpm": "a diffusion model: DDPM training, DDIM sampling, classifier-free "
                            "guidance"}
    checkpoint_keys = ("model", "optimizer", "ema")

    def __init__(self, config: DiffusionConfig, checkpoint: Any = None) -> None:
        super().__init__(config, checkpoint)
        images, self.labels = first_images("train_size", config.train_size, *load_digits("train"))
        self.signed = to_signed(images).astype(backend.np.float32)   # [-1, 1], as x_T's scale
        self.schedule = config.noise_schedule()
        self.model = build_unet(config)
        self.ema = build_unet(config)                                # θ̄ starts at θ
        self.ema.load_state_dict(self.model.state_dict())
        self.optimizer = Adam(self.model.parameters(), lr=config.lr)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "ema": self.ema.state_dict()}

    def load_state_dict(self, checkpoint: dict[str, Any]) -> None:
        super().load_state_dict(checkpoint)
        self.ema.load_state_dict(checkpoint["ema"])

    def eval(self) -> None:
        self.model.eval()
        self.ema.eval()

    def batches(self) -> Iterable[Any]:
        return DataLoader((self.signed, self.labels), self.config.batch_size, shuffle=True,
                          drop_last=True)

    def step(self, batch: Any) -> dict[str, float]:
        x0, labels = batch
        return diffusion_step(self.model, self.ema, self.optimizer, self.schedule, x0, labels,
                              self.config)

    def end_epoch(self, entry: dict[str, Any], steps: Any, history: Any) -> None:
        """Samples of the classes in turn from the seed's noise (the same every epoch), the
        pictures' and, with ``epoch_samples``, judged by the digit classifier."""
        n = self.config.epoch_samples or 100
        minigen.manual_seed(self.config.seed)
        labels = backend.np.arange(n) % NUM_CLASSES
        self.samples = sample_digits(self.ema, self.schedule, labels, self.config.guidance,
                                     self.config.sample_steps)
        if self.config.epoch_samples:
            entry["samples"] = {"guidance": self.config.guidance, "conditional_accuracy":
                                metrics.conditional_accuracy(self.samples, labels)}
        if entry["epoch"] == self.config.epochs and self.config.final_samples:
            history["final"] = guidance_sweep(self.ema, self.schedule, self.config.final_samples,
                                              self.config.sample_steps, self.config.seed + 1)

    def pictures(self, epoch: int) -> dict[str, Picture]:
        title = (f"ddpm, epoch {epoch}: column c asks for class c (DDIM "
                 f"{self.config.sample_steps} steps, w = {self.config.guidance:g})")
        return {"samples.png": (self.samples[:100], NUM_CLASSES, title)}

    sampler_options = ("steps", "eta", "guidance")

    def sample(self, n: int, label: int | None, steps: int | None = None, eta: float = 0.0,
               guidance: float | None = None, progress: bool = False) -> tuple[Any, Any]:
        """n samples of class ``label`` (default: the classes in turn) by the average weights:
        DDIM in ``steps`` steps (default the run's ``sample_steps``; all ``timesteps`` of them
        with η = 1 is DDPM's ancestral chain, σ² = β̃) with noise η = ``eta`` and guidance w
        (default the run's)."""
        steps = self.config.sample_steps if steps is None else steps
        guidance = self.config.guidance if guidance is None else guidance
        check_int("steps", steps, minimum=1)
        if steps > self.config.timesteps:
            raise ConfigError(f"--steps {steps} cannot exceed the run's {self.config.timesteps} "
                              "timesteps")
        check_range("eta", eta, 0.0, 1.0)
        check_positive("guidance", guidance, allow_zero=True)
        labels = self.labels_to_draw(n, label, conditional=True)
        return sample_digits(self.ema, self.schedule, labels, guidance, steps, eta,
                             progress=progress), labels

    def sample_arrays(self, n: int, label: int | None, **options: Any) -> dict[str, Any]:
        self.check_sampler_options(options)
        images, labels = self.sample(n, label, progress=True, **options)
        return {"images": images, "labels": labels}

    def epoch_line(self, entry: dict[str, Any]) -> str:
        text = f"loss {entry['train']['loss']:.4f}"
        if "samples" in entry:
            samples = entry["samples"]
            text += (f"  class accuracy {samples['conditional_accuracy']:.0%} "
                     f"(w = {samples['guidance']:g})")
        return text

    @classmethod
    def summary_line(cls, config: Any, summary: dict[str, Any]) -> str:
        last = summary["epochs"][-1]
        text = f"train loss {last['train']['loss']:.4f}"
        if summary.get("final"):
            final = summary["final"]
            sweep = ", ".join(f"{acc:.0%} at w = {w}" for w, acc in final["accuracy"].items())
            return (f"{text}; class accuracy {sweep} (best w = {final['best_guidance']:g}); "
                    f"unconditional samples: largest class "
                    f"{max(final['unconditional_class_shares']):.0%}")
        if "samples" in last:
            text += (f", class accuracy {last['samples']['conditional_accuracy']:.1%} at w = "
                     f"{last['samples']['guidance']:g}")
        return text
