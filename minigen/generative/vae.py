"""The variational autoencoder's three formulas: sampling z, the KL term and the ELBO.

An encoder maps x to a Gaussian q(z|x) = N(μ, σ²) with a diagonal covariance. It outputs
μ and the *log-variance* logvar = log σ² (unconstrained, so the network may output any
real number; σ = exp(logvar / 2)). Training maximizes the evidence lower bound

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z)),   p(z) = N(0, I),

i.e. minimizes the negative ELBO: a reconstruction error plus a KL regularizer
(*término de regularización*) that pulls every q(z|x) towards the prior.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from minigen import backend, checks
from minigen.functional.losses import (apply_reduction, binary_cross_entropy_with_logits,
                                       mse_loss)
from minigen.ops import exp, logsumexp, sum
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor


def reparameterize(mu: Any, logvar: Any, eps: Any = None) -> Tensor:
    """z = μ + σ ⊙ ε with σ = exp(logvar / 2) and ε ~ N(0, I): the reparameterization trick
    (*truco de reparametrización*).

    Sampling z ~ N(μ, σ²) directly has no gradient with respect to μ and σ; writing the
    sample as a deterministic function of (μ, logvar) and an outside noise ε does:
    ∂z/∂μ = 1 and ∂z/∂logvar = ½ σ ε. No gradient flows to ε.

    Args:
        mu, logvar: (N, D).
        eps: (N, D) noise to use; by default drawn from minigen's seeded generator.

    >>> import minigen
    >>> z = reparameterize(minigen.zeros(2, 3), minigen.zeros(2, 3), eps=minigen.ones(2, 3))
    >>> z.tolist()                                  # 0 + exp(0) · 1
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    mu, logvar = as_tensor(mu), as_tensor(logvar)
    if mu.shape != logvar.shape:
        raise ValueError(f"reparameterize: mu shape {mu.shape} and logvar shape {logvar.shape} differ")
    if eps is None:
        rng = backend.rng(backend.array_module(mu.data))
        eps = Tensor(rng.standard_normal(mu.shape).astype(mu.dtype))   # ε ~ N(0, I)
    else:
        eps = as_tensor(eps).detach()  # the noise is an input, never a parameter
        if eps.shape != mu.shape:
            raise ValueError(f"reparameterize: eps shape {eps.shape} differs from mu shape {mu.shape}")
    # BEGIN SOLUTION reparameterize
    sigma = exp(logvar * 0.5)   # σ = exp(½ log σ²)
    return mu + sigma * eps     # z = μ + σ ⊙ ε
    # END SOLUTION


def kl_divergence(mu: Any, logvar: Any, reduction: str = "sum") -> Tensor:
    """KL(N(μ, σ²) || N(0, I)) = -½ Σ_j (1 + log σ²_j - μ²_j - σ²_j), summed over the latent
    dimensions j of each row.

    Args:
        mu, logvar: (N, D).
        reduction: over the batch — "sum" (a scalar), "mean" (a scalar: KL per sample),
            "none" (the (N,) values).

    >>> import minigen
    >>> kl_divergence(minigen.zeros(4, 2), minigen.zeros(4, 2)).item()   # q = p: no divergence
    0.0
    """
    mu, logvar = as_tensor(mu), as_tensor(logvar)
    if mu.shape != logvar.shape or mu.ndim != 2:
        raise ValueError(f"kl_divergence: mu and logvar must both be (N, D), got {mu.shape} "
                         f"and {logvar.shape}")
    # BEGIN SOLUTION kl_divergence
    per_sample = sum(1 + logvar - mu * mu - exp(logvar), axis=1) * -0.5  # (N,)
    # END SOLUTION
    return apply_reduction(per_sample, reduction, "kl_divergence")


@dataclass
class ELBO:
    """The negative ELBO of a batch, and its two parts, each a mean over the images.

    ``loss`` = ``reconstruction`` + β · ``kl`` is what training minimizes (call
    ``loss.backward()``); the parts are reported separately to see the trade-off.
    """

    loss: Tensor
    reconstruction: Tensor
    kl: Tensor


