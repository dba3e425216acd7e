"""The runs of ``minigen train gan|dcgan|cgan|wgan-gp``.

A run folder holds::

    checkpoint.npz         {"generator", "discriminator", "g_optimizer", "d_optimizer",
                           "epoch", "config", "metrics"}
    metrics.json           the config; the real digits' reference values and the untrained
                           generator's; per epoch the means of the round logs, seconds, and
                           the sample metrics (class histogram, KL to uniform, Inception
                           Score, FDD; cgan: conditional accuracy); every round's L_D, L_G,
                           D(x), D(G(z)) under "steps"; and under "final" the metrics of
                           ``final_samples`` samples
    samples_EEE.png        the generator's images of a FIXED noise batch after epoch EEE
                           (cgan: row c asks for class c, the same noise in every row)
    samples.png            the same, of the last epoch
"""
from __future__ import annotations

from typing import Any, Iterable

from minigen import backend, metrics
from minigen.data import DataLoader, load_digits
from minigen.models.gans import to_signed
from minigen.runs.folder import first_images
from minigen.runs.loop import Picture, Run
from minigen.training.config import ConfigError
from minigen.training.gans import (GRID_COLUMNS, LOG_KEYS, GANConfig, GANTraining,
                                   fixed_noise_grid, generator_samples, judge_generator,
                                   judge_images)


class GANRun(Run):
    config_class = GANConfig
    descriptions = {
        "gan": "the 2014 GAN: fully connected generator and discriminator",
        "dcgan": "DCGAN: convolutional generator and discriminator with batch norm",
        "cgan": "conditional DCGAN: both players are told the class",
        "wgan-gp": "Wasserstein GAN with gradient penalty: a DCGAN generator and a critic",
    }
    checkpoint_keys = ("generator", "discriminator", "g_optimizer", "d_optimizer")

    def __init__(self, config: GANConfig, checkpoint: Any = None) -> None:
        super().__init__(config, checkpoint)
        np = backend.np
        images, labels = first_images("train_size", config.train_size, *load_digits("train"))
        (self.test_images,) = first_images("test_size", config.test_size,
                                           load_digits("test")[0])
        if len(images) < config.batch_size * config.d_steps:
            raise ConfigError(f"one round needs {config.d_steps} batches of {config.batch_size} "
                              f"images, but there are only {len(images)} training images")
        self.train_images, self.train_labels = images, labels
        self.signed = to_signed(images).astype(np.float32)            # [-1, 1]: tanh's range
        self.real = metrics.gaussian(metrics.features(self.test_images))  # the FDD's reference
        self.game = GANTraining(config)

    def state_dict(self) -> dict[str, Any]:
        return self.game.state_dict()

    def load_state_dict(self, checkpoint: dict[str, Any]) -> None:
        self.game.load_state_dict(checkpoint)

    def eval(self) -> None:
        self.game.generator.eval()
        self.game.discriminator.eval()

    def begin(self) -> dict[str, Any]:
        """The real digits' own values, and the untrained generator's, for comparison."""
        reference = judge_images(self.test_images, self.train_images)
        reference["real"] = "test images vs training images"
        untrained = (judge_generator(self.game.generator, self.config.epoch_samples, self.real)
                     if self.config.epoch_samples else None)
        return {"reference": reference, "untrained": untrained}

    def batches(self) -> Iterable[Any]:
        """Rounds of k = d_steps batches each."""
        k = self.config.d_steps
        loader = DataLoader((self.signed, self.train_labels), self.config.batch_size,
                            shuffle=True, drop_last=True)
        batches = iter(loader)
        return [[next(batches) for _ in range(k)] for _ in range(len(loader) // k)]

    def step(self, batch: Any) -> dict[str, float]:
        return self.game.round(batch)

    def items(self, batch: Any) -> int:
        return sum(len(x) for x, _ in batch)

    def end_epoch(self, entry: dict[str, Any], steps: dict[str, list[float]],
                  history: dict[str, Any]) -> None:
        entry["steps"] = {key: [round(v, 5) for v in steps[key]] for key in LOG_KEYS}
        if self.config.epoch_samples:
            entry["samples"] = judge_generator(self.game.generator, self.config.epoch_samples,
                                               self.real)
        if entry["epoch"] == self.config.epochs:
            history["final"] = judge_generator(self.game.generator, self.config.final_samples,
                                               self.real)
            history["final"]["samples"] = self.config.final_samples

    def pictures(self, epoch: int) -> dict[str, Picture]:
        images, _ = fixed_noise_grid(self.game.generator, self.config.seed)
        picture = (images, GRID_COLUMNS, f"{self.config.model}, epoch {epoch}: the fixed noise "
                                         "batch")
        return {f"samples_{epoch:03d}.png": picture, "samples.png": picture}

    def sample(self, n: int, label: int | None) -> tuple[Any, Any]:
        """n samples (cgan: all of class ``label`` if given, else the classes in turn)."""
        labels = self.labels_to_draw(n, label, self.game.conditional)
        images, labels = generator_samples(self.game.generator, n, labels)
        return images.astype(backend.np.float32), labels

    def summary(self, history: dict[str, Any]) -> dict[str, Any]:
        """The history, with the epochs' step logs flattened under "steps"."""
        summary = {"final": None, **super().summary(history)}
        summary["epochs"] = [{k: v for k, v in e.items() if k != "steps"}
                             for e in history["epochs"]]
        summary["steps"] = {key: [v for e in history["epochs"] for v in e["steps"][key]]
                            for key in LOG_KEYS}
        return summary

    def epoch_line(self, entry: dict[str, Any]) -> str:
        means = entry["train"]
        text = (f"L_D {means['loss_d']:.3f}  L_G {means['loss_g']:.3f}  D(x) "
                f"{means['d_real']:.2f}  D(G(z)) {means['d_fake']:.2f}")
        if "samples" in entry:
            samples = entry["samples"]
            text += f"  FDD {samples['fdd']:.1f}  largest class {samples['max_class_share']:.0%}"
            if "conditional_accuracy" in samples:
                text += f"  cond. acc. {samples['conditional_accuracy']:.0%}"
        return text

    @classmethod
    def summary_line(cls, config: Any, summary: dict[str, Any]) -> str:
        final = summary["final"]
        text = (f"FDD {final['fdd']:.1f}, IS {final['inception_score']:.2f}, KL to uniform "
                f"{final['kl_to_uniform']:.3f}, largest class {final['max_class_share']:.1%}")
        if "conditional_accuracy" in final:
            text += f", conditional accuracy {final['conditional_accuracy']:.1%}"
        return text
