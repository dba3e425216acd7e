"""Train an ``Autoencoder``, a ``VAE`` or a ``CVAE`` on the embedded images: ``minigen train``.

A training *run* lives in one folder::

    checkpoint.npz       minigen.save({"model", "optimizer", "epoch", "config", "metrics"})
    metrics.json         per epoch: train and test loss parts, seconds, images/s
                         (+ "test_neg_elbo" of the last epoch for vae and cvae)
    reconstructions.png  test images (rows 1, 3) above their reconstructions (rows 2, 4)
    samples.png          images decoded from z ~ N(0, I) (cvae: row c asks for class c)

All four are rewritten after every epoch, each atomically (a new file renamed over the
old), so the folder always describes one finished epoch and an interrupted run can go
on from it (``train(..., resume_from=folder)``).

The losses, each a mean over the images of a batch:

* ``ae``:  BCE-with-logits summed over the 784 pixels: Σ_p softplus(s_p) - x_p s_p.
* ``vae``, ``cvae``: the negative ELBO, ``elbo_loss``: that BCE + KL(q(z|x) || N(0, I)),
  reported as its parts ``reconstruction`` and ``kl``.

Every epoch e starts with ``minigen.manual_seed(seed · 10 000 + e)`` (shuffling, the noise
ε of the VAE): a run stopped after epoch k and resumed gives exactly the numbers of a run
that never stopped.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import minigen
from minigen import backend, nn
from minigen.data import DataLoader, load_digits, load_fashion
from minigen.functional import binary_cross_entropy_with_logits
from minigen.generative import elbo_loss
from minigen.grad_mode import no_grad
from minigen.models.autoencoders import CVAE, NUM_CLASSES, VAE, Autoencoder
from minigen.models.runs import (CHECKPOINT, METRICS, ConfigError, RunConfig, check_choice,
                                 first_images, start_run, write_atomically, write_json)
from minigen.models.runs import read_checkpoint as read_any_checkpoint
from minigen.optim import Adam
from minigen.serialization import save
from minigen.tensor import Tensor
from minigen.viz import save_image_grid

MODELS: dict[str, type[nn.Module]] = {"ae": Autoencoder, "vae": VAE, "cvae": CVAE}
DATASETS: dict[str, Callable[[str], tuple[Any, Any]]] = {"digits": load_digits,
                                                        "fashion": load_fashion}
RECONSTRUCTIONS = "reconstructions.png"
SAMPLES = "samples.png"
EVAL_BATCH = 500
DEFAULT_LATENT_DIM = {"ae": 16, "vae": 16, "cvae": 2}   # see TrainConfig


@dataclass
class TrainConfig(RunConfig):
    """Everything that defines a run. The defaults are those of ``minigen train``.

    40 epochs: with these settings the VAE's test negative ELBO is about 114 nats/image
    after 20 epochs, 112 after 30 and 111 after 40 (1-2 minutes on a 2-core CPU).

    The latent size is 16 for ``ae`` and ``vae`` but 2 for ``cvae`` (``DEFAULT_LATENT_DIM``):
    with 16 dimensions the CVAE's z also learns the class (digits decoded with another
    label keep their own class), so only ~57 % of its samples show the class asked for
    after 40 epochs; with 2 dimensions z has room only for the style (slant, width), the
    decoder must take the class from the label, and ~96 % do.
    """

    model: str = "vae"               # "ae", "vae" or "cvae"
    epochs: int = 40                 # the total the run trains to (a resumed run too)
    batch_size: int = 64
    latent_dim: int | None = None    # None: DEFAULT_LATENT_DIM[model]
    lr: float = 1e-3                 # Adam's learning rate
    seed: int = 0
    dataset: str = "digits"          # "digits" or "fashion"
    train_size: int | None = None    # use only the first N training images (None: all 4 000)
    test_size: int | None = None     # evaluate on the first N test images (None: all 1 000)

    def __post_init__(self) -> None:
        if self.latent_dim is None:
            self.latent_dim = DEFAULT_LATENT_DIM.get(self.model, 16)

    def check(self) -> None:
        """Raise a ConfigError naming the first bad field (the message reads as a CLI error)."""
        self.check_common(MODELS, positive=("latent_dim",))
        check_choice("dataset", self.dataset, DATASETS)


# ---------------------------------------------------------------- the model and its loss
def build_model(name: str, latent_dim: int) -> nn.Module:
    """A fresh ``Autoencoder`` ("ae"), ``VAE`` ("vae") or ``CVAE`` ("cvae")."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    return MODELS[name](latent_dim)


