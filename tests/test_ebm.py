"""Energy-based models: the input gradient, Langevin dynamics against its closed-form
stationary distribution on a Gaussian energy, contrastive divergence, the replay buffer,
and denoising score matching minimized by the true score."""
import math

import numpy as np
import pytest
from hypothesis import given
from numpy.testing import assert_allclose

import minigen as mg
from minigen import backend, nn
from minigen.generative import ebm
from minigen.testing import arrays

MU, S = 0.3, 0.5


def gaussian_energy(x):
    """E(x) = ½ Σ (x - MU)² / S²: p = N(MU, S²) in every dimension."""
    d = x - MU
    return (d * d).sum(dim=1) * (0.5 / S ** 2)


def test_energy_gradient_of_a_network_against_finite_differences():
    mg.manual_seed(0)
    with backend.default_dtype("float64"):
        net = nn.Sequential(nn.Linear(3, 8), nn.SiLU(), nn.Linear(8, 1))
    energy = lambda x: net(x).reshape(-1)                   # noqa: E731
    x = np.random.default_rng(0).normal(size=(4, 3))
    g = ebm.energy_gradient(energy, mg.tensor(x, dtype="float64")).numpy()
    assert not mg.tensor(x).requires_grad
    for i, j in [(0, 0), (1, 2), (3, 1)]:
        up, down = x.copy(), x.copy()
        up[i, j] += 1e-6
        down[i, j] -= 1e-6
        numeric = (energy(mg.tensor(up, dtype="float64")).numpy()[i]
                   - energy(mg.tensor(down, dtype="float64")).numpy()[i]) / 2e-6
        assert g[i, j] == pytest.approx(numeric, rel=1e-6)
    assert all(p.grad is None for p in net.parameters())    # the weights are not touched


def test_langevin_reaches_its_closed_form_stationary_distribution():
    """For E = ½(x - μ)²/s², x ← x - (ε/2)(x - μ)/s² + √ε z has the stationary law
    N(μ, v) with v = ε / (1 - (1 - a)²), a = ε/(2s²): s² up to the step's bias."""
    mg.manual_seed(0)
    step = 0.01
    x = ebm.langevin_sample(gaussian_energy, mg.zeros(20_000, 1, dtype="float64") + 3.0,
                            steps=1500, step_size=step)
    a = step / (2 * S ** 2)
    v = step / (1 - (1 - a) ** 2)
    samples = x.numpy().ravel()
    assert samples.mean() == pytest.approx(MU, abs=4 * math.sqrt(v / 20_000))
    assert samples.var() == pytest.approx(v, rel=4 * math.sqrt(2 / 20_000))
    assert v == pytest.approx(S ** 2, rel=0.015)             # the step's bias: about a/2


def test_langevin_clips_to_the_data_range():
    mg.manual_seed(1)
    x = ebm.langevin_step(gaussian_energy, mg.zeros(100, 2) + 0.9, step_size=0.5,
                          clip=(-1.0, 1.0))
    assert x.numpy().min() >= -1 and x.numpy().max() <= 1


@given(arrays((3, 2)), arrays((3, 2)))
def test_contrastive_divergence_gradient(x_data, x_sample):
    w = mg.tensor(np.array([[0.5], [-0.3]]), dtype="float64", requires_grad=True)
    energy = lambda x: (x @ w).reshape(-1)                  # noqa: E731
    loss, parts = ebm.contrastive_divergence_loss(energy, mg.tensor(x_data, dtype="float64"),
                                                  mg.tensor(x_sample, dtype="float64"), 0.1)
    e_d, e_s = (x_data @ w.numpy()).ravel(), (x_sample @ w.numpy()).ravel()
    expected = e_d.mean() - e_s.mean() + 0.1 * (e_d ** 2 + e_s ** 2).mean()
    assert loss.item() == pytest.approx(expected, rel=1e-10, abs=1e-12)
    assert parts["cd"].item() == pytest.approx(e_d.mean() - e_s.mean(), abs=1e-12)
    mg.gradcheck(lambda weight, x: ebm.contrastive_divergence_loss(
        lambda t: (t @ weight).reshape(-1), x, mg.tensor(x_sample, dtype="float64"), 0.1)[0],
        [w, mg.tensor(x_data, dtype="float64", requires_grad=True)])


def test_no_gradient_flows_into_the_samples():
    x_data, x_sample = mg.randn(4, 2, requires_grad=True), mg.randn(4, 2, requires_grad=True)
    loss, _ = ebm.contrastive_divergence_loss(gaussian_energy, x_data, x_sample)
    loss.backward()
    assert x_sample.grad is None and x_data.grad is not None


