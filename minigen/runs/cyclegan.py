"""The runs of ``minigen train cyclegan``: a CycleGAN between two unpaired digit domains.

The domains (``--domains``, see ``minigen.data.unpaired``): ``thin-thick`` (the default;
the true translation of a test digit is known), ``handwritten-typeset`` and
``digits-negatives`` (a smoke test; its identity loss is off by default: G(y) ≈ y asks
the inverter not to invert). A run folder holds::

    checkpoint.npz     {"model" (g, f, d_x, d_y), "opt_g", "opt_d", "pools", "epoch",
                       "config", "metrics"}
    metrics.json       the config, the reference values of the untranslated test sets, and
                       per epoch: the mean training losses, seconds, images/s, the lr and
                       the test metrics (``minigen.training.cyclegan``)
    translations.png   test images x, G(x), F(G(x)) (rows 1-3) and y, F(y), G(F(y)) (rows 4-6)

The schedule of the paper: Adam (lr 2e-4, betas (0.5, 0.999)) for both generators and
both discriminators, the lr constant for ``epochs - decay_epochs`` epochs, then decaying
linearly (a function of the epoch: a run resumed with a larger ``--epochs`` stays
constant longer). The pools' images are saved with the checkpoint, and the pools are
rebuilt from them after each epoch's seed, so a resumed run is exact.
"""
from __future__ import annotations

from typing import Any, Iterable

from minigen import backend
from minigen.data import DataLoader
from minigen.data.unpaired import DOMAIN_PAIRS, load_unpaired
from minigen.generative import ImagePool
from minigen.models.gans import to_signed
from minigen.runs.loop import Picture, Run
from minigen.training.config import ConfigError
from minigen.training.cyclegan import (CycleGANConfig, build_model, evaluate, make_optimizers,
                                       make_schedulers, reference_values, training_step,
                                       translate)

GRID_COLUMNS = 10


