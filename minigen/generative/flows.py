"""Normalizing flows (*flujos normalizantes*): exact likelihoods by the change of variables.

An invertible f maps data x to a code z = f(x) with a simple density p_Z (here N(0, I)).
The density of x then follows from the change of variables (*cambio de variables*):

    log p(x) = log p_Z(f(x)) + log |det ∂f/∂x|

A flow is a chain f = f_K ∘ ... ∘ f_1 of layers whose inverses and log-determinants are
cheap, and the log-dets add up. Every layer here has ``forward(x) -> (y, log_det)`` with
log_det (N,) = log |det ∂y/∂x| per item, and ``inverse(y) -> x``.

* ``AffineCoupling`` (RealNVP, Dinh et al. 2017): keep the masked part x_a, move the rest,
      y = x_a + (1 - m) ⊙ (x ⊙ exp(s(x_a)) + t(x_a)),   log_det = Σ (1 - m) ⊙ s(x_a)
  The Jacobian is triangular (the moved part depends on x_a, never the reverse), so its
  determinant is the product of its diagonal, exp(s) where moved and 1 where kept.
  ``checkerboard_mask`` and ``channel_mask`` choose x_a; alternate the parity.
* ``Squeeze``: (N, C, H, W) -> (N, 4C, H/2, W/2), each 2x2 block into channels (log_det 0).
* ``ActNorm`` (Glow): y = (x - b) ⊙ exp(-log σ) per channel, log_det = -H·W Σ log σ; b and
  log σ start at the first batch's mean and log std, so its output starts standardized.
* ``LogitTransform``: pixels in [0, 1] to the real line, y = logit(α + (1 - 2α) x).
* ``dequantize``: 8-bit levels k ∈ {0, ..., 255} to (k + u) / 256, u ~ U[0, 1): a
  continuous density on [0, 1]^D whose likelihood bounds the discrete one (``bits_per_dim``).

>>> import minigen
>>> from minigen import nn
>>> minigen.manual_seed(0)
>>> layer = AffineCoupling(nn.Linear(2, 4), mask=minigen.tensor([[1.0, 0.0]]))
>>> x = minigen.randn(3, 2)
>>> y, log_det = layer(x)
>>> bool(abs(layer.inverse(y) - x).max().item() < 1e-6), log_det.shape
(True, (3,))
"""
from __future__ import annotations

import math
from typing import Any

from minigen import backend, checks, nn
from minigen.grad_mode import no_grad
from minigen.ops import exp, log, mean, reshape, sigmoid, sum, tanh
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor


def _per_item(t: Tensor) -> Tensor:
    """Σ over every axis but the first: (N, ...) -> (N,)."""
    return sum(reshape(t, (t.shape[0], -1)), dim=1)


def standard_normal_log_prob(z: Any) -> Tensor:
    """log N(z; 0, I) = -½ Σ (z² + log 2π) per item: (N, ...) -> (N,)."""
    z = as_tensor(z)
    return _per_item(z * z + math.log(2 * math.pi)) * -0.5


def checkerboard_mask(height: int, width: int, parity: int = 0) -> Tensor:
    """(1, 1, H, W): 1 where (i + j + parity) is even, else 0."""
    np = backend.np
    i, j = np.indices((height, width))
    mask = ((i + j + parity) % 2 == 0).astype(backend.get_default_dtype())
    return Tensor(mask[None, None])


