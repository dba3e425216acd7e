"""Training a CycleGAN: the optimizers, the lr schedule, one step, the test metrics.

One step on a batch x of domain X and an (unrelated) batch y of Y, pixels in [-1, 1]:

1. the generators G: X -> Y and F: Y -> X, with both discriminators frozen, down the
   total objective (``minigen.generative.cyclegan_generator_objective``)::

       L = L_GAN(G, D_Y) + L_GAN(F, D_X) + λ_cyc (‖F(G(x)) - x‖₁ + ‖G(F(y)) - y‖₁)
           + λ_id (‖G(y) - y‖₁ + ‖F(x) - x‖₁);

2. the discriminators D_X and D_Y, real images against fakes drawn through the image
   pools (*banco de imágenes*), with the least-squares loss
   L_D = ½ [mean (D(real) - 1)² + mean D(fake)²].

The test metrics (pixels in [0, 1]):

* ``label_x_to_y`` / ``label_y_to_x``: label preservation, how often the digit classifier
  reads the source digit's class in its translation G(x) / F(y);
* ``cycle_mae_x`` / ``cycle_mae_y``: mean |F(G(x)) - x| and |G(F(y)) - y|;
* ``translation_mae`` (paired domains only): mean |G(x) - T(x)| against the true
  translation, to compare with ``reference_values(...)["untranslated_mae"]`` = mean |x - T(x)|.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import minigen
from minigen import backend, metrics
from minigen.data.unpaired import DOMAIN_PAIRS, UnpairedDigits
from minigen.generative import ImagePool, cyclegan_generator_objective, lsgan_discriminator_loss
from minigen.grad_mode import no_grad
from minigen.models.cyclegan import CycleGAN
from minigen.models.gans import to_signed, to_unit
from minigen.ops.arguments import as_tensor
from minigen.optim import Adam
from minigen.optim.lr_scheduler import LambdaLR
from minigen.optim.optimizer import Optimizer
from minigen.tensor import Tensor
from minigen.training.common import frozen
from minigen.training.config import (ConfigError, RunConfig, check_choice, check_int,
                                     check_positive, flag, option, seed_option, test_size_option,
                                     train_size_option)

EVAL_BATCH = 250


def make_optimizers(model: CycleGAN, lr: float = 2e-4,
                    betas: tuple[float, float] = (0.5, 0.999)) -> tuple[Adam, Adam]:
    """(one Adam over both generators, one over both discriminators), the paper's settings."""
    return (Adam(model.generator_parameters(), lr=lr, betas=betas),
            Adam(model.discriminator_parameters(), lr=lr, betas=betas))


def linear_decay(n_epochs: int, n_epochs_decay: int) -> Callable[[int], float]:
    """The factor of the lr at epoch t (from 0): 1 for ``n_epochs`` epochs, then linearly
    down towards 0 over ``n_epochs_decay`` more (the reference code's rule):

        factor(t) = 1 - max(0, t + 1 - n_epochs) / (n_epochs_decay + 1)

    >>> rule = linear_decay(2, 3)
    >>> [rule(t) for t in range(5)]
    [1.0, 1.0, 0.75, 0.5, 0.25]
    """
    def factor(epoch: int) -> float:
        return 1.0 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)
    return factor


def make_schedulers(optimizers: tuple[Optimizer, ...], n_epochs: int,
                    n_epochs_decay: int) -> list[LambdaLR]:
    """A ``LambdaLR`` with ``linear_decay`` per optimizer; step them once per epoch."""
    return [LambdaLR(opt, linear_decay(n_epochs, n_epochs_decay)) for opt in optimizers]


@dataclass
class Translations:
    """What the generator step computed (detached fakes feed the discriminator step)."""

    fake_y: Tensor     # G(x)
    fake_x: Tensor     # F(y)


def generator_step(model: CycleGAN, opt_g: Optimizer, x: Tensor, y: Tensor,
                   lambda_cyc: float = 10.0, lambda_id: float | None = None
                   ) -> tuple[dict[str, float], Translations]:
    """One update of G and F on the total objective, with both discriminators frozen.

    D_X and D_Y still compute the adversarial terms (their gradient flows back into
    the fakes), but ``frozen`` keeps their weights out of the graph: no ``.grad`` is made
    for them, so the generators' step never moves the judges.
    Returns the loss parts (floats) and the translations (detached).
    """
    lambda_id = 0.5 * lambda_cyc if lambda_id is None else lambda_id
    with frozen(model.d_x, model.d_y):
        fake_y, rec_x, fake_x, rec_y = model(x, y)         # G(x), F(G(x)), F(y), G(F(y))
        g_y = model.g(y) if lambda_id else None            # identity: G(y) ≈ y, F(x) ≈ x
        f_x = model.f(x) if lambda_id else None
        objective = cyclegan_generator_objective(model.d_y(fake_y), model.d_x(fake_x), x, rec_x,
                                                 y, rec_y, g_y, f_x, lambda_cyc, lambda_id)
        opt_g.zero_grad()
        objective.total.backward()
        opt_g.step()
    parts = {"g_total": objective.total.item(), "gan_g": objective.gan_g.item(),
             "gan_f": objective.gan_f.item(), "cycle": objective.cycle.item(),
             "identity": objective.identity.item()}
    return parts, Translations(fake_y.detach(), fake_x.detach())


