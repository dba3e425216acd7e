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

from minigen import backend, checks
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


def _module(device: Any) -> Any:
    """The array module of ``device`` (a name or a ``minigen.device``); the current backend
    for None."""
    return backend.xp if device is None else backend.module_for_device(device)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> Tensor:
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
    if device is not None:
        array = backend.to_module(array, backend.module_for_device(device))
    return Tensor(array, requires_grad=requires_grad)


def zeros(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return Tensor(_module(device).zeros(_shape(shape), dtype=_float_dtype(dtype)), requires_grad)


def ones(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return Tensor(_module(device).ones(_shape(shape), dtype=_float_dtype(dtype)), requires_grad)


def full(size: Sequence[int], fill_value: float, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` with every element ``fill_value``."""
    return Tensor(_module(device).full(_shape((size,)), fill_value, dtype=_float_dtype(dtype)),
                  requires_grad)


def randn(*shape: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Samples of the standard normal N(0, 1)."""
    rng = backend.rng(_module(device))
    return Tensor(rng.standard_normal(_shape(shape)).astype(_float_dtype(dtype)), requires_grad)


def rand(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples of the uniform distribution on [0, 1)."""
    rng = backend.rng(_module(device))
    return Tensor(rng.random(_shape(shape)).astype(_float_dtype(dtype)), requires_grad)


def randint(low: int, high: int, size: Sequence[int], device: Any = None) -> Tensor:
    """Random integers in [low, high) (an int64 tensor, which never gets gradients)."""
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    rng = backend.rng(_module(device))
    return Tensor(rng.integers(low, high, size=_shape((size,))).astype("int64"))


# ---------------------------------------------------------------- shaped like another tensor
def _like(t: Tensor, dtype: Any, device: Any) -> tuple[tuple[int, ...], Any, Any]:
    """The shape, dtype and array module of the ``*_like`` result (``t``'s unless given)."""
    module = backend.array_module(t.data) if device is None else backend.module_for_device(device)
    return t.shape, (t.dtype if dtype is None else backend.np.dtype(dtype)), module


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """Zeros with the shape, dtype and device of ``t``."""
    shape, dtype, xp = _like(t, dtype, device)
    return Tensor(xp.zeros(shape, dtype=dtype), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """Ones with the shape, dtype and device of ``t``."""
    shape, dtype, xp = _like(t, dtype, device)
    return Tensor(xp.ones(shape, dtype=dtype), requires_grad)


def full_like(t: Tensor, fill_value: float, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with the shape, dtype and device of ``t``."""
    shape, dtype, xp = _like(t, dtype, device)
    return Tensor(xp.full(shape, fill_value, dtype=dtype), requires_grad)


def rand_like(t: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """U[0, 1) samples with the shape, dtype and device of ``t`` (a floating dtype)."""
    shape, dtype, xp = _like(t, dtype, device)
    return Tensor(backend.rng(xp).random(shape).astype(_floating("rand_like", dtype)),
                  requires_grad)


def randn_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """N(0, 1) samples with the shape, dtype and device of ``t`` (a floating dtype)."""
    shape, dtype, xp = _like(t, dtype, device)
    return Tensor(backend.rng(xp).standard_normal(shape).astype(_floating("randn_like", dtype)),
                  requires_grad)


def _floating(name: str, dtype: Any) -> Any:
    if dtype.kind != "f":
        raise TypeError(f"{name}: random samples need a floating dtype, got {dtype}; "
                        "pass dtype=")
    return dtype


# ---------------------------------------------------------------- ranges
def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           device: Any = None) -> Tensor:
    """Evenly spaced values in [start, end), like ``numpy.arange`` (integers stay integers)."""
    xp = _module(device)
    array = xp.arange(start, end, step) if end is not None else xp.arange(start)
    if dtype is not None:
        array = array.astype(dtype)
    elif array.dtype.kind == "f":
        array = array.astype(backend.get_default_dtype())
    return Tensor(array)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    steps = checks.positive_int("linspace", "steps", steps, minimum=0)
    array = _module(device).linspace(start, end, steps, dtype=_float_dtype(dtype))
    return Tensor(array, requires_grad)


def manual_seed(seed: int) -> None:
    """Seed minigen's random generators so that every random tensor repeats exactly."""
    backend.manual_seed(seed)
