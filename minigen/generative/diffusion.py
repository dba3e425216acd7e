"""Diffusion models (*modelos de difusión*): DDPM, DDIM and classifier-free guidance.

The forward process (*proceso directo*) adds Gaussian noise in T small steps,

    q(x_t | x_{t-1}) = N(√α_t x_{t-1}, β_t I),   α_t = 1 - β_t,

so that, with ᾱ_t = ∏_{s ≤ t} α_s, any step can be drawn from x_0 in one go:

    q(x_t | x_0) = N(√ᾱ_t x_0, (1 - ᾱ_t) I),   x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε,  ε ~ N(0, I).

A network ε_θ(x_t, t) is trained to predict the noise that the image has at step t
(Ho et al. 2020): L = E_{x_0, t, ε} ‖ε - ε_θ(x_t, t)‖². Generating runs the process
backwards (*proceso inverso*) from x_T ~ N(0, I): DDPM ancestrally, one step at a time;
DDIM (Song et al. 2021) on any sub-sequence of the steps, deterministically when η = 0.

Indices: the papers count t = 1 ... T; the arrays here are indexed t = 0 ... T - 1 (the
paper's t + 1), so ``alpha_bars[0]`` = ᾱ_1 = 1 - β_1 and "before the first step" is
ᾱ = 1 (x_0 itself, noise-free).

>>> schedule = linear_schedule(1000)
>>> round(float(schedule.alpha_bars[-1]), 6)          # x_T is almost pure noise
4e-05
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from minigen import backend, checks
from minigen.grad_mode import no_grad
from minigen.ops import mean
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor

EpsModel = Callable[[Tensor, Any], Tensor]     # ε_θ(x_t (N, ...), t (N,) ints) -> (N, ...)


@dataclass(frozen=True)
class NoiseSchedule:
    """β_t, α_t = 1 - β_t and ᾱ_t = ∏_{s ≤ t} α_s for t = 0 ... T - 1 (NumPy float64, (T,))."""

    betas: Any

    @property
    def T(self) -> int:                                   # noqa: N802 — the papers' T
        return len(self.betas)

    @property
    def alphas(self) -> Any:
        return 1.0 - self.betas

    @property
    def alpha_bars(self) -> Any:
        return backend.np.cumprod(self.alphas)            # ᾱ_t = ∏_{s ≤ t} α_s

    def alpha_bar(self, t: int) -> float:
        """ᾱ_t as a float, with ᾱ_{-1} = 1 (no noise yet) for the step after the last."""
        return 1.0 if t < 0 else float(self.alpha_bars[t])

    def snr(self) -> Any:
        """The signal-to-noise ratio of x_t: SNR(t) = ᾱ_t / (1 - ᾱ_t), decreasing in t."""
        return self.alpha_bars / (1.0 - self.alpha_bars)

    def posterior_variance(self) -> Any:
        """β̃_t = (1 - ᾱ_{t-1}) / (1 - ᾱ_t) · β_t: the variance of q(x_{t-1} | x_t, x_0)."""
        np = backend.np
        previous = np.concatenate([[1.0], self.alpha_bars[:-1]])          # ᾱ_{t-1}
        return (1.0 - previous) / (1.0 - self.alpha_bars) * self.betas


def linear_schedule(T: int = 1000, beta_start: float = 1e-4,  # noqa: N803
                    beta_end: float = 0.02) -> NoiseSchedule:
    """β_t rising linearly from ``beta_start`` to ``beta_end`` (Ho et al. 2020: 1e-4 to 0.02)."""
    checks.positive_int("linear_schedule", "T", T, minimum=2)
    checks.in_range("linear_schedule", "beta_start", beta_start, 0.0, 1.0, closed="neither")
    checks.in_range("linear_schedule", "beta_end", beta_end, beta_start, 1.0, closed="high")
    return NoiseSchedule(backend.np.linspace(beta_start, beta_end, T, dtype=backend.np.float64))


def cosine_schedule(T: int = 1000, s: float = 0.008,  # noqa: N803
                    max_beta: float = 0.999) -> NoiseSchedule:
    """ᾱ_t = f(t) / f(0) with f(t) = cos²((t/T + s) / (1 + s) · π/2) (Nichol & Dhariwal 2021).

    ᾱ falls slowly at both ends, so fewer steps are wasted on nearly clean or nearly pure
    noise images. β_t = 1 - ᾱ_t / ᾱ_{t-1}, clipped at ``max_beta`` so that the last step
    (where ᾱ reaches 0) stays finite.
    """
    np = backend.np
    checks.positive_int("cosine_schedule", "T", T, minimum=2)
    checks.in_range("cosine_schedule", "s", s, 0.0, 1.0)
    steps = np.arange(T + 1, dtype=np.float64) / T                       # t/T, t = 0 ... T
    f = np.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bars = f / f[0]                                                # the paper's ᾱ_0 = 1
    betas = np.minimum(1.0 - alpha_bars[1:] / alpha_bars[:-1], max_beta)
    return NoiseSchedule(betas)


def _per_sample(values: Any, t: Any, like: Tensor) -> Tensor:
    """values[t] (N,) as a constant Tensor (N, 1, 1, ...) that broadcasts against ``like``."""
    xp = backend.array_module(like.data)
    picked = backend.to_module(backend.np.asarray(values)[backend.to_numpy(t)], xp)
    return Tensor(picked.reshape((-1,) + (1,) * (like.ndim - 1)).astype(like.dtype))


def _signal_and_noise(schedule: NoiseSchedule, t: Any, like: Tensor) -> tuple[Tensor, Tensor]:
    """√ᾱ_t and √(1 - ᾱ_t) of each image's step, (N, 1, 1, ...) like ``like``."""
    return (_per_sample(backend.np.sqrt(schedule.alpha_bars), t, like),
            _per_sample(backend.np.sqrt(1.0 - schedule.alpha_bars), t, like))


