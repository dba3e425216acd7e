"""Train a CycleGAN between two unpaired digit domains: ``minigen train cyclegan``.

The domains (``--domains``, see ``minigen.data.unpaired``): ``thin-thick`` (the default;
the true translation of a test digit is known), ``handwritten-typeset`` and
``digits-negatives`` (a smoke test; its identity loss is off by default: G(y) ≈ y asks
the inverter not to invert).

A training *run* lives in one folder::

    checkpoint.npz     minigen.save({"model" (g, f, d_x, d_y), "opt_g", "opt_d", "pools",
                       "epoch", "config", "metrics"})
    metrics.json       the config, the reference values of the untranslated test sets, and
                       per epoch: the mean training losses, seconds, images/s, the lr and
                       the test metrics below
    translations.png   test images x, G(x), F(G(x)) (rows 1-3) and y, F(y), G(F(y)) (rows 4-6)

all rewritten atomically after every epoch. The test metrics (pixels in [0, 1]):

* ``label_x_to_y`` / ``label_y_to_x``: label preservation, how often the digit classifier
  reads the source digit's class in its translation G(x) / F(y);
* ``cycle_mae_x`` / ``cycle_mae_y``: mean |F(G(x)) - x| and |G(F(y)) - y|;
* ``translation_mae`` (paired domains only): mean |G(x) - T(x)| against the true
  translation, to compare with ``reference.untranslated_mae`` = mean |x - T(x)|.

The schedule of the paper: Adam (lr 2e-4, betas (0.5, 0.999)) for both generators and
both discriminators, the lr constant for ``epochs - decay_epochs`` epochs, then decaying
linearly (a function of the epoch: a run resumed with a larger ``--epochs`` stays
constant longer). Every epoch e starts with ``minigen.manual_seed(seed · 10 000 + e)`` (shuffling
both domains, the image pools' choices), and the pools' images are saved: a run stopped
after epoch k and resumed gives exactly the numbers of a run that never stopped.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import minigen
from minigen import backend, metrics
from minigen.data import DataLoader
from minigen.data.unpaired import DOMAIN_PAIRS, UnpairedDigits, load_unpaired
from minigen.generative import ImagePool
from minigen.grad_mode import no_grad
from minigen.models.cyclegan import CycleGAN, make_optimizers, make_schedulers, training_step
from minigen.models.train_gan import to_signed
from minigen.models.runs import (CHECKPOINT, METRICS, ConfigError, RunConfig, check_choice,
                                 check_int, read_checkpoint, start_run, write_atomically,
                                 write_json)
from minigen.serialization import save
from minigen.viz import save_image_grid

TRAIN_MODELS: tuple[str, ...] = ("cyclegan",)
CHECKPOINT_KEYS = ("model", "opt_g", "opt_d", "pools")
TRANSLATIONS = "translations.png"
EVAL_BATCH = 250
GRID_COLUMNS = 10


@dataclass
class CycleGANConfig(RunConfig):
    """Everything that defines a run. The defaults are those of ``minigen train cyclegan``:
    the small networks of ``minigen.models.cyclegan.SMALL``, sized for 28×28 digits."""

    model: str = "cyclegan"
    domains: str = "thin-thick"        # one of DOMAIN_PAIRS
    epochs: int = 4                    # the total the run trains to (a resumed run too)
    decay_epochs: int = 2              # the last ones, with the lr decaying linearly
    batch_size: int = 16
    ngf: int = 16                      # the generators' first width (then 2·ngf, 4·ngf)
    n_blocks: int = 3                  # residual blocks in each generator
    ndf: int = 16                      # the discriminators' first width
    n_layers: int = 2                  # stride-2 layers of the PatchGANs (2: 34x34 patches)
    lr: float = 2e-4
    lambda_cyc: float = 10.0
    lambda_id: float | None = None     # None: ½ λ_cyc, but 0 for digits-negatives
    pool_size: int = 50
    seed: int = 0
    train_size: int | None = None      # images per domain (None: all 2 000)
    test_size: int | None = None       # test images per domain (None: all 1 000)

    def __post_init__(self) -> None:
        if self.lambda_id is None and isinstance(self.lambda_cyc, (int, float)):
            self.lambda_id = 0.0 if self.domains == "digits-negatives" else 0.5 * self.lambda_cyc

    def check(self) -> None:
        """Raise a ConfigError naming the first bad field (the message reads as a CLI error)."""
        self.check_common(TRAIN_MODELS, positive=("ngf", "n_blocks", "ndf", "n_layers"))
        check_choice("domains", self.domains, DOMAIN_PAIRS)
        for name in ("decay_epochs", "pool_size"):
            check_int(name, getattr(self, name), minimum=0)
        for name, most in (("train_size", 2000), ("test_size", 1000)):
            value = getattr(self, name)
            if value is not None:
                if value > most:
                    raise ConfigError(f"--{name.replace('_', '-')} {value} is larger than the "
                                      f"{most} images there are")
        for name in ("lambda_cyc", "lambda_id"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    value > 0 or (value == 0 and name == "lambda_id")):
                what = "a number >= 0" if name == "lambda_id" else "a positive number"
                raise ConfigError(f"--{name.replace('_', '-')} must be {what}, got {value!r}")
        if self.decay_epochs >= self.epochs:
            raise ConfigError(f"--decay-epochs {self.decay_epochs} must be smaller than --epochs "
                              f"{self.epochs} (the lr decays over the last --decay-epochs)")
        if self.n_layers > 2:
            raise ConfigError(f"--n-layers {self.n_layers}: on 28x28 images at most 2 (3 "
                              "layers leave a 1x1 score map: one patch, the whole image)")


def build_model(config: CycleGANConfig) -> CycleGAN:
    return CycleGAN(1, ngf=config.ngf, n_blocks=config.n_blocks, ndf=config.ndf,
                    n_layers=config.n_layers)


def to_unit(images: Any) -> Any:
    """[-1, 1] -> [0, 1]: y ↦ (y + 1) / 2."""
    return (images + 1.0) * 0.5


def translate(generator: Any, images: Any) -> Any:
    """generator(images) for NumPy images (N, 1, 28, 28) in [0, 1]: NumPy, in [0, 1]."""
    np = backend.np
    parts = []
    with no_grad():
        for start in range(0, len(images), EVAL_BATCH):
            x = minigen.tensor(to_signed(images[start:start + EVAL_BATCH]))
            parts.append(to_unit(generator(x).numpy()))
    return np.concatenate(parts).astype(np.float32)


def _mae(a: Any, b: Any) -> float:
    return float(backend.np.abs(a - b).mean())


def evaluate(model: CycleGAN, data: UnpairedDigits) -> dict[str, float]:
    """The test metrics of the module docstring."""
    fake_y = translate(model.g, data.x_test)
    fake_x = translate(model.f, data.y_test)
    result = {"label_x_to_y": metrics.conditional_accuracy(fake_y, data.x_test_labels),
              "label_y_to_x": metrics.conditional_accuracy(fake_x, data.y_test_labels),
              "cycle_mae_x": _mae(translate(model.f, fake_y), data.x_test),
              "cycle_mae_y": _mae(translate(model.g, fake_x), data.y_test)}
    if data.paired_test:
        result["translation_mae"] = _mae(fake_y, data.y_test)
    return result


def reference_values(data: UnpairedDigits) -> dict[str, float]:
    """The untranslated test sets: what the classifier reads in each (the ceiling of
    label preservation into that domain) and, when paired, mean |x - T(x)|."""
    result = {"classifier_on_x": metrics.conditional_accuracy(data.x_test, data.x_test_labels),
              "classifier_on_y": metrics.conditional_accuracy(data.y_test, data.y_test_labels)}
    if data.paired_test:
        result["untranslated_mae"] = _mae(data.x_test, data.y_test)
    return result


def write_translations(model: CycleGAN, data: UnpairedDigits, path: Path, title: str) -> None:
    """The grid x, G(x), F(G(x)) / y, F(y), G(F(y)) of the first 10 test images."""
    np = backend.np
    x, y = data.x_test[:GRID_COLUMNS], data.y_test[:GRID_COLUMNS]
    g_x, f_y = translate(model.g, x), translate(model.f, y)
    rows = [x, g_x, translate(model.f, g_x), y, f_y, translate(model.g, f_y)]
    nrow = len(x)
    write_atomically(path, lambda p: save_image_grid(np.concatenate(rows), p, nrow=nrow,
                                                     title=title))


# ---------------------------------------------------------------- run folders
def read_run(folder: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint of the CycleGAN run in ``folder``, checked; a ConfigError says what is wrong."""
    return read_checkpoint(folder, CHECKPOINT_KEYS, CycleGANConfig.check_stored)


