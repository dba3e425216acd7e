"""Run folders: the files of a training run, checked before anything is written.

A training *run* lives in one folder: ``checkpoint.npz`` (``minigen.save`` of a dict with
at least ``"epoch"``, ``"config"`` and ``"metrics"``), ``metrics.json`` and PNG grids, all
rewritten atomically after every epoch, so the folder always describes one finished
epoch and an interrupted run can go on from it (``--resume DIR``).

The helpers here check folders and checkpoints before anything is written
(``ConfigError``, whose message reads as a command-line error), write files atomically,
and check that a resumed run keeps its config.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

from minigen.serialization import load
from minigen.training.config import ConfigError, RunConfig, flag

CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.json"


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
    if out.is_dir() and not (out / CHECKPOINT).exists() and any(out.iterdir()):
        others = sorted(p.name for p in out.iterdir())
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise ConfigError(f"--out {out} holds files that are not a run ({shown}); training "
                          "would overwrite them: choose an empty or a new folder")
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
        if check_config is not None and "config" in checkpoint:
            check_config(checkpoint["config"])     # first: "a run of another model" says more
        if missing:
            raise ConfigError(f"the keys {', '.join(missing)} are missing")
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
    config.check()
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
