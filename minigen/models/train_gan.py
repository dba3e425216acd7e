"""Train a GAN on the embedded digits: ``minigen train {gan,dcgan,cgan,wgan-gp}``.

| model   | players (``minigen.models.gans``)                | losses            | Adam        |
|---------|--------------------------------------------------|-------------------|-------------|
| gan     | MLPGenerator / MLPDiscriminator                  | BCE, non-sat. G   | 2e-4, (.5, .999) |
| dcgan   | Generator / Discriminator                        | BCE, non-sat. G   | 2e-4, (.5, .999) |
| cgan    | ConditionalGenerator / ConditionalDiscriminator  | BCE, non-sat. G   | 2e-4, (.5, .999) |
| wgan-gp | Generator / Critic                               | Wasserstein + λGP | 1e-4, (0, .9) |

The game, one *round* (``GANTraining.round``): k discriminator steps (k = 1, and 5 for
the WGAN-GP critic), each on a new real batch x and a fake batch G(z) that is
**detached** (D's step must not move G), then one generator step on the last fake batch
judged by the updated D (G's step moves only G: D's parameters are frozen meanwhile).
Every round logs L_D, L_G, D(x) and D(G(z)): the mean of σ(s) over the batch, a
probability, for the BCE losses; the mean raw output for ``lsgan`` and ``wgan-gp``.

A training *run* lives in one folder::

    checkpoint.npz         minigen.save({"generator", "discriminator", "g_optimizer",
                           "d_optimizer", "epoch", "config", "metrics"})
    metrics.json           the config; the real digits' reference values; per epoch the
                           means of the step logs, seconds, and the sample metrics (class
                           histogram, KL to uniform, Inception Score, FDD; cgan: conditional
                           accuracy); every step's L_D, L_G, D(x), D(G(z)) under "steps";
                           and under "final" the metrics of ``final_samples`` samples
    samples_EEE.png        the generator's images of a FIXED noise batch after epoch EEE
                           (cgan: row c asks for class c, the same noise in every row)
    samples.png            the same, of the last epoch

All are rewritten atomically after every epoch; every epoch starts with
``minigen.manual_seed(seed · 10 000 + epoch)``, so a run stopped after epoch k and resumed
gives exactly the numbers of a run that never stopped.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import minigen
from minigen import backend, metrics, nn
from minigen.data import DataLoader, load_digits
from minigen.generative import (discriminator_loss, generator_loss, gradient_penalty,
                                lsgan_discriminator_loss, lsgan_generator_loss,
                                wasserstein_critic_loss, wasserstein_generator_loss)
from minigen.models.autoencoders import NUM_CLASSES
from minigen.models.gans import (ConditionalDiscriminator, ConditionalGenerator, Critic,
                                 Discriminator, Generator, MLPDiscriminator, MLPGenerator)
from minigen.models.runs import (CHECKPOINT, METRICS, ConfigError, RunConfig, check_choice,
                                 check_int, check_positive, first_images, flag,
                                 read_checkpoint, start_run, write_atomically, write_json)
from minigen.ops import sigmoid
from minigen.optim import Adam
from minigen.serialization import save
from minigen.tensor import Tensor
from minigen.viz import save_image_grid

TRAIN_MODELS: tuple[str, ...] = ("gan", "dcgan", "cgan", "wgan-gp")
LOSSES = ("bce", "saturating", "lsgan", "wasserstein")
CHECKPOINT_KEYS = ("generator", "discriminator", "g_optimizer", "d_optimizer")
SAMPLES = "samples.png"
LOG_KEYS = ("loss_d", "loss_g", "d_real", "d_fake")
GRID_COLUMNS = 10          # the fixed noise batch: 10 x 10 images

# What each model's fields default to (None in ``GANConfig``); see the table above.
DEFAULTS: dict[str, dict[str, Any]] = {
    "gan": dict(epochs=60, width=256, lr=2e-4, beta1=0.5, beta2=0.999, d_steps=1, loss="bce"),
    "dcgan": dict(epochs=40, width=32, lr=2e-4, beta1=0.5, beta2=0.999, d_steps=1, loss="bce"),
    "cgan": dict(epochs=30, width=64, lr=2e-4, beta1=0.5, beta2=0.999, d_steps=1, loss="bce"),
    "wgan-gp": dict(epochs=80, width=64, lr=1e-4, beta1=0.0, beta2=0.9, d_steps=5,
                    loss="wasserstein", gp_weight=10.0),
}


@dataclass
class GANConfig(RunConfig):
    """Everything that defines a run; fields left None take ``DEFAULTS[model]``.

    ``width`` is C of the DCGAN bodies (C and 2C feature maps), or for ``gan`` the MLP's
    hidden size H (generator Z->H->2H->784, discriminator 784->2H->H->1). ``d_steps`` is
    k, the discriminator (critic) steps per generator step. ``loss``: ``bce`` (the minimax
    game with the non-saturating generator loss), ``saturating`` (the paper's
    log(1 - D(G(z))) for G), ``lsgan`` (least squares) or, for wgan-gp only,
    ``wasserstein``. ``epoch_samples`` samples are judged after every epoch (0: none),
    ``final_samples`` after the last.

    The defaults, measured with 10 000 samples (FDD against the 1 000 test digits, whose
    own FDD to the training digits is 6.6 and an untrained generator's 1 720), in CPU
    time of one core (OpenBLAS on one thread, judging included):

    * dcgan, 40 epochs of batch 32, C = 32: FDD 152, all ten digits, the largest 17.7 %,
      IS 6.0; 5 minutes. (C = 64: FDD 133 in 11.5 minutes.)
    * cgan, 30 epochs, C = 64: 95.8 % of the samples show the class asked for, FDD 20.5,
      IS 9.1; 10 minutes (91 % after 20 epochs).
    * wgan-gp, 80 epochs, C = 64 (5 critic steps per generator step): FDD 150, all ten
      digits, the largest 14.4 % (KL to uniform 0.039, better balanced than the dcgan's
      0.115), IS 5.8; 14 min 52 s on a quiet 2-core machine (two BLAS threads, 10-11 s per
      epoch). After 60 epochs: FDD 176.
    * gan (the 2014 MLPs), 60 epochs: half of the samples are 1s (KL to uniform 0.94,
      FDD 931): the small fully connected GAN collapses, a useful counter-example.
    """

    model: str = "dcgan"
    epochs: int | None = None        # the total the run trains to (a resumed run too)
    batch_size: int = 32             # small batches: more rounds of the game per second
    latent_dim: int = 100
    width: int | None = None
    lr: float | None = None          # Adam's learning rate, both players
    beta1: float | None = None
    beta2: float | None = None
    d_steps: int | None = None
    loss: str | None = None
    gp_weight: float | None = None   # λ of the gradient penalty (wgan-gp only)
    seed: int = 0
    epoch_samples: int = 1000
    final_samples: int = 10_000
    train_size: int | None = None    # use only the first N training images (None: all 4 000)
    test_size: int | None = None     # judge against the first N test images (None: all 1 000)

    def __post_init__(self) -> None:
        for name, value in DEFAULTS.get(self.model, {}).items():
            if getattr(self, name) is None:
                setattr(self, name, value)

    def check(self) -> None:
        """Raise a ConfigError naming the first bad field (the message reads as a CLI error)."""
        self.check_common(TRAIN_MODELS, positive=("latent_dim", "width", "d_steps",
                                                  "final_samples"))
        check_int("epoch_samples", self.epoch_samples, minimum=0)
        if self.batch_size < 2:
            raise ConfigError(f"--batch-size must be at least 2 (batch norm), got "
                              f"{self.batch_size}")
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise ConfigError(f"{flag(name)} must be a number in [0, 1), got {value!r}")
        wgan = self.model == "wgan-gp"
        check_choice("loss", self.loss, ["wasserstein"] if wgan else LOSSES[:3])
        if wgan:
            check_positive("gp_weight", self.gp_weight)
        elif self.gp_weight is not None:
            raise ConfigError(f"--gp-weight applies to wgan-gp only, not to {self.model}")


# ---------------------------------------------------------------- the players
def build_players(config: GANConfig) -> tuple[nn.Module, nn.Module]:
    """A fresh (generator, discriminator) pair for ``config.model``."""
    z, c = config.latent_dim, config.width
    if config.model == "gan":
        return MLPGenerator(z, (c, 2 * c)), MLPDiscriminator((2 * c, c))
    if config.model == "cgan":
        return ConditionalGenerator(z, c), ConditionalDiscriminator(c)
    if config.model == "wgan-gp":
        return Generator(z, c), Critic(c)
    return Generator(z, c), Discriminator(c)


def to_signed(images: Any) -> Any:
    """[0, 1] -> [-1, 1], the range of the generator's tanh: x ↦ 2x - 1."""
    return images * 2.0 - 1.0


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Within the block ``module``'s parameters record no gradient (they are not updated
    and their weight gradients are not even computed), e.g. D during G's step."""
    module.requires_grad_(False)
    try:
        yield
    finally:
        module.requires_grad_(True)


