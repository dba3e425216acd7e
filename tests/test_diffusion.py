"""The diffusion math: schedules against their closed forms, q(x_t | x_0) by its moments,
gradients, and the samplers on a Gaussian toy data set whose true noise predictor is
known in closed form (so a sampler that recovers the data's mean and variance is right)."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import minigen as mg
from minigen.generative import diffusion as D
from minigen.testing import arrays

MU, S = 0.5, 0.3                      # the toy data: x_0 ~ N(MU, S²) in every dimension


def exact_eps(schedule):
    """E[ε | x_t] for x_0 ~ N(MU, S²): x_t ~ N(√ᾱ MU, ᾱ S² + 1 - ᾱ) and
    Cov(ε, x_t) = √(1 - ᾱ), so ε*(x_t, t) = √(1 - ᾱ) (x_t - √ᾱ MU) / (ᾱ S² + 1 - ᾱ)."""
    def eps(x, t):
        a = schedule.alpha_bars[np.asarray(t)].reshape(-1, 1)
        return (x - mg.tensor(np.sqrt(a) * MU, dtype=x.dtype)) * mg.tensor(
            np.sqrt(1 - a) / (a * S ** 2 + 1 - a), dtype=x.dtype)
    return eps


# ---------------------------------------------------------------- schedules
def test_linear_schedule_is_the_papers():
    s = D.linear_schedule(1000)
    assert s.T == 1000 and s.betas[0] == pytest.approx(1e-4) and s.betas[-1] == pytest.approx(0.02)
    product, expected = 1.0, []
    for beta in s.betas:                          # ᾱ_t = ∏ (1 - β_s), by a plain loop
        product *= 1.0 - beta
        expected.append(product)
    assert_allclose(s.alpha_bars, expected, rtol=1e-12)
    assert np.all(np.diff(s.alpha_bars) < 0) and np.all(np.diff(s.snr()) < 0)
    assert 0 < s.alpha_bars[-1] < 1e-4           # x_T is almost pure noise


@pytest.mark.parametrize("T", [10, 1000])
def test_cosine_schedule_follows_its_closed_form(T):
    s = D.cosine_schedule(T)
    f = lambda t: math.cos((t / T + 0.008) / 1.008 * math.pi / 2) ** 2   # noqa: E731
    unclipped = s.betas < 0.999
    closed = np.array([f(t + 1) / f(0) for t in range(T)])
    assert_allclose(s.alpha_bars[unclipped], closed[unclipped], rtol=1e-10)
    assert unclipped[:-1].all()                   # only the last β reaches the clip
    assert np.all(np.diff(s.alpha_bars) < 0)
    if T == 1000:                                 # the cosine keeps more signal mid-way
        assert s.alpha_bars[T // 2] > 4 * D.linear_schedule(T).alpha_bars[T // 2]


def test_posterior_variance():
    s = D.linear_schedule(100)
    tilde = s.posterior_variance()
    assert tilde[0] == 0.0 and np.all(tilde[1:] > 0) and np.all(tilde <= s.betas)
    t = 40                                        # β̃_t = (1 - ᾱ_{t-1}) / (1 - ᾱ_t) β_t
    a = s.alpha_bars
    assert tilde[t] == pytest.approx((1 - a[t - 1]) / (1 - a[t]) * s.betas[t], rel=1e-12)


# ---------------------------------------------------------------- q(x_t | x_0)
def test_q_sample_has_the_right_mean_and_variance():
    s = D.linear_schedule(1000)
    mg.manual_seed(0)
    n = 20_000
    x0 = np.tile(np.array([[-1.0, 0.0, 0.7]]), (n, 1))
    for t in (0, 250, 999):
        x_t = D.q_sample(s, mg.tensor(x0, dtype="float64"), np.full(n, t),
                         mg.randn(n, 3, dtype="float64")).numpy()
        a = s.alpha_bars[t]
        se = math.sqrt((1 - a) / n)               # standard error of the mean
        assert_allclose(x_t.mean(0), math.sqrt(a) * x0[0], atol=5 * se)
        assert_allclose(x_t.var(0), 1 - a, rtol=5 * math.sqrt(2 / n) + 1e-12, atol=1e-9)


@given(st.integers(1, 4).flatmap(lambda n: st.tuples(
    arrays((n, 2, 3)), arrays((n, 2, 3)), st.lists(st.integers(0, 49), min_size=n, max_size=n))))
def test_q_sample_gradient(values):
    x0, eps, t = values
    s = D.linear_schedule(50)
    fn = lambda x: D.q_sample(s, x, np.array(t), mg.tensor(eps, dtype="float64"))  # noqa: E731
    expected = (np.sqrt(s.alpha_bars[t])[:, None, None] * x0
                + np.sqrt(1 - s.alpha_bars[t])[:, None, None] * eps)
    assert_allclose(fn(mg.tensor(x0, dtype="float64")).numpy(), expected, rtol=1e-12)
    mg.gradcheck(fn, [mg.tensor(x0, dtype="float64", requires_grad=True)])


@given(st.integers(1, 3).flatmap(lambda n: st.tuples(
    arrays((n, 4)), arrays((n, 4)), arrays((4, 4)), st.lists(st.integers(0, 19), min_size=n,
                                                            max_size=n))),
       st.sampled_from(["eps", "v"]))
def test_diffusion_loss_gradient(values, prediction):
    x0, eps, w, t = values
    s = D.linear_schedule(20)
    model = lambda weight: (lambda x, steps: x @ weight)          # noqa: E731 — a linear ε_θ
    fn = lambda weight, x: D.diffusion_loss(model(weight), s, x, t=np.array(t),  # noqa: E731
                                            eps=mg.tensor(eps, dtype="float64"),
                                            prediction=prediction)
    tensors = [mg.tensor(a, dtype="float64", requires_grad=True) for a in (w, x0)]
    x_t = D.q_sample(s, mg.tensor(x0, dtype="float64"), np.array(t),
                     mg.tensor(eps, dtype="float64")).numpy()
    target = eps if prediction == "eps" else D.v_target(s, x0, np.array(t), eps).numpy()
    assert fn(*tensors).item() == pytest.approx(((target - x_t @ w) ** 2).mean(), rel=1e-10)
    mg.gradcheck(fn, tensors)


def test_v_prediction_round_trip():
    s = D.cosine_schedule(100)
    rng = np.random.default_rng(0)
    x0, eps, t = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)), np.array([0, 10, 50, 90, 99])
    x_t = D.q_sample(s, mg.tensor(x0, dtype="float64"), t, mg.tensor(eps, dtype="float64"))
    v = D.v_target(s, mg.tensor(x0, dtype="float64"), t, mg.tensor(eps, dtype="float64"))
    assert_allclose(D.eps_from_v(s, x_t, t, v).numpy(), eps, rtol=1e-10, atol=1e-10)


def test_a_perfect_noise_predictor_has_zero_loss():
    s = D.linear_schedule(30)
    mg.manual_seed(3)
    x0 = mg.randn(6, 1, 4, 4)
    eps = mg.randn(6, 1, 4, 4)
    loss = D.diffusion_loss(lambda x, t: eps, s, x0, eps=eps)   # t drawn from the generator
    assert loss.item() == 0.0
    assert D.diffusion_loss(lambda x, t: eps * 0, s, x0, eps=eps).item() == pytest.approx(
        float((eps.numpy() ** 2).mean()), rel=1e-6)


# ---------------------------------------------------------------- samplers, on the toy
def _moments(x):
    x = x.numpy().ravel()
    return x.mean(), x.std()


@pytest.mark.parametrize("schedule", [D.linear_schedule(1000), D.cosine_schedule(1000)],
                         ids=["linear", "cosine"])
@pytest.mark.parametrize("variance", ["beta", "beta_tilde"])
def test_ddpm_recovers_the_toy_data(schedule, variance):
    mg.manual_seed(0)
    x = D.ddpm_sample(exact_eps(schedule), schedule, mg.randn(20_000, 1, dtype="float64"),
                      variance=variance)
    mean, std = _moments(x)
    assert mean == pytest.approx(MU, abs=0.02) and std == pytest.approx(S, rel=0.05)


@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
def test_ddim_recovers_the_toy_data_and_fewer_steps_cost_variance(eta):
    """With every step DDIM is exact up to sampling error; with fewer steps its samples are
    too concentrated (std 0.27 instead of 0.3 in 50 steps, 0.18 in 10), and the error
    shrinks as the steps grow: the quality-for-time trade-off of the lecture."""
    s = D.linear_schedule(1000)
    stds = []
    for steps in (10, 50, 1000):
        mg.manual_seed(1)
        x = D.ddim_sample(exact_eps(s), s, mg.randn(20_000, 1, dtype="float64"), steps, eta)
        mean, std = _moments(x)
        assert mean == pytest.approx(MU, abs=0.02)
        stds.append(std)
    assert stds[0] < stds[1] < stds[2] and stds[1] > 0.8 * S
    assert stds[2] == pytest.approx(S, rel=0.03)


def test_ddim_with_eta_0_is_deterministic_given_x_T():
    s = D.linear_schedule(200)
    x_T = mg.randn(50, 1, dtype="float64")
    mg.manual_seed(1)
    a = D.ddim_sample(exact_eps(s), s, x_T, steps=20).numpy()
    mg.manual_seed(2)                                     # other seeds: the same samples
    b = D.ddim_sample(exact_eps(s), s, x_T, steps=20).numpy()
    np.testing.assert_array_equal(a, b)
    mg.manual_seed(2)
    c = D.ddim_sample(exact_eps(s), s, x_T, steps=20, eta=1.0).numpy()
    assert not np.allclose(a, c)


def test_ddim_with_every_step_and_eta_1_is_ddpm_with_beta_tilde():
    s = D.linear_schedule(100)
    x_T = mg.randn(30, 2, dtype="float64")
    mg.manual_seed(5)
    ddim = D.ddim_sample(exact_eps(s), s, x_T, steps=100, eta=1.0).numpy()
    mg.manual_seed(5)                                     # the same noise z at every step
    ddpm = D.ddpm_sample(exact_eps(s), s, x_T, variance="beta_tilde").numpy()
    assert_allclose(ddim, ddpm, rtol=1e-9, atol=1e-9)


def test_clamped_ddim_recomputes_a_consistent_noise():
    """x_t = √ᾱ_t x̂_0 + √(1 - ᾱ_t) ε must hold for the ε a step moves with; a step that
    clamps x̂_0 but keeps the network's ε breaks it (and guidance with it)."""
    s = D.linear_schedule(1000)
    t, prev = 600, 500
    a_t, a_s = s.alpha_bars[t], s.alpha_bars[prev]
    x_t = mg.tensor(np.array([[2.5, -0.3, 0.1]]), dtype="float64")
    eps = mg.tensor(np.array([[-1.2, 0.4, 0.2]]), dtype="float64")   # x̂_0[0] is far above 1
    x0_raw = (x_t.numpy() - math.sqrt(1 - a_t) * eps.numpy()) / math.sqrt(a_t)
    assert x0_raw[0, 0] > 1
    x0 = np.clip(x0_raw, -1, 1)

    def noise_it_moves_with(x_s):            # the ε with x_s = √ᾱ_s x̂_0 + √(1 - ᾱ_s) ε
        return (x_s - math.sqrt(a_s) * x0) / math.sqrt(1 - a_s)

    consistent = (x_t.numpy() - math.sqrt(a_t) * x0) / math.sqrt(1 - a_t)
    x_s = D.ddim_step(s, x_t, t, prev, eps, 0.0, None, clip_x0=1.0).numpy()
    assert_allclose(noise_it_moves_with(x_s), consistent, rtol=1e-12)
    # The inconsistent step (the pitfall) fails the same check:
    naive = math.sqrt(a_s) * x0 + math.sqrt(1 - a_s) * eps.numpy()
    assert not np.allclose(noise_it_moves_with(naive), consistent, rtol=1e-3)
    # and without clamping, both are the plain DDIM step
    plain = D.ddim_step(s, x_t, t, prev, eps, 0.0, None).numpy()
    assert_allclose(plain, math.sqrt(a_s) * x0_raw + math.sqrt(1 - a_s) * eps.numpy())