def test_replay_buffer():
    mg.manual_seed(0)
    buffer = ebm.ReplayBuffer(size=50, shape=(1, 2, 2), keep=0.95)
    first = buffer.draw(10).numpy()                          # empty: all uniform noise
    assert first.shape == (10, 1, 2, 2) and first.min() >= -1 and first.max() <= 1
    buffer.push(np.full((30, 1, 2, 2), 5.0))
    buffer.push(np.full((30, 1, 2, 2), 7.0))                 # the oldest 10 fall out
    assert len(buffer) == 50
    stored = buffer.states[:, 0, 0, 0]
    assert (stored == 7.0).sum() == 30 and (stored == 5.0).sum() == 20
    draws = buffer.draw(20_000).numpy()[:, 0, 0, 0]
    reused = np.isin(draws, [5.0, 7.0])
    assert reused.mean() == pytest.approx(0.95, abs=0.01)
    with pytest.raises(ValueError, match=r"states must be \(n, \(1, 2, 2\)\)"):
        buffer.push(np.zeros((2, 1, 3, 3)))


def test_denoising_score_matching_is_minimized_by_the_true_score():
    """Data N(μ, s²) noised by σ is N(μ, s² + σ²): its score -(x̃ - μ)/(s² + σ²) gives a
    lower loss than any scaled or shifted version of it."""
    mg.manual_seed(0)
    sigma = 0.4
    x = mg.tensor(MU + S * np.random.default_rng(7).normal(size=(200_000, 1)), dtype="float64")
    eps = mg.randn(200_000, 1, dtype="float64")

    def loss(scale=1.0, shift=0.0):
        true = lambda y: (y - MU) * (-scale / (S ** 2 + sigma ** 2)) + shift   # noqa: E731
        return ebm.denoising_score_matching_loss(true, x, sigma, eps).item()

    best = loss()
    for scale, shift in [(1.1, 0), (0.9, 0), (1, 0.1), (1, -0.1)]:
        assert loss(scale, shift) > best


def test_bad_arguments():
    with pytest.raises(ValueError, match="one value per item"):
        ebm.energy_gradient(lambda x: x.sum(), mg.zeros(3, 2))
    with pytest.raises(ValueError, match="step_size"):
        ebm.langevin_step(gaussian_energy, mg.zeros(2, 1), step_size=0)
    with pytest.raises(ValueError, match="keep"):
        ebm.ReplayBuffer(10, (1,), keep=1.5)


def test_langevin_clips_the_gradient():
    # E = ½ Σ (x - MU)² / S² from x = 5: the gradient (5 - 0.3) / 0.25 = 18.8 is clamped to
    # 0.5, so without noise one step moves every entry by exactly ε/2 · 0.5.
    x = ebm.langevin_step(gaussian_energy, mg.zeros(4, 3, dtype="float64") + 5.0,
                          step_size=0.2, noise_scale=0.0, grad_clip=0.5)
    assert_allclose(x.numpy(), 5.0 - 0.1 * 0.5, rtol=1e-12)
    with pytest.raises(ValueError, match="grad_clip"):
        ebm.langevin_step(gaussian_energy, mg.zeros(4, 3), step_size=0.2, grad_clip=-1.0)


def test_the_replay_buffer_state_round_trips():
    mg.manual_seed(2)
    buffer = ebm.ReplayBuffer(5, (2,))
    buffer.push(np.arange(14, dtype=np.float32).reshape(7, 2))
    copy = ebm.ReplayBuffer(5, (2,))
    copy.load_state_dict(buffer.state_dict())
    assert_allclose(copy.states, buffer.states)
    copy.push(np.full((1, 2), -1.0, dtype=np.float32))
    buffer.push(np.full((1, 2), -1.0, dtype=np.float32))
    assert_allclose(copy.states, buffer.states)                  # the same slot overwritten
    with pytest.raises(ValueError, match=r"states must be \(at most 5, \(2,\)\)"):
        copy.load_state_dict({"states": np.zeros((6, 2)), "next": 0})


def test_the_buffer_gives_its_newest_states_first():
    buffer = ebm.ReplayBuffer(4, (1,))
    assert buffer.newest(3).shape == (0, 1)
    buffer.push(np.arange(3, dtype=np.float32).reshape(3, 1))
    assert buffer.newest(5).ravel().tolist() == [2.0, 1.0, 0.0]
    buffer.push(np.arange(3, 6, dtype=np.float32).reshape(3, 1))   # wraps: 4, 5 over 0, 1
    assert buffer.newest(3).ravel().tolist() == [5.0, 4.0, 3.0]