class GANTraining:
    """The two players, their optimizers and the losses: one step of the game at a time.

    >>> import minigen
    >>> minigen.manual_seed(0)
    >>> game = GANTraining(GANConfig("dcgan", latent_dim=8, width=4))
    >>> logs = game.round([(minigen.rand(6, 1, 28, 28) * 2 - 1, None)])
    >>> sorted(logs)
    ['d_fake', 'd_real', 'loss_d', 'loss_g']
    """

    def __init__(self, config: GANConfig) -> None:
        config.check()
        self.config = config
        self.conditional = config.model == "cgan"
        self.generator, self.discriminator = build_players(config)
        betas = (config.beta1, config.beta2)
        self.g_optimizer = Adam(self.generator.parameters(), lr=config.lr, betas=betas)
        self.d_optimizer = Adam(self.discriminator.parameters(), lr=config.lr, betas=betas)

    # ---- the pieces of a round
    def judge(self, images: Tensor, labels: Any) -> Tensor:
        """D's logits (or the critic's scores) for images (N, 1, 28, 28): (N,)."""
        if self.conditional:
            return self.discriminator(images, labels)
        return self.discriminator(images)

    def fake_batch(self, n: int) -> tuple[Tensor, Any]:
        """(G(z) (n, 1, 28, 28) in [-1, 1] with its graph, the labels asked for or None).
        A conditional generator is asked for random classes."""
        z = self.generator.noise(n)                                          # (n, Z)
        if not self.conditional:
            return self.generator(z), None
        xp = backend.array_module(z.data)
        labels = backend.rng(xp).integers(0, NUM_CLASSES, n)                 # (n,)
        return self.generator(z, labels), labels

    def _probability(self, logits: Tensor) -> float:
        """What the logs call D(·): the mean of σ(s) (the raw mean for lsgan/wgan-gp)."""
        if self.config.loss in ("lsgan", "wasserstein"):
            return logits.mean().item()
        return sigmoid(logits).mean().item()

    def discriminator_step(self, real: Tensor, real_labels: Any, fake: Tensor,
                           fake_labels: Any) -> dict[str, float]:
        """One update of D on a real batch and a fake batch; the fake must be detached
        (D's loss must not reach G). Returns loss_d, d_real, d_fake."""
        if fake.requires_grad:
            raise ValueError("discriminator_step: the fake batch must be detached from the "
                             "generator's graph (fake.detach()), or D's step would move G")
        self.d_optimizer.zero_grad()
        s_real, s_fake = self.judge(real, real_labels), self.judge(fake, fake_labels)  # (N,)
        loss = self.d_loss(s_real, s_fake, real, fake)
        loss.backward()
        self.d_optimizer.step()
        return {"loss_d": loss.item(), "d_real": self._probability(s_real),
                "d_fake": self._probability(s_fake)}

    def d_loss(self, s_real: Tensor, s_fake: Tensor, real: Tensor, fake: Tensor) -> Tensor:
        """L_D of the configured loss (WGAN-GP: critic loss + λ·gradient penalty)."""
        if self.config.loss == "wasserstein":
            return (wasserstein_critic_loss(s_real, s_fake)
                    + gradient_penalty(self.discriminator, real, fake, self.config.gp_weight))
        if self.config.loss == "lsgan":
            return lsgan_discriminator_loss(s_real, s_fake)
        return discriminator_loss(s_real, s_fake)

    def g_loss(self, s_fake: Tensor) -> Tensor:
        """L_G of the configured loss."""
        if self.config.loss == "wasserstein":
            return wasserstein_generator_loss(s_fake)
        if self.config.loss == "lsgan":
            return lsgan_generator_loss(s_fake)
        return generator_loss(s_fake, saturating=self.config.loss == "saturating")

    def generator_step(self, fake: Tensor, fake_labels: Any) -> float:
        """One update of G through D's judgement of ``fake`` (G(z) with its graph); D is
        frozen. Returns loss_g."""
        self.g_optimizer.zero_grad()
        with frozen(self.discriminator):
            loss = self.g_loss(self.judge(fake, fake_labels))
            loss.backward()
        self.g_optimizer.step()
        return loss.item()

    # ---- a round of the game
    def round(self, batches: list[tuple[Tensor, Any]]) -> dict[str, float]:
        """k = len(batches) discriminator steps, then one generator step.

        ``batches``: k pairs (real images (N, 1, 28, 28) in [-1, 1], labels (N,) or None).
        Returns the round's log: loss_d, d_real, d_fake (means over the k steps), loss_g.
        """
        steps = []
        for real, labels in batches:
            fake, fake_labels = self.fake_batch(real.shape[0])          # G(z), graph kept
            steps.append(self.discriminator_step(real, labels, fake.detach(), fake_labels))
        logs = {key: sum(s[key] for s in steps) / len(steps) for key in steps[0]}
        logs["loss_g"] = self.generator_step(fake, fake_labels)         # the last G(z)
        return logs

    # ---- checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.state_dict(),
                "discriminator": self.discriminator.state_dict(),
                "g_optimizer": self.g_optimizer.state_dict(),
                "d_optimizer": self.d_optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.g_optimizer.load_state_dict(state["g_optimizer"])
        self.d_optimizer.load_state_dict(state["d_optimizer"])


