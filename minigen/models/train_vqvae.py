"""Train a VQ-VAE and its PixelCNN prior: ``minigen train vqvae`` and ``minigen train pixelcnn``.

Two runs, one after the other (each a run folder, see ``minigen.models.runs``)::

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

A **pixelcnn** run folder holds the prior trained on the code maps of the training images
(``VQVAE.codes``), and a copy of the VQ-VAE it was trained for (checkpoint key ``"vqvae"``),
so it samples on its own even if the VQ-VAE's folder changes::

    checkpoint.npz       {"model", "optimizer", "vqvae", "epoch", "config", "metrics"}
    metrics.json         per epoch: train and test cross-entropy (nats per code) and the
                         digit classifier's mean confidence on 100 samples; once: that of
                         100 images decoded from uniformly random codes
    samples.png          64 code maps drawn from the prior, decoded

Every epoch e starts with ``minigen.manual_seed(seed · 10 000 + e)`` (shuffling, dead-code
restarts), so a run stopped after epoch k and resumed equals a run that never stopped.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar

import minigen
from minigen import backend
from minigen.data import DataLoader
from minigen.generative.vq import code_counts, counts_perplexity
from minigen.grad_mode import no_grad
from minigen.models.pixelcnn import PixelCNN
from minigen.models.runs import (CHECKPOINT, METRICS, ConfigError, RunConfig, check_choice,
                                 check_int, first_images, start_run,
                                 read_checkpoint, write_atomically, write_json)
from minigen.models.train_autoencoder import DATASETS
from minigen.models.vqvae import VQVAE
from minigen.optim import Adam
from minigen.serialization import save
from minigen.tensor import Tensor
from minigen.viz import save_image_grid

TRAIN_MODELS = ("vqvae", "pixelcnn")
RECONSTRUCTIONS = "reconstructions.png"
RANDOM_CODES = "random_codes.png"
SAMPLES = "samples.png"
EVAL_BATCH = 500
CONFIDENCE_SAMPLES = 100   # images behind each classifier-confidence figure
EXIT_INTERRUPTED = 130     # the shell's status after Ctrl-C


# ---------------------------------------------------------------- configs
@dataclass
@dataclass
class VQVAEConfig(RunConfig):
    """A vqvae run. The defaults are those of ``minigen train vqvae``.

    20 epochs (about 2 s each on a 2-core CPU, 1.5 minutes in all on a busy one): test
    per-pixel MSE 0.0057, all 128 codes used on the test set, perplexity 35.
    ``restart_dead`` 20: a code chosen by no position of 20 batches in a row restarts at a
    random encoder output; without it most codes die in the first epoch (4 of 128 used and
    MSE 0.048 after 3 epochs). 0 turns it off. ``ema`` (without restarts) revives codes
    more slowly: 46 used, MSE 0.0085 after 14 epochs.
    """

    KIND: ClassVar[str] = "vqvae"
    model: str = "vqvae"
    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    num_codes: int = 128
    code_dim: int = 16
    beta: float = 0.25
    ema: bool = False
    restart_dead: int = 20
    seed: int = 0
    dataset: str = "digits"
    train_size: int | None = None
    test_size: int | None = None

    def check(self) -> None:
        """Raise a ConfigError naming the first bad field."""
        self.check_common((self.KIND,), positive=("num_codes", "code_dim"))
        check_choice("dataset", self.dataset, DATASETS)
        check_int("restart_dead", self.restart_dead, minimum=0)
        if isinstance(self.beta, bool) or not isinstance(self.beta, (int, float)) \
                or not self.beta >= 0:
            raise ConfigError(f"--beta must be a number >= 0, got {self.beta!r}")
        if not isinstance(self.ema, bool):
            raise ConfigError(f"ema must be true or false, got {self.ema!r}")


@dataclass
class PixelCNNConfig(RunConfig):
    """A pixelcnn run: the prior of the VQ-VAE in the run folder ``vqvae``.

    20 epochs (5-10 s each on a 2-core CPU, with the 100 samples drawn after each): on the
    default vqvae run the test cross-entropy levels off at about 1.51 nats per code from
    epoch 19 on (uniform: log 128 = 4.85), and the classifier's mean confidence on samples
    is 0.83-0.86 against 0.72 on uniformly random codes (0.98 on real test digits).
    """

    KIND: ClassVar[str] = "pixelcnn"
    model: str = "pixelcnn"
    vqvae: str | None = None
    epochs: int = 20
    batch_size: int = 64
    lr: float = 2e-3
    channels: int = 32
    blocks: int = 3
    seed: int = 0
    train_size: int | None = None
    test_size: int | None = None

    def check(self) -> None:
        """Raise a ConfigError naming the first bad field."""
        if not isinstance(self.vqvae, str) or not self.vqvae:
            raise ConfigError("--vqvae DIR is required: the vqvae run folder whose codes the "
                              "prior learns (train one with 'minigen train vqvae')")
        self.check_common((self.KIND,), positive=("channels",))
        check_int("blocks", self.blocks, minimum=0)


CONFIGS: dict[str, type[RunConfig]] = {"vqvae": VQVAEConfig, "pixelcnn": PixelCNNConfig}


def read_run(folder: str | os.PathLike, kind: str | None = None) -> dict[str, Any]:
    """The checkpoint of a vqvae or pixelcnn run (of ``kind`` if given), checked; a
    ConfigError says what is wrong."""
    def check_config(values: dict[str, Any]) -> None:
        found = values.get("model")
        if found not in CONFIGS or (kind is not None and found != kind):
            raise ConfigError(f"it is a run of {found!r}, not of "
                              f"{kind or ' or '.join(CONFIGS)!r}")
        CONFIGS[found].from_dict(values).check()

    checkpoint = read_checkpoint(folder, ("model", "optimizer"), check_config)
    if checkpoint["config"]["model"] == "pixelcnn" and "vqvae" not in checkpoint:
        raise ConfigError(f"{Path(folder) / CHECKPOINT} holds no copy of its VQ-VAE ('vqvae')")
    return checkpoint


# ---------------------------------------------------------------- models of a run
def build_vqvae(config: VQVAEConfig, data_variance: float = 1.0) -> VQVAE:
    """A fresh ``VQVAE`` with the settings of ``config``."""
    return VQVAE(config.num_codes, config.code_dim, config.beta, ema=config.ema,
                 restart_dead=config.restart_dead or None, data_variance=data_variance)


def _vqvae_from(stored: dict[str, Any]) -> tuple[VQVAE, VQVAEConfig]:
    """The VQ-VAE (eval mode) of a checkpoint dict holding its ``config`` and ``model``."""
    config = VQVAEConfig.from_dict(stored["config"])
    model = build_vqvae(config)
    model.load_state_dict(stored["model"])
    return model.eval(), config  # type: ignore[return-value]


def load_vqvae(folder: str | os.PathLike) -> tuple[VQVAE, VQVAEConfig]:
    """(the trained VQ-VAE in eval mode, its config) of a vqvae run folder."""
    return _vqvae_from(read_run(folder, "vqvae"))


def load_pixelcnn(folder: str | os.PathLike) -> tuple[PixelCNN, VQVAE]:
    """(the trained prior, its VQ-VAE), both in eval mode, of a pixelcnn run folder."""
    checkpoint = read_run(folder, "pixelcnn")
    config = PixelCNNConfig.from_dict(checkpoint["config"])
    vqvae, _ = _vqvae_from(checkpoint["vqvae"])
    prior = PixelCNN(vqvae.num_codes, config.channels, config.blocks)  # type: ignore[attr-defined]
    prior.load_state_dict(checkpoint["model"])
    return prior.eval(), vqvae  # type: ignore[return-value]


def sample_run(folder: str | os.PathLike, n: int, label: int | None = None,
               seed: int = 0) -> tuple[Any, None]:
    """n images (n, 1, 28, 28) NumPy float32 in [0, 1] of a pixelcnn run: code maps drawn
    from the prior, decoded by its VQ-VAE. (images, None): the models are unconditional."""
    checkpoint = read_run(folder)
    if checkpoint["config"]["model"] == "vqvae":
        raise ConfigError(f"{folder} is a vqvae run: a VQ-VAE alone cannot sample (codes drawn "
                          "uniformly decode to noise). Train its prior first: minigen train "
                          f"pixelcnn --vqvae {folder} --out DIR, then sample DIR")
    if label is not None:
        raise ConfigError("--label needs a conditional model; a pixelcnn run is unconditional")
    check_int("n", n, minimum=1)
    prior, vqvae = load_pixelcnn(folder)
    minigen.manual_seed(seed)
    images = vqvae.decode_codes(prior.sample(n))
    return backend.to_numpy(images.data).astype("float32"), None


# ---------------------------------------------------------------- evaluation
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
            parts = {name: value.item() for name, value in model.loss_parts(x, out).items()}
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
    """The code maps (N, 7, 7) of ``images`` as one array (of the model's array module)."""
    xp = backend.array_module(model.quantizer.codebook.data)
    return xp.concatenate([model.codes(x).data for (x,) in DataLoader((images,), EVAL_BATCH)])


def random_codes(num_codes: int, n: int, seed: int) -> Any:
    """n code maps (n, 7, 7) drawn uniformly from [0, num_codes), seeded."""
    minigen.manual_seed(seed)
    return minigen.randint(0, num_codes, (n, 7, 7))


def mean_confidence(images: Any) -> float:
    """The digit classifier's mean top probability on ``images`` (``minigen.metrics``)."""
    from minigen.metrics import mean_confidence as confidence  # noqa: PLC0415 — loads weights
    return confidence(images)


# ---------------------------------------------------------------- the shared loop
def _run_epoch(loader: DataLoader, step: Callable[[Any], dict[str, Tensor]], desc: str,
               progress: bool) -> tuple[dict[str, float], float, int]:
    """``step(batch)`` on every batch under a tqdm bar; returns the mean of the parts it
    returns (weighted by batch size), the seconds taken and the number of items."""
    from tqdm.auto import tqdm  # noqa: PLC0415 — only training needs it

    start, seen = time.perf_counter(), 0
    totals: dict[str, float] = {}
    bar = tqdm(loader, desc=desc, unit="batch", leave=False, disable=not progress,
               dynamic_ncols=True)
    for batch in bar:
        parts = step(batch[0])
        size = batch[0].shape[0]
        seen += size
        for name, value in parts.items():
            totals[name] = totals.get(name, 0.0) + value.item() * size
        bar.set_postfix({name: f"{total / seen:.3f}" for name, total in totals.items()},
                        items_per_s=f"{seen / (time.perf_counter() - start):.0f}", refresh=False)
    bar.close()
    return {name: total / seen for name, total in totals.items()}, time.perf_counter() - start, seen


def _optimize(model: Any, lr: float, checkpoint: dict[str, Any] | None, out: Path,
              parts_of: Callable[[Tensor], dict[str, Tensor]]
              ) -> tuple[Adam, list[dict[str, Any]], Callable[[Tensor], dict[str, Tensor]]]:
    """Adam on ``model``'s parameters (both as the checkpoint left them when resuming), the
    history so far, and the training step: minimize ``parts_of(batch)["loss"]``. Creates
    ``out`` (everything has been checked by now)."""
    optimizer = Adam(model.parameters(), lr=lr)
    history: list[dict[str, Any]] = []
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        history = list(checkpoint["metrics"])
    out.mkdir(parents=True, exist_ok=True)

    def step(batch: Tensor) -> dict[str, Tensor]:
        optimizer.zero_grad()
        parts = parts_of(batch)
        parts["loss"].backward()
        optimizer.step()
        return parts

    return optimizer, history, step


def _default_log() -> Callable[[str], None]:
    from tqdm.auto import tqdm  # noqa: PLC0415
    return tqdm.write


def _split(dataset: str, config: RunConfig) -> tuple[Any, Any]:
    """The first train_size training and test_size test images of ``dataset``."""
    load = DATASETS[dataset]
    (train_images,) = first_images("train_size", config.train_size, load("train")[0])  # type: ignore[attr-defined]
    (test_images,) = first_images("test_size", config.test_size, load("test")[0])  # type: ignore[attr-defined]
    return train_images, test_images


def _save_run(out: Path, checkpoint: dict[str, Any], summary: dict[str, Any]) -> None:
    save(checkpoint, out / CHECKPOINT)
    write_json(out / METRICS, summary)


def _save_grid(path: Path, images: Any, nrow: int, title: str) -> None:
    write_atomically(path, lambda p: save_image_grid(images, p, nrow=nrow, title=title))


# ---------------------------------------------------------------- the VQ-VAE
def train_vqvae(config: VQVAEConfig, out: str | os.PathLike,
                resume_from: str | os.PathLike | None = None, progress: bool = True,
                log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train (or go on training) a VQ-VAE and write the run into ``out``; returns the
    metrics summary (``metrics.json``). Everything is checked before anything is written."""
    out = Path(out)
    checkpoint = start_run(config, out, resume_from,
                           lambda folder: read_run(folder, config.KIND))
    log = log or _default_log()
    train_images, test_images = _split(config.dataset, config)

    minigen.manual_seed(config.seed)
    model = build_vqvae(config, data_variance=float(train_images.var()))
    optimizer, history, step = _optimize(model, config.lr, checkpoint, out, model.loss_parts)
    summary = _vqvae_summary(config, history)
    for epoch in range(len(history) + 1, config.epochs + 1):
        minigen.manual_seed(config.seed * 10_000 + epoch)
        model.quantizer.reset_usage()
        loader = DataLoader((train_images,), config.batch_size, shuffle=True)
        train_parts, seconds, seen = _run_epoch(loader, step, f"epoch {epoch}/{config.epochs}",
                                                progress)
        train_parts["codes_used"] = model.quantizer.codes_used()
        train_parts["perplexity"] = counts_perplexity(model.quantizer.counts.data)
        test_parts = evaluate_vqvae(model, test_images)
        history.append({"epoch": epoch, "train": train_parts, "test": test_parts,
                        "seconds": seconds, "images_per_second": seen / seconds})
        summary = _vqvae_summary(config, history)
        _save_run(out, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "epoch": epoch, "config": config.to_dict(), "metrics": history},
                  summary)
        _vqvae_pictures(model, out, config, epoch, test_images)
        log(f"epoch {epoch:3d}/{config.epochs}  train loss {train_parts['loss']:.3f}  "
            f"test mse {test_parts['mse']:.4f}, codes used {test_parts['codes_used']}/"
            f"{config.num_codes}, perplexity {test_parts['perplexity']:.1f}  "
            f"{seconds:.1f} s, {seen / seconds:.0f} img/s")
    return summary


def _vqvae_summary(config: VQVAEConfig, history: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {"model": "vqvae", "config": config.to_dict(), "epochs": history}
    if history:
        last = history[-1]["test"]
        summary.update(test_loss=last["loss"], test_mse=last["mse"],
                       test_codes_used=last["codes_used"], test_perplexity=last["perplexity"])
    return summary


def _vqvae_pictures(model: VQVAE, folder: Path, config: VQVAEConfig, epoch: int,
                    test_images: Any) -> None:
    np = backend.np
    shown = test_images[:20]
    rebuilt = backend.to_numpy(model.reconstruct(shown).data)
    pairs = np.concatenate([shown[:10], rebuilt[:10], shown[10:20], rebuilt[10:20]])
    title = f"vqvae, epoch {epoch}"
    _save_grid(folder / RECONSTRUCTIONS, pairs, 10, f"{title}: test images / reconstructions")
    noise = model.decode_codes(random_codes(config.num_codes, 64, config.seed))
    _save_grid(folder / RANDOM_CODES, backend.to_numpy(noise.data), 8,
               f"{title}: uniformly random codes")


# ---------------------------------------------------------------- the PixelCNN prior
def train_pixelcnn(config: PixelCNNConfig, out: str | os.PathLike,
                   resume_from: str | os.PathLike | None = None, progress: bool = True,
                   log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train (or go on training) the PixelCNN prior of the VQ-VAE in ``config.vqvae`` on the
    code maps of its training images; write the run into ``out``; returns the summary."""
    out = Path(out)
    checkpoint = start_run(config, out, resume_from,
                           lambda folder: read_run(folder, config.KIND))
    stored = checkpoint["vqvae"] if checkpoint is not None else read_run(config.vqvae, "vqvae")
    stored = {"config": stored["config"], "model": stored["model"]}
    vqvae, vq_config = _vqvae_from(stored)
    log = log or _default_log()
    train_images, test_images = _split(vq_config.dataset, config)
    train_codes, test_codes = code_maps(vqvae, train_images), code_maps(vqvae, test_images)
    digits = vq_config.dataset == "digits"
    random_confidence = None
    if digits:
        noise = vqvae.decode_codes(random_codes(vqvae.num_codes, CONFIDENCE_SAMPLES, config.seed))
        random_confidence = mean_confidence(noise)

    minigen.manual_seed(config.seed)
    prior = PixelCNN(vqvae.num_codes, config.channels, config.blocks)
    optimizer, history, step = _optimize(prior, config.lr, checkpoint, out,
                                         lambda codes: {"loss": prior.loss(codes)})
    summary = _pixelcnn_summary(config, history, random_confidence)
    for epoch in range(len(history) + 1, config.epochs + 1):
        minigen.manual_seed(config.seed * 10_000 + epoch)
        loader = DataLoader((train_codes,), config.batch_size, shuffle=True)
        train_parts, seconds, seen = _run_epoch(loader, step, f"epoch {epoch}/{config.epochs}",
                                                progress)
        with no_grad():
            test_loss = sum(prior.loss(c).item() * c.shape[0]
                            for (c,) in DataLoader((test_codes,), EVAL_BATCH)) / len(test_codes)
        minigen.manual_seed(config.seed)          # the same draws every epoch
        samples = vqvae.decode_codes(prior.sample(max(CONFIDENCE_SAMPLES, 64)))
        record: dict[str, Any] = {"epoch": epoch, "train": train_parts, "test": {"loss": test_loss},
                                  "seconds": seconds, "code_maps_per_second": seen / seconds}
        if digits:
            record["sample_confidence"] = mean_confidence(samples[:CONFIDENCE_SAMPLES])
        history.append(record)
        summary = _pixelcnn_summary(config, history, random_confidence)
        _save_run(out, {"model": prior.state_dict(), "optimizer": optimizer.state_dict(),
                        "vqvae": stored, "epoch": epoch, "config": config.to_dict(),
                        "metrics": history}, summary)
        _save_grid(out / SAMPLES, backend.to_numpy(samples.data)[:64], 8,
                   f"pixelcnn prior, epoch {epoch}: samples")
        confidence = (f", classifier confidence {record['sample_confidence']:.3f} (random codes "
                      f"{random_confidence:.3f})" if digits else "")
        log(f"epoch {epoch:3d}/{config.epochs}  train {train_parts['loss']:.3f}  test "
            f"{test_loss:.3f} nats/code{confidence}  {seconds:.1f} s")
    return summary


def _pixelcnn_summary(config: PixelCNNConfig, history: list[dict[str, Any]],
                      random_confidence: float | None) -> dict[str, Any]:
    summary: dict[str, Any] = {"model": "pixelcnn", "config": config.to_dict(), "epochs": history,
                               "random_codes_confidence": random_confidence}
    if history:
        summary["test_loss"] = history[-1]["test"]["loss"]
        summary["sample_confidence"] = history[-1].get("sample_confidence")
    return summary


# ---------------------------------------------------------------- the command line
TRAINERS: dict[str, Callable[..., dict[str, Any]]] = {"vqvae": train_vqvae,
                                                      "pixelcnn": train_pixelcnn}
_OPTIONS: dict[str, tuple[str, ...]] = {
    "vqvae": ("epochs", "batch_size", "lr", "num_codes", "code_dim", "beta", "ema",
              "restart_dead", "seed", "dataset", "train_size", "test_size"),
    "pixelcnn": ("vqvae", "epochs", "batch_size", "lr", "channels", "blocks", "seed",
                 "train_size", "test_size"),
}


def add_train_command(commands: Any, name: str) -> None:
    """Add ``minigen train <name>`` (``vqvae`` or ``pixelcnn``) to the argparse subparsers
    ``commands``; ``args.run(args)`` then trains and returns the exit status."""
    if name not in CONFIGS:
        raise ValueError(f"add_train_command: unknown model {name!r}; choose from "
                         f"{', '.join(TRAIN_MODELS)}")
    d = CONFIGS[name]()
    if name == "vqvae":
        parser = commands.add_parser(
            "vqvae", help="train a VQ-VAE (discrete 7x7 codes); write a run folder",
            description="Train a VQ-VAE on the embedded 28x28 images: a 7x7 map of codes "
                        "from a learned codebook.")
        parser.add_argument("--num-codes", type=int, default=None,
                            help=f"codebook size K (default {d.num_codes})")
        parser.add_argument("--code-dim", type=int, default=None,
                            help=f"code size D (default {d.code_dim})")
        parser.add_argument("--beta", type=float, default=None,
                            help=f"commitment cost (default {d.beta:g})")
        parser.add_argument("--ema", action="store_true", default=None,
                            help="learn the codebook by moving averages, not by its loss")
        parser.add_argument("--restart-dead", type=int, default=None, metavar="R",
                            help="restart codes unused for R batches; 0: never "
                                 f"(default {d.restart_dead})")
        parser.add_argument("--dataset", choices=list(DATASETS), default=None,
                            help=f"the embedded data set (default {d.dataset})")
    else:
        parser = commands.add_parser(
            "pixelcnn", help="train the PixelCNN prior of a VQ-VAE run; write a run folder",
            description="Train a PixelCNN prior over the code maps of a trained VQ-VAE, so "
                        "that sampling codes and decoding them draws new images.")
        parser.add_argument("--vqvae", default=None, metavar="DIR",
                            help="the vqvae run folder (required unless --resume)")
        parser.add_argument("--channels", type=int, default=None,
                            help=f"width of the network (default {d.channels})")
        parser.add_argument("--blocks", type=int, default=None,
                            help=f"masked residual blocks (default {d.blocks})")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"total epochs to train to (default {d.epochs})")
    parser.add_argument("--batch-size", type=int, default=None,
                        help=f"items per batch (default {d.batch_size})")
    parser.add_argument("--lr", type=float, default=None,
                        help=f"Adam's learning rate (default {d.lr:g})")
    parser.add_argument("--seed", type=int, default=None, help=f"seed (default {d.seed})")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"the run folder to write (default runs/{name}, or the --resume "
                             "folder)")
    parser.add_argument("--resume", type=Path, default=None, metavar="DIR",
                        help="go on training the run in DIR (same config, up to --epochs)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--train-size", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--test-size", type=int, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(run=lambda args: run_command(name, args))


def config_from_args(name: str, args: argparse.Namespace) -> RunConfig:
    """The run's config: the checkpoint's (when resuming) or the defaults, overridden by the
    options given."""
    cls = CONFIGS[name]
    given = {o: getattr(args, o) for o in _OPTIONS[name] if getattr(args, o, None) is not None}
    if "vqvae" in given:
        given["vqvae"] = str(given["vqvae"])
    if args.resume is None:
        return cls(**given)
    values = cls.from_dict(read_run(args.resume, name)["config"]).to_dict()
    values["epochs"] = cls().epochs           # a resumed run trains to the --epochs asked for
    values.update(given)                      # the trainer refuses any other change
    return cls.from_dict(values)


def run_command(name: str, args: argparse.Namespace) -> int:
    """``minigen train vqvae|pixelcnn``: train, print a one-line summary, return 0 (130 when
    interrupted). Bad arguments raise ConfigError before anything is written."""
    config = config_from_args(name, args)
    out = args.out or args.resume or Path("runs") / name
    try:
        summary = TRAINERS[name](config, out, resume_from=args.resume,
                                 progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"\nminigen: interrupted; every finished epoch is saved in {out} "
              f"(go on with: minigen train {name} --resume {out})", file=sys.stderr)
        return EXIT_INTERRUPTED
    epochs = len(summary["epochs"])
    if name == "vqvae":
        print(f"test MSE {summary['test_mse']:.4f} per pixel, {summary['test_codes_used']}/"
              f"{config.num_codes} codes used, perplexity {summary['test_perplexity']:.1f} "  # type: ignore[attr-defined]
              f"after {epochs} epochs (run in {out})")
    else:
        text = f"test {summary['test_loss']:.3f} nats/code after {epochs} epochs"
        if summary.get("sample_confidence") is not None:
            text += (f", classifier confidence {summary['sample_confidence']:.3f} on samples vs "
                     f"{summary['random_codes_confidence']:.3f} on random codes")
        print(f"{text} (run in {out})")
    return 0
