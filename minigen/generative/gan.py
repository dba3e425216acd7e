"""GAN losses: the minimax game, its non-saturating form, LSGAN and WGAN-GP.

The discriminator (*discriminador*) D outputs a logit s (D = σ(s)) for real data x and
for generated data G(z); the generator (*generador*) G tries to fool it. The game of
Goodfellow et al. (2014):

    min_G max_D V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]

Everything is computed from logits with softplus, never from σ(s) itself:
log σ(s) = -softplus(-s) and log(1 - σ(s)) = -softplus(s), finite for any s.
"""
from __future__ import annotations

from typing import Any, Callable

from minigen import backend
from minigen.autograd import grad
from minigen.ops import mean, softplus, sqrt, sum
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor


def discriminator_loss(real_logits: Any, fake_logits: Any) -> Tensor:
    """BCE(D(x), 1) + BCE(D(G(z)), 0) = mean softplus(-s_real) + mean softplus(s_fake).

    Minimizing it maximizes V(D, G). At the equilibrium D = ½ (logits 0) it is 2 ln 2.
    """
    real_logits, fake_logits = as_tensor(real_logits), as_tensor(fake_logits)
    # BEGIN SOLUTION gan_losses
    return mean(softplus(-real_logits)) + mean(softplus(fake_logits))
    # END SOLUTION


def generator_loss(fake_logits: Any, saturating: bool = False) -> Tensor:
    """The generator's loss on the discriminator's logits for generated data.

    * non-saturating (default): -log D(G(z)) = mean softplus(-s_fake); ln 2 at D = ½.
    * saturating (the paper's minimax form): log(1 - D(G(z))) = -mean softplus(s_fake).
      When D confidently rejects the fakes (s_fake ≪ 0) its gradient σ(s_fake) vanishes,
      which is why the non-saturating form is used in practice.
    """
    fake_logits = as_tensor(fake_logits)
    # BEGIN SOLUTION gan_losses
    if saturating:
        return -mean(softplus(fake_logits))
    return mean(softplus(-fake_logits))
    # END SOLUTION


def minimax_value(real_logits: Any, fake_logits: Any) -> Tensor:
    """V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))]; -2 ln 2 at the equilibrium D = ½."""
    real_logits, fake_logits = as_tensor(real_logits), as_tensor(fake_logits)
    return -mean(softplus(-real_logits)) - mean(softplus(fake_logits))


def _mean_square(t: Tensor, target: float) -> Tensor:
    diff = t - target
    return mean(diff * diff)


def lsgan_discriminator_loss(real_out: Any, fake_out: Any) -> Tensor:
    """Least-squares GAN: ½ [mean (D(x) - 1)² + mean D(G(z))²] (targets 1 and 0, on raw
    outputs, no sigmoid). The ½ is the one of the LSGAN paper and of CycleGAN's code,
    which halves the discriminator's loss. At D = ½: 0.25."""
    # BEGIN SOLUTION lsgan_losses
    return 0.5 * (_mean_square(as_tensor(real_out), 1.0) + _mean_square(as_tensor(fake_out), 0.0))
    # END SOLUTION


def lsgan_generator_loss(fake_out: Any) -> Tensor:
    """Least-squares GAN generator: mean (D(G(z)) - 1)². At D = ½: 0.25."""
    # BEGIN SOLUTION lsgan_losses
    return _mean_square(as_tensor(fake_out), 1.0)
    # END SOLUTION


def wasserstein_critic_loss(real_scores: Any, fake_scores: Any) -> Tensor:
    """WGAN critic (*crítico*): mean f(G(z)) - mean f(x), an estimate of minus the
    Wasserstein-1 distance when f is 1-Lipschitz."""
    return mean(as_tensor(fake_scores)) - mean(as_tensor(real_scores))


def wasserstein_generator_loss(fake_scores: Any) -> Tensor:
    """WGAN generator: -mean f(G(z))."""
    return -mean(as_tensor(fake_scores))


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Any, fake: Any,
                     lambda_: float = 10.0, eps: Any = None) -> Tensor:
    """WGAN-GP: λ E[(||∇_x̂ f(x̂)||₂ - 1)²] on random interpolates x̂ = ε x + (1 - ε) G(z).

    ε ~ U(0, 1) per sample (drawn from minigen's seeded generator unless given, shape
    (N, 1, ..., 1)). ∇_x̂ f is computed with ``create_graph=True``, so the penalty itself
    can be differentiated with respect to the critic's parameters (a second derivative).
    Shapes: real, fake (N, ...); returns a scalar.
    """
    real, fake = as_tensor(real).detach(), as_tensor(fake).detach()
    if real.shape != fake.shape:
        raise ValueError(f"gradient_penalty: real shape {real.shape} and fake shape {fake.shape} differ")
    n = real.shape[0]
    if eps is None:
        rng = backend.rng(backend.array_module(real.data))
        eps = Tensor(rng.random((n,) + (1,) * (real.ndim - 1)).astype(real.dtype))
    eps = as_tensor(eps).detach()
    # BEGIN SOLUTION gradient_penalty
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_()       # (N, ...)
    scores = critic(x_hat)
    (g,) = grad(sum(scores), x_hat, create_graph=True)                       # ∇_x̂ f, (N, ...)
    axes = tuple(range(1, g.ndim))
    norms = sqrt(sum(g * g, axis=axes) + 1e-12)                               # ||∇f|| per sample
    return lambda_ * mean((norms - 1) * (norms - 1))
    # END SOLUTION