def _check_steps(owner: str, schedule: NoiseSchedule, t: Any, n: int) -> Any:
    t = backend.np.asarray(backend.to_numpy(t.data if isinstance(t, Tensor) else t))
    if t.shape != (n,) or t.dtype.kind not in "iu":
        raise ValueError(f"{owner}: t must be integer steps of shape ({n},), one per image, "
                         f"got {t.dtype} {t.shape}")
    checks.indices_in_range(owner, "t", t, schedule.T)
    return t


def q_sample(schedule: NoiseSchedule, x0: Any, t: Any, eps: Any) -> Tensor:
    """x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε: a draw of q(x_t | x_0), differentiable in x_0.

    Shapes: x0 and eps (N, ...), t (N,) integer steps in [0, T).

    >>> import minigen
    >>> s = linear_schedule(10)
    >>> q_sample(s, minigen.ones(2, 3), [0, 9], minigen.zeros(2, 3)).shape
    (2, 3)
    """
    x0, eps = as_tensor(x0), as_tensor(eps).detach()
    if eps.shape != x0.shape:
        raise ValueError(f"q_sample: eps shape {eps.shape} differs from x0 shape {x0.shape}")
    t = _check_steps("q_sample", schedule, t, x0.shape[0])
    signal, noise = _signal_and_noise(schedule, t, x0)            # √ᾱ_t, √(1 - ᾱ_t)
    return signal * x0 + noise * eps


def v_target(schedule: NoiseSchedule, x0: Any, t: Any, eps: Any) -> Tensor:
    """v = √ᾱ_t ε - √(1 - ᾱ_t) x_0: the v-prediction target (Salimans & Ho 2022)."""
    x0, eps = as_tensor(x0), as_tensor(eps)
    t = _check_steps("v_target", schedule, t, x0.shape[0])
    signal, noise = _signal_and_noise(schedule, t, x0)
    return signal * eps - noise * x0


def eps_from_v(schedule: NoiseSchedule, x_t: Any, t: Any, v: Any) -> Tensor:
    """ε = √ᾱ_t v + √(1 - ᾱ_t) x_t: the noise a v-prediction stands for."""
    x_t, v = as_tensor(x_t), as_tensor(v)
    t = _check_steps("eps_from_v", schedule, t, x_t.shape[0])
    signal, noise = _signal_and_noise(schedule, t, x_t)
    return signal * v + noise * x_t


def diffusion_loss(model: EpsModel, schedule: NoiseSchedule, x0: Any, t: Any = None,
                   eps: Any = None, prediction: str = "eps") -> Tensor:
    """L = mean ‖ε - ε_θ(x_t, t)‖² with t ~ U{0, ..., T - 1} and ε ~ N(0, I) per image.

    ``prediction="v"`` trains the network to predict v = √ᾱ_t ε - √(1 - ᾱ_t) x_0 instead.
    ``t`` (N,) and ``eps`` (like x0) are drawn from minigen's seeded generator unless
    given. ``model`` is called as ``model(x_t, t)``: close over the labels of a
    conditional model (``lambda x, t: unet(x, t, labels)``).
    """
    checks.one_of("diffusion_loss", "prediction", prediction, ("eps", "v"))
    x0 = as_tensor(x0)
    xp = backend.array_module(x0.data)
    n = x0.shape[0]
    if t is None:
        t = backend.np.asarray(backend.to_numpy(backend.rng(xp).integers(0, schedule.T, n)))
    if eps is None:
        eps = Tensor(backend.rng(xp).standard_normal(x0.shape).astype(x0.dtype))   # ε ~ N(0, I)
    x_t = q_sample(schedule, x0, t, eps)
    target = as_tensor(eps) if prediction == "eps" else v_target(schedule, x0, t, eps)
    predicted = model(x_t, t)
    if predicted.shape != x_t.shape:
        raise ValueError(f"diffusion_loss: the model returned {predicted.shape} for x_t of "
                         f"shape {x_t.shape}")
    return mean((target - predicted) ** 2)


