"""Switching graph recording on and off: ``no_grad`` and ``enable_grad``.

While recording is off, ops compute their result and build no graph: nothing is saved
for a backward pass, so evaluation and parameter updates cost no more than plain
array code::

    >>> import minigen
    >>> w = minigen.ones(3, requires_grad=True)
    >>> with minigen.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False

Both are context managers and decorators.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

_enabled = True

F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """True when ops record the graph needed for ``backward``."""
    return _enabled


def set_grad_enabled(mode: bool) -> None:
    """Turn graph recording on or off (prefer the context managers)."""
    global _enabled
    _enabled = bool(mode)


class _GradMode:
    """A context manager and decorator that sets graph recording to ``self.mode``."""

    mode = True

    def __enter__(self) -> None:
        self._previous = is_grad_enabled()
        set_grad_enabled(self.mode)

    def __exit__(self, *exc: object) -> None:
        set_grad_enabled(self._previous)

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):  # noqa: N801 — lower case, like PyTorch's
    """Ops inside record no graph: ``with minigen.no_grad(): ...`` or ``@minigen.no_grad()``."""

    mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Ops inside record the graph again, even within ``no_grad``."""

    mode = True