def loss_parts(model: nn.Module, x: Tensor, labels: Tensor) -> dict[str, Tensor]:
    """The loss of a batch x (N, 1, 28, 28), labels (N,), and its parts (means over the batch).

    ``"loss"`` (what to minimize) comes first; VAEs add ``"reconstruction"`` and ``"kl"``.
    """
    n = x.shape[0]
    if isinstance(model, Autoencoder):
        logits = model(x)                                                        # (N, 1, 28, 28)
        bce = binary_cross_entropy_with_logits(logits, x, reduction="sum") * (1.0 / n)
        return {"loss": bce}                     # Σ over pixels, mean over images
    if isinstance(model, CVAE):
        logits, mu, logvar = model(x, labels)
    else:
        logits, mu, logvar = model(x)
    elbo = elbo_loss(logits, x, mu, logvar)      # -ELBO = reconstruction + KL
    return {"loss": elbo.loss, "reconstruction": elbo.reconstruction, "kl": elbo.kl}


def evaluate(model: nn.Module, images: Any, labels: Any) -> dict[str, float]:
    """The mean loss parts over all ``images`` (N, 1, 28, 28) with their ``labels`` (N,)."""
    model.eval()
    totals: dict[str, float] = {}
    with no_grad():
        for x, y in DataLoader((images, labels), EVAL_BATCH):
            for name, value in loss_parts(model, x, y).items():
                totals[name] = totals.get(name, 0.0) + value.item() * x.shape[0]
    model.train()
    return {name: total / len(images) for name, total in totals.items()}


def sample_images(model: nn.Module, n: int, labels: Any = None) -> tuple[Any, Any]:
    """``n`` samples as NumPy arrays: (images (n, 1, 28, 28) in [0, 1], labels (n,) or None).

    Conditional models get ``labels`` (default: the classes in turn, ``CVAE.sample_labels``).
    """
    model.eval()
    if isinstance(model, CVAE):
        labels = model.sample_labels(n) if labels is None else labels
        images = model.sample(n, labels)
        return images.numpy(), backend.to_numpy(labels).astype("int64")
    if labels is not None:
        raise ValueError(f"{type(model).__name__} is not conditional: it takes no labels")
    return model.sample(n).numpy(), None