def drop_labels(labels: Any, p: float, null_label: int) -> Any:
    """The labels (N,) with each replaced by ``null_label`` (the "no class" ∅) with
    probability p: how one network learns both ε_θ(x_t, t, y) and ε_θ(x_t, t, ∅) for
    classifier-free guidance (*guía sin clasificador*)."""
    checks.in_range("drop_labels", "p", p, 0.0, 1.0)
    labels = backend.np.asarray(backend.to_numpy(labels.data if isinstance(labels, Tensor)
                                                 else labels))
    dropped = backend.rng(backend.np).random(labels.shape) < p
    return backend.np.where(dropped, null_label, labels)


def guided_eps(model: Callable[[Tensor, Any, Any], Tensor], labels: Any, w: float,
               null_label: int) -> EpsModel:
    """ε̂(x_t, t) = (1 + w) ε_θ(x_t, t, y) - w ε_θ(x_t, t, ∅): classifier-free guidance
    (Ho & Salimans 2022). w = 0 is the plain conditional model; larger w trades diversity
    for samples that look more like their class."""
    checks.in_range("guided_eps", "w", w, 0.0)                  # finite, >= 0
    null = backend.np.full(len(labels), null_label)

    def eps(x_t: Tensor, t: Any) -> Tensor:
        conditional = model(x_t, t, labels)
        if w == 0:
            return conditional
        return conditional * (1.0 + w) - model(x_t, t, null) * w
    return eps


def _noise(x: Tensor) -> Tensor:
    xp = backend.array_module(x.data)
    return Tensor(backend.rng(xp).standard_normal(x.shape).astype(x.dtype))         # z ~ N(0, I)


def _steps_bar(steps: list[int], progress: bool, desc: str) -> Any:
    if not progress:
        return steps
    from tqdm.auto import tqdm  # noqa: PLC0415 — only a sampler with a bar needs it
    return tqdm(steps, desc=desc, unit="step", leave=False)


def ddpm_step(schedule: NoiseSchedule, x_t: Tensor, t: int, eps: Tensor, z: Tensor | None,
              variance: str = "beta") -> Tensor:
    """x_{t-1} = (x_t - β_t / √(1 - ᾱ_t) · ε) / √α_t + σ_t z, with σ_t² = β_t or β̃_t.

    z is None at the last step (t = 0): the sample is the mean."""
    beta, alpha, alpha_bar = (float(schedule.betas[t]), float(schedule.alphas[t]),
                              schedule.alpha_bar(t))
    mean_ = (x_t - eps * (beta / math.sqrt(1.0 - alpha_bar))) * (1.0 / math.sqrt(alpha))
    if z is None:
        return mean_
    sigma2 = beta if variance == "beta" else float(schedule.posterior_variance()[t])
    return mean_ + z * math.sqrt(sigma2)


def ddpm_sample(model: EpsModel, schedule: NoiseSchedule, x_T: Any,  # noqa: N803
                variance: str = "beta", progress: bool = False) -> Tensor:
    """DDPM's ancestral sampler: from x_T (N, ...) ~ N(0, I) through t = T - 1 ... 0, one
    ``ddpm_step`` each (T network calls), with minigen's seeded noise."""
    checks.one_of("ddpm_sample", "variance", variance, ("beta", "beta_tilde"))
    x = as_tensor(x_T).detach()
    with no_grad():
        for t in _steps_bar(list(range(schedule.T - 1, -1, -1)), progress, "DDPM"):
            eps = model(x, backend.np.full(x.shape[0], t))
            x = ddpm_step(schedule, x, t, eps, _noise(x) if t > 0 else None, variance)
    return x