# ---------------------------------------------------------------- guidance
def test_guided_eps_is_the_extrapolation():
    calls = []

    def model(x, t, labels):
        calls.append(np.asarray(labels).tolist())
        return x * 0 + mg.tensor(np.where(np.asarray(labels) == 10, 1.0, 3.0)[:, None])
    x, t = mg.zeros(2, 4), np.zeros(2, dtype=int)
    for w, expected in [(0.0, 3.0), (1.0, 5.0), (3.0, 9.0)]:     # (1 + w)·3 - w·1
        calls.clear()
        out = D.guided_eps(model, np.array([2, 7]), w, null_label=10)(x, t).numpy()
        assert_allclose(out, expected)
        assert calls == ([[2, 7]] if w == 0 else [[2, 7], [10, 10]])


def test_drop_labels():
    labels = np.arange(10_000) % 10
    mg.manual_seed(0)
    np.testing.assert_array_equal(D.drop_labels(labels, 0.0, 10), labels)
    assert np.all(D.drop_labels(labels, 1.0, 10) == 10)
    dropped = D.drop_labels(labels, 0.2, 10)
    assert abs((dropped == 10).mean() - 0.2) < 0.02
    kept = dropped != 10
    np.testing.assert_array_equal(dropped[kept], labels[kept])