# ---------------------------------------------------------------- run folders
def read_checkpoint(folder: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint of the autoencoder run in ``folder``, checked; a ConfigError says what
    is wrong."""
    return read_any_checkpoint(folder, ("model", "optimizer"), TrainConfig.check_stored)


def load_run(folder: str | os.PathLike) -> tuple[nn.Module, dict[str, Any]]:
    """(the trained model in eval mode, its checkpoint) from a run folder."""
    checkpoint = read_checkpoint(folder)
    config = TrainConfig.from_dict(checkpoint["config"])
    model = build_model(config.model, config.latent_dim)
    model.load_state_dict(checkpoint["model"])
    return model.eval(), checkpoint


def metrics_summary(config: TrainConfig, history: list[dict[str, Any]]) -> dict[str, Any]:
    """What ``metrics.json`` holds: the config, every epoch, and the last test loss on top."""
    summary: dict[str, Any] = {"model": config.model, "config": config.to_dict(),
                               "epochs": history}
    if history:
        summary["test_loss"] = history[-1]["test"]["loss"]
        if config.model in ("vae", "cvae"):
            summary["test_neg_elbo"] = history[-1]["test"]["loss"]   # nats per image
    return summary


def _write_pictures(model: nn.Module, folder: Path, config: TrainConfig, epoch: int,
                    test_images: Any, test_labels: Any) -> None:
    """reconstructions.png (20 test images over their reconstructions) and samples.png."""
    np = backend.np
    x = minigen.tensor(test_images[:20])
    y = test_labels[:20]
    if isinstance(model, CVAE):
        rebuilt = model.reconstruct(x, y).numpy()
    else:
        rebuilt = model.reconstruct(x).numpy()
    pairs = np.concatenate([test_images[:10], rebuilt[:10], test_images[10:20], rebuilt[10:20]])
    title = f"{config.model}, epoch {epoch}"
    write_atomically(folder / RECONSTRUCTIONS, lambda p: save_image_grid(
        pairs, p, nrow=10, title=f"{title}: test images / reconstructions"))
    minigen.manual_seed(config.seed)     # the same z in every epoch: watch the samples improve
    if isinstance(model, CVAE):
        labels = np.repeat(np.arange(model.num_classes), 10)              # row c: class c
        images, _ = sample_images(model, len(labels), labels)
        nrow = 10
    else:
        images, _ = sample_images(model, 64)
        nrow = 8
    write_atomically(folder / SAMPLES, lambda p: save_image_grid(
        images, p, nrow=nrow, title=f"{title}: samples, z ~ N(0, I)"))
    model.train()


def _format_parts(parts: dict[str, float]) -> str:
    text = f"{parts['loss']:.2f}"
    if "kl" in parts:
        text += f" (rec {parts['reconstruction']:.2f}, kl {parts['kl']:.2f})"
    return text


# ---------------------------------------------------------------- training
def train(config: TrainConfig, out: str | os.PathLike, resume_from: str | os.PathLike | None = None,
          progress: bool = True, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train (or, with ``resume_from``, go on training) and write the run into ``out``.

    Everything is checked before anything is written: the config, ``out``, and the
    checkpoint to resume (its config must equal ``config`` except for ``epochs``, which
    must exceed the epochs already done). Returns the metrics summary (``metrics.json``).

    Args:
        config: the run's settings.
        out: the run folder (created if missing).
        resume_from: a run folder whose checkpoint training continues from; may be ``out``.
        progress: show a tqdm progress bar per epoch (on stderr).
        log: where the one-line summaries go (default: printed above the progress bar).
    """
    from tqdm.auto import tqdm  # noqa: PLC0415 — only training needs it

    out = Path(out)
    checkpoint = start_run(config, out, resume_from, read_checkpoint)
    log = tqdm.write if log is None else log

    # ---- data: the first train_size / test_size images of the fixed splits
    load_split = DATASETS[config.dataset]
    train_images, train_labels = load_split("train")
    test_images, test_labels = load_split("test")
    train_images, train_labels = first_images("train_size", config.train_size,
                                              train_images, train_labels)
    test_images, test_labels = first_images("test_size", config.test_size,
                                            test_images, test_labels)

    # ---- model and optimizer: fresh, or as the checkpoint left them
    minigen.manual_seed(config.seed)
    model = build_model(config.model, config.latent_dim)
    optimizer = Adam(model.parameters(), lr=config.lr)
    history: list[dict[str, Any]] = []
    first_epoch = 1
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        history = list(checkpoint["metrics"])
        first_epoch = checkpoint["epoch"] + 1
    out.mkdir(parents=True, exist_ok=True)

    summary = metrics_summary(config, history)
    for epoch in range(first_epoch, config.epochs + 1):
        minigen.manual_seed(config.seed * 10_000 + epoch)
        loader = DataLoader((train_images, train_labels), config.batch_size, shuffle=True)
        start = time.perf_counter()
        totals: dict[str, float] = {}
        seen = 0
        bar = tqdm(loader, desc=f"epoch {epoch}/{config.epochs}", unit="batch", leave=False,
                   disable=not progress, dynamic_ncols=True)
        for x, y in bar:
            optimizer.zero_grad()
            parts = loss_parts(model, x, y)
            parts["loss"].backward()
            optimizer.step()
            seen += x.shape[0]
            for name, value in parts.items():
                totals[name] = totals.get(name, 0.0) + value.item() * x.shape[0]
            running = {name: f"{total / seen:.2f}" for name, total in totals.items()}
            bar.set_postfix(running, img_per_s=f"{seen / (time.perf_counter() - start):.0f}",
                            refresh=False)
        bar.close()
        seconds = time.perf_counter() - start
        train_parts = {name: total / seen for name, total in totals.items()}
        test_parts = evaluate(model, test_images, test_labels)
        history.append({"epoch": epoch, "train": train_parts, "test": test_parts,
                        "seconds": seconds, "images_per_second": seen / seconds})

        # ---- write the run: checkpoint, metrics, pictures (each atomically)
        summary = metrics_summary(config, history)
        save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
              "config": config.to_dict(), "metrics": history}, out / CHECKPOINT)
        write_json(out / METRICS, summary)
        _write_pictures(model, out, config, epoch, test_images, test_labels)
        log(f"epoch {epoch:3d}/{config.epochs}  train {_format_parts(train_parts)}  "
            f"test {_format_parts(test_parts)}  {seconds:.1f} s, {seen / seconds:.0f} img/s")
    return summary


