"""Training runs: one loop of epochs for every family, and the run folders it writes.

``train(config, out)`` trains the model ``config.model`` names (any family's config from
``minigen.training``) and writes a run folder after every epoch: ``checkpoint.npz``,
``metrics.json`` and PNG grids; ``train(config, out, resume_from=folder)`` goes on from a
run with exactly the numbers of a run that never stopped. ``load_run(folder)`` gives the
trained run back, ``sample_run`` images drawn from it. ``shipped_run(model)`` loads a run
folder that ships with minigen (``SHIPPED``), for a lecture whose point is the trained
model rather than its training; the README gives the command that wrote each.

| module          | the runs of                                     |
|-----------------|-------------------------------------------------|
| ``loop``        | every family: ``Run`` (what a family provides) and ``train`` |
| ``folder``      | every family: checks, checkpoints, atomic writes |
| ``autoencoders``| ``ae``, ``vae``, ``cvae``                       |
| ``vqvae``       | ``vqvae``, ``pixelcnn`` (the VQ-VAE's prior)    |
| ``gans``        | ``gan``, ``dcgan``, ``cgan``, ``wgan-gp``       |
| ``cyclegan``    | ``cyclegan``                                    |
| ``autoregressive`` | ``pixelcnn-digits``                          |
| ``diffusion``   | ``ddpm``                                        |
| ``flows``       | ``realnvp``                                     |
| ``ebm``         | ``ebm``                                         |
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import minigen
from minigen.runs.autoencoders import AutoencoderRun
from minigen.runs.autoregressive import AutoregressiveRun
from minigen.runs.cyclegan import CycleGANRun
from minigen.runs.diffusion import DiffusionRun
from minigen.runs.ebm import EBMRun
from minigen.runs.flows import FlowRun
from minigen.runs.folder import CHECKPOINT, METRICS, read_checkpoint
from minigen.runs.gans import GANRun
from minigen.runs.loop import Run, final_line, train
from minigen.runs.vqvae import PixelCNNRun, VQVAERun
from minigen.training.config import ConfigError, check_int

# The families in the order of the course.
FAMILIES: tuple[type[Run], ...] = (AutoencoderRun, VQVAERun, PixelCNNRun, GANRun, CycleGANRun,
                                   AutoregressiveRun, FlowRun, EBMRun, DiffusionRun)
MODELS: dict[str, type[Run]] = {name: family for family in FAMILIES
                                for name in family.config_class.MODELS}


# The run folders that ship with minigen, one per model name, each as `minigen train MODEL
# --out SHIPPED/MODEL` wrote it.
SHIPPED = Path(__file__).resolve().parent / "shipped"


def family_of(model: Any) -> type[Run]:
    """The ``Run`` class of ``model`` (a name after ``minigen train``)."""
    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    return MODELS[model]


def load_run(folder: str | os.PathLike) -> Run:
    """The trained run in ``folder`` (any family), its models in evaluation mode; a
    ConfigError says what is wrong with the folder or its checkpoint."""
    model = read_checkpoint(folder, keys=())["config"].get("model")
    return family_of(model).load(folder)


def shipped_run(model: str) -> Run:
    """The trained run of ``model`` that ships with minigen (evaluation mode); its
    ``checkpoint["metrics"]`` holds the run's metrics, epoch by epoch."""
    shipped = sorted(p.name for p in SHIPPED.iterdir() if p.is_dir()) if SHIPPED.is_dir() else []
    if model not in shipped:
        raise ConfigError(f"no shipped run of {model!r}; minigen ships "
                          f"{', '.join(shipped) or 'none'}")
    return load_run(SHIPPED / model)


def sample_run(folder: str | os.PathLike, n: int, label: int | None = None,
               seed: int = 0) -> tuple[Any, Any]:
    """n images (n, 1, 28, 28) NumPy float32 in [0, 1] from the run in ``folder``, and their
    labels (conditional models) or None; the same ``seed`` draws the same images."""
    run = _trained_run(folder, n, seed)
    return run.sample(n, label)


def sample_arrays(folder: str | os.PathLike, n: int, label: int | None = None,
                  seed: int = 0, **options: Any) -> dict[str, Any]:
    """What ``minigen sample`` writes: ``"images"``, and ``"labels"`` for a conditional
    model; a cyclegan run adds its source images (``"inputs"``) and their digit labels.
    ``options``: a diffusion run's sampler (``steps``, ``eta``, ``guidance``)."""
    run = _trained_run(folder, n, seed)
    return run.sample_arrays(n, label, **options)


def _trained_run(folder: str | os.PathLike, n: int, seed: int) -> Run:
    """The run in ``folder`` ready to sample after ``manual_seed(seed)``. A checkpoint with
    NaN or infinite weights (a diverged run, which would draw NaN images) is refused by
    ``load_state_dict``'s dtype rule, as a ConfigError."""
    check_int("n", n, minimum=1)
    check_int("seed", seed, minimum=0)
    run = load_run(folder)
    minigen.manual_seed(seed)
    return run


__all__ = ["CHECKPOINT", "FAMILIES", "METRICS", "MODELS", "Run", "SHIPPED", "family_of", "final_line",
           "load_run", "sample_arrays", "sample_run", "shipped_run", "train"]