# ---------------------------------------------------------------- judging samples
def generator_samples(generator: nn.Module, n: int, labels: Any = None) -> tuple[Any, Any]:
    """n samples as NumPy arrays: (images (n, 1, 28, 28) in [0, 1], labels (n,) or None);
    a conditional generator draws ``labels`` (default: the classes in turn)."""
    if isinstance(generator, ConditionalGenerator):
        labels = generator.sample_labels(n) if labels is None else labels
        return generator.sample(n, labels).numpy(), backend.to_numpy(labels).astype("int64")
    if labels is not None:
        raise ValueError(f"{type(generator).__name__} is not conditional: it takes no labels")
    return generator.sample(n).numpy(), None


def judge_images(images: Any, reference: Any, labels: Any = None) -> dict[str, Any]:
    """The honest numbers of ``images`` (N, 1, 28, 28) in [0, 1] (``minigen.metrics``):
    class histogram, its largest share and KL to uniform, Inception Score, FDD to the
    ``reference`` (images, or the Gaussian (μ, Σ) of their features, computed once per
    run); with ``labels``, the conditional accuracy. One pass of the classifier."""
    p_yx, feats = metrics.judge_outputs(images)                           # (N, 10), (N, 128)
    if not isinstance(reference, tuple):
        reference = metrics.gaussian(metrics.features(reference))
    counts = metrics.histogram_of(p_yx)
    result = {"class_histogram": [int(c) for c in counts],
              "max_class_share": float(counts.max() / counts.sum()),
              "kl_to_uniform": metrics.kl_to_uniform(counts),
              "inception_score": metrics.inception_score_of(p_yx),
              "fdd": metrics.frechet_distance(*metrics.gaussian(feats), *reference)}
    if labels is not None:
        result["conditional_accuracy"] = metrics.conditional_accuracy_of(p_yx, labels)
    return result


