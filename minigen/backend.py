"""The array backend: the only module in minigen that imports NumPy or CuPy.

Every other module asks this one for its array module (``xp``), so the same code
runs on the CPU (NumPy) and on a GPU (CuPy)::

    >>> from minigen import backend
    >>> backend.xp.zeros(3).shape          # the current module, NumPy by default
    (3,)
    >>> backend.array_module(backend.np.ones(2)).__name__   # the module an array belongs to
    'numpy'

It also holds the three pieces of global state a framework needs:

* the current array module (``use("numpy")`` / ``use("cupy")``),
* the default floating dtype (float32; float64 for gradient checks),
* the seeded random generator behind ``minigen.manual_seed``.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy

np = numpy  # NumPy for host-side work (files, plots), whatever the current backend is

# The array module new tensors are created with: numpy, or cupy after use("cupy").
xp: Any = numpy

_cupy: Any = None  # the cupy module once it has been imported successfully


# ---------------------------------------------------------------- choosing a backend
def _load_cupy() -> Any:
    """Import CuPy and check a CUDA device is usable; raise an error that says which failed."""
    global _cupy
    if _cupy is not None:
        return _cupy
    try:
        import cupy  # noqa: PLC0415 — optional: only the `gpu` extra installs it
    except ImportError as err:
        raise RuntimeError(
            "CuPy is not installed, so minigen cannot use the GPU. "
            "Install it with: pip install -e \".[gpu]\"") from err
    try:
        n_devices = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDA driver missing or broken
        raise RuntimeError(
            f"CuPy is installed but no CUDA device is usable: {err}") from err
    if n_devices < 1:
        raise RuntimeError("CuPy is installed but no CUDA device is usable: 0 devices found.")
    _cupy = cupy
    return cupy


def use(name: str) -> None:
    """Make ``"numpy"`` (CPU) or ``"cupy"`` (GPU) the array module for new tensors.

    >>> import minigen
    >>> minigen.use("numpy")
    """
    global xp
    if name == "numpy":
        xp = numpy
    elif name == "cupy":
        xp = _load_cupy()
    else:
        raise ValueError(f"use: unknown backend {name!r}; expected 'numpy' or 'cupy'")


def module_for_device(device: Any) -> Any:
    """The array module of a device: ``"cpu"`` -> numpy, ``"gpu"``/``"cuda"``/``"cuda:0"`` ->
    cupy; a ``minigen.device`` works too."""
    name = getattr(device, "type", device)
    if name == "cpu":
        return numpy
    if name in ("gpu", "cuda", "cuda:0"):
        return _load_cupy()
    raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'gpu' (or 'cuda')")


def gpu_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        _load_cupy()
    except RuntimeError:
        return False
    return True


def array_module(array: Any) -> Any:
    """The module (numpy or cupy) that ``array`` belongs to."""
    if isinstance(array, numpy.ndarray) or numpy.isscalar(array):
        return numpy
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    return numpy


def device_name(array: Any) -> str:
    """``"cpu"`` for a NumPy array, ``"gpu"`` for a CuPy array."""
    return "cpu" if array_module(array) is numpy else "gpu"


def is_array(value: Any) -> bool:
    """True for a NumPy or CuPy array."""
    return isinstance(value, numpy.ndarray) or (
        _cupy is not None and isinstance(value, _cupy.ndarray))


def to_numpy(array: Any) -> numpy.ndarray:
    """A NumPy copy (or the array itself) of a NumPy or CuPy array."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy.asnumpy(array)
    return numpy.asarray(array)


def to_module(array: Any, module: Any) -> Any:
    """Move ``array`` to the given array module (a no-op when it is already there)."""
    if array_module(array) is module:
        return array
    if module is numpy:
        return to_numpy(array)
    return module.asarray(array)


# ---------------------------------------------------------------- dtypes
_default_dtype: Any = numpy.float32

_FLOAT_NAMES = {"float32": numpy.float32, "float64": numpy.float64,
                "float16": numpy.float16}


def _as_float_dtype(dtype: Any) -> Any:
    resolved = _FLOAT_NAMES.get(dtype, dtype) if isinstance(dtype, str) else dtype
    resolved = numpy.dtype(resolved)
    if resolved.kind != "f":
        raise TypeError(f"the default dtype must be a floating type, got {resolved}")
    return resolved.type


def get_default_dtype() -> Any:
    """The floating dtype new tensors get (``numpy.float32`` unless changed)."""
    return _default_dtype


def set_default_dtype(dtype: Any) -> None:
    """Set the floating dtype of new tensors: ``set_default_dtype("float64")``."""
    global _default_dtype
    _default_dtype = _as_float_dtype(dtype)


@contextlib.contextmanager
def default_dtype(dtype: Any) -> Iterator[None]:
    """Context manager: new tensors get ``dtype`` inside the block.

    >>> import minigen
    >>> with minigen.default_dtype("float64"):
    ...     minigen.zeros(2).dtype
    dtype('float64')
    """
    previous = _default_dtype
    set_default_dtype(dtype)
    try:
        yield
    finally:
        set_default_dtype(previous)


def is_floating(array: Any) -> bool:
    """True when the array's dtype is a floating-point type."""
    return array.dtype.kind == "f"


# ---------------------------------------------------------------- random numbers
_host_rng = numpy.random.default_rng()
_device_rngs: dict[int, Any] = {}
_seed: int | None = None


def manual_seed(seed: int) -> None:
    """Seed every random generator minigen uses (CPU and GPU), so runs repeat exactly."""
    global _host_rng, _seed
    _seed = int(seed)
    _host_rng = numpy.random.default_rng(_seed)
    _device_rngs.clear()


@contextlib.contextmanager
def scratch_random() -> Iterator[None]:
    """Run a block on throwaway random streams: what it draws (say, the random initial
    weights of a model whose trained weights are loaded next) leaves minigen's seeded
    streams exactly where they were, so the draws after the block do not depend on it."""
    global _host_rng, _device_rngs
    saved = _host_rng, _device_rngs
    _host_rng, _device_rngs = numpy.random.default_rng(0), {}
    try:
        yield
    finally:
        _host_rng, _device_rngs = saved


def rng(module: Any = None) -> Any:
    """The seeded generator of ``module`` (default: the current backend)."""
    module = module or xp
    if module is numpy:
        return _host_rng
    key = id(module)
    if key not in _device_rngs:
        # Derive the GPU stream from the host generator, so one manual_seed fixes both.
        seed = int(_host_rng.integers(0, 2**63 - 1))
        _device_rngs[key] = module.random.default_rng(seed)
    return _device_rngs[key]


def erf(array: Any) -> Any:
    """The error function of every element, from the array module's scientific library:
    ``cupyx.scipy.special`` on the GPU, SciPy on the CPU when installed, else Python's
    ``math.erf`` element by element (exact, but slow for large arrays)."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        import cupyx.scipy.special  # noqa: PLC0415 — ships with CuPy

        return cupyx.scipy.special.erf(array)
    try:
        import scipy.special  # noqa: PLC0415 — optional
    except ImportError:
        import math  # noqa: PLC0415

        return numpy.vectorize(math.erf, otypes=[array.dtype])(array)
    return scipy.special.erf(array).astype(array.dtype, copy=False)


def scatter_add(out: Any, index: Any, values: Any) -> None:
    """``out[index] += values`` where repeated indices add up (NumPy's ``add.at``)."""
    if array_module(out) is numpy:
        numpy.add.at(out, index, values)
    else:
        import cupyx  # noqa: PLC0415 — ships with CuPy

        cupyx.scatter_add(out, index, values)
