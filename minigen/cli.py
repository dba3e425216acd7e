"""The ``minigen`` command: train the course's models and sample from them.

    minigen train MODEL [options]       MODEL: ae, vae, cvae, ... (minigen train --help)
    minigen sample DIR --out FILE [--n 64] [--label C] [--seed 0]

(``python -m minigen ...`` is the same.) ``train`` writes a run folder (``minigen.runs``):
checkpoint, metrics.json and PNG grids, after every epoch; ``--resume DIR`` goes on from
DIR's checkpoint with the same config up to ``--epochs`` in total. ``sample`` writes N
images of a trained run as ``.npz`` (key ``images`` (N, 1, 28, 28) in [0, 1], and
``labels`` (N,) for a conditional model) or as a PNG grid.

Each model's options are made from the fields of its family's config dataclass
(``minigen.training``) and their help strings. Every bad argument is reported in one line
on stderr (exit status 2) before anything is trained or written. Advanced options, left
out of ``--help``: ``--train-size N`` and ``--test-size N`` (train / evaluate on the first
N images only: quick tests).

>>> main(["train", "transformer"])
2
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any, NoReturn, Sequence

from minigen import backend, runs
from minigen.runs.loop import EvaluationFailed, TrainingDiverged
from minigen.training.config import ConfigError, RunConfig, flag
from minigen.viz import save_image_grid

PROG = "minigen"
EXIT_USAGE = 2          # argparse's status for a bad command line
EXIT_INTERRUPTED = 130  # the shell's status after Ctrl-C
EXIT_FAILED = 1         # a run that diverged, or whose evaluation failed
SAMPLE_MEMORY_SHARE = 0.5   # sample refuses an --n whose images alone need more of the RAM


class UsageError(Exception):
    """A bad argument: ``main`` prints ``minigen: error: <message>`` and exits with 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (argparse prints the usage above it)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


# ---------------------------------------------------------------- train
def _options(config_class: type[RunConfig], model: str) -> list[dataclasses.Field]:
    """The config fields that are options of ``minigen train <model>``."""
    return [f for f in dataclasses.fields(config_class)  # type: ignore[arg-type]
            if f.name != "model" and (f.metadata.get("only") is None
                                      or model in f.metadata["only"])]