def load_run(folder: str | os.PathLike) -> tuple[CycleGAN, dict[str, Any]]:
    """(the trained CycleGAN in eval mode, its checkpoint) from a run folder."""
    checkpoint = read_run(folder)
    model = build_model(CycleGANConfig.from_dict(checkpoint["config"]))
    model.load_state_dict(checkpoint["model"])
    return model.eval(), checkpoint


def sample_run(folder: str | os.PathLike, n: int, label: int | None = None,
               seed: int = 0) -> tuple[Any, None]:
    """G(x) for n test images x of domain X (drawn with ``seed``): (n, 1, 28, 28) NumPy
    float32 in [0, 1], and None (a translation has no label to ask for)."""
    np = backend.np
    if label is not None:
        raise ConfigError("--label: a CycleGAN translates images of domain X; it takes no label")
    check_int("n", n, minimum=1)
    check_int("seed", seed, minimum=0)
    model, checkpoint = load_run(folder)
    config = CycleGANConfig.from_dict(checkpoint["config"])
    x_test = load_unpaired(config.domains, seed=config.seed).x_test
    rows = np.random.default_rng(seed).choice(len(x_test), size=n, replace=n > len(x_test))
    return translate(model.g, x_test[rows]), None


def metrics_summary(config: CycleGANConfig, reference: dict[str, float],
                    history: list[dict[str, Any]]) -> dict[str, Any]:
    """What ``metrics.json`` holds: the config, the reference values, every epoch, and the
    last test metrics on top."""
    return {"model": "cyclegan", "config": config.to_dict(), "reference": reference,
            "epochs": history, "test": history[-1]["test"] if history else None}