def ddim_step(schedule: NoiseSchedule, x_t: Tensor, t: int, s: int, eps: Tensor,
              eta: float, z: Tensor | None, clip_x0: float | None = None) -> Tensor:
    """One DDIM step from t to an earlier s (s = -1: to x_0):

        x̂_0 = (x_t - √(1 - ᾱ_t) ε) / √ᾱ_t
        σ   = η √((1 - ᾱ_s) / (1 - ᾱ_t)) √(1 - ᾱ_t / ᾱ_s)
        x_s = √ᾱ_s x̂_0 + √(1 - ᾱ_s - σ²) ε + σ z

    With ``clip_x0 = c`` the prediction x̂_0 is clamped to [-c, c] and ε recomputed from
    it, ε = (x_t - √ᾱ_t x̂_0) / √(1 - ᾱ_t), so that x_t = √ᾱ_t x̂_0 + √(1 - ᾱ_t) ε still
    holds: reusing the unclamped ε with the clamped x̂_0 breaks that identity, and with it
    guidance (the samples drift off the data at large w).
    """
    a_t, a_s = schedule.alpha_bar(t), schedule.alpha_bar(s)
    x0 = (x_t - eps * math.sqrt(1.0 - a_t)) * (1.0 / math.sqrt(a_t))               # x̂_0
    if clip_x0 is not None:
        x0 = x0.clamp(-clip_x0, clip_x0)
        eps = (x_t - x0 * math.sqrt(a_t)) * (1.0 / math.sqrt(1.0 - a_t))            # consistent ε
    sigma = eta * math.sqrt((1.0 - a_s) / (1.0 - a_t)) * math.sqrt(1.0 - a_t / a_s)
    x_s = x0 * math.sqrt(a_s) + eps * math.sqrt(max(1.0 - a_s - sigma ** 2, 0.0))
    return x_s + z * sigma if z is not None and sigma > 0 else x_s


def ddim_timesteps(T: int, steps: int) -> list[int]:  # noqa: N803
    """``steps`` evenly spaced steps of 0 ... T - 1, from T - 1 down (always ending at 0)."""
    checks.positive_int("ddim_timesteps", "steps", steps)
    if steps > T:
        raise ValueError(f"ddim_timesteps: steps must be at most T = {T}, got {steps}")
    np = backend.np
    return sorted({int(round(v)) for v in np.linspace(0, T - 1, steps)}, reverse=True)


def ddim_sample(model: EpsModel, schedule: NoiseSchedule, x_T: Any, steps: int = 50,  # noqa: N803
                eta: float = 0.0, clip_x0: float | None = None,
                progress: bool = False) -> Tensor:
    """DDIM: from x_T (N, ...) through ``steps`` evenly spaced steps (``steps`` network
    calls). η = 0 is deterministic given x_T; η = 1 with every step is DDPM with σ² = β̃.
    Fewer steps are faster but not free: on Gaussian toy data with the exact noise
    predictor, 50 steps give samples about 10% too concentrated (``tests/test_diffusion.py``).
    """
    checks.in_range("ddim_sample", "eta", eta, 0.0, 1.0)
    timesteps = ddim_timesteps(schedule.T, steps)
    x = as_tensor(x_T).detach()
    with no_grad():
        bar = _steps_bar(list(range(len(timesteps))), progress, "DDIM")
        for i in bar:
            t = timesteps[i]
            s = timesteps[i + 1] if i + 1 < len(timesteps) else -1
            eps = model(x, backend.np.full(x.shape[0], t))
            z = _noise(x) if eta > 0 and s >= 0 else None
            x = ddim_step(schedule, x, t, s, eps, eta, z, clip_x0)
    return x


def timestep_embedding(t: Any, dim: int, max_period: float = 10_000.0) -> Tensor:
    """The sinusoidal embedding of the steps t (N,): (N, dim) rows
    [sin(t ω_0), ..., sin(t ω_{h-1}), cos(t ω_0), ..., cos(t ω_{h-1})] with
    ω_k = max_period^(-k/h), h = dim / 2 (the Transformer's positions, as in DDPM)."""
    np = backend.np
    checks.positive_int("timestep_embedding", "dim", dim, minimum=2)
    if dim % 2:
        raise ValueError(f"timestep_embedding: dim must be even, got {dim}")
    h = dim // 2
    steps = np.asarray(backend.to_numpy(t.data if isinstance(t, Tensor) else t), dtype=np.float64)
    omegas = max_period ** (-np.arange(h) / h)                                     # (h,)
    angles = steps[:, None] * omegas[None, :]                                      # (N, h)
    rows = np.concatenate([np.sin(angles), np.cos(angles)], axis=1)                # (N, dim)
    return Tensor(rows.astype(backend.get_default_dtype()))     # a constant: no gradient in t