def elbo_loss(logits: Any, x: Any, mu: Any, logvar: Any, beta: float = 1.0,
              likelihood: str = "bernoulli") -> ELBO:
    """Negative ELBO per image, averaged over the batch:

        -ELBO(x) = -log p(x|z) + β · KL(q(z|x) || N(0, I))

    with one sample z per image. The reconstruction term is summed over the pixels, as
    the KL is summed over the latent dimensions: averaging it over pixels instead would
    shrink it 784-fold next to the KL and give blurry samples (posterior collapse).

    * ``likelihood="bernoulli"``: -log p(x|z) = Σ_pixels BCE-with-logits(logits, x), x in [0, 1].
    * ``likelihood="gaussian"``: -log p(x|z) = Σ_pixels (x - x̂)² with x̂ = ``logits`` (the
      decoder's output taken as the mean; constants dropped).

    Shapes: logits, x (N, ...); mu, logvar (N, D). β = 1 is the VAE; β > 1 the β-VAE.
    """
    logits, x = as_tensor(logits), as_tensor(x)
    if logits.shape != x.shape:
        raise ValueError(f"elbo_loss: logits shape {logits.shape} and x shape {x.shape} differ")
    checks.one_of("elbo_loss", "likelihood", likelihood, ("bernoulli", "gaussian"))
    # BEGIN SOLUTION elbo
    if likelihood == "bernoulli":
        per_pixel = binary_cross_entropy_with_logits(logits, x, reduction="none")
    else:
        per_pixel = mse_loss(logits, x, reduction="none")
    n = x.shape[0]
    reconstruction = sum(per_pixel) * (1.0 / n)      # Σ over pixels, mean over images
    kl = kl_divergence(mu, logvar, reduction="mean")  # Σ over latents, mean over images
    return ELBO(loss=reconstruction + kl * beta, reconstruction=reconstruction, kl=kl)
    # END SOLUTION


def gaussian_log_density(z: Any, mu: Any, logvar: Any) -> Tensor:
    """log N(z; μ, diag σ²) = -½ Σ_j (log 2π + log σ²_j + (z_j - μ_j)² / σ²_j), summed over
    the last axis: (..., D) -> (...)."""
    z, mu, logvar = as_tensor(z), as_tensor(mu), as_tensor(logvar)
    d = z - mu
    return sum(logvar + d * d * exp(logvar * -1.0) + math.log(2 * math.pi), dim=-1) * -0.5


def importance_weighted_bound(log_likelihood: Any, mu: Any, logvar: Any, k: int) -> Tensor:
    """The importance-weighted bound (IWAE, Burda et al. 2016) of log p(x) per item (N,):

        log p(x) ≥ log (1/k) Σ_j p(x|z_j) p(z_j) / q(z_j|x),   z_j ~ q(z|x) = N(μ, σ²)

    k = 1 is the ELBO; the bound rises with k towards log p(x), so a large k (100 or more)
    measures a VAE's likelihood far more tightly than its training loss does.

    Args:
        log_likelihood: z (k, N, D) -> log p(x_n | z_jn) (k, N), e.g. minus the summed BCE
            of the decoder's logits.
        mu, logvar: q(z|x)'s parameters (N, D).
        k: importance samples per item.
    """
    k = checks.positive_int("importance_weighted_bound", "k", k)
    mu, logvar = as_tensor(mu), as_tensor(logvar)
    xp = backend.array_module(mu.data)
    eps = Tensor(backend.rng(xp).standard_normal((k,) + mu.shape).astype(mu.dtype))
    z = mu + exp(logvar * 0.5) * eps                                   # (k, N, D)
    log_prior = gaussian_log_density(z, mu * 0.0, logvar * 0.0)        # log N(z; 0, I)
    log_q = gaussian_log_density(z, mu, logvar)
    log_w = log_likelihood(z) + log_prior - log_q                      # (k, N)
    return logsumexp(log_w, dim=0) - math.log(k)                       # (N,)