# ---------------------------------------------------------------- the command line
TRAIN_MODELS = tuple(MODELS)
_DESCRIPTIONS = {"ae": "an autoencoder: reconstruction BCE",
                 "vae": "a variational autoencoder: the negative ELBO",
                 "cvae": "a conditional VAE told the class: the negative ELBO"}
_CONFIG_FIELDS = ("epochs", "batch_size", "latent_dim", "lr", "seed", "dataset",
                  "train_size", "test_size")


def add_train_command(commands: Any, name: str) -> None:
    """Add ``minigen train <name>`` (``ae``, ``vae`` or ``cvae``) to the subparsers ``commands``."""
    import argparse  # noqa: PLC0415 — only the command line needs it

    defaults = TrainConfig(model=name)
    parser = commands.add_parser(name, help=f"train {_DESCRIPTIONS[name]}",
                                 description=f"Train {_DESCRIPTIONS[name]}, on the embedded "
                                             "28x28 images; write a run folder.")
    # None = not given: a resumed run takes its values from the checkpoint.
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"total epochs to train to (default {defaults.epochs})")
    parser.add_argument("--batch-size", type=int, default=None,
                        help=f"images per batch (default {defaults.batch_size})")
    parser.add_argument("--latent-dim", type=int, default=None,
                        help=f"size D of the code z (default {defaults.latent_dim})")
    parser.add_argument("--lr", type=float, default=None,
                        help=f"Adam's learning rate (default {defaults.lr:g})")
    parser.add_argument("--seed", type=int, default=None,
                        help=f"seed of the initialization, shuffling and noise "
                             f"(default {defaults.seed})")
    parser.add_argument("--dataset", choices=list(DATASETS), default=None,
                        help=f"the embedded data set (default {defaults.dataset})")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"the run folder to write (default runs/{name}, or the --resume "
                             "folder)")
    parser.add_argument("--resume", type=Path, default=None, metavar="DIR",
                        help="go on training the run in DIR (same config, up to --epochs in "
                             "total)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--train-size", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--test-size", type=int, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(run=_run_command)


def _command_config(args: Any) -> TrainConfig:
    """The run's config: the checkpoint's (when resuming) or the defaults, overridden by the
    options given on the command line."""
    given = {name: getattr(args, name) for name in _CONFIG_FIELDS
             if getattr(args, name) is not None}
    if args.resume is not None:
        stored = TrainConfig.from_dict(read_checkpoint(args.resume)["config"])
        if args.model != stored.model:
            raise ConfigError(f"the run in {args.resume} is a {stored.model}, not a {args.model}")
        values = stored.to_dict()
        values["epochs"] = TrainConfig().epochs   # a resumed run trains to the --epochs asked for
        values.update(given)                      # train() refuses any other change
        return TrainConfig(**values)
    return TrainConfig(model=args.model, **given)


def _run_command(args: Any) -> int:
    """``minigen train ae|vae|cvae``: train, then print the final test loss."""
    import sys  # noqa: PLC0415

    config = _command_config(args)
    out = args.out or args.resume or Path("runs") / config.model
    try:
        summary = train(config, out, resume_from=args.resume, progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"\nminigen: interrupted; every finished epoch is saved in {out} "
              f"(go on with: minigen train {config.model} --resume {out})", file=sys.stderr)
        return 130
    epochs = len(summary["epochs"])
    if "test_neg_elbo" in summary:
        print(f"test negative ELBO {summary['test_neg_elbo']:.2f} nats/image after {epochs} "
              f"epochs (run in {out})")
    else:
        print(f"test reconstruction BCE {summary['test_loss']:.2f} nats/image after {epochs} "
              f"epochs (run in {out})")
    return 0


def sample_run(folder: str | os.PathLike, n: int, label: int | None,
               seed: int) -> tuple[Any, Any]:
    """``n`` images (n, 1, 28, 28) in [0, 1] drawn from the run in ``folder``, and their
    labels (a cvae: all ``label``, or the classes in turn if None; otherwise None)."""
    np = backend.np
    config = TrainConfig.from_dict(read_checkpoint(folder)["config"])
    labels = None
    if label is not None:
        if config.model != "cvae":
            raise ConfigError(f"--label needs a conditional model; the run in {folder} is a "
                              f"{config.model}")
        if not 0 <= label < NUM_CLASSES:
            raise ConfigError(f"--label must be a class from 0 to {NUM_CLASSES - 1}, got {label}")
        labels = np.full(n, label, dtype=np.int64)
    model, _ = load_run(folder)
    minigen.manual_seed(seed)
    return sample_images(model, n, labels)
