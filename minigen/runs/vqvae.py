"""The runs of ``minigen train vqvae`` and ``minigen train pixelcnn``, one after the other::

    minigen train vqvae --out runs/vqvae
    minigen train pixelcnn --vqvae runs/vqvae --out runs/pixelcnn
    minigen sample runs/pixelcnn --out digits.png

A **vqvae** run folder holds::

    checkpoint.npz       {"model", "optimizer", "epoch", "config", "metrics"}
    metrics.json         per epoch: train and test loss parts, test per-pixel MSE, codes
                         used and perplexity (train: over the epoch; test: over the test set)
    reconstructions.png  test images (rows 1, 3) above their reconstructions (rows 2, 4)
    random_codes.png     images decoded from uniformly random code maps: noise, which is
                         why a VQ-VAE needs a learned prior to generate

A **pixelcnn** run folder holds the prior trained on the code maps of the training images,
and a copy of the VQ-VAE it was trained for (checkpoint key ``"vqvae"``), so it samples on
its own even if the VQ-VAE's folder changes::

    checkpoint.npz       {"model", "optimizer", "vqvae", "epoch", "config", "metrics"}
    metrics.json         per epoch: train and test cross-entropy (nats per code) and the
                         digit classifier's mean confidence on 100 samples; once: that of
                         100 images decoded from uniformly random codes
    samples.png          64 code maps drawn from the prior, decoded
"""
from __future__ import annotations

from typing import Any, Iterable

import minigen
from minigen import backend
from minigen.data import DataLoader
from minigen.generative.vq import counts_perplexity
from minigen.grad_mode import no_grad
from minigen.models.pixelcnn import PixelCNN
from minigen.optim import Adam
from minigen.runs.folder import first_images
from minigen.runs.loop import Picture, Run
from minigen.training.autoencoders import DATASETS
from minigen.training.common import EVAL_BATCH, optimizer_step
from minigen.training.config import ConfigError, RunConfig
from minigen.training.vqvae import (PixelCNNConfig, VQVAEConfig, build_vqvae, code_maps,
                                    evaluate_vqvae, random_codes, vqvae_loss)

CONFIDENCE_SAMPLES = 100   # images behind each classifier-confidence figure


def _split(dataset: str, config: RunConfig) -> tuple[Any, Any]:
    """The first train_size training and test_size test images of ``dataset``."""
    load = DATASETS[dataset]
    (train_images,) = first_images("train_size", config.train_size, load("train")[0])
    (test_images,) = first_images("test_size", config.test_size, load("test")[0])
    return train_images, test_images


def _numpy(images: Any) -> Any:
    return backend.to_numpy(images.data).astype("float32")


class VQVAERun(Run):
    config_class = VQVAEConfig
    descriptions = {"vqvae": "a VQ-VAE (discrete 7x7 codes from a learned codebook)"}

    def __init__(self, config: VQVAEConfig, checkpoint: Any = None) -> None:
        super().__init__(config, checkpoint)
        self.train_images, self.test_images = _split(config.dataset, config)
        self.model = build_vqvae(config, data_variance=float(self.train_images.var()))
        self.optimizer = Adam(self.model.parameters(), lr=config.lr)

    def batches(self) -> Iterable[Any]:
        self.model.quantizer.reset_usage()          # codes used: counted over the epoch
        return DataLoader((self.train_images,), self.config.batch_size, shuffle=True)

    def step(self, batch: Any) -> dict[str, float]:
        parts = vqvae_loss(self.model, batch[0])
        optimizer_step(self.optimizer, parts["loss"])
        return {name: value.item() for name, value in parts.items()}

    def end_epoch(self, entry: dict[str, Any], steps: Any, history: Any) -> None:
        quantizer = self.model.quantizer
        entry["train"]["codes_used"] = quantizer.codes_used()
        entry["train"]["perplexity"] = counts_perplexity(quantizer.counts.data)
        entry["test"] = evaluate_vqvae(self.model, self.test_images)

    def pictures(self, epoch: int) -> dict[str, Picture]:
        np = backend.np
        shown = self.test_images[:20]
        rebuilt = _numpy(self.model.reconstruct(shown))
        pairs = np.concatenate([shown[:10], rebuilt[:10], shown[10:20], rebuilt[10:20]])
        noise = self.model.decode_codes(random_codes(self.config.num_codes, 64, self.config.seed))
        title = f"vqvae, epoch {epoch}"
        return {"reconstructions.png": (pairs, 10, f"{title}: test images / reconstructions"),
                "random_codes.png": (_numpy(noise), 8, f"{title}: uniformly random codes")}

    def sample(self, n: int, label: int | None) -> tuple[Any, Any]:
        raise ConfigError("this is a vqvae run: a VQ-VAE alone cannot sample (codes drawn "
                          "uniformly decode to noise). Train its prior first: minigen train "
                          "pixelcnn --vqvae DIR --out PRIOR, then sample PRIOR")

    def epoch_line(self, entry: dict[str, Any]) -> str:
        test = entry["test"]
        return (f"train loss {entry['train']['loss']:.3f}  test mse {test['mse']:.4f}, codes "
                f"used {test['codes_used']}/{self.config.num_codes}, perplexity "
                f"{test['perplexity']:.1f}")

    @classmethod
    def summary_line(cls, config: Any, summary: dict[str, Any]) -> str:
        test = summary["test"]
        return (f"test MSE {test['mse']:.4f} per pixel, {test['codes_used']}/{config.num_codes} "
                f"codes used, perplexity {test['perplexity']:.1f}")


