"""Making tensors: from data, filled with a constant, or random (seeded by ``manual_seed``).

Floating data gets the default dtype (float32 unless changed) when no ``dtype`` is
given; integer and boolean data keep their type and never get gradients.

>>> import minigen
>>> minigen.manual_seed(0)
>>> minigen.randn(2, 3).shape
(2, 3)
"""
from __future__ import annotations

from typing import Any, Sequence

from minigen import backend
from minigen.tensor import Tensor


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if int(s) < 0:
            raise ValueError(f"negative dimension in shape {shape}")
    return tuple(int(s) for s in shape)


def _float_dtype(dtype: Any) -> Any:
    return backend.get_default_dtype() if dtype is None else backend.np.dtype(dtype)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (a number, nested lists or an array)."""
    if isinstance(data, Tensor):
        data = data.data
    # New tensors live on the current backend; a GPU array given as data stays on the GPU.
    on_gpu = backend.is_array(data) and backend.device_name(data) == "gpu"
    module = backend.array_module(data) if on_gpu else backend.xp
    if backend.is_array(data):
        array = module.array(data, copy=True) if on_gpu else backend.to_module(data.copy(), module)
    else:
        array = module.asarray(data)
    if dtype is not None:
        array = array.astype(dtype)
    elif array.dtype.kind == "f" and array.dtype != backend.get_default_dtype():
        array = array.astype(backend.get_default_dtype())
    elif array.dtype.kind not in "fiub":
        raise TypeError(f"tensor: unsupported data of dtype {array.dtype}")
    return Tensor(array, requires_grad=requires_grad)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return Tensor(backend.xp.zeros(_shape(shape), dtype=_float_dtype(dtype)), requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return Tensor(backend.xp.ones(_shape(shape), dtype=_float_dtype(dtype)), requires_grad)


def full(shape: Sequence[int], fill_value: float, dtype: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` with every element ``fill_value``."""
    return Tensor(backend.xp.full(_shape((shape,)), fill_value, dtype=_float_dtype(dtype)),
                  requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape, dtype and device of ``t``."""
    xp = backend.array_module(t.data)
    return Tensor(xp.zeros(t.shape, dtype=dtype or t.dtype), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape, dtype and device of ``t``."""
    xp = backend.array_module(t.data)
    return Tensor(xp.ones(t.shape, dtype=dtype or t.dtype), requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    """Evenly spaced values in [start, stop), like ``numpy.arange`` (integers stay integers)."""
    array = backend.xp.arange(start, stop, step) if stop is not None else backend.xp.arange(start)
    if dtype is not None:
        array = array.astype(dtype)
    elif array.dtype.kind == "f":
        array = array.astype(backend.get_default_dtype())
    return Tensor(array)


def manual_seed(seed: int) -> None:
    """Seed minigen's random generators so that every random tensor repeats exactly."""
    backend.manual_seed(seed)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples of the standard normal N(0, 1)."""
    dtype = _float_dtype(dtype)
    return Tensor(backend.rng().standard_normal(_shape(shape)).astype(dtype), requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples of the uniform distribution on [0, 1)."""
    dtype = _float_dtype(dtype)
    return Tensor(backend.rng().random(_shape(shape)).astype(dtype), requires_grad)


def randint(low: int, high: int, shape: Sequence[int]) -> Tensor:
    """Random integers in [low, high) (an int64 tensor, which never gets gradients)."""
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    return Tensor(backend.rng().integers(low, high, size=_shape((shape,))).astype("int64"))