def _pools_state(pools: tuple[ImagePool, ImagePool]) -> dict[str, Any]:
    """The images stored in the pools of domains X and Y, as the checkpoint keeps them."""
    return {name: pool.state_dict()["images"] for name, pool in zip(("x", "y"), pools)}


def _new_pools(size: int, stored: dict[str, Any]) -> tuple[ImagePool, ImagePool]:
    """Pools seeded from minigen's generator (re-seeded every epoch), holding ``stored``."""
    pools = (ImagePool(size), ImagePool(size))
    for pool, name in zip(pools, ("x", "y")):
        pool.load_state_dict({"images": stored[name]})
    return pools


def summary_line(test: dict[str, float], reference: dict[str, float], names: tuple[str, str],
                 epochs: int, out: Path) -> str:
    x, y = names
    text = (f"label preservation {x}->{y} {test['label_x_to_y']:.1%}, {y}->{x} "
            f"{test['label_y_to_x']:.1%}; cycle MAE {test['cycle_mae_x']:.3f} / "
            f"{test['cycle_mae_y']:.3f}")
    if "translation_mae" in test:
        text += (f"; MAE to the true {y} {test['translation_mae']:.3f} (untranslated "
                 f"{reference['untranslated_mae']:.3f})")
    return text + f" after {epochs} epochs (run in {out})"


