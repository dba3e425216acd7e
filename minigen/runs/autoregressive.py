"""The runs of ``minigen train pixelcnn-digits``: a gated PixelCNN of the binarized digits.

A run folder holds::

    checkpoint.npz   {"model", "optimizer", "epoch", "config", "metrics"}
    metrics.json     per epoch: the train NLL (the mean of the steps) and the exact test NLL
                     of the binarized test digits, nats per image; seconds, images/s
    samples.png      ``picture_samples`` digits drawn pixel by pixel (784 forward passes)
"""
from __future__ import annotations

from typing import Any, Iterable

import minigen
from minigen.data import DataLoader, load_digits
from minigen.optim import Adam
from minigen.runs.folder import first_images
from minigen.runs.loop import Picture, Run
from minigen.training.autoregressive import (AutoregressiveConfig, binarize, build_pixelcnn,
                                             evaluate_nll, train_step)


class AutoregressiveRun(Run):
    config_class = AutoregressiveConfig
    descriptions = {"pixelcnn-digits": "a gated PixelCNN of the binarized digits: an exact "
                                       "likelihood"}

    def __init__(self, config: AutoregressiveConfig, checkpoint: Any = None) -> None:
        super().__init__(config, checkpoint)
        (train,) = first_images("train_size", config.train_size, load_digits("train")[0])
        (test,) = first_images("test_size", config.test_size, load_digits("test")[0])
        self.train_images, self.test_images = binarize(train), binarize(test)
        self.model = build_pixelcnn(config)
        self.optimizer = Adam(self.model.parameters(), lr=config.lr)

    def batches(self) -> Iterable[Any]:
        return DataLoader((self.train_images,), self.config.batch_size, shuffle=True)

    def step(self, batch: Any) -> dict[str, float]:
        return train_step(self.model, self.optimizer, batch[0])

    def end_epoch(self, entry: dict[str, Any], steps: Any, history: Any) -> None:
        entry["test"] = {"nll": evaluate_nll(self.model, self.test_images)}

    def pictures(self, epoch: int) -> dict[str, Picture]:
        n = self.config.picture_samples
        if not n:
            return {}
        images, _ = self._draw(n)
        return {"samples.png": (images, 8, f"pixelcnn-digits, epoch {epoch}: samples")}

    def _draw(self, n: int) -> tuple[Any, None]:
        minigen.manual_seed(self.config.seed)             # the same draws every epoch
        self.model.eval()
        images = self.model.sample(n).numpy()
        self.model.train()
        return images, None

    def sample(self, n: int, label: int | None, progress: bool = False) -> tuple[Any, Any]:
        """n binary digits drawn pixel by pixel (after the caller's seed): (images, None)."""
        self.labels_to_draw(n, label, conditional=False)
        return self.model.sample(n, progress=progress).numpy(), None

    def sample_arrays(self, n: int, label: int | None, **options: Any) -> dict[str, Any]:
        self.check_sampler_options(options)
        return {"images": self.sample(n, label, progress=True)[0]}

    def epoch_line(self, entry: dict[str, Any]) -> str:
        return (f"train NLL {entry['train']['loss']:.2f}  test NLL {entry['test']['nll']:.2f} "
                "nats/image")

    @classmethod
    def summary_line(cls, config: Any, summary: dict[str, Any]) -> str:
        return f"test NLL {summary['test']['nll']:.2f} nats per binarized digit (exact)"
