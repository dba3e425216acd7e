"""The one loop of epochs that trains every family and writes its run folder.

A family contributes a ``Run``: its config class, how to build its models and data,
one training step, its per-epoch evaluation and pictures. ``train`` does the rest, the
same for every family:

    check the config, the folder and the run to resume      (before anything is written)
    manual_seed(seed); build the run; load the checkpoint when resuming
    for epoch e = (epochs done) + 1 ... epochs:
        manual_seed(seed · 10 000 + e)                       # resumable: see below
        for batch in run.batches(): logs = run.step(batch)   # under a progress bar
        run.end_epoch(...)                                   # test metrics
        write checkpoint.npz, metrics.json, the PNG grids    # each atomically

Every epoch starts from a seed of its own, and everything random that an epoch uses is
drawn after it, so a run stopped after epoch k and resumed gives exactly the numbers of
a run that never stopped.
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable

import minigen
from minigen import backend, memory
from minigen.models.common import NUM_CLASSES
from minigen.runs.folder import (CHECKPOINT, METRICS, read_checkpoint, start_run,
                                 write_atomically, write_json)
from minigen.serialization import save
from minigen.training.config import ConfigError, RunConfig
from minigen.viz import save_image_grid

Picture = tuple[Any, int, str]     # (images (N, 1, H, W) in [0, 1], images per row, title)


class EvaluationFailed(RuntimeError):
    """An epoch's evaluation (its metrics) raised: the epoch's trained weights are saved
    first, with the error in its metrics entry, then the run stops."""


class TrainingDiverged(RuntimeError):
    """A step's loss became NaN or infinite: the run stops, and its folder keeps the last
    finished epoch (nothing of the diverged epoch is written)."""


class Run:
    """One family's part of a training run, driven by ``train``.

    A subclass sets the class attributes and writes the methods marked "each family";
    the others have defaults. The history of a run is a dict: ``"epochs"`` (one entry per
    epoch: ``"epoch"``, ``"train"`` (the means of the step logs), ``"seconds"``, the rate,
    and what ``end_epoch`` adds) and whatever ``begin`` adds once.
    """

    config_class: ClassVar[type[RunConfig]]
    descriptions: ClassVar[dict[str, str]]        # model name -> one line for --help
    checkpoint_keys: ClassVar[tuple[str, ...]] = ("model", "optimizer")
    rate: ClassVar[str] = "images_per_second"     # what an epoch entry's speed counts

    def __init__(self, config: Any, checkpoint: dict[str, Any] | None = None) -> None:
        """Each family: the data, the models and the optimizers of ``config``. The
        checkpoint a resumed run goes on from comes too (``load_state_dict`` loads it
        afterwards), for a family whose models depend on it."""
        self.config = config
        self.checkpoint = checkpoint

    # ---- each family
    def batches(self) -> Iterable[Any]:
        """The epoch's batches, drawn after the epoch's seed (``len`` gives the bar's total)."""
        raise NotImplementedError

    def step(self, batch: Any) -> dict[str, float]:
        """One training step on a batch; returns its logs (numbers)."""
        raise NotImplementedError

    def pictures(self, epoch: int) -> dict[str, Picture]:
        """The PNG grids to write after an epoch, by file name."""
        raise NotImplementedError

    def epoch_line(self, entry: dict[str, Any]) -> str:
        """An epoch's numbers, for its one-line log (between "epoch e/E" and its seconds)."""
        raise NotImplementedError

    @classmethod
    def summary_line(cls, config: Any, summary: dict[str, Any]) -> str:
        """The final numbers of a run's ``summary``, for the command's last line."""
        raise NotImplementedError

    def sample(self, n: int, label: int | None) -> tuple[Any, Any]:
        """n images (n, 1, 28, 28) NumPy float32 in [0, 1] of the trained models, and their
        labels or None (after the caller's ``manual_seed``)."""
        raise NotImplementedError

    sampler_options: ClassVar[tuple[str, ...]] = ()   # ``minigen sample`` flags it takes

    def sample_arrays(self, n: int, label: int | None, **options: Any) -> dict[str, Any]:
        """What ``minigen sample`` writes to a .npz: the images, and their labels if any.
        ``options`` are the sampler's flags (``sampler_options``; a diffusion run's steps)."""
        self.check_sampler_options(options)
        images, labels = self.sample(n, label)
        return {"images": images} if labels is None else {"images": images, "labels": labels}

    def check_sampler_options(self, options: dict[str, Any]) -> None:
        """Refuse a sampler flag this family does not have."""
        for name in options:
            if name not in self.sampler_options:
                raise ConfigError(f"--{name} is an option of the diffusion sampler; this run is "
                                  f"a {self.config.model}")

    # ---- defaults (a family of one ``self.model`` and one ``self.optimizer``)
    def state_dict(self) -> dict[str, Any]:
        """The arrays the checkpoint keeps (its ``checkpoint_keys``)."""
        return {"model": self.model.state_dict(),  # type: ignore[attr-defined]
                "optimizer": self.optimizer.state_dict()}  # type: ignore[attr-defined]

    def load_state_dict(self, checkpoint: dict[str, Any]) -> None:
        """Go on from a checkpoint (the models, optimizers, and anything else it keeps)."""
        self.model.load_state_dict(checkpoint["model"])  # type: ignore[attr-defined]
        self.optimizer.load_state_dict(checkpoint["optimizer"])  # type: ignore[attr-defined]

    def begin(self) -> dict[str, Any]:
        """What a new run's history records once, before the first epoch."""
        return {}

    def items(self, batch: Any) -> int:
        """How many items (images) a batch holds: the weight of its logs in the means."""
        return len(batch[0])

    def end_epoch(self, entry: dict[str, Any], steps: dict[str, list[float]],
                  history: dict[str, Any]) -> None:
        """Add the epoch's evaluation to ``entry`` (the logs of every step in ``steps``)."""

    def summary(self, history: dict[str, Any]) -> dict[str, Any]:
        """What ``metrics.json`` holds: the model, the config, the history (every epoch, and
        what ``begin`` recorded) and, under ``"test"``, the last epoch's test metrics."""
        summary = {"model": self.config.model, "config": self.config.to_dict(), **history}
        if history["epochs"] and "test" in history["epochs"][-1]:
            summary["test"] = history["epochs"][-1]["test"]
        return summary

    @classmethod
    def read(cls, folder: str | os.PathLike) -> dict[str, Any]:
        """The checkpoint of a run of this family in ``folder``, checked (a ConfigError)."""
        models = cls.config_class.MODELS

        def check_config(values: dict[str, Any]) -> None:
            if values.get("model") not in models:
                raise ConfigError(f"it is a run of {values.get('model')!r}, not of "
                                  f"{' or '.join(map(repr, models))}")
            cls.config_class.check_stored(values)

        return read_checkpoint(folder, cls.checkpoint_keys, check_config)

    @classmethod
    def load(cls, folder: str | os.PathLike) -> "Run":
        """The trained run in ``folder``, its models in evaluation mode."""
        checkpoint = cls.read(folder)
        run = cls(cls.config_class.from_dict(checkpoint["config"]), checkpoint)
        run.load_checkpoint(checkpoint, folder)
        run.eval()
        return run

    def load_checkpoint(self, checkpoint: dict[str, Any], folder: Any) -> None:
        """``load_state_dict``, with a checkpoint that does not fit the models (a changed
        config, a wrong-shaped or missing weight) reported as one ConfigError."""
        try:
            self.load_state_dict(checkpoint)
        except (RuntimeError, ValueError, KeyError, TypeError) as err:
            message = " ".join(str(err).split())
            raise ConfigError(f"the checkpoint in {folder} cannot be loaded: {message}"
                              ) from None

    def labels_to_draw(self, n: int, label: int | None, conditional: bool) -> Any:
        """The labels (n,) a conditional model is asked for: all ``label``, or the classes
        in turn (0, 1, ..., 9, 0, ...) without one; None for an unconditional model, which
        refuses a label."""
        np = backend.np
        if not conditional:
            if label is not None:
                raise ConfigError(f"--label needs a conditional model; this run is a "
                                  f"{self.config.model}, which is unconditional")
            return None
        if label is None:
            return np.arange(n, dtype=np.int64) % NUM_CLASSES
        if not 0 <= label < NUM_CLASSES:
            raise ConfigError(f"--label must be a class from 0 to {NUM_CLASSES - 1}, got {label}")
        return np.full(n, label, dtype=np.int64)

    def eval(self) -> None:
        """Put the run's models in evaluation mode (each family with several models)."""
        self.model.eval()  # type: ignore[attr-defined]


def train_epoch(run: Run, desc: str, progress: bool
                ) -> tuple[dict[str, list[float]], list[int], float]:
    """``run.step`` on each of the epoch's batches under a tqdm bar (recent means of the
    logs in its postfix). Returns every step's logs, the items of every step and the
    seconds taken."""
    from tqdm.auto import tqdm  # noqa: PLC0415 — only training needs it

    bar = tqdm(run.batches(), desc=desc, unit="batch", leave=False, disable=not progress,
               dynamic_ncols=True)
    steps: dict[str, list[float]] = {}
    items: list[int] = []
    start = time.perf_counter()
    for batch in bar:
        logs = run.step(batch)
        bad = [name for name, value in logs.items() if not math.isfinite(value)]
        if bad:
            bar.close()
            raise TrainingDiverged(f"{desc}, step {len(items) + 1}: {bad[0]} became "
                                   f"{logs[bad[0]]}")
        for name, value in logs.items():
            steps.setdefault(name, []).append(value)
        items.append(run.items(batch))
        if progress:
            recent = {k: f"{sum(v[-20:]) / len(v[-20:]):.3f}" for k, v in list(steps.items())[:4]}
            bar.set_postfix(recent, refresh=False)
    bar.close()
    return steps, items, time.perf_counter() - start


def weighted_means(steps: dict[str, list[float]], items: list[int]) -> dict[str, float]:
    """The mean of each log over an epoch's steps, weighted by the items of each step."""
    return {name: sum(n * v for n, v in zip(items, values)) / sum(items)
            for name, values in steps.items()}


def train(config: RunConfig, out: str | os.PathLike, resume_from: str | os.PathLike | None = None,
          progress: bool = True, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train a run of ``config.model`` (or, with ``resume_from``, go on training one) and
    write it into ``out``; returns the metrics summary (``metrics.json``).

    Everything is checked before anything is written: the config, ``out``, and the
    checkpoint to resume (its config must equal ``config`` except for ``epochs``, which
    must exceed the epochs already done).

    Args:
        config: the run's settings (a family's config: ``minigen.training``).
        out: the run folder (created if missing).
        resume_from: a run folder whose checkpoint training continues from; may be ``out``.
        progress: show a tqdm progress bar per epoch (on stderr).
        log: where the one-line epoch summaries go (default: above the progress bar).
    """
    from minigen.runs import family_of  # noqa: PLC0415 — the families import this module
    from tqdm.auto import tqdm  # noqa: PLC0415

    config.check()
    family = family_of(config.model)
    if not isinstance(config, family.config_class):
        raise ConfigError(f"a {config.model} run needs a {family.config_class.__name__}, "
                          f"got a {type(config).__name__}")
    out = Path(out)
    checkpoint = start_run(config, out, resume_from, family.read)
    log = tqdm.write if log is None else log
    memory.tune_allocator()      # training reuses freed memory: see minigen.memory

    minigen.manual_seed(config.seed)
    try:
        run = family(config, checkpoint)
    except MemoryError as err:         # e.g. --latent-dim 100000000: NumPy names the size
        raise ConfigError(f"the {config.model} these options describe does not fit in memory"
                          f" ({err})") from None
    if checkpoint is None:
        history: dict[str, Any] = {"epochs": [], **run.begin()}
    else:
        run.load_checkpoint(checkpoint, resume_from)
        history = dict(checkpoint["metrics"])
        history["epochs"] = list(history["epochs"])
    out.mkdir(parents=True, exist_ok=True)

    summary = run.summary(history)
    for epoch in range(len(history["epochs"]) + 1, config.epochs + 1):
        minigen.manual_seed(config.seed * 10_000 + epoch)
        steps, items, seconds = train_epoch(run, f"epoch {epoch}/{config.epochs}", progress)
        entry: dict[str, Any] = {"epoch": epoch, "train": weighted_means(steps, items),
                                 "seconds": seconds, family.rate: sum(items) / seconds}
        try:
            run.end_epoch(entry, steps, history)
        except Exception as err:     # an evaluation that fails must not lose the training
            entry["evaluation_error"] = f"{type(err).__name__}: {err}"
            history["epochs"].append(entry)
            save({**run.state_dict(), "epoch": epoch, "config": config.to_dict(),
                  "metrics": history}, out / CHECKPOINT)
            raise EvaluationFailed(f"epoch {epoch}'s evaluation failed ({entry['evaluation_error']})"
                                   f"; its trained weights are saved in {out / CHECKPOINT}"
                                   ) from err
        history["epochs"].append(entry)

        # ---- write the run: checkpoint, metrics, pictures (each atomically)
        summary = run.summary(history)
        save({**run.state_dict(), "epoch": epoch, "config": config.to_dict(),
              "metrics": history}, out / CHECKPOINT)
        write_json(out / METRICS, summary)
        for name, (images, nrow, title) in run.pictures(epoch).items():
            write_atomically(out / name, lambda p: save_image_grid(images, p, nrow=nrow,
                                                                   title=title))
        unit = family.rate.replace("_per_second", "/s").replace("_", " ")     # "images/s"
        log(f"epoch {epoch:3d}/{config.epochs}  {run.epoch_line(entry)}  {seconds:.1f} s, "
            f"{entry[family.rate]:.0f} {unit}")
    return summary


def final_line(config: RunConfig, summary: dict[str, Any], out: str | os.PathLike) -> str:
    """The last line of ``minigen train``: the family's final numbers, the epochs, the folder."""
    from minigen.runs import family_of  # noqa: PLC0415
    return (f"{family_of(config.model).summary_line(config, summary)} after "
            f"{len(summary['epochs'])} epochs (run in {out})")