def channel_mask(channels: int, parity: int = 0) -> Tensor:
    """(1, C, 1, 1): 1 on the first half of the channels (parity 0) or the second."""
    np = backend.np
    if channels % 2:
        raise ValueError(f"channel_mask: channels must be even, got {channels}")
    first = (np.arange(channels) < channels // 2).astype(backend.get_default_dtype())
    return Tensor((first if parity == 0 else 1 - first).reshape(1, channels, 1, 1))


class AffineCoupling(nn.Module):
    """y = x_a + (1 - m)(x ⊙ exp(s) + t) with (s, t) = net(x_a), x_a = m ⊙ x.

    ``net`` maps x_a (N, C, ...) to 2C channels (N, 2C, ...): s then t. s passes through
    ``scale · tanh(s / scale)`` so exp(s) stays within [e^-scale, e^scale] (RealNVP's
    stabilization). ``mask`` (1, C, ...) broadcasts against x: 1 marks the kept part."""

    def __init__(self, net: nn.Module, mask: Any, scale: float = 2.0) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mask", as_tensor(mask).detach())
        self.scale = checks.positive_number("AffineCoupling", "scale", scale)

    def _shift_and_log_scale(self, kept: Tensor) -> tuple[Tensor, Tensor]:
        h = self.net(kept)                                             # (N, 2C, ...)
        c = kept.shape[1]
        if h.shape[1] != 2 * c:
            raise ValueError(f"AffineCoupling: net must return 2C = {2 * c} channels for "
                             f"input {kept.shape}, got {h.shape}")
        moved = 1.0 - self.mask
        s = tanh(h[:, :c] * (1.0 / self.scale)) * self.scale * moved   # 0 where kept
        t = h[:, c:] * moved
        return s, t

    def forward(self, x: Any) -> tuple[Tensor, Tensor]:
        x = as_tensor(x)
        kept = x * self.mask                                           # x_a
        s, t = self._shift_and_log_scale(kept)
        y = kept + (x * exp(s) + t) * (1.0 - self.mask)
        return y, _per_item(s)                                         # log_det = Σ s

    def inverse(self, y: Any) -> Tensor:
        y = as_tensor(y)
        kept = y * self.mask                                           # y_a = x_a
        s, t = self._shift_and_log_scale(kept)
        return kept + (y - t) * exp(-s) * (1.0 - self.mask)


class Squeeze(nn.Module):
    """(N, C, H, W) -> (N, 4C, H/2, W/2): each 2x2 block of a channel becomes four
    channels. A permutation of the entries: log_det = 0."""

    def forward(self, x: Any) -> tuple[Tensor, Tensor]:
        x = as_tensor(x)
        n, c, h, w = x.shape
        if h % 2 or w % 2:
            raise ValueError(f"Squeeze: height and width must be even, got {x.shape}")
        blocks = reshape(x, (n, c, h // 2, 2, w // 2, 2))              # (N, C, H/2, 2, W/2, 2)
        y = reshape(blocks.permute(0, 1, 3, 5, 2, 4), (n, 4 * c, h // 2, w // 2))
        xp = backend.array_module(x.data)
        return y, Tensor(xp.zeros(n, dtype=x.dtype))

    def inverse(self, y: Any) -> Tensor:
        y = as_tensor(y)
        n, c4, h, w = y.shape
        blocks = reshape(y, (n, c4 // 4, 2, 2, h, w))                  # (N, C, 2, 2, H/2, W/2)
        return reshape(blocks.permute(0, 1, 4, 2, 5, 3), (n, c4 // 4, 2 * h, 2 * w))


class ActNorm(nn.Module):
    """y = (x - b) ⊙ exp(-log σ) per channel of (N, C, ...); log_det = -(∏ spatial) Σ log σ.

    The first batch it sees sets b and log σ to its per-channel mean and log std
    (data-dependent initialization), so the flow starts with standardized activations."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = checks.positive_int("ActNorm", "channels", channels)
        dtype = backend.get_default_dtype()
        self.bias = nn.Parameter(backend.np.zeros(channels, dtype=dtype))
        self.log_scale = nn.Parameter(backend.np.zeros(channels, dtype=dtype))
        self.register_buffer("initialized", Tensor(backend.np.zeros((), dtype=dtype)))

    def _view(self, p: Tensor, x: Tensor) -> Tensor:
        return reshape(p, (1, self.channels) + (1,) * (x.ndim - 2))

    def forward(self, x: Any) -> tuple[Tensor, Tensor]:
        x = as_tensor(x)
        if x.ndim < 2 or x.shape[1] != self.channels:
            raise ValueError(f"ActNorm: expected (N, {self.channels}, ...), got {x.shape}")
        if not self.initialized.item():
            with no_grad():
                axes = (0,) + tuple(range(2, x.ndim))
                self.bias.data[...] = x.data.mean(axis=axes)
                self.log_scale.data[...] = backend.array_module(x.data).log(
                    x.data.std(axis=axes) + 1e-6)
                self.initialized.data[...] = 1.0
        y = (x - self._view(self.bias, x)) * exp(-self._view(self.log_scale, x))
        spatial = math.prod(x.shape[2:])
        log_det = -sum(self.log_scale) * float(spatial)                # the same for every item
        xp = backend.array_module(x.data)
        return y, log_det + Tensor(xp.zeros(x.shape[0], dtype=x.dtype))

    def inverse(self, y: Any) -> Tensor:
        y = as_tensor(y)
        return y * exp(self._view(self.log_scale, y)) + self._view(self.bias, y)


class LogitTransform(nn.Module):
    """y = logit(p) with p = α + (1 - 2α) x, for x in [0, 1]: the flow then works on the
    real line, and α keeps p away from 0 and 1. log_det = Σ log(1 - 2α) - log p - log(1 - p)."""

    def __init__(self, alpha: float = 0.05) -> None:
        super().__init__()
        self.alpha = checks.in_range("LogitTransform", "alpha", alpha, 0.0, 0.5, closed="low")

    def forward(self, x: Any) -> tuple[Tensor, Tensor]:
        x = as_tensor(x)
        p = x * (1.0 - 2 * self.alpha) + self.alpha
        y = log(p) - log(1.0 - p)
        log_det = _per_item(log(p) * -1.0 - log(1.0 - p) + math.log(1.0 - 2 * self.alpha))
        return y, log_det

    def inverse(self, y: Any) -> Tensor:
        return (sigmoid(as_tensor(y)) - self.alpha) * (1.0 / (1.0 - 2 * self.alpha))


class Flow(nn.Module):
    """f = f_K ∘ ... ∘ f_1: the layers in order, their log-dets summed; ``log_prob`` is the
    change of variables with a standard normal p_Z."""

    def __init__(self, *layers: nn.Module) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Any) -> tuple[Tensor, Tensor]:
        z = as_tensor(x)
        total = None
        for layer in self.layers:
            z, log_det = layer(z)
            total = log_det if total is None else total + log_det
        return z, total

    def inverse(self, z: Any) -> Tensor:
        x = as_tensor(z)
        for layer in reversed(list(self.layers)):
            x = layer.inverse(x)
        return x

    def log_prob(self, x: Any) -> Tensor:
        """log p(x) = log N(f(x); 0, I) + log |det ∂f/∂x| per item (N,)."""
        z, log_det = self(x)
        return standard_normal_log_prob(z) + log_det


def dequantize(levels: Any) -> Tensor:
    """(k + u) / 256 with u ~ U[0, 1) from minigen's seeded generator, for 8-bit levels k
    (integers in [0, 255], any shape): continuous data in [0, 1)."""
    levels = as_tensor(levels)
    values = levels.data
    if values.dtype.kind not in "iuf" or values.min() < 0 or values.max() > 255:
        raise ValueError("dequantize: expected 8-bit levels in [0, 255], got values in "
                         f"[{values.min()}, {values.max()}] of dtype {values.dtype}")
    xp = backend.array_module(values)
    u = backend.rng(xp).random(values.shape)
    return Tensor(((values + u) / 256.0).astype(backend.get_default_dtype()))


def bits_per_dim(log_prob: Any, dims: int) -> Tensor:
    """The negative log-likelihood in bits per dimension of 8-bit data, from the log
    density (N,) of the dequantized data in [0, 1)^D:

        bpd = -(log p(y) - D log 256) / (D log 2)

    The D log 256 converts the density on [0, 1) back to the 256 levels (each level's
    cell has width 1/256), so this bounds -log₂ P(k) / D of the discrete data."""
    log_prob = as_tensor(log_prob)
    return (log_prob * -1.0 + dims * math.log(256.0)) * (1.0 / (dims * math.log(2.0)))


def mean_bits_per_dim(flow: Flow, images: Any) -> Tensor:
    """The mean ``bits_per_dim`` of images (N, C, H, W) in [0, 1) under ``flow``."""
    images = as_tensor(images)
    return mean(bits_per_dim(flow.log_prob(images), math.prod(images.shape[1:])))