# ---------------------------------------------------------------- training
def train(config: CycleGANConfig, out: str | os.PathLike,
          resume_from: str | os.PathLike | None = None, progress: bool = True,
          log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train (or, with ``resume_from``, go on training) and write the run into ``out``.

    Everything is checked before anything is written: the config, ``out``, and the
    checkpoint to resume (its config must equal ``config`` except for ``epochs``, which
    must exceed the epochs already done). Returns the metrics summary (``metrics.json``).
    """
    from tqdm.auto import tqdm  # noqa: PLC0415 — only training needs it

    out = Path(out)
    checkpoint = start_run(config, out, resume_from, read_run)
    log = tqdm.write if log is None else log

    data = load_unpaired(config.domains, seed=config.seed, train_size=config.train_size,
                         test_size=config.test_size)
    reference = reference_values(data)
    x_train, y_train = to_signed(data.x_train), to_signed(data.y_train)    # [-1, 1]

    minigen.manual_seed(config.seed)
    model = build_model(config)
    opt_g, opt_d = make_optimizers(model, lr=config.lr)
    # Created before an optimizer state is loaded: their base lr is config.lr.
    schedulers = make_schedulers((opt_g, opt_d), config.epochs - config.decay_epochs,
                                 config.decay_epochs)
    stored = _pools_state((ImagePool(0), ImagePool(0)))
    history: list[dict[str, Any]] = []
    first_epoch = 1
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        opt_g.load_state_dict(checkpoint["opt_g"])
        opt_d.load_state_dict(checkpoint["opt_d"])
        for scheduler in schedulers:          # the lr is a function of the epoch (and of
            for _ in range(checkpoint["epoch"]):   # --epochs, which a resumed run may raise)
                scheduler.step()
        stored = checkpoint["pools"]
        history = list(checkpoint["metrics"])
        first_epoch = checkpoint["epoch"] + 1
    out.mkdir(parents=True, exist_ok=True)

    summary = metrics_summary(config, reference, history)
    x_name, y_name = data.names
    for epoch in range(first_epoch, config.epochs + 1):
        minigen.manual_seed(config.seed * 10_000 + epoch)
        pools = _new_pools(config.pool_size, stored)
        # Two loaders, each with its own order: batch i of X meets an unrelated batch of Y.
        loader_x = DataLoader((x_train,), config.batch_size, shuffle=True, drop_last=True)
        loader_y = DataLoader((y_train,), config.batch_size, shuffle=True, drop_last=True)
        lr = opt_g.lr
        start = time.perf_counter()
        totals: dict[str, float] = {}
        steps = 0
        bar = tqdm(zip(loader_x, loader_y), total=min(len(loader_x), len(loader_y)),
                   desc=f"epoch {epoch}/{config.epochs}", unit="batch", leave=False,
                   disable=not progress, dynamic_ncols=True)
        for (x,), (y,) in bar:
            parts = training_step(model, opt_g, opt_d, x, y, *pools, config.lambda_cyc,
                                  config.lambda_id)
            steps += 1
            for name, value in parts.items():
                totals[name] = totals.get(name, 0.0) + value
            bar.set_postfix({k: f"{totals[k] / steps:.3f}" for k in ("cycle", "d_x", "d_y")},
                            img_per_s=f"{steps * config.batch_size / (time.perf_counter() - start):.0f}",
                            refresh=False)
        bar.close()
        for scheduler in schedulers:
            scheduler.step()
        seconds = time.perf_counter() - start
        stored = _pools_state(pools)
        test = evaluate(model, data)
        history.append({"epoch": epoch, "train": {k: v / max(steps, 1) for k, v in totals.items()},
                        "test": test, "lr": lr, "seconds": seconds,
                        "images_per_second": 2 * steps * config.batch_size / seconds})

        # ---- write the run: checkpoint, metrics, pictures (each atomically)
        summary = metrics_summary(config, reference, history)
        save({"model": model.state_dict(), "opt_g": opt_g.state_dict(),
              "opt_d": opt_d.state_dict(), "pools": stored, "epoch": epoch,
              "config": config.to_dict(), "metrics": history}, out / CHECKPOINT)
        write_json(out / METRICS, summary)
        write_translations(model, data, out / TRANSLATIONS,
                           f"epoch {epoch}: {x_name} -> {y_name} -> {x_name} (rows 1-3), "
                           f"{y_name} -> {x_name} -> {y_name} (rows 4-6)")
        text = (f"epoch {epoch:3d}/{config.epochs}  cycle {totals.get('cycle', 0) / max(steps, 1):.3f}"
                f"  labels {x_name}->{y_name} {test['label_x_to_y']:.1%} {y_name}->{x_name} "
                f"{test['label_y_to_x']:.1%}  cycle MAE {test['cycle_mae_x']:.3f}/"
                f"{test['cycle_mae_y']:.3f}")
        if "translation_mae" in test:
            text += f"  MAE {test['translation_mae']:.3f} (vs {reference['untranslated_mae']:.3f})"
        log(text + f"  {seconds:.0f} s")
    return summary


# ---------------------------------------------------------------- the command line
_FIELDS = tuple(f.name for f in dataclasses.fields(CycleGANConfig) if f.name != "model")
_HELP = {
    "domains": "the two unpaired domains X-Y",
    "epochs": "total epochs to train to",
    "decay_epochs": "the last epochs, over which the lr decays linearly towards 0",
    "batch_size": "images of each domain per batch",
    "ngf": "the generators' first width k (then 2k and 4k)",
    "n_blocks": "residual blocks per generator",
    "ndf": "the discriminators' first width",
    "n_layers": "stride-2 layers of the PatchGANs (1: 16x16 patches, 2: 34x34)",
    "lr": "Adam's learning rate (betas 0.5, 0.999)",
    "lambda_cyc": "weight of the cycle-consistency loss",
    "lambda_id": "weight of the identity loss (default: half of --lambda-cyc, 0 for "
                 "digits-negatives)",
    "pool_size": "fakes kept in each image pool (0: no pool)",
    "seed": "seed of the initialization, the domains' split and the shuffling",
}


def config_from_args(args: argparse.Namespace) -> CycleGANConfig:
    """The run's config: the checkpoint's (when resuming) or the defaults, overridden by
    the options given on the command line (checked by ``train``)."""
    given = {f: getattr(args, f) for f in _FIELDS if getattr(args, f, None) is not None}
    if args.resume is not None:
        values = CycleGANConfig.from_dict(read_run(args.resume)["config"]).to_dict()
        values["epochs"] = CycleGANConfig().epochs   # the total asked for (default: the default)
        values.update(given)                         # train() refuses any other change
        return CycleGANConfig(**values)
    return CycleGANConfig(**given)


def add_train_command(commands: Any, name: str) -> None:
    """Add ``minigen train cyclegan`` to the argparse subparsers ``commands``; its ``run``
    default trains and returns the exit status."""
    check_choice("model", name, TRAIN_MODELS)
    d = CycleGANConfig()
    p = commands.add_parser(name, help="CycleGAN: translate between two unpaired digit domains",
                            description="Train a CycleGAN (two generators, two PatchGAN "
                                        "discriminators) between two unpaired domains made "
                                        "from the embedded 28x28 digits.")
    types = {"domains": str, "lr": float, "lambda_cyc": float, "lambda_id": float}
    for field in _FIELDS:
        if field in ("train_size", "test_size"):
            p.add_argument("--" + field.replace("_", "-"), type=int, help=argparse.SUPPRESS)
            continue
        help_text = _HELP[field] if field == "lambda_id" else f"{_HELP[field]} (default {getattr(d, field)})"
        kwargs: dict[str, Any] = {"choices": list(DOMAIN_PAIRS)} if field == "domains" else {}
        p.add_argument("--" + field.replace("_", "-"), type=types.get(field, int), help=help_text,
                       **kwargs)
    p.add_argument("--out", type=Path, help="the run folder to write (default runs/cyclegan, or "
                                            "the --resume folder)")
    p.add_argument("--resume", type=Path, metavar="DIR",
                   help="go on training the run in DIR (same config, up to --epochs in total)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    """``minigen train cyclegan``: train, print the final metrics in one line; 130 on Ctrl-C."""
    config = config_from_args(args)
    out = args.out or args.resume or Path("runs") / "cyclegan"
    try:
        summary = train(config, out, resume_from=args.resume, progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"\nminigen: interrupted; every finished epoch is saved in {out} "
              f"(go on with: minigen train cyclegan --resume {out})", file=sys.stderr)
        return 130
    print(summary_line(summary["test"], summary["reference"], DOMAIN_PAIRS[config.domains],
                       len(summary["epochs"]), out))
    return 0
