"""Run folders: what every ``minigen train`` command shares.

A training *run* lives in one folder: ``checkpoint.npz`` (``minigen.save`` of a dict with
at least ``"epoch"``, ``"config"`` and ``"metrics"``), ``metrics.json`` and PNG grids, all
rewritten atomically after every epoch, so the folder always describes one finished
epoch and an interrupted run can go on from it (``--resume DIR``).

The helpers here check everything before anything is written (``ConfigError``, whose
message reads as a command-line error), write files atomically, and check that a resumed
run keeps its config. Each model family (``train_autoencoder``, ``train_vqvae``,
``train_gan``, ``train_cyclegan``) builds its command on them.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

from minigen.serialization import load

CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.json"


class ConfigError(ValueError):
    """A bad setting, folder or checkpoint, found before anything is trained or written."""


def flag(name: str) -> str:
    """The command-line flag of a config field: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def check_int(name: str, value: Any, minimum: int) -> None:
    """Raise a ConfigError unless ``value`` is an int >= ``minimum`` (bools are not ints here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ConfigError(f"{flag(name)} must be {what}, got {value!r}")


def check_positive(name: str, value: Any) -> None:
    """Raise a ConfigError unless ``value`` is a number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(f"{flag(name)} must be a positive number, got {value!r}")


def check_choice(name: str, value: Any, choices: Iterable[str]) -> None:
    """Raise a ConfigError unless ``value`` is one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise ConfigError(f"unknown {name} {value!r}; choose from {', '.join(choices)}")


class RunConfig:
    """The base of every run's config (a dataclass with at least the fields ``model`` — the
    word after ``minigen train`` —, ``epochs``, ``batch_size``, ``lr``, ``seed``,
    ``train_size`` and ``test_size``): dict round trips for the checkpoint and
    metrics.json, and the checks they all share."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Any:
        """The config stored in a checkpoint; a ConfigError names fields it does not know."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(f"the run's config has unknown fields {unknown}")
        return cls(**values)

    @classmethod
    def check_stored(cls, values: dict[str, Any]) -> None:
        """Raise unless ``values`` (a checkpoint's config) is a valid config of this class:
        the ``check_config`` of ``read_checkpoint``."""
        cls.from_dict(values).check()  # type: ignore[attr-defined] — each config has check()

    def check_common(self, models: Iterable[str], positive: Iterable[str] = ()) -> None:
        """Raise a ConfigError naming the first bad shared field: ``model`` one of ``models``;
        ``epochs``, ``batch_size`` and the fields named in ``positive`` integers >= 1;
        ``seed`` >= 0; ``train_size`` and ``test_size`` None or >= 1; ``lr`` > 0."""
        values = vars(self)
        check_choice("model", values["model"], models)
        for name in ("epochs", "batch_size", *positive):
            check_int(name, values[name], minimum=1)
        check_int("seed", values["seed"], minimum=0)
        for name in ("train_size", "test_size"):
            if values[name] is not None:
                check_int(name, values[name], minimum=1)
        check_positive("lr", values["lr"])


def check_out_folder(out: str | os.PathLike, may_hold_run: bool = False) -> Path:
    """Check that ``out`` can become a run folder, touching nothing; raise a ConfigError if not.

    A folder that already holds a checkpoint is refused unless ``may_hold_run`` (it is the
    run being resumed): training would overwrite it.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder")
    if out.is_dir() and (out / CHECKPOINT).exists() and not may_hold_run:
        raise ConfigError(f"--out {out} already holds a run ({CHECKPOINT}); continue it with "
                          f"--resume {out}, or choose another --out")
    existing = out.absolute()
    while not existing.exists():          # the nearest folder that exists: we create below it
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"cannot create --out {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write to --out {out}: {existing} is not writable")
    return out