def discriminator_step(model: CycleGAN, opt_d: Optimizer, x: Tensor, y: Tensor,
                       fakes: Translations, pool_x: ImagePool, pool_y: ImagePool
                       ) -> dict[str, float]:
    """One update of D_X and D_Y: real images against fakes drawn through the pools.

    L_D = ½ [mean (D(real) - 1)² + mean D(fake)²] for each (``lsgan_discriminator_loss``).
    """
    loss_d_y = lsgan_discriminator_loss(model.d_y(y), model.d_y(pool_y.query(fakes.fake_y)))
    loss_d_x = lsgan_discriminator_loss(model.d_x(x), model.d_x(pool_x.query(fakes.fake_x)))
    opt_d.zero_grad()
    (loss_d_x + loss_d_y).backward()
    opt_d.step()
    return {"d_x": loss_d_x.item(), "d_y": loss_d_y.item()}


def training_step(model: CycleGAN, opt_g: Optimizer, opt_d: Optimizer, x: Any, y: Any,
                  pool_x: ImagePool, pool_y: ImagePool, lambda_cyc: float = 10.0,
                  lambda_id: float | None = None) -> dict[str, float]:
    """One CycleGAN iteration on a batch x (N, C, H, W) of X and y of Y, pixels in [-1, 1]:
    the generators first (discriminators frozen), then both discriminators."""
    x, y = as_tensor(x), as_tensor(y)
    if x.shape[1:] != y.shape[1:]:
        raise ValueError(f"CycleGAN training_step: x {x.shape} and y {y.shape} must be images "
                         "of the same size")
    parts, fakes = generator_step(model, opt_g, x, y, lambda_cyc, lambda_id)
    parts.update(discriminator_step(model, opt_d, x, y, fakes, pool_x, pool_y))
    return parts


def build_model(config: CycleGANConfig) -> CycleGAN:
    return CycleGAN(1, ngf=config.ngf, n_blocks=config.n_blocks, ndf=config.ndf,
                    n_layers=config.n_layers)


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


@dataclass
class CycleGANConfig(RunConfig):
    """Everything that defines a run. The defaults are those of ``minigen train cyclegan``:
    the small networks of ``minigen.models.cyclegan.SMALL``, sized for 28×28 digits."""

    MODELS = ("cyclegan",)
    model: str = "cyclegan"
    domains: str = option("thin-thick", "the two unpaired domains X-Y", choices=DOMAIN_PAIRS)
    epochs: int = option(4, "total epochs to train to")
    decay_epochs: int = option(2, "the last epochs, over which the lr decays linearly "
                                  "towards 0")
    batch_size: int = option(16, "images of each domain per batch")
    ngf: int = option(16, "the generators' first width k (then 2k and 4k)")
    n_blocks: int = option(3, "residual blocks per generator")
    ndf: int = option(16, "the discriminators' first width")
    n_layers: int = option(2, "stride-2 layers of the PatchGANs (1: 16x16 patches, 2: 34x34)")
    lr: float = option(2e-4, "Adam's learning rate (betas 0.5, 0.999)")
    lambda_cyc: float = option(10.0, "weight of the cycle-consistency loss")
    lambda_id: float | None = option(None, "weight of the identity loss (default: half of "
                                     "--lambda-cyc, 0 for digits-negatives)", type=float)
    pool_size: int = option(50, "fakes kept in each image pool (0: no pool)")
    seed: int = option(0, "seed of the initialization, the domains' split and the shuffling")
    train_size: int | None = train_size_option("images of each domain (of 2 000)")
    test_size: int | None = test_size_option("test images of each domain (of 1 000)")

    def __post_init__(self) -> None:
        if self.lambda_id is None and isinstance(self.lambda_cyc, (int, float)):
            self.lambda_id = 0.0 if self.domains == "digits-negatives" else 0.5 * self.lambda_cyc

    def check(self) -> None:
        """Raise a ConfigError naming the first bad field (the message reads as a CLI error)."""
        self.check_common(positive=("ngf", "n_blocks", "ndf", "n_layers"))
        check_choice("domains", self.domains, DOMAIN_PAIRS)
        for name in ("decay_epochs", "pool_size"):
            check_int(name, getattr(self, name), minimum=0)
        for name, most in (("train_size", 2000), ("test_size", 1000)):
            value = getattr(self, name)
            if value is not None and value > most:
                raise ConfigError(f"{flag(name)} {value} is larger than the {most} images "
                                  "there are")
        check_positive("lambda_cyc", self.lambda_cyc)
        check_positive("lambda_id", self.lambda_id, allow_zero=True)
        if self.decay_epochs >= self.epochs:
            raise ConfigError(f"--decay-epochs {self.decay_epochs} must be smaller than --epochs "
                              f"{self.epochs} (the lr decays over the last --decay-epochs)")
        if self.n_layers > 2:
            raise ConfigError(f"--n-layers {self.n_layers}: on 28x28 images at most 2 (3 "
                              "layers leave a 1x1 score map: one patch, the whole image)")
