"""The runs of ``minigen train realnvp``: a RealNVP of the 8-bit digits.

A run folder holds::

    checkpoint.npz     {"model", "optimizer", "epoch", "config", "metrics"}
    metrics.json       per epoch: the train bits/dim (the mean of the steps) and the test
                       bits/dim of the 1 000 test digits (fixed dequantization noise);
                       seconds, images/s
    samples.png        ``picture_samples`` digits at temperature 1.0, then as many at 0.7
    interpolation.png  eight steps on the straight line in z between pairs of test digits
"""
from __future__ import annotations

from typing import Any, Iterable

import minigen
from minigen import backend
from minigen.data import DataLoader, load_digits
from minigen.optim import Adam
from minigen.runs.folder import first_images
from minigen.runs.loop import Picture, Run
from minigen.training.flows import (FlowConfig, build_flow, evaluate_bits, interpolate,
                                    sample_images, to_levels, train_step)


class FlowRun(Run):
    config_class = FlowConfig
    descriptions = {"realnvp": "a RealNVP normalizing flow of the 8-bit digits: an exact "
                               "likelihood in bits per dimension"}

    def __init__(self, config: FlowConfig, checkpoint: Any = None) -> None:
        super().__init__(config, checkpoint)
        (train,) = first_images("train_size", config.train_size, load_digits("train")[0])
        (test,) = first_images("test_size", config.test_size, load_digits("test")[0])
        self.train_levels, self.test_levels = to_levels(train), to_levels(test)
        self.model = build_flow(config)
        self.optimizer = Adam(self.model.parameters(), lr=config.lr)

    def batches(self) -> Iterable[Any]:
        return DataLoader((self.train_levels,), self.config.batch_size, shuffle=True)

    def step(self, batch: Any) -> dict[str, float]:
        return train_step(self.model, self.optimizer, batch[0])

    def end_epoch(self, entry: dict[str, Any], steps: Any, history: Any) -> None:
        entry["test"] = {"bits_per_dim": evaluate_bits(self.model, self.test_levels)}

    def pictures(self, epoch: int) -> dict[str, Picture]:
        n = self.config.picture_samples
        if not n:
            return {}
        np = backend.np
        with backend.scratch_random():                     # the same draws every epoch
            minigen.manual_seed(self.config.seed)
            warm, cool = sample_images(self.model, n, 1.0), sample_images(self.model, n, 0.7)
        pairs = self.test_levels[:8].astype(np.float32) / 255.0
        lines = np.concatenate([interpolate(self.model, pairs[2 * k:2 * k + 1],
                                            pairs[2 * k + 1:2 * k + 2]) for k in range(4)])
        return {"samples.png": (np.concatenate([warm, cool]), 8,
                                f"realnvp, epoch {epoch}: T = 1.0 (top), T = 0.7 (bottom)"),
                "interpolation.png": (lines, 8, f"realnvp, epoch {epoch}: lines in z")}

    def sample(self, n: int, label: int | None) -> tuple[Any, Any]:
        """n digits at temperature 1 (after the caller's seed): (images, None)."""
        self.labels_to_draw(n, label, conditional=False)
        return sample_images(self.model, n, 1.0), None

    def epoch_line(self, entry: dict[str, Any]) -> str:
        return (f"train {entry['train']['loss']:.3f}  test {entry['test']['bits_per_dim']:.3f} "
                "bits/dim")

    @classmethod
    def summary_line(cls, config: Any, summary: dict[str, Any]) -> str:
        return f"test {summary['test']['bits_per_dim']:.3f} bits per dimension (8-bit digits)"