# ---------------------------------------------------------------- the time embedding
def test_timestep_embedding():
    emb = D.timestep_embedding(np.array([0, 1, 500]), 8).numpy()
    assert emb.shape == (3, 8)
    assert_allclose(emb[0], [0, 0, 0, 0, 1, 1, 1, 1])
    omegas = 10_000.0 ** (-np.arange(4) / 4)
    assert_allclose(emb[2], np.concatenate([np.sin(500 * omegas), np.cos(500 * omegas)]),
                    rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="dim must be even"):
        D.timestep_embedding(np.array([0]), 7)


# ---------------------------------------------------------------- errors
def test_bad_arguments_are_refused_clearly():
    s = D.linear_schedule(10)
    x = mg.zeros(2, 3)
    with pytest.raises(ValueError, match=r"q_sample: t must be integer steps of shape \(2,\)"):
        D.q_sample(s, x, [1], x)
    with pytest.raises(ValueError, match="q_sample: t"):
        D.q_sample(s, x, [0, 10], x)                      # outside [0, T)
    with pytest.raises(ValueError, match=r"eps shape \(2, 4\) differs from x0 shape \(2, 3\)"):
        D.q_sample(s, x, [0, 1], mg.zeros(2, 4))
    with pytest.raises(ValueError, match="steps must be at most T = 10"):
        D.ddim_sample(lambda x, t: x, s, x, steps=11)
    with pytest.raises(ValueError, match="variance"):
        D.ddpm_sample(lambda x, t: x, s, x, variance="sigma")
    with pytest.raises(ValueError, match=r"the model returned \(2, 1\)"):
        D.diffusion_loss(lambda x, t: x[:, :1], s, x)
    with pytest.raises(ValueError, match="linear_schedule: T"):
        D.linear_schedule(1)
    with pytest.raises(ValueError, match="eta"):
        D.ddim_sample(lambda x, t: x, s, x, steps=5, eta=2.0)
