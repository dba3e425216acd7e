"""reparameterize, kl_divergence and elbo_loss: gradients, statistics and conventions.

Gradient checks cannot catch the classic VAE bug (sampling with σ² where the KL assumes
log σ², or the reverse); the statistical tests below can.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import minigen as mg
from minigen.generative import elbo_loss, kl_divergence, reparameterize
from minigen.generative.vae import importance_weighted_bound
from minigen.testing import arrays

latent_pairs = st.tuples(st.integers(1, 4), st.integers(1, 5)).flatmap(
    lambda shape: st.tuples(arrays(shape), arrays(shape, low=-2, high=2), arrays(shape)))


@pytest.mark.exercise_reparameterize
@given(latent_pairs)
def test_reparameterize_gradient_with_eps_fixed(values):
    mu, logvar, eps = values
    fn = lambda m, lv: reparameterize(m, lv, eps=mg.tensor(eps, dtype="float64"))  # noqa: E731
    tensors = [mg.tensor(a, dtype="float64", requires_grad=True) for a in (mu, logvar)]
    assert_allclose(fn(*tensors).numpy(), mu + np.exp(logvar / 2) * eps, rtol=1e-12)
    mg.gradcheck(fn, tensors)
    mg.gradgradcheck(fn, tensors)


@pytest.mark.exercise_reparameterize
def test_no_gradient_reaches_eps():
    mu, logvar = mg.zeros(2, 3, requires_grad=True), mg.zeros(2, 3, requires_grad=True)
    eps = mg.randn(2, 3, requires_grad=True)
    reparameterize(mu, logvar, eps=eps).sum().backward()
    assert eps.grad is None
    assert_allclose(mu.grad.numpy(), 1.0)
    assert_allclose(logvar.grad.numpy(), 0.5 * eps.numpy(), rtol=1e-6)  # ½ σ ε with σ = 1


@pytest.mark.exercise_reparameterize
def test_samples_have_mean_mu_and_variance_exp_logvar():
    """The statistical test that catches a σ / σ² / log σ² mix-up."""
    mg.manual_seed(0)
    n = 200_000
    mu = np.array([0.5, -2.0, 3.0])
    logvar = np.array([0.0, math.log(4.0), math.log(0.25)])   # σ² = 1, 4, 0.25
    z = reparameterize(mg.tensor(np.tile(mu, (n, 1)), dtype="float64"),
                       mg.tensor(np.tile(logvar, (n, 1)), dtype="float64")).numpy()
    var = np.exp(logvar)
    # the sample mean is within 5 standard errors √(σ²/n); the sample variance within 5·σ²·√(2/n)
    assert np.all(np.abs(z.mean(axis=0) - mu) < 5 * np.sqrt(var / n))
    assert np.all(np.abs(z.var(axis=0) - var) < 5 * var * np.sqrt(2 / n))


@pytest.mark.exercise_reparameterize
def test_reparameterize_is_repeatable_with_manual_seed():
    mg.manual_seed(3)
    a = reparameterize(mg.zeros(2, 2), mg.zeros(2, 2)).numpy()
    mg.manual_seed(3)
    b = reparameterize(mg.zeros(2, 2), mg.zeros(2, 2)).numpy()
    assert np.array_equal(a, b)


@pytest.mark.exercise_kl_divergence
def test_kl_matches_a_monte_carlo_estimate():
    """KL(q || p) = E_q[log q(z) - log p(z)], estimated with 10⁶ samples."""
    rng = np.random.default_rng(0)
    mu = np.array([[0.3, -1.2, 0.8]])
    logvar = np.array([[0.5, -1.0, 0.1]])
    sigma = np.exp(logvar / 2)
    z = mu + sigma * rng.standard_normal((1_000_000, 3))
    log_q = -0.5 * (((z - mu) / sigma) ** 2 + logvar + math.log(2 * math.pi)).sum(axis=1)
    log_p = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(axis=1)
    monte_carlo = (log_q - log_p).mean()
    standard_error = (log_q - log_p).std() / 1000
    closed = kl_divergence(mg.tensor(mu, dtype="float64"), mg.tensor(logvar, dtype="float64")).item()
    assert abs(closed - monte_carlo) < 5 * standard_error
    assert closed == pytest.approx(0.5 * np.sum(mu ** 2 + np.exp(logvar) - 1 - logvar), rel=1e-12)


@pytest.mark.exercise_kl_divergence
@given(latent_pairs, st.sampled_from(["sum", "mean", "none"]))
def test_kl_divergence_reductions_and_gradient(values, reduction):
    mu, logvar, _ = values
    per_sample = -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar), axis=1)
    expected = {"sum": per_sample.sum(), "mean": per_sample.mean(), "none": per_sample}[reduction]
    fn = lambda m, lv: kl_divergence(m, lv, reduction)  # noqa: E731
    tensors = [mg.tensor(a, dtype="float64", requires_grad=True) for a in (mu, logvar)]
    assert_allclose(fn(*tensors).numpy(), expected, rtol=1e-10, atol=1e-12)
    assert np.all(per_sample >= -1e-12)  # a KL divergence is never negative
    mg.gradcheck(fn, tensors)
    mg.gradgradcheck(fn, tensors)


@pytest.mark.exercise_elbo
@pytest.mark.exercise_kl_divergence
@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 3), st.floats(0.1, 4.0),
       st.sampled_from(["bernoulli", "gaussian"]), st.data())
def test_elbo_loss_parts_and_gradient(n, pixels, latent, beta, likelihood, data):
    logits = data.draw(arrays((n, 1, pixels)), label="logits")
    x = data.draw(arrays((n, 1, pixels), low=0.0, high=1.0), label="x")
    mu = data.draw(arrays((n, latent)), label="mu")
    logvar = data.draw(arrays((n, latent), low=-2, high=2), label="logvar")
    if likelihood == "bernoulli":
        per_pixel = np.logaddexp(0, logits) - x * logits      # BCE with logits
    else:
        per_pixel = (logits - x) ** 2
    recon = per_pixel.sum() / n
    kl = (-0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar), axis=1)).mean()
    t = [mg.tensor(a, dtype="float64", requires_grad=True) for a in (logits, x, mu, logvar)]
    parts = elbo_loss(*t, beta=beta, likelihood=likelihood)
    assert parts.reconstruction.item() == pytest.approx(recon, rel=1e-10, abs=1e-12)
    assert parts.kl.item() == pytest.approx(kl, rel=1e-10, abs=1e-12)
    assert parts.loss.item() == pytest.approx(recon + beta * kl, rel=1e-10, abs=1e-12)
    mg.gradcheck(lambda s, xx, m, lv: elbo_loss(s, xx, m, lv, beta, likelihood).loss, t)


@pytest.mark.exercise_kl_divergence
def test_errors():
    z = mg.zeros(2, 3)
    with pytest.raises(ValueError, match=r"reparameterize: mu shape \(2, 3\) and logvar shape \(2, 4\)"):
        reparameterize(z, mg.zeros(2, 4))
    with pytest.raises(ValueError, match="eps shape"):
        reparameterize(z, z, eps=mg.zeros(3, 3))
    with pytest.raises(ValueError, match="reduction must be"):
        kl_divergence(z, z, reduction="batchmean")
    with pytest.raises(ValueError, match=r"must both be \(N, D\)"):
        kl_divergence(mg.zeros(3), mg.zeros(3))
    with pytest.raises(ValueError, match=r"logits shape \(2, 4\) and x shape \(2, 5\)"):
        elbo_loss(mg.zeros(2, 4), mg.zeros(2, 5), z, z)
    with pytest.raises(ValueError, match="likelihood"):
        elbo_loss(mg.zeros(2, 4), mg.zeros(2, 4), z, z, likelihood="poisson")


# ---------------------------------------------------------------- the IWAE bound
A, SIGMA = 1.5, 0.5            # z ~ N(0, 1), x | z ~ N(A z, SIGMA²): p(x) = N(0, A² + SIGMA²)


def _linear_gaussian(x):
    def log_likelihood(z):                                        # (k, N, 1) -> (k, N)
        d = mg.tensor(x, dtype="float64").reshape(1, -1) - z.reshape(z.shape[0], -1) * A
        return (d * d * (-0.5 / SIGMA ** 2)) - 0.5 * math.log(2 * math.pi * SIGMA ** 2)
    exact = -0.5 * (np.log(2 * np.pi * (A ** 2 + SIGMA ** 2)) + x ** 2 / (A ** 2 + SIGMA ** 2))
    return log_likelihood, exact


def test_iwae_with_the_true_posterior_is_exact_for_any_k():
    x = np.array([-1.0, 0.3, 2.0])
    log_likelihood, exact = _linear_gaussian(x)
    v = 1 / (1 + A ** 2 / SIGMA ** 2)                             # the posterior N(m, v)
    m = v * A * x / SIGMA ** 2
    mu = mg.tensor(m[:, None], dtype="float64")
    logvar = mg.tensor(np.full((3, 1), math.log(v)), dtype="float64")
    for k in (1, 5):
        bound = importance_weighted_bound(log_likelihood, mu, logvar, k).numpy()
        assert_allclose(bound, exact, rtol=1e-10)


def test_iwae_rises_with_k_towards_log_p_x():
    mg.manual_seed(0)
    x = np.full(2000, 0.8)
    log_likelihood, exact = _linear_gaussian(x)
    mu = mg.tensor(np.full((2000, 1), 0.2), dtype="float64")         # a poor q(z|x)
    logvar = mg.tensor(np.full((2000, 1), math.log(0.5)), dtype="float64")
    bounds = [importance_weighted_bound(log_likelihood, mu, logvar, k).numpy().mean()
              for k in (1, 10, 200)]
    assert bounds[0] < bounds[1] < bounds[2] < exact[0]
    assert exact[0] - bounds[2] < 0.1 * (exact[0] - bounds[0])    # most of the gap closed


def test_iwae_nats_of_a_vae():
    from minigen.models import VAE
    from minigen.training.autoencoders import evaluate, iwae_nats, vae_loss
    mg.manual_seed(0)
    vae = VAE(latent_dim=4)
    images = (np.random.default_rng(0).random((40, 1, 28, 28)) > 0.8).astype(np.float32)
    mg.manual_seed(1)
    one = iwae_nats(vae, images, k=1)
    assert one == pytest.approx(evaluate(vae, vae_loss, images)["loss"], rel=0.02)
    assert iwae_nats(vae, images, k=50) < one                      # a tighter bound
