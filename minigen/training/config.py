"""The settings of a training run: one dataclass per family, checked before anything runs.

Every family's config (``AutoencoderConfig``, ``VQVAEConfig``, ``PixelCNNConfig``,
``GANConfig``, ``CycleGANConfig``) is a dataclass built on ``RunConfig``. Its fields are
the family's hyper-parameters; each field's help string (``option(..., help=...)``) is
also the help of its command-line flag, so ``minigen train MODEL --help`` is made from
the dataclass alone. A bad value raises ``ConfigError``, whose message reads as a
command-line error (``--batch-size must be a positive integer, got 0``).

>>> from dataclasses import dataclass
>>> @dataclass
... class Toy(RunConfig):
...     model: str = "toy"
...     epochs: int = option(3, "total epochs to train to")
>>> Toy(epochs=5).to_dict()
{'model': 'toy', 'epochs': 5}
"""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from minigen import checks


class ConfigError(ValueError):
    """A bad setting, folder or checkpoint, found before anything is trained or written."""


def flag(name: str) -> str:
    """The command-line flag of a config field: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def option(default: Any, help: str, *, type: Any = None, choices: Iterable[str] | None = None,
           only: Iterable[str] | None = None, hidden: bool = False) -> Any:
    """A config field with its command-line help.

    Args:
        default: the field's default (None: decided by the model, see the config).
        help: what the flag means, as ``--help`` prints it (the default is appended).
        type: the flag's type when the default does not show it (a None default).
        choices: the allowed values, for the flag.
        only: the models whose command has this flag (default: all of the config's).
        hidden: left out of ``--help`` (quick-test options such as ``--train-size``).
    """
    meta = {"help": help, "type": type, "choices": None if choices is None else list(choices),
            "only": None if only is None else tuple(only), "hidden": hidden}
    return dataclasses.field(default=default, metadata=meta)


def _as_config_error(check: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """Run one of ``minigen.checks`` on the field ``name``; its error becomes a ConfigError
    that names the flag, as a command-line error does (``--epochs must be ...``)."""
    try:
        return check(_OWNER, flag(name), *args, **kwargs)
    except (ValueError, TypeError) as err:
        raise ConfigError(str(err).removeprefix(f"{_OWNER}: ")) from None


_OWNER = "minigen train"


def check_int(name: str, value: Any, minimum: int) -> None:
    """Raise a ConfigError unless ``value`` is an int >= ``minimum`` (bools are not ints here)."""
    _as_config_error(checks.positive_int, name, value, minimum)


def check_positive(name: str, value: Any, allow_zero: bool = False) -> None:
    """Raise a ConfigError unless ``value`` is a number > 0 (>= 0 with ``allow_zero``)."""
    if allow_zero:
        _as_config_error(checks.in_range, name, value, 0)
    else:
        _as_config_error(checks.positive_number, name, value)


def check_range(name: str, value: Any, low: float, high: float, closed: str = "both") -> None:
    """Raise a ConfigError unless ``value`` lies between ``low`` and ``high`` (``closed`` as
    in ``minigen.checks.in_range``: which ends are allowed)."""
    _as_config_error(checks.in_range, name, value, low, high, closed=closed)


def check_choice(name: str, value: Any, choices: Iterable[str]) -> None:
    """Raise a ConfigError unless ``value`` is one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise ConfigError(f"unknown {name} {value!r}; choose from {', '.join(choices)}")


class RunConfig:
    """The base of every run's config (a dataclass with at least the fields ``model`` — the
    word after ``minigen train`` —, ``epochs``, ``batch_size``, ``lr``, ``seed``,
    ``train_size`` and ``test_size``): dict round trips for the checkpoint and
    metrics.json, and the checks they all share. ``MODELS`` lists the model names a
    config class serves."""

    MODELS: tuple[str, ...] = ()

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
        """Raise unless ``values`` (a checkpoint's config) is a valid config of this class."""
        cls.from_dict(values).check()

    def check(self) -> None:
        """Raise a ConfigError naming the first bad field (each family adds its own checks)."""
        self.check_common()

    def check_common(self, positive: Iterable[str] = ()) -> None:
        """Raise a ConfigError naming the first bad shared field: ``model`` one of
        ``MODELS``; ``epochs``, ``batch_size`` and the fields named in ``positive``
        integers >= 1; ``seed`` >= 0; ``train_size`` and ``test_size`` (of the
        configs that have them) None or >= 1; ``lr`` > 0."""
        values = vars(self)
        check_choice("model", values["model"], self.MODELS)
        for name in ("epochs", "batch_size", *positive):
            check_int(name, values[name], minimum=1)
        check_int("seed", values["seed"], minimum=0)
        for name in ("train_size", "test_size"):
            if values.get(name) is not None:
                check_int(name, values[name], minimum=1)
        check_positive("lr", values["lr"])


# The fields every family shares, with their help strings (``seed``, ``train_size``,
# ``test_size``); each config declares them after its own.
def seed_option() -> Any:
    return option(0, "seed of the initialization, the shuffling and the noise")


def train_size_option(what: str = "training images") -> Any:
    return option(None, f"use only the first N {what} (quick tests)", type=int, hidden=True)


def test_size_option(what: str = "test images") -> Any:
    return option(None, f"evaluate on the first N {what} only (quick tests)", type=int,
                  hidden=True)
