"""Weight initialization, in place, with PyTorch's names and formulas.

A layer's starting weights decide whether signals keep their size through a deep
network. The schemes here pick the spread of the weights from the layer's *fans*:

* fan_in  = inputs feeding each output  = in · kh · kw  (weight (out, in) or (out, in, kh, kw))
* fan_out = outputs fed by each input   = out · kh · kw

| function | distribution | spread |
|---|---|---|
| ``xavier_uniform_(t, gain)`` | U(-a, a) | a = gain·√(6 / (fan_in + fan_out)) |
| ``xavier_normal_(t, gain)`` | N(0, σ²) | σ = gain·√(2 / (fan_in + fan_out)) |
| ``kaiming_uniform_(t, a, mode, nonlinearity)`` | U(-b, b) | b = gain·√(3 / fan) |
| ``kaiming_normal_(t, a, mode, nonlinearity)`` | N(0, σ²) | σ = gain / √fan |

``gain`` is ``calculate_gain(nonlinearity, a)``, e.g. √2 for relu. Each function
overwrites ``t.data`` and returns ``t``. Writing the array directly records nothing in
the autograd graph (PyTorch runs its init under ``no_grad`` for the same reason). The
random numbers come from ``backend.rng()``, so ``minigen.manual_seed`` repeats them::

    >>> import minigen
    >>> from minigen import nn
    >>> w = minigen.zeros(64, 100)
    >>> _ = nn.init.normal_(w, 0.0, 0.02)        # DCGAN's initialization
    >>> bool(abs(w.numpy().std() - 0.02) < 0.002)
    True
    >>> nn.init.calculate_gain("relu") == 2 ** 0.5
    True

Arrays are accepted too (filled in place), so PyTorch's ``normal_(m.weight.data, ...)``
also works.
"""
from __future__ import annotations

import math
from typing import Any

from minigen import backend, checks
from minigen.tensor import Tensor

_LINEAR_LIKE = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                "conv_transpose2d", "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which to scale the weights' spread for a given activation.

    linear, conv, sigmoid: 1;  tanh: 5/3;  relu: √2;  selu: 3/4;
    leaky_relu with slope s (``param``, default 0.01): √(2 / (1 + s²)).
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one "
                     f"of {', '.join(_LINEAR_LIKE + ('tanh', 'relu', 'selu', 'leaky_relu'))}")


def _calculate_fan_in_and_fan_out(t: Tensor | Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in) or (out, in, k1, k2, ...).

    The kernel's size (k1·k2·...) multiplies both: each output of a conv sees ``in·k1·k2``
    inputs. (A transposed conv stores its weight as (in, out, kh, kw); as in PyTorch, the
    same rule is applied to it, so its "fan_in" is out·kh·kw.)
    """
    shape = tuple(t.shape)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 dimensions, got "
                         f"shape {shape}; a bias has no fans (use uniform_ or zeros_)")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fan(t: Tensor | Any, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    return fan_in if mode == "fan_in" else fan_out


def _target(t: Any) -> Any:
    """The array to write into: ``t.data`` of a floating Tensor, or a floating array itself."""
    if isinstance(t, Tensor):
        array = t.data
    elif backend.is_array(t):
        array = t
    else:
        raise TypeError(f"init: expected a Tensor (or an array), got {type(t).__name__}")
    if not backend.is_floating(array):
        raise TypeError(f"init: only floating-point tensors can be initialized, got {array.dtype}")
    return array


def _write(t: Any, values: Any) -> Any:
    array = _target(t)
    array[...] = values  # in place: every reference to this array sees the new values
    if isinstance(t, Tensor):
        t._bump_version()  # an op that saved the old values will refuse to use them
    return t


def _is_empty(t: Any) -> bool:
    """A zero-element weight has nothing to fill (and a fan of 0 would divide by zero)."""
    return _target(t).size == 0


def _uniform(t: Any, low: float, high: float) -> Any:
    array = _target(t)
    rng = backend.rng(backend.array_module(array))
    return _write(t, low + (high - low) * rng.random(array.shape))


def _normal(t: Any, mean: float, std: float) -> Any:
    array = _target(t)
    rng = backend.rng(backend.array_module(array))
    return _write(t, mean + std * rng.standard_normal(array.shape))


# ---------------------------------------------------------------- plain distributions
def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill ``t`` with samples of U(a, b)."""
    if a > b:
        raise ValueError(f"uniform_: lower bound a={a} is above upper bound b={b}")
    return _uniform(t, a, b)


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill ``t`` with samples of N(mean, std²); ``normal_(w, 0, 0.02)`` for DCGAN/CycleGAN."""
    checks.in_range("normal_", "std", std, 0)
    return _normal(t, mean, std)


def constant_(t: Tensor, val: float) -> Tensor:
    """Fill ``t`` with ``val``."""
    _target(t)
    return _write(t, val)


def zeros_(t: Tensor) -> Tensor:
    """Fill ``t`` with 0 (biases, usually)."""
    return constant_(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    """Fill ``t`` with 1 (normalization scales, usually)."""
    return constant_(t, 1.0)


# ---------------------------------------------------------------- scaled by the fans
def xavier_uniform_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio (2010): U(-a, a) with a = gain·√(6 / (fan_in + fan_out)).

    Keeps the variance of activations and of gradients about equal across layers with
    symmetric activations such as tanh.
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    if _is_empty(t):
        return t
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _uniform(t, -bound, bound)


def xavier_normal_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio (2010): N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    if _is_empty(t):
        return t
    return _normal(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(t: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """He et al. (2015): U(-b, b), b = gain·√(3 / fan), gain = calculate_gain(nonlinearity, a).

    A uniform U(-b, b) has variance b²/3, so the weights get variance gain² / fan: what
    keeps activations' size through (leaky) ReLU layers. ``a`` is the leaky-ReLU slope.
    ``Linear`` uses a = √5, which gives b = 1/√fan_in.
    """
    fan, gain = _fan(t, mode), calculate_gain(nonlinearity, a)
    if _is_empty(t):
        return t
    bound = gain * math.sqrt(3.0 / fan)
    return _uniform(t, -bound, bound)


def kaiming_normal_(t: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """He et al. (2015): N(0, σ²) with σ = gain / √fan."""
    fan, gain = _fan(t, mode), calculate_gain(nonlinearity, a)
    if _is_empty(t):
        return t
    return _normal(t, 0.0, gain / math.sqrt(fan))


def default_layer_init_(weight: Tensor, bias: Tensor | None = None) -> None:
    """PyTorch's default for Linear and conv layers: weight and bias ~ U(±1/√fan_in).

    For the weight this is ``kaiming_uniform_(weight, a=√5)``: a = √5 gives the gain
    √(2 / (1 + 5)) = √(1/3), and the bound √(1/3)·√(3 / fan_in) = 1/√fan_in.
    """
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)
