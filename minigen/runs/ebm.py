"""The runs of ``minigen train ebm``: an energy-based model of the digits.

A run folder holds::

    checkpoint.npz   {"model", "optimizer", "buffer", "epoch", "config", "metrics"}
                     (the replay buffer too: a resumed run's chains go on where they were)
    metrics.json     per epoch: the training losses (contrastive divergence, the energies
                     of data and samples), and how the digit classifier judges the newest
                     ``judge_samples`` chain ends: their mean confidence against that of
                     uniform noise, and the share of each class; seconds, images/s
    samples.png      the newest ``picture_samples`` chain ends of the replay buffer
"""
from __future__ import annotations

from typing import Any, Iterable

from minigen.data import DataLoader, load_digits
from minigen.optim import Adam
from minigen.runs.folder import first_images
from minigen.runs.loop import Picture, Run
from minigen.training.ebm import (EBMConfig, as_images, buffer_images, build_buffer, build_energy, chains,
                                  judge, train_step, uniform_noise_confidence)


class EBMRun(Run):
    config_class = EBMConfig
    descriptions = {"ebm": "an energy-based model of the digits, sampled by Langevin dynamics "
                           "with a replay buffer"}
    checkpoint_keys = ("model", "optimizer", "buffer")

    def __init__(self, config: EBMConfig, checkpoint: Any = None) -> None:
        super().__init__(config, checkpoint)
        (self.images,) = first_images("train_size", config.train_size, load_digits("train")[0])
        self.model = build_energy(config)
        self.optimizer = Adam(self.model.parameters(), lr=config.lr, betas=(0.0, 0.999))
        self.buffer = build_buffer(config)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "buffer": self.buffer.state_dict()}

    def load_state_dict(self, checkpoint: dict[str, Any]) -> None:
        super().load_state_dict(checkpoint)
        self.buffer.load_state_dict(checkpoint["buffer"])

    def begin(self) -> dict[str, Any]:
        return {"uniform_noise_confidence": uniform_noise_confidence(self.config.judge_samples)}

    def batches(self) -> Iterable[Any]:
        return DataLoader((self.images,), self.config.batch_size, shuffle=True)

    def step(self, batch: Any) -> dict[str, float]:
        return train_step(self.model, self.optimizer, self.buffer, batch[0], self.config)

    def end_epoch(self, entry: dict[str, Any], steps: Any, history: Any) -> None:
        verdict = judge(buffer_images(self.buffer, self.config.judge_samples))
        verdict["margin"] = verdict["confidence"] - history["uniform_noise_confidence"]
        verdict["classes_present"] = sum(share >= 0.02 for share in verdict["shares"])
        entry["samples"] = verdict

    def pictures(self, epoch: int) -> dict[str, Picture]:
        n = self.config.picture_samples
        if not n:
            return {}
        return {"samples.png": (buffer_images(self.buffer, n), 8,
                                f"ebm, epoch {epoch}: the newest chain ends of the buffer")}

    def sample(self, n: int, label: int | None) -> tuple[Any, Any]:
        """n new chains (after the caller's seed) started from the buffer as in training,
        run for ``langevin_steps`` more steps: (images in [0, 1], None)."""
        self.labels_to_draw(n, label, conditional=False)
        return as_images(chains(self.model, self.buffer.draw(n), self.config).data), None

    def epoch_line(self, entry: dict[str, Any]) -> str:
        samples = entry["samples"]
        return (f"cd {entry['train']['cd']:.3f}  samples: confidence "
                f"{samples['confidence']:.2f} (noise {samples['margin']:+.2f}), "
                f"{samples['classes_present']} classes")

    @classmethod
    def summary_line(cls, config: Any, summary: dict[str, Any]) -> str:
        samples = summary["epochs"][-1]["samples"]
        return (f"buffer samples: classifier confidence {samples['confidence']:.2f} "
                f"({samples['margin']:+.2f} over uniform noise), "
                f"{samples['classes_present']} of 10 classes with at least 2%")
