"""Energy-based models (*modelos basados en energía*): a density through an energy.

A network E_θ(x) gives every x an energy; low energy means likely:

    p_θ(x) = exp(-E_θ(x)) / Z_θ,     Z_θ = ∫ exp(-E_θ(x)) dx   (never computed)

The score (*puntuación*) ∇_x log p_θ(x) = -∇_x E_θ(x) needs no Z, and drives sampling:

* ``langevin_step``: x ← x - (ε/2) ∇_x E(x) + √ε z, z ~ N(0, I). For small ε and many
  steps its samples follow p_θ; ∇_x E comes from minigen's autograd, with respect to the
  *input*, not the weights.
* ``contrastive_divergence_loss``: the gradient of the negative log-likelihood is
  ∇_θ E(x_data) - E_{x~p_θ} ∇_θ E(x), so the loss is E(x_data) - E(x_sample) (samples
  from Langevin chains, held fixed), plus α (E(x_data)² + E(x_sample)²) to keep the
  energies from drifting (Du & Mordatch 2019).
* ``ReplayBuffer``: chains restart from past samples 95 % of the time and from uniform
  noise otherwise, so short chains still reach the model's modes (Du & Mordatch 2019).
* ``denoising_score_matching_loss``: a score model s(x̃) trained to predict
  -(x̃ - x)/σ² for x̃ = x + σ ε learns ∇ log of the noisy data density (Vincent 2011) --
  the bridge to diffusion, whose ε-prediction is the same loss scaled by -σ.

>>> import minigen
>>> energy = lambda x: (x * x).sum(dim=1) * 0.5        # E(x) = ½‖x‖²: p = N(0, I)
>>> x = minigen.ones(2, 3)
>>> grad = energy_gradient(energy, x)                   # ∇_x E = x
>>> grad.tolist()
[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
"""
from __future__ import annotations

import math
from typing import Any, Callable

from minigen import backend, checks
from minigen.autograd import grad
from minigen.grad_mode import enable_grad, no_grad
from minigen.ops import mean, reshape, sum
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor

Energy = Callable[[Tensor], Tensor]          # E_θ: x (N, ...) -> energies (N,)


def energy_gradient(energy: Energy, x: Any) -> Tensor:
    """∇_x Σ_i E(x_i): each item's gradient of its own energy, (N, ...) like x, without
    a graph (the sampler moves x; the weights are not trained through it)."""
    x = as_tensor(x).detach()
    with enable_grad():
        x.requires_grad_(True)
        energies = energy(x)
        if energies.shape != (x.shape[0],):
            raise ValueError(f"energy_gradient: the energy must give one value per item "
                             f"({x.shape[0]},), got {energies.shape}")
        (g,) = grad(sum(energies), x)
    return g.detach()


def langevin_step(energy: Energy, x: Any, step_size: float, noise_scale: float | None = None,
                  clip: tuple[float, float] | None = None,
                  grad_clip: float | None = None) -> Tensor:
    """x ← x - (ε/2) ∇_x E(x) + σ z with σ = √ε (``noise_scale`` overrides it: image EBMs
    use a much smaller σ in practice), then clamped to ``clip`` (the data's range).
    ``grad_clip`` clamps every entry of ∇_x E to ±grad_clip first, so one step moves a
    pixel at most ε/2 · grad_clip, however steep the young energy is."""
    eps = checks.positive_number("langevin_step", "step_size", step_size)
    sigma = math.sqrt(eps) if noise_scale is None else checks.in_range(
        "langevin_step", "noise_scale", noise_scale, 0.0)
    if grad_clip is not None:
        checks.positive_number("langevin_step", "grad_clip", grad_clip)
    x = as_tensor(x).detach()
    g = energy_gradient(energy, x)
    xp = backend.array_module(x.data)
    z = Tensor(backend.rng(xp).standard_normal(x.shape).astype(x.dtype))     # z ~ N(0, I)
    with no_grad():
        if grad_clip is not None:
            g = g.clamp(-grad_clip, grad_clip)
        x = x - g * (eps / 2) + z * sigma
        return x.clamp(*clip) if clip is not None else x


def langevin_sample(energy: Energy, x: Any, steps: int, step_size: float,
                    noise_scale: float | None = None,
                    clip: tuple[float, float] | None = None,
                    grad_clip: float | None = None) -> Tensor:
    """``steps`` Langevin steps from x (N, ...): the chain's last state."""
    checks.positive_int("langevin_sample", "steps", steps, minimum=0)
    x = as_tensor(x).detach()
    for _ in range(steps):
        x = langevin_step(energy, x, step_size, noise_scale, clip, grad_clip)
    return x


