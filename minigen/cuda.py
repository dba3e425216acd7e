"""``minigen.cuda``: is there a GPU minigen can use? (PyTorch's ``torch.cuda.is_available``.)

Importing this module costs nothing: CuPy is imported only when ``is_available()`` is first
called (``minigen.backend`` keeps it once it has loaded).

    >>> import minigen
    >>> isinstance(minigen.cuda.is_available(), bool)
    True
"""
from __future__ import annotations

from minigen import backend


def is_available() -> bool:
    """True when CuPy imports and sees a CUDA device: ``.to("cuda")`` will then work."""
    return backend.gpu_available()


def device_count() -> int:
    """The number of GPUs minigen can use: 1 when one is available (minigen uses one), else 0."""
    return 1 if is_available() else 0
