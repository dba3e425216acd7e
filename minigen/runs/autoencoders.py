"""The runs of ``minigen train ae|vae|cvae``: an autoencoder, a VAE or a CVAE.

A run folder holds::

    checkpoint.npz       {"model", "optimizer", "epoch", "config", "metrics"}
    metrics.json         per epoch: train and test loss parts, seconds, images/s
                         (+ "test_neg_elbo" of the last epoch for vae and cvae)
    reconstructions.png  test images (rows 1, 3) above their reconstructions (rows 2, 4)
    samples.png          images decoded from z ~ N(0, I) (cvae: row c asks for class c)
"""
from __future__ import annotations

from typing import Any, Iterable

import minigen
from minigen import backend
from minigen.data import DataLoader
from minigen.models.common import NUM_CLASSES
from minigen.optim import Adam
from minigen.runs.folder import first_images
from minigen.runs.loop import Picture, Run
from minigen.training.autoencoders import (LOSSES, AutoencoderConfig, DATASETS, build_model,
                                           evaluate, train_step)


def _parts(parts: dict[str, float]) -> str:
    text = f"{parts['loss']:.2f}"
    if "kl" in parts:
        text += f" (rec {parts['reconstruction']:.2f}, kl {parts['kl']:.2f})"
    return text


class AutoencoderRun(Run):
    config_class = AutoencoderConfig
    descriptions = {"ae": "an autoencoder: reconstruction BCE",
                    "vae": "a variational autoencoder: the negative ELBO",
                    "cvae": "a conditional VAE told the class: the negative ELBO"}

    def __init__(self, config: AutoencoderConfig, checkpoint: Any = None) -> None:
        super().__init__(config, checkpoint)
        load_split = DATASETS[config.dataset]
        self.train_set = first_images("train_size", config.train_size, *load_split("train"))
        self.test_set = first_images("test_size", config.test_size, *load_split("test"))
        self.model = build_model(config)
        self.optimizer = Adam(self.model.parameters(), lr=config.lr)
        self.loss = LOSSES[config.model]
        self.conditional = config.model == "cvae"

    def batches(self) -> Iterable[Any]:
        return DataLoader(self.train_set, self.config.batch_size, shuffle=True)

    def step(self, batch: Any) -> dict[str, float]:
        x, labels = batch
        parts = train_step(self.model, self.optimizer, self.loss, x,
                           labels if self.conditional else None)
        return {name: value.item() for name, value in parts.items()}

    def end_epoch(self, entry: dict[str, Any], steps: Any, history: Any) -> None:
        images, labels = self.test_set
        entry["test"] = evaluate(self.model, self.loss, images,
                                 labels if self.conditional else None)

    def pictures(self, epoch: int) -> dict[str, Picture]:
        """reconstructions.png (20 test images over their reconstructions) and samples.png
        (the same z in every epoch: watch the samples improve)."""
        np = backend.np
        images, labels = self.test_set[0][:20], self.test_set[1][:20]
        x = minigen.tensor(images)
        rebuilt = (self.model.reconstruct(x, labels) if self.conditional
                   else self.model.reconstruct(x)).numpy()
        pairs = np.concatenate([images[:10], rebuilt[:10], images[10:20], rebuilt[10:20]])
        minigen.manual_seed(self.config.seed)
        if self.conditional:                                   # row c: class c
            samples = self.model.sample(100, np.repeat(np.arange(NUM_CLASSES), 10)).numpy()
        else:
            samples = self.model.sample(64).numpy()
        title = f"{self.config.model}, epoch {epoch}"
        return {"reconstructions.png": (pairs, 10, f"{title}: test images / reconstructions"),
                "samples.png": (samples, 10 if self.conditional else 8,
                                f"{title}: samples, z ~ N(0, I)")}

    def sample(self, n: int, label: int | None) -> tuple[Any, Any]:
        """n images of z ~ N(0, I) decoded; a cvae draws class ``label`` (default: the
        classes in turn)."""
        self.model.eval()
        labels = self.labels_to_draw(n, label, self.conditional)
        images = self.model.sample(n) if labels is None else self.model.sample(n, labels)
        return images.numpy(), labels

    def summary(self, history: dict[str, Any]) -> dict[str, Any]:
        summary = super().summary(history)
        if history["epochs"] and self.config.model in ("vae", "cvae"):
            summary["test_neg_elbo"] = summary["test"]["loss"]               # nats per image
        return summary

    def epoch_line(self, entry: dict[str, Any]) -> str:
        return f"train {_parts(entry['train'])}  test {_parts(entry['test'])}"

    @classmethod
    def summary_line(cls, config: Any, summary: dict[str, Any]) -> str:
        if "test_neg_elbo" in summary:
            return f"test negative ELBO {summary['test_neg_elbo']:.2f} nats/image"
        return f"test reconstruction BCE {summary['test']['loss']:.2f} nats/image"