def contrastive_divergence_loss(energy: Energy, x_data: Any, x_sample: Any,
                                alpha: float = 1.0) -> tuple[Tensor, dict[str, Tensor]]:
    """L = mean E(x_data) - mean E(x_sample) + α mean(E(x_data)² + E(x_sample)²).

    Minimizing it lowers the energy of the data and raises that of the model's samples
    (held fixed: no gradient flows into them). Returns L and its parts."""
    checks.in_range("contrastive_divergence_loss", "alpha", alpha, 0.0)
    e_data = energy(as_tensor(x_data))
    e_sample = energy(as_tensor(x_sample).detach())
    cd = mean(e_data) - mean(e_sample)
    regularizer = mean(e_data * e_data + e_sample * e_sample)
    return cd + regularizer * alpha, {"cd": cd, "regularizer": regularizer,
                                      "energy_data": mean(e_data),
                                      "energy_sample": mean(e_sample)}


class ReplayBuffer:
    """Past chain states; ``draw(n)`` starts n chains, each from a random stored state with
    probability ``keep`` (0.95) and from uniform noise in ``low``...``high`` otherwise.
    ``push`` stores the chains' final states, the oldest dropped beyond ``size``."""

    def __init__(self, size: int, shape: tuple[int, ...], keep: float = 0.95,
                 low: float = -1.0, high: float = 1.0) -> None:
        self.size = checks.positive_int("ReplayBuffer", "size", size)
        self.shape = tuple(shape)
        self.keep = checks.in_range("ReplayBuffer", "keep", keep, 0.0, 1.0)
        self.low, self.high = float(low), float(high)
        # A ring of `size` slots written in turn: a push overwrites the oldest states in
        # place instead of copying the whole buffer.
        self._slots = backend.np.zeros((self.size,) + self.shape,
                                       dtype=backend.get_default_dtype())
        self._count, self._next = 0, 0

    @property
    def states(self) -> Any:
        """The stored states (len, *shape), in slot order."""
        return self._slots[:self._count]

    def __len__(self) -> int:
        return self._count

    def draw(self, n: int) -> Tensor:
        """n starting states (n, *shape)."""
        np = backend.np
        rng = backend.rng(np)
        checks.positive_int("ReplayBuffer.draw", "n", n)
        fresh = rng.uniform(self.low, self.high, (n,) + self.shape).astype(self._slots.dtype)
        if self._count:
            reuse = rng.random(n) < self.keep
            picks = rng.integers(0, self._count, n)
            fresh[reuse] = self._slots[picks[reuse]]
        return Tensor(fresh)

    def newest(self, n: int) -> Any:
        """The n most recently pushed states (at most ``len``), newest first."""
        checks.positive_int("ReplayBuffer.newest", "n", n)
        np = backend.np
        if not self._count:
            return self._slots[:0]
        order = (self._next - 1 - np.arange(min(n, self._count))) % self._count
        return self._slots[order]

    def state_dict(self) -> dict[str, Any]:
        """The stored states and the next slot to write: what a resumed run needs."""
        return {"states": self._slots[:self._count].copy(), "next": self._next}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        states = backend.np.asarray(state["states"], dtype=self._slots.dtype)
        if states.ndim != 1 + len(self.shape) or states.shape[1:] != self.shape \
                or len(states) > self.size:
            raise ValueError(f"ReplayBuffer.load_state_dict: states must be (at most "
                             f"{self.size}, {self.shape}), got {states.shape}")
        next_slot = int(state["next"])
        if not 0 <= next_slot < self.size:
            raise ValueError(f"ReplayBuffer.load_state_dict: next must be in [0, {self.size}),"
                             f" got {next_slot}")
        self._count, self._next = len(states), next_slot
        self._slots[:self._count] = states

    def push(self, states: Any) -> None:
        states = backend.to_numpy(as_tensor(states).data).astype(self._slots.dtype)
        if states.shape[1:] != self.shape:
            raise ValueError(f"ReplayBuffer.push: states must be (n, {self.shape}), got "
                             f"{states.shape}")
        newest = states[-self.size:]                   # more than `size`: the newest only
        slots = (self._next + backend.np.arange(len(newest))) % self.size
        self._slots[slots] = newest                    # over the oldest states
        self._next = (self._next + len(newest)) % self.size
        self._count = min(self._count + len(newest), self.size)


def denoising_score_matching_loss(score: Callable[[Tensor], Tensor], x: Any, sigma: float,
                                  eps: Any = None) -> Tensor:
    """mean ‖s(x̃) + (x̃ - x)/σ²‖² · σ² / 2 with x̃ = x + σ ε (the σ² weighting keeps the
    loss on the scale of ε, as in diffusion: s(x̃) = -ε/σ at the optimum on average).

    The minimizer is the score of the noisy data, s(x̃) = ∇_x̃ log q_σ(x̃); for an energy
    model s = -∇_x E."""
    sigma = checks.positive_number("denoising_score_matching_loss", "sigma", sigma)
    x = as_tensor(x)
    if eps is None:
        xp = backend.array_module(x.data)
        eps = Tensor(backend.rng(xp).standard_normal(x.shape).astype(x.dtype))
    eps = as_tensor(eps).detach()
    noisy = x + eps * sigma                                            # x̃ = x + σ ε
    target = eps * (-1.0 / sigma)                                      # -(x̃ - x) / σ²
    diff = score(noisy) - target
    n = x.shape[0]
    return sum(reshape(diff * diff, (n, -1))) * (sigma * sigma / 2.0 / n)
