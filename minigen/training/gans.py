"""Training a GAN: the game of two players, one round at a time, and its honest numbers.

| model   | players (``minigen.models.gans``)                | losses            | Adam        |
|---------|--------------------------------------------------|-------------------|-------------|
| gan     | MLPGenerator / MLPDiscriminator                  | BCE, non-sat. G   | 2e-4, (.5, .999) |
| dcgan   | Generator / Discriminator                        | BCE, non-sat. G   | 2e-4, (.5, .999) |
| cgan    | ConditionalGenerator / ConditionalDiscriminator  | BCE, non-sat. G   | 2e-4, (.5, .999) |
| wgan-gp | Generator / Critic                               | Wasserstein + λGP | 1e-4, (0, .9) |

The game, one *round* (``GANTraining.round``)::

    for k steps:                            # k = 1; 5 for the WGAN-GP critic
        x ~ data, z ~ N(0, I)
        D ← D - lr ∇_D L_D(D(x), D(G(z).detach()))     # detached: D's step must not move G
    G ← G - lr ∇_G L_G(D(G(z)))                         # D frozen: G's step moves only G

Every round logs L_D, L_G, D(x) and D(G(z)): the mean of σ(s) over the batch, a
probability, for the BCE losses; the mean raw output for ``lsgan`` and ``wgan-gp``.
``judge_images`` gives the numbers a generator is judged by (``minigen.metrics``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import minigen
from minigen import backend, metrics, nn
from minigen.generative import (discriminator_loss, generator_loss, gradient_penalty,
                                lsgan_discriminator_loss, lsgan_generator_loss,
                                wasserstein_critic_loss, wasserstein_generator_loss)
from minigen.models.common import NUM_CLASSES
from minigen.models.gans import (ConditionalDiscriminator, ConditionalGenerator, Critic,
                                 Discriminator, Generator, MLPDiscriminator, MLPGenerator)
from minigen.ops import sigmoid
from minigen.optim import Adam
from minigen.tensor import Tensor
from minigen.training.common import frozen
from minigen.training.config import (ConfigError, RunConfig, check_choice, check_int,
                                     check_positive, flag, option, seed_option,
                                     test_size_option, train_size_option)

MODELS: tuple[str, ...] = ("gan", "dcgan", "cgan", "wgan-gp")
LOSSES = ("bce", "saturating", "lsgan", "wasserstein")
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


MIN_JUDGED = 10     # samples at the least behind a Fréchet distance (a conditional GAN: 1 per class)


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

    * dcgan, 40 epochs of batch 32, C = 32: FDD 150, all ten digits, the largest 19.6 %,
      IS 6.05; 5 minutes. (C = 64: FDD 133 in 11.5 minutes.)
    * cgan, 30 epochs, C = 64: 96.3 % of the samples show the class asked for, FDD 18.9,
      IS 9.2; 10 minutes (89 % after 20 epochs).
    * wgan-gp, 80 epochs, C = 64 (5 critic steps per generator step): FDD 150, all ten
      digits, the largest 14.4 % (KL to uniform 0.039, better balanced than the dcgan's
      0.115), IS 5.8; 14 min 52 s on a quiet 2-core machine (two BLAS threads, 10-11 s per
      epoch). After 60 epochs: FDD 176.
    * gan (the 2014 MLPs), 60 epochs: half of the samples are 1s (KL to uniform 0.94,
      FDD 931): the small fully connected GAN collapses, a useful counter-example.
    """

    MODELS = MODELS
    model: str = "dcgan"
    epochs: int | None = option(None, "total epochs to train to", type=int)
    # small batches: more rounds of the game per second
    batch_size: int = option(32, "images per batch")
    latent_dim: int = option(100, "size Z of the noise z")
    width: int | None = option(None, "C: the players' feature maps are C and 2C (gan: the "
                               "MLPs' hidden size H)", type=int)
    lr: float | None = option(None, "Adam's learning rate, both players", type=float)
    beta1: float | None = option(None, "Adam's beta1", type=float)
    beta2: float | None = option(None, "Adam's beta2", type=float)
    d_steps: int | None = option(None, "discriminator steps per generator step", type=int)
    loss: str | None = option(None, "the players' losses", type=str, choices=LOSSES[:3],
                              only=("gan", "dcgan", "cgan"))
    gp_weight: float | None = option(None, "lambda of the gradient penalty", type=float,
                                     only=("wgan-gp",))
    seed: int = seed_option()
    epoch_samples: int = option(1000, "samples judged after every epoch, 0 for none")
    final_samples: int = option(10_000, "samples judged after the last epoch")
    train_size: int | None = train_size_option()
    test_size: int | None = test_size_option("test images to judge against")

    def __post_init__(self) -> None:
        for name, value in DEFAULTS.get(self.model, {}).items():
            if getattr(self, name) is None:
                setattr(self, name, value)

    def check(self) -> None:
        """Raise a ConfigError naming the first bad field (the message reads as a CLI error)."""
        self.check_common(positive=("latent_dim", "width", "d_steps", "final_samples"))
        check_int("epoch_samples", self.epoch_samples, minimum=0)
        # The Fréchet distance needs the covariance of the samples' features: a few of them.
        for name in ("epoch_samples", "final_samples"):
            value = getattr(self, name)
            if 0 < value < MIN_JUDGED:
                raise ConfigError(f"{flag(name)} must be 0 or at least {MIN_JUDGED} (the "
                                  f"Fréchet distance needs a covariance), got {value}")
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
