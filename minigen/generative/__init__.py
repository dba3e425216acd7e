"""The math of the generative models: reparameterization, KL divergence, ELBO, ...

Each function is written the way the lecture writes the formula, with shapes in the
comments; the models in ``minigen.models`` are built from these and ``minigen.nn``.
"""
from minigen.generative.vae import ELBO, elbo_loss, kl_divergence, reparameterize

__all__ = ["ELBO", "elbo_loss", "kl_divergence", "reparameterize"]
