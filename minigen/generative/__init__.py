"""The math of the generative models: reparameterization, KL divergence, ELBO, ...

Each function is written the way the lecture writes the formula, with shapes in the
comments; the models in ``minigen.models`` are built from these and ``minigen.nn``.
"""
from minigen.generative.conditioning import one_hot_labels, with_label, with_label_planes
from minigen.generative.cyclegan import (CycleGANObjective, ImagePool, cycle_consistency_loss,
                                         cyclegan_generator_objective, identity_loss)
from minigen.generative.gan import (discriminator_loss, generator_loss, gradient_penalty,
                                    lsgan_discriminator_loss, lsgan_generator_loss, minimax_value,
                                    wasserstein_critic_loss, wasserstein_generator_loss)
from minigen.generative.vae import ELBO, elbo_loss, kl_divergence, reparameterize
from minigen.generative.vq import (StraightThrough, code_counts, codebook_loss, commitment_loss,
                                   counts_perplexity, ema_update, lookup, nearest_code,
                                   perplexity, quantize, straight_through)

__all__ = ["one_hot_labels", "with_label", "with_label_planes", "CycleGANObjective", "ImagePool", "cycle_consistency_loss",
           "cyclegan_generator_objective", "identity_loss", "discriminator_loss", "generator_loss", "gradient_penalty", "lsgan_discriminator_loss",
           "lsgan_generator_loss", "minimax_value", "wasserstein_critic_loss",
           "wasserstein_generator_loss", "ELBO", "elbo_loss", "kl_divergence", "reparameterize", "StraightThrough",
           "code_counts", "counts_perplexity", "ema_update", "codebook_loss", "commitment_loss", "lookup", "nearest_code", "perplexity", "quantize",
           "straight_through"]