def judge_generator(generator: nn.Module, n: int, reference: Any) -> dict[str, Any]:
    """``judge_images`` of n samples (a conditional generator: n/10 of each class)."""
    images, labels = generator_samples(generator, n)
    return judge_images(images, reference, labels)


def fixed_noise_grid(generator: nn.Module, seed: int) -> tuple[Any, Any]:
    """The images of the run's fixed noise batch, (100, 1, 28, 28) in [0, 1], and their
    labels: z drawn after ``manual_seed(seed)``; a conditional generator gets row c =
    class c, the same 10 noise vectors in every row."""
    np = backend.np
    minigen.manual_seed(seed)
    z = generator.noise(GRID_COLUMNS)                                    # (10, Z)
    if not isinstance(generator, ConditionalGenerator):
        z = generator.noise(GRID_COLUMNS * GRID_COLUMNS)                 # (100, Z)
        return generator.generate(z).numpy(), None
    labels = np.repeat(np.arange(NUM_CLASSES), GRID_COLUMNS)             # row c: class c
    z = minigen.concat([z] * NUM_CLASSES, axis=0)                        # (100, Z)
    return generator.generate(z, labels).numpy(), labels


# ---------------------------------------------------------------- run folders
def read_run(folder: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint of the GAN run in ``folder``, checked; a ConfigError says what is wrong."""
    return read_checkpoint(folder, CHECKPOINT_KEYS, GANConfig.check_stored)


def load_run(folder: str | os.PathLike) -> tuple[GANTraining, dict[str, Any]]:
    """(the trained game, its players in eval mode, its checkpoint) from a run folder."""
    checkpoint = read_run(folder)
    game = GANTraining(GANConfig.from_dict(checkpoint["config"]))
    game.load_state_dict(checkpoint)
    game.generator.eval()
    game.discriminator.eval()
    return game, checkpoint


def sample_run(folder: str | os.PathLike, n: int, label: int | None = None,
               seed: int = 0) -> tuple[Any, Any]:
    """n images (n, 1, 28, 28) NumPy float32 in [0, 1] from a trained run folder, and
    their labels (cgan; all ``label`` if given, else the classes in turn) or None."""
    np = backend.np
    game, checkpoint = load_run(folder)
    model = checkpoint["config"]["model"]
    check_int("n", n, minimum=1)
    check_int("seed", seed, minimum=0)
    labels = None
    if label is not None:
        if not game.conditional:
            raise ConfigError(f"--label needs a conditional model (cgan); the run in {folder} "
                              f"is a {model}")
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < NUM_CLASSES:
            raise ConfigError(f"--label must be a class from 0 to {NUM_CLASSES - 1}, got {label!r}")
        labels = np.full(n, label, dtype=np.int64)
    minigen.manual_seed(seed)
    images, labels = generator_samples(game.generator, n, labels)
    return images.astype(np.float32), labels


def _round_all(values: list[float]) -> list[float]:
    return [round(v, 5) for v in values]


def metrics_summary(config: GANConfig, history: dict[str, Any]) -> dict[str, Any]:
    """What ``metrics.json`` holds: config, reference, per-epoch entries, every step's
    logs flattened under "steps", and the final metrics."""
    epochs = [{k: v for k, v in e.items() if k != "steps"} for e in history["epochs"]]
    steps = {key: [v for e in history["epochs"] for v in e["steps"][key]] for key in LOG_KEYS}
    return {"model": config.model, "config": config.to_dict(),
            "reference": history["reference"], "untrained": history["untrained"],
            "epochs": epochs, "steps": steps, "final": history.get("final")}


def _summary_line(final: dict[str, Any], epochs: int, out: Path) -> str:
    text = (f"FDD {final['fdd']:.1f}, IS {final['inception_score']:.2f}, KL to uniform "
            f"{final['kl_to_uniform']:.3f}, largest class {final['max_class_share']:.1%}")
    if "conditional_accuracy" in final:
        text += f", conditional accuracy {final['conditional_accuracy']:.1%}"
    return text + f" after {epochs} epochs (run in {out})"


# ---------------------------------------------------------------- training
def train(config: GANConfig, out: str | os.PathLike, resume_from: str | os.PathLike | None = None,
          progress: bool = True, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train (or, with ``resume_from``, go on training) and write the run into ``out``.

    Everything is checked before anything is written: the config, ``out``, and the
    checkpoint to resume (its config must equal ``config`` except for ``epochs``, which
    must exceed the epochs already done). Returns the metrics summary (``metrics.json``).
    """
    from tqdm.auto import tqdm  # noqa: PLC0415 — only training needs it

    np = backend.np
    out = Path(out)
    checkpoint = start_run(config, out, resume_from, read_run)
    log = tqdm.write if log is None else log

    # ---- data in [-1, 1]: the first train_size / test_size images of the fixed splits
    train_images, train_labels = first_images("train_size", config.train_size,
                                              *load_digits("train"))
    test_images, _ = first_images("test_size", config.test_size, *load_digits("test"))
    if len(train_images) < config.batch_size * config.d_steps:
        raise ConfigError(f"one round needs {config.d_steps} batches of {config.batch_size} "
                          f"images, but there are only {len(train_images)} training images")
    signed = to_signed(train_images).astype(np.float32)

    # ---- the players and optimizers: fresh, or as the checkpoint left them
    real = metrics.gaussian(metrics.features(test_images))    # the FDD's reference, once
    minigen.manual_seed(config.seed)
    game = GANTraining(config)
    first_epoch = 1
    if checkpoint is not None:
        game.load_state_dict(checkpoint)
        history = dict(checkpoint["metrics"])
        history["epochs"] = list(history["epochs"])
        first_epoch = checkpoint["epoch"] + 1
    else:   # the real digits' own values, and the untrained generator's, for comparison
        history = {"reference": judge_images(test_images, train_images), "epochs": []}
        history["reference"]["real"] = "test images vs training images"
        history["untrained"] = (judge_generator(game.generator, config.epoch_samples, real)
                                if config.epoch_samples else None)
    out.mkdir(parents=True, exist_ok=True)

    summary = metrics_summary(config, history)
    for epoch in range(first_epoch, config.epochs + 1):
        minigen.manual_seed(config.seed * 10_000 + epoch)
        loader = DataLoader((signed, train_labels), config.batch_size, shuffle=True,
                            drop_last=True)
        batches = iter(loader)
        rounds = len(loader) // config.d_steps
        start = time.perf_counter()
        steps: dict[str, list[float]] = {key: [] for key in LOG_KEYS}
        bar = tqdm(range(rounds), desc=f"epoch {epoch}/{config.epochs}", unit="round",
                   leave=False, disable=not progress, dynamic_ncols=True)
        for _ in bar:
            round_logs = game.round([next(batches) for _ in range(config.d_steps)])
            for key in LOG_KEYS:
                steps[key].append(round_logs[key])
            bar.set_postfix(L_D=f"{round_logs['loss_d']:.3f}", L_G=f"{round_logs['loss_g']:.3f}",
                            D_x=f"{round_logs['d_real']:.2f}", D_G_z=f"{round_logs['d_fake']:.2f}",
                            refresh=False)
        bar.close()
        seconds = time.perf_counter() - start
        seen = rounds * config.d_steps * config.batch_size
        entry: dict[str, Any] = {"epoch": epoch, "seconds": seconds,
                                 "images_per_second": seen / seconds,
                                 "means": {k: sum(v) / len(v) for k, v in steps.items()},
                                 "steps": {k: _round_all(v) for k, v in steps.items()}}
        if config.epoch_samples:
            entry["samples"] = judge_generator(game.generator, config.epoch_samples, real)
        history["epochs"].append(entry)
        if epoch == config.epochs:
            history["final"] = judge_generator(game.generator, config.final_samples, real)
            history["final"]["samples"] = config.final_samples

        # ---- write the run: checkpoint, metrics, pictures (each atomically)
        summary = metrics_summary(config, history)
        save({**game.state_dict(), "epoch": epoch, "config": config.to_dict(),
              "metrics": history}, out / CHECKPOINT)
        write_json(out / METRICS, summary)
        images, _ = fixed_noise_grid(game.generator, config.seed)
        title = f"{config.model}, epoch {epoch}: the fixed noise batch"
        grid = out / f"samples_{epoch:03d}.png"
        write_atomically(grid, lambda p: save_image_grid(images, p, nrow=GRID_COLUMNS, title=title))
        write_atomically(out / SAMPLES, lambda p: shutil.copyfile(grid, p))
        means = entry["means"]
        text = (f"epoch {epoch:3d}/{config.epochs}  L_D {means['loss_d']:.3f}  L_G "
                f"{means['loss_g']:.3f}  D(x) {means['d_real']:.2f}  D(G(z)) "
                f"{means['d_fake']:.2f}  {seconds:.1f} s")
        if "samples" in entry:
            text += (f"  FDD {entry['samples']['fdd']:.1f}  largest class "
                     f"{entry['samples']['max_class_share']:.0%}")
            if "conditional_accuracy" in entry["samples"]:
                text += f"  cond. acc. {entry['samples']['conditional_accuracy']:.0%}"
        log(text)
    return summary


# ---------------------------------------------------------------- the command line
_FIELDS = ("epochs", "batch_size", "latent_dim", "width", "lr", "beta1", "beta2", "d_steps",
           "loss", "gp_weight", "seed", "epoch_samples", "final_samples", "train_size",
           "test_size")
_DESCRIPTIONS = {
    "gan": "the 2014 GAN: fully connected generator and discriminator",
    "dcgan": "DCGAN: convolutional generator and discriminator with batch norm",
    "cgan": "conditional DCGAN: both players are told the class",
    "wgan-gp": "Wasserstein GAN with gradient penalty: a DCGAN generator and a critic",
}


def config_from_args(name: str, args: argparse.Namespace) -> GANConfig:
    """The run's config: the checkpoint's (when resuming) or the defaults, overridden by
    the options given on the command line (checked by ``train``)."""
    given = {f: getattr(args, f) for f in _FIELDS if getattr(args, f, None) is not None}
    if args.resume is not None:
        stored = GANConfig.from_dict(read_run(args.resume)["config"])
        if stored.model != name:
            raise ConfigError(f"the run in {args.resume} is a {stored.model}, not a {name}")
        values = stored.to_dict()
        values["epochs"] = DEFAULTS[name]["epochs"]   # the total asked for (default: the default)
        values.update(given)                          # train() refuses any other change
        return GANConfig(**values)
    return GANConfig(model=name, **given)


def add_train_command(commands: Any, name: str) -> None:
    """Add ``minigen train <name>`` (one of ``TRAIN_MODELS``) to the argparse subparsers
    ``commands``; its ``run`` default trains and returns the exit status."""
    check_choice("model", name, TRAIN_MODELS)
    d = GANConfig(model=name)
    p = commands.add_parser(name, help=_DESCRIPTIONS[name], description=
                            f"Train a {name} ({_DESCRIPTIONS[name]}) on the embedded 28x28 "
                            "digits.")
    # None = not given: a resumed run takes its values from the checkpoint.
    p.add_argument("--epochs", type=int, help=f"total epochs to train to (default {d.epochs})")
    p.add_argument("--batch-size", type=int, help=f"images per batch (default {d.batch_size})")
    p.add_argument("--latent-dim", type=int, help=f"size Z of the noise z (default {d.latent_dim})")
    p.add_argument("--width", type=int, help="hidden size H of the MLPs" if name == "gan" else
                   f"C: the players' feature maps are C and 2C (default {d.width})")
    p.add_argument("--lr", type=float, help=f"Adam's learning rate (default {d.lr:g})")
    p.add_argument("--beta1", type=float, help=f"Adam's beta1 (default {d.beta1:g})")
    p.add_argument("--beta2", type=float, help=f"Adam's beta2 (default {d.beta2:g})")
    p.add_argument("--d-steps", type=int, help="discriminator steps per generator step "
                                              f"(default {d.d_steps})")
    if name == "wgan-gp":
        p.add_argument("--gp-weight", type=float,
                       help=f"lambda of the gradient penalty (default {d.gp_weight:g})")
    else:
        p.add_argument("--loss", choices=list(LOSSES[:3]),
                       help=f"the players' losses (default {d.loss})")
    p.add_argument("--seed", type=int, help="seed of the initialization, shuffling and noise "
                                           f"(default {d.seed})")
    p.add_argument("--epoch-samples", type=int, help="samples judged after every epoch, 0 for "
                                                    f"none (default {d.epoch_samples})")
    p.add_argument("--final-samples", type=int, help="samples judged after the last epoch "
                                                    f"(default {d.final_samples})")
    p.add_argument("--out", type=Path, help="the run folder to write (default runs/MODEL, or "
                                            "the --resume folder)")
    p.add_argument("--resume", type=Path, metavar="DIR",
                   help="go on training the run in DIR (same config, up to --epochs in total)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--train-size", type=int, help=argparse.SUPPRESS)
    p.add_argument("--test-size", type=int, help=argparse.SUPPRESS)
    p.set_defaults(run=lambda args: run_command(name, args))


def run_command(name: str, args: argparse.Namespace) -> int:
    """``minigen train <name>``: train, print the final metrics in one line; 130 on Ctrl-C."""
    config = config_from_args(name, args)
    out = args.out or args.resume or Path("runs") / name
    try:
        summary = train(config, out, resume_from=args.resume, progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"\nminigen: interrupted; every finished epoch is saved in {out} "
              f"(go on with: minigen train {name} --resume {out})", file=sys.stderr)
        return 130
    print(_summary_line(summary["final"], len(summary["epochs"]), out))
    return 0