def read_checkpoint(folder: str | os.PathLike, keys: Iterable[str] = ("model", "optimizer"),
                    check_config: Callable[[dict[str, Any]], None] | None = None
                    ) -> dict[str, Any]:
    """The checkpoint of the run in ``folder``, checked; a ConfigError says what is wrong.

    Args:
        folder: a run folder.
        keys: the keys this family's checkpoints hold besides ``epoch``, ``config`` and
            ``metrics`` (a GAN's holds two models and two optimizers).
        check_config: called with the stored config dict; raises if it is not one of
            this family's (ConfigError, ValueError, TypeError or KeyError).
    """
    folder = Path(folder)
    path = folder / CHECKPOINT
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder")
    if not path.is_file():
        raise ConfigError(f"{folder} holds no checkpoint ({CHECKPOINT}); is it a run folder "
                          "written by 'minigen train'?")
    needed = {"epoch", "config", "metrics", *keys}
    try:
        checkpoint = load(path)
        if not isinstance(checkpoint, dict):
            raise ConfigError("it holds no dict")
        missing = sorted(needed - set(checkpoint))
        if missing:
            raise ConfigError(f"the keys {', '.join(missing)} are missing")
        if check_config is not None:
            check_config(checkpoint["config"])
    except (OSError, ValueError, TypeError, KeyError) as err:
        raise ConfigError(f"{path} is not a checkpoint of 'minigen train': {err}") from err
    return checkpoint


def check_resume(config: dict[str, Any], checkpoint: dict[str, Any], resume_from: Any,
                 out: str | os.PathLike) -> None:
    """Check that ``config`` may go on from ``checkpoint`` (read from ``resume_from``) into ``out``.

    A resumed run keeps its config except ``epochs`` (the total to train to), which must
    exceed the epochs already done; ``out`` may be the resumed folder itself.
    """
    stored = checkpoint["config"]
    different = [f"{flag(k)} {config.get(k)!r} (the run has {v!r})"
                 for k, v in stored.items() if k != "epochs" and config.get(k) != v]
    if different:
        raise ConfigError("a resumed run keeps its config; these differ: " + ", ".join(different))
    if config["epochs"] <= checkpoint["epoch"]:
        raise ConfigError(f"the run in {resume_from} has already trained {checkpoint['epoch']} "
                          f"epochs; ask for more with --epochs N (N > {checkpoint['epoch']}, "
                          "the total)")
    same_folder = Path(out).absolute().resolve() == Path(resume_from).absolute().resolve()
    check_out_folder(out, may_hold_run=same_folder)


def start_run(config: RunConfig, out: str | os.PathLike, resume_from: Any,
              read: Callable[[Any], dict[str, Any]]) -> dict[str, Any] | None:
    """Check everything before anything is written: the config, ``out``, and the run to
    resume (read with ``read``, which checks its checkpoint). Returns the checkpoint to go
    on from, or None for a new run."""
    config.check()  # type: ignore[attr-defined] — each config has check()
    if resume_from is None:
        check_out_folder(out)
        return None
    checkpoint = read(resume_from)
    check_resume(config.to_dict(), checkpoint, resume_from, out)
    return checkpoint


def first_images(name: str, size: int | None, *arrays: Any) -> tuple[Any, ...]:
    """The first ``size`` items of each array (all of them if ``size`` is None); a
    ConfigError names the option ``name`` if there are fewer."""
    if size is not None and size > len(arrays[0]):
        raise ConfigError(f"{flag(name)} {size} is larger than the {len(arrays[0])} images "
                          "there are")
    return tuple(a[:size] for a in arrays)


def write_atomically(path: Path, write: Callable[[str], None]) -> None:
    """``write(temporary path)`` in the folder of ``path``, then rename it over ``path``."""
    path = Path(path)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.stem}.",
                                         suffix=path.suffix, delete=False)
    handle.close()
    try:
        write(handle.name)
        os.chmod(handle.name, 0o644)     # a temporary file is private (0600); this one is not
        os.replace(handle.name, path)
    except BaseException:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
        raise


def write_json(path: Path, value: Any) -> None:
    """``value`` as indented JSON in ``path``, written atomically."""
    write_atomically(Path(path), lambda p: Path(p).write_text(json.dumps(value, indent=1) + "\n"))