class PixelCNNRun(Run):
    config_class = PixelCNNConfig
    descriptions = {"pixelcnn": "the PixelCNN prior over the code maps of a VQ-VAE run"}
    checkpoint_keys = ("model", "optimizer", "vqvae")
    rate = "code_maps_per_second"

    def __init__(self, config: PixelCNNConfig, checkpoint: Any = None) -> None:
        super().__init__(config, checkpoint)
        # The VQ-VAE: a resumed run's own copy, else the one in the --vqvae folder.
        stored = checkpoint["vqvae"] if checkpoint is not None else VQVAERun.read(config.vqvae)
        self.stored = {"config": stored["config"], "model": stored["model"]}
        with backend.scratch_random():     # its weights are loaded next: its init draws nothing
            self.vqvae = build_vqvae(VQVAEConfig.from_dict(stored["config"]))
        self.vqvae.load_state_dict(stored["model"])
        self.vqvae.eval()
        self.dataset = self.stored["config"]["dataset"]
        train_images, test_images = _split(self.dataset, config)
        self.train_codes = code_maps(self.vqvae, train_images)             # (N, 7, 7)
        self.test_codes = code_maps(self.vqvae, test_images)
        self.model = PixelCNN(self.vqvae.num_codes, config.channels, config.blocks)   # the prior
        self.optimizer = Adam(self.model.parameters(), lr=config.lr)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "vqvae": self.stored}

    def begin(self) -> dict[str, Any]:
        """The classifier's confidence on images decoded from uniformly random codes: what
        the prior must beat (digits only: the classifier knows digits)."""
        if self.dataset != "digits":
            return {"random_codes_confidence": None}
        from minigen.metrics import mean_confidence  # noqa: PLC0415 — loads weights
        codes = random_codes(self.vqvae.num_codes, CONFIDENCE_SAMPLES, self.config.seed)
        return {"random_codes_confidence": mean_confidence(self.vqvae.decode_codes(codes))}

    def batches(self) -> Iterable[Any]:
        return DataLoader((self.train_codes,), self.config.batch_size, shuffle=True)

    def step(self, batch: Any) -> dict[str, float]:
        loss = self.model.loss(batch[0])
        optimizer_step(self.optimizer, loss)
        return {"loss": loss.item()}

    def end_epoch(self, entry: dict[str, Any], steps: Any, history: Any) -> None:
        with no_grad():
            test = sum(self.model.loss(c).item() * c.shape[0]
                       for (c,) in DataLoader((self.test_codes,), EVAL_BATCH))
        entry["test"] = {"loss": test / len(self.test_codes)}
        minigen.manual_seed(self.config.seed)                 # the same draws every epoch
        self.samples = self.vqvae.decode_codes(self.model.sample(max(CONFIDENCE_SAMPLES, 64)))
        if self.dataset == "digits":
            from minigen.metrics import mean_confidence  # noqa: PLC0415
            entry["sample_confidence"] = mean_confidence(self.samples[:CONFIDENCE_SAMPLES])

    def pictures(self, epoch: int) -> dict[str, Picture]:
        return {"samples.png": (_numpy(self.samples)[:64], 8,
                                f"pixelcnn prior, epoch {epoch}: samples")}

    def sample(self, n: int, label: int | None) -> tuple[Any, Any]:
        """Code maps drawn from the prior, decoded by its VQ-VAE: (images, None)."""
        self.labels_to_draw(n, label, conditional=False)
        return _numpy(self.vqvae.decode_codes(self.model.sample(n))), None

    def epoch_line(self, entry: dict[str, Any]) -> str:
        text = f"train {entry['train']['loss']:.3f}  test {entry['test']['loss']:.3f} nats/code"
        if "sample_confidence" in entry:
            text += f", classifier confidence {entry['sample_confidence']:.3f}"
        return text

    @classmethod
    def summary_line(cls, config: Any, summary: dict[str, Any]) -> str:
        text, last = f"test {summary['test']['loss']:.3f} nats/code", summary["epochs"][-1]
        if "sample_confidence" in last:
            text += (f", classifier confidence {last['sample_confidence']:.3f} on samples vs "
                     f"{summary['random_codes_confidence']:.3f} on random codes")
        return text