class CycleGANRun(Run):
    config_class = CycleGANConfig
    descriptions = {"cyclegan": "CycleGAN: translate between two unpaired digit domains"}
    checkpoint_keys = ("model", "opt_g", "opt_d", "pools")

    def __init__(self, config: CycleGANConfig, checkpoint: Any = None) -> None:
        super().__init__(config, checkpoint)
        self.data = load_unpaired(config.domains, seed=config.seed, train_size=config.train_size,
                                  test_size=config.test_size)
        self.x_train, self.y_train = to_signed(self.data.x_train), to_signed(self.data.y_train)
        self.model = build_model(config)
        self.opt_g, self.opt_d = make_optimizers(self.model, lr=config.lr)
        # Made before an optimizer state is loaded: their base lr is config.lr.
        self.schedulers = make_schedulers((self.opt_g, self.opt_d),
                                          config.epochs - config.decay_epochs,
                                          config.decay_epochs)
        # the pools' images between epochs (a new run's pools are empty)
        self.stored = {name: ImagePool(0).state_dict()["images"] for name in "xy"}

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict(), "pools": self.stored}

    def load_state_dict(self, checkpoint: dict[str, Any]) -> None:
        self.model.load_state_dict(checkpoint["model"])
        self.opt_g.load_state_dict(checkpoint["opt_g"])
        self.opt_d.load_state_dict(checkpoint["opt_d"])
        for scheduler in self.schedulers:     # the lr is a function of the epoch (and of
            for _ in range(checkpoint["epoch"]):   # --epochs, which a resumed run may raise)
                scheduler.step()
        self.stored = checkpoint["pools"]

    def begin(self) -> dict[str, Any]:
        return {"reference": reference_values(self.data)}

    def batches(self) -> Iterable[Any]:
        """Pairs (x, y) from two loaders, each with its own order: batch i of X meets an
        unrelated batch of Y. The pools are rebuilt from their images (seeded now)."""
        self.pools = tuple(ImagePool(self.config.pool_size) for _ in "xy")
        for pool, name in zip(self.pools, "xy"):
            pool.load_state_dict({"images": self.stored[name]})
        self.lr = self.opt_g.lr
        size = self.config.batch_size
        loader_x = DataLoader((self.x_train,), size, shuffle=True, drop_last=True)
        loader_y = DataLoader((self.y_train,), size, shuffle=True, drop_last=True)
        return list(zip(loader_x, loader_y))

    def step(self, batch: Any) -> dict[str, float]:
        (x,), (y,) = batch
        return training_step(self.model, self.opt_g, self.opt_d, x, y, *self.pools,
                             self.config.lambda_cyc, self.config.lambda_id)

    def items(self, batch: Any) -> int:
        return len(batch[0][0]) + len(batch[1][0])

    def end_epoch(self, entry: dict[str, Any], steps: Any, history: Any) -> None:
        for scheduler in self.schedulers:
            scheduler.step()
        self.stored = {name: pool.state_dict()["images"] for name, pool in zip("xy", self.pools)}
        entry["lr"] = self.lr
        entry["test"] = evaluate(self.model, self.data)

    def pictures(self, epoch: int) -> dict[str, Picture]:
        """x, G(x), F(G(x)) / y, F(y), G(F(y)) of the first 10 test images."""
        np = backend.np
        g, f = self.model.g, self.model.f
        x, y = self.data.x_test[:GRID_COLUMNS], self.data.y_test[:GRID_COLUMNS]
        g_x, f_y = translate(g, x), translate(f, y)
        rows = [x, g_x, translate(f, g_x), y, f_y, translate(g, f_y)]
        a, b = self.data.names
        title = f"epoch {epoch}: {a} -> {b} -> {a} (rows 1-3), {b} -> {a} -> {b} (rows 4-6)"
        return {"translations.png": (np.concatenate(rows), len(x), title)}

    def sample(self, n: int, label: int | None) -> tuple[Any, Any]:
        """G(x) for n test images x of domain X: (images, None)."""
        return self.sample_arrays(n, label)["images"], None

    def sample_arrays(self, n: int, label: int | None, **options: Any) -> dict[str, Any]:
        """G(x) ("images") of n test images x of domain X drawn by minigen's seeded generator,
        x ("inputs") and their digit labels ("labels"): label preservation, from the file."""
        self.check_sampler_options(options)
        if label is not None:
            raise ConfigError("--label: a CycleGAN translates images of domain X; it takes no "
                              "label")
        x_test = self.data.x_test
        rows = backend.rng(backend.np).choice(len(x_test), size=n, replace=n > len(x_test))
        return {"images": translate(self.model.g, x_test[rows]), "inputs": x_test[rows],
                "labels": backend.np.asarray(self.data.x_test_labels)[rows]}

    def epoch_line(self, entry: dict[str, Any]) -> str:
        a, b = self.data.names
        test = entry["test"]
        text = (f"cycle {entry['train']['cycle']:.3f}  labels {a}->{b} "
                f"{test['label_x_to_y']:.1%} {b}->{a} {test['label_y_to_x']:.1%}  cycle MAE "
                f"{test['cycle_mae_x']:.3f}/{test['cycle_mae_y']:.3f}")
        if "translation_mae" in test:
            text += f"  MAE {test['translation_mae']:.3f}"
        return text

    @classmethod
    def summary_line(cls, config: Any, summary: dict[str, Any]) -> str:
        test, reference = summary["test"], summary["reference"]
        x, y = DOMAIN_PAIRS[config.domains]
        text = (f"label preservation {x}->{y} {test['label_x_to_y']:.1%}, {y}->{x} "
                f"{test['label_y_to_x']:.1%}; cycle MAE {test['cycle_mae_x']:.3f} / "
                f"{test['cycle_mae_y']:.3f}")
        if "translation_mae" in test:
            text += (f"; MAE to the true {y} {test['translation_mae']:.3f} (untranslated "
                     f"{reference['untranslated_mae']:.3f})")
        return text
