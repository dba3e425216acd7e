"""GAN, LSGAN and WGAN-GP losses: equilibrium values, gradient signs, stability, gradients,
and the gradient penalty's second derivative through a convolutional critic."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import minigen as mg
import minigen.functional as F
from minigen.generative import (discriminator_loss, generator_loss, gradient_penalty,
                                lsgan_discriminator_loss, lsgan_generator_loss, minimax_value,
                                wasserstein_critic_loss, wasserstein_generator_loss)
from minigen.testing import arrays

LN2 = math.log(2)


@pytest.mark.exercise_gan_losses
@pytest.mark.exercise_lsgan_losses
def test_values_at_the_equilibrium_d_one_half():
    half = mg.zeros(8)  # logit 0 <=> D = 1/2
    assert discriminator_loss(half, half).item() == pytest.approx(2 * LN2)
    assert generator_loss(half).item() == pytest.approx(LN2)
    assert generator_loss(half, saturating=True).item() == pytest.approx(-LN2)
    assert minimax_value(half, half).item() == pytest.approx(-2 * LN2)
    d_half = mg.full((8,), 0.5)  # LSGAN works on raw outputs
    assert lsgan_discriminator_loss(d_half, d_half).item() == pytest.approx(0.25)
    assert lsgan_generator_loss(d_half).item() == pytest.approx(0.25)


@pytest.mark.exercise_gan_losses
def test_gradient_signs():
    real = mg.zeros(4, requires_grad=True)
    fake = mg.zeros(4, requires_grad=True)
    discriminator_loss(real, fake).backward()
    assert np.all(real.grad.numpy() < 0)   # D raises its score of real data
    assert np.all(fake.grad.numpy() > 0)   # and lowers that of fakes
    fake2 = mg.zeros(4, requires_grad=True)
    generator_loss(fake2).backward()
    assert np.all(fake2.grad.numpy() < 0)  # G raises the score of its fakes


@pytest.mark.exercise_gan_losses
def test_saturating_loss_vanishes_when_d_is_confident():
    """At s_fake = -10 (D sure the sample is fake) the saturating gradient is σ(-10) ≈ 4.5e-5
    per sample, the non-saturating one about 1: why the latter is used."""
    s = mg.full((1,), -10.0, dtype="float64", requires_grad=True)
    generator_loss(s, saturating=True).backward()
    saturating = abs(s.grad.item())
    s.grad = None
    generator_loss(s).backward()
    non_saturating = abs(s.grad.item())
    assert saturating == pytest.approx(1 / (1 + math.exp(10)), rel=1e-6)
    assert non_saturating == pytest.approx(1 / (1 + math.exp(-10)), rel=1e-6)


@pytest.mark.exercise_gan_losses
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stable_at_extreme_logits(dtype):
    big = mg.tensor([1e4, -1e4], dtype=dtype, requires_grad=True)
    other = mg.tensor([-1e4, 1e4], dtype=dtype, requires_grad=True)
    for loss in (discriminator_loss(big, other), generator_loss(big), minimax_value(big, other),
                 generator_loss(big, saturating=True)):
        assert np.isfinite(loss.item())
        loss.backward()
    assert np.all(np.isfinite(big.grad.numpy())) and np.all(np.isfinite(other.grad.numpy()))
    # D(x) = σ(1e4) = 1 for the first real sample, 0 for the second: the loss is 1e4 / 2 each
    assert discriminator_loss(big, other).item() == pytest.approx(1e4, rel=1e-6)


@pytest.mark.exercise_gan_losses
@pytest.mark.exercise_lsgan_losses
@given(st.integers(1, 5).flatmap(lambda n: st.tuples(arrays((n,), low=-8, high=8),
                                                      arrays((n,), low=-8, high=8))))
def test_gradients_of_every_loss(values):
    real, fake = values
    t = [mg.tensor(a, dtype="float64", requires_grad=True) for a in (real, fake)]
    for fn in (discriminator_loss, minimax_value, lsgan_discriminator_loss, wasserstein_critic_loss):
        mg.gradcheck(fn, t)
        mg.gradgradcheck(fn, t)
    for fn in (generator_loss, lambda s: generator_loss(s, saturating=True), lsgan_generator_loss,
               wasserstein_generator_loss):
        mg.gradcheck(fn, t[1:])
    # against the formulas written with probabilities
    d_real, d_fake = 1 / (1 + np.exp(-real)), 1 / (1 + np.exp(-fake))
    assert minimax_value(*t).item() == pytest.approx(
        np.mean(np.log(d_real)) + np.mean(np.log(1 - d_fake)), rel=1e-9, abs=1e-12)


@pytest.mark.exercise_gradient_penalty
def test_gradient_penalty_of_a_linear_critic_is_exact():
    """f(x) = Σ w·x has ∇f = w everywhere, so the penalty is λ (||w|| - 1)²."""
    w = mg.tensor(np.array([[[0.6, 0.0], [0.0, 1.2]]]), dtype="float64", requires_grad=True)
    real, fake = mg.randn(5, 1, 2, 2, dtype="float64"), mg.randn(5, 1, 2, 2, dtype="float64")
    penalty = gradient_penalty(lambda x: (x * w).sum(axis=(1, 2, 3)), real, fake, lambda_=10.0)
    norm = math.sqrt(0.6 ** 2 + 1.2 ** 2)
    assert penalty.item() == pytest.approx(10 * (norm - 1) ** 2, rel=1e-9)
    penalty.backward()  # d/dw of λ(||w|| - 1)² = 2λ(||w|| - 1) w / ||w||
    assert_allclose(w.grad.numpy(), 2 * 10 * (norm - 1) * w.numpy() / norm, rtol=1e-7)


def _conv_critic(weight, bias_w):
    def critic(x):
        h = F.leaky_relu(F.conv2d(x, weight, stride=2, padding=1), 0.2)   # (N, 2, 3, 3)
        return (h.reshape(x.shape[0], -1) @ bias_w).reshape(-1)           # (N,)
    return critic


@pytest.mark.exercise_gradient_penalty
def test_gradient_penalty_matches_finite_differences_and_is_twice_differentiable():
    rng = np.random.default_rng(0)
    weight = mg.tensor(rng.standard_normal((2, 1, 3, 3)) * 0.5, dtype="float64", requires_grad=True)
    head = mg.tensor(rng.standard_normal(18), dtype="float64", requires_grad=True)
    real = mg.tensor(rng.standard_normal((3, 1, 5, 5)), dtype="float64")
    fake = mg.tensor(rng.standard_normal((3, 1, 5, 5)), dtype="float64")
    eps = mg.tensor(rng.random((3, 1, 1, 1)), dtype="float64")
    penalty = gradient_penalty(_conv_critic(weight, head), real, fake, lambda_=10.0, eps=eps)

    # the same penalty from a finite-difference estimate of ∇_x f at the interpolates
    critic = _conv_critic(weight.detach(), head.detach())
    x_hat = (eps.numpy() * real.numpy() + (1 - eps.numpy()) * fake.numpy())
    numeric = np.zeros_like(x_hat)
    h = 1e-6
    for idx in np.ndindex(x_hat.shape):
        plus, minus = x_hat.copy(), x_hat.copy()
        plus[idx] += h
        minus[idx] -= h
        numeric[idx] = (critic(mg.tensor(plus, dtype="float64")).numpy()[idx[0]]
                        - critic(mg.tensor(minus, dtype="float64")).numpy()[idx[0]]) / (2 * h)
    norms = np.sqrt((numeric ** 2).sum(axis=(1, 2, 3)))
    assert penalty.item() == pytest.approx(10 * np.mean((norms - 1) ** 2), rel=1e-6)

    # the penalty's gradient with respect to the critic's parameters (second order)
    mg.gradcheck(lambda w, b: gradient_penalty(_conv_critic(w, b), real, fake, 10.0, eps),
                 [weight, head])


def test_gradient_penalty_rejects_mismatched_batches():
    with pytest.raises(ValueError, match=r"real shape \(2, 3\) and fake shape \(3, 3\)"):
        gradient_penalty(lambda x: x.sum(axis=1), mg.zeros(2, 3), mg.zeros(3, 3))
