"""``minigen.device``: where a tensor's data lives, with PyTorch's names.

``device("cpu")`` is NumPy; ``device("cuda")`` is CuPy on the GPU (``"gpu"`` is minigen's own
name for it, and ``"cuda:0"`` is accepted: minigen uses one GPU). A device compares equal to
any of its names, so ``x.device == "gpu"`` and ``x.device.type == "cuda"`` both work::

    >>> import minigen
    >>> minigen.device("gpu")
    device(type='cuda')
    >>> minigen.zeros(2).device == "cpu"
    True
"""
from __future__ import annotations

from typing import Any

from minigen import checks

_NAMES = {"cpu": "cpu", "cuda": "cuda", "gpu": "cuda", "cuda:0": "cuda"}


class device:  # noqa: N801 — PyTorch's name: torch.device
    """A device: ``type`` is ``"cpu"`` or ``"cuda"``; ``index`` is None, or 0 for the GPU."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        name = checks.one_of("device", "type", type, tuple(_NAMES))
        if name == "cuda:0":
            index = 0 if index is None else index
        if index not in (None, 0) or (index == 0 and _NAMES[name] == "cpu"):
            raise ValueError(f"device: minigen uses one GPU, so index must be None or 0 "
                             f"(and None for the cpu), got {index!r}")
        self.type = _NAMES[name]
        self.index = index

    @property
    def name(self) -> str:
        """minigen's name of the device: ``"cpu"`` or ``"gpu"``."""
        return "cpu" if self.type == "cpu" else "gpu"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            return _NAMES.get(other) == self.type
        return isinstance(other, device) and other.type == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"