def add_train_command(commands: Any, model: str) -> None:
    """Add ``minigen train <model>`` to the argparse subparsers ``commands``, one option per
    config field (its help string, and the default of ``<model>``)."""
    family = runs.family_of(model)
    defaults = family.config_class(model=model)
    what = family.descriptions[model]
    parser = commands.add_parser(model, help=f"train {what}",
                                 description=f"Train {what}, on the embedded 28x28 images; "
                                             "write a run folder.")
    for field in _options(family.config_class, model):
        meta = field.metadata
        kind = meta.get("type") or type(field.default)
        default = getattr(defaults, field.name)
        text = argparse.SUPPRESS if meta.get("hidden") else meta["help"]
        if default is not None and not meta.get("hidden") and kind is not bool:
            text += f" (default {default:g})" if isinstance(default, float) else \
                f" (default {default})"
        # None = not given: a resumed run takes its values from the checkpoint.
        if kind is bool:
            parser.add_argument(flag(field.name), action="store_true", default=None, help=text)
        else:
            parser.add_argument(flag(field.name), type=kind, default=None, help=text,
                                choices=meta.get("choices"),
                                metavar=field.name.upper() if field.name == "vqvae" else None)
    parser.add_argument("--out", type=Path, default=None,
                        help=f"the run folder to write (default runs/{model}, or the --resume "
                             "folder)")
    parser.add_argument("--resume", type=Path, default=None, metavar="DIR",
                        help="go on training the run in DIR (same config, up to --epochs in "
                             "total)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(model=model, run=_train)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The run's config: the checkpoint's (when resuming) or the defaults, overridden by the
    options given on the command line (checked by ``runs.train``)."""
    family = runs.family_of(args.model)
    given = {f.name: getattr(args, f.name) for f in _options(family.config_class, args.model)
             if getattr(args, f.name) is not None}
    if args.resume is None:
        return family.config_class(model=args.model, **given)
    stored = family.read(args.resume)["config"]
    if stored["model"] != args.model:
        raise ConfigError(f"the run in {args.resume} is a {stored['model']}, not a {args.model}")
    values = dict(stored)
    values["epochs"] = family.config_class(model=args.model).epochs  # the total asked for
    values.update(given)                          # runs.train refuses any other change
    return family.config_class.from_dict(values)


def _train(args: argparse.Namespace) -> int:
    """``minigen train MODEL``: train, print the final numbers in one line; 130 on Ctrl-C."""
    config = config_from_args(args)
    out = args.out or args.resume or Path("runs") / args.model
    try:
        summary = runs.train(config, out, resume_from=args.resume, progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"\nminigen: interrupted; every finished epoch is saved in {out} "
              f"(go on with: minigen train {args.model} --resume {out})", file=sys.stderr)
        return EXIT_INTERRUPTED
    except TrainingDiverged as err:
        print(f"{PROG}: error: training diverged at {err}; {out} keeps every epoch finished "
              "before it (a smaller --lr may help)", file=sys.stderr)
        return EXIT_FAILED
    except EvaluationFailed as err:
        print(f"{PROG}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return EXIT_FAILED
    print(runs.final_line(config, summary, out))
    return 0


# ---------------------------------------------------------------- sample
def check_sample_out(out: Path, force: bool) -> None:
    """Refuse, before sampling, an --out that cannot or must not be written: not .npz or
    .png, in a missing or read-only folder, inside a run folder (its checkpoint, metrics
    or pictures), or an existing file without --force."""
    if out.suffix.lower() not in (".npz", ".png"):
        raise UsageError(f"--out {out} must end in .npz or .png")
    folder = out.absolute().parent
    if not folder.is_dir():
        raise UsageError(f"cannot write --out {out}: the folder {folder} does not exist")
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder, not a file")
    if (folder / runs.CHECKPOINT).exists():
        raise UsageError(f"--out {out} is inside the run folder {folder}: sample never writes "
                         "there (the run's files would be overwritten); choose another folder")
    if out.exists() and not force:
        raise UsageError(f"--out {out} exists; sample does not overwrite files unless --force")
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UsageError(f"cannot write --out {out}: permission denied")


def check_sample_size(n: int) -> None:
    """Refuse an --n whose images alone (n x 784 float32) would need more than half the RAM."""
    if not isinstance(n, int) or n < 1:
        raise UsageError(f"--n must be a positive integer, got {n}")
    needed = n * 28 * 28 * 4
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if needed > SAMPLE_MEMORY_SHARE * total:
        raise UsageError(f"--n {n} would need {needed / 2**30:.0f} GiB for the images alone "
                         f"(this machine has {total / 2**30:.0f} GiB); ask for fewer")


def _sample(args: argparse.Namespace) -> int:
    """``minigen sample DIR --out FILE``: N images of a trained run, as .npz or a PNG grid."""
    np = backend.np
    check_sample_out(args.out, args.force)
    check_sample_size(args.n)
    options = {name: getattr(args, name) for name in ("steps", "eta", "guidance")
               if getattr(args, name) is not None}
    arrays = runs.sample_arrays(args.run, args.n, args.label, args.seed, **options)
    images, labels = arrays["images"], arrays.get("labels")
    model = runs.read_checkpoint(args.run, keys=())["config"]["model"]
    if args.out.suffix.lower() == ".npz":
        with open(args.out, "wb") as handle:
            np.savez(handle, **arrays)
    else:
        nrow = 10 if labels is not None and args.label is None else int(np.ceil(np.sqrt(args.n)))
        title = f"{model}: {args.n} samples"
        if args.label is not None:
            title += f" of class {args.label}"
        save_image_grid(images, args.out, nrow=nrow, title=title)
    print(f"wrote {args.n} images to {args.out}")
    return 0


# ---------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``minigen`` with its two subcommands."""
    parser = _Parser(prog=PROG, description="Train the course's generative models on the "
                                            "embedded digits and sample from them.",
                     epilog="Homework tools: minigen assignment {list,build,grade,check} "
                            "(see minigen assignment --help).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{train,sample}")
    tr = commands.add_parser("train", help="train a model; write a run folder",
                             description="Train one of the course's models on the embedded "
                                         "28x28 images (minigen train MODEL --help for its "
                                         "options).")
    models = tr.add_subparsers(dest="model", required=True,
                               metavar="{" + ",".join(runs.MODELS) + "}", parser_class=_Parser)
    for model in runs.MODELS:
        add_train_command(models, model)

    sa = commands.add_parser("sample", help="write images generated by a trained run",
                             description="Generate images with the model of a run folder.")
    sa.add_argument("run", type=Path, metavar="DIR", help="a run folder written by 'train'")
    sa.add_argument("--out", type=Path, required=True, metavar="FILE",
                    help="FILE.npz (images, labels) or FILE.png (a grid)")
    sa.add_argument("--n", type=int, default=64, help="how many images (default 64)")
    sa.add_argument("--label", type=int, default=None, metavar="C",
                    help="conditional models only: draw class C (default: the classes in turn)")
    sa.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    sa.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    sa.add_argument("--steps", type=int, default=None, metavar="S",
                    help="ddpm runs: DDIM steps (default the run's; all its --timesteps with "
                         "--eta 1: DDPM's ancestral chain)")
    sa.add_argument("--eta", type=float, default=None, metavar="E",
                    help="ddpm runs: DDIM's noise, 0 (deterministic, default) to 1")
    sa.add_argument("--guidance", type=float, default=None, metavar="W",
                    help="ddpm runs: classifier-free guidance scale w (default the run's)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``minigen`` with ``argv`` (default: the command line); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "assignment":  # homework tools: their own sub-commands
        from minigen.assignments.cli import main as assignment_main  # noqa: PLC0415
        return assignment_main(argv[1:])
    try:
        args = build_parser().parse_args(argv)
        return args.run(args) if args.command == "train" else _sample(args)
    except (UsageError, ConfigError) as err:
        message = " ".join(str(err).split())    # one line, whatever the message held
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:                     # `minigen ... | head`: the reader left
        from minigen.assignments.cli import quiet_exit  # noqa: PLC0415
        return quiet_exit()
