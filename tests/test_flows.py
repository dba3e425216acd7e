"""Normalizing-flow layers: every inverse recovers its input, every log-det equals the
brute-force log |det J| of the Jacobian built by autograd, a 2-D flow's density
integrates to 1 on a grid, and the bits-per-dimension conversion."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import minigen as mg
from minigen import backend, nn
from minigen.generative import flows as fl
from minigen.testing import arrays


def conv_net(channels):
    """A small s, t network for image couplings, with nonzero weights everywhere."""
    return nn.Sequential(nn.Conv2d(channels, 8, 3, padding=1), nn.Tanh(),
                         nn.Conv2d(8, 2 * channels, 3, padding=1))


def mlp_net(dims):
    return nn.Sequential(nn.Linear(dims, 16), nn.Tanh(), nn.Linear(16, 2 * dims))


def layers_to_check():
    """(name, layer, input array) in float64, each layer with weights that matter. Built
    inside the tests, not at import: a student copy with a blanked im2col must still
    collect this file."""
    rng = np.random.default_rng(0)
    mg.manual_seed(0)
    with backend.default_dtype("float64"):
        cases = [
            ("coupling, checkerboard", fl.AffineCoupling(conv_net(2), fl.checkerboard_mask(4, 4)),
             rng.normal(size=(2, 2, 4, 4))),
            ("coupling, checkerboard odd", fl.AffineCoupling(conv_net(1), fl.checkerboard_mask(2, 2, 1)),
             rng.normal(size=(2, 1, 2, 2))),
            ("coupling, channels", fl.AffineCoupling(conv_net(4), fl.channel_mask(4, 1)),
             rng.normal(size=(2, 4, 2, 2))),
            ("coupling, vectors", fl.AffineCoupling(mlp_net(3), mg.tensor([[1.0, 0.0, 1.0]])),
             rng.normal(size=(3, 3))),
            ("squeeze", fl.Squeeze(), rng.normal(size=(2, 2, 4, 2))),
            ("actnorm", fl.ActNorm(2), rng.normal(loc=3, scale=2, size=(3, 2, 2, 2))),
            ("logit", fl.LogitTransform(0.05), rng.uniform(0.01, 0.99, size=(2, 1, 3, 3))),
        ]
    for _, layer, x in cases:                   # give ActNorm its data-dependent start
        layer(mg.tensor(x, dtype="float64"))
    return {name: (layer, x) for name, layer, x in cases}


NAMES = ["coupling, checkerboard", "coupling, checkerboard odd", "coupling, channels",
         "coupling, vectors", "squeeze", "actnorm", "logit"]


@pytest.fixture(scope="module")
def cases():
    return layers_to_check()


@pytest.mark.parametrize("name", NAMES)
def test_the_inverse_recovers_the_input(cases, name):
    layer, x = cases[name]
    y, _ = layer(mg.tensor(x, dtype="float64"))
    assert_allclose(layer.inverse(y).numpy(), x, rtol=0, atol=1e-10)
    assert y.shape != x.shape or not np.allclose(y.numpy(), x)  # it did move something


def jacobian(fn, x):
    """∂y/∂x (D_out, D_in) of one item, row by row: the gradient of each output element."""
    x = mg.tensor(x, dtype="float64", requires_grad=True)
    y = fn(x)
    rows = []
    for i in range(y.numel()):
        seed = np.zeros(y.shape)
        seed.flat[i] = 1.0
        (g,) = mg.grad(y, x, grad_outputs=mg.tensor(seed, dtype="float64"), retain_graph=True)
        rows.append(g.numpy().ravel())
    return np.array(rows)


@pytest.mark.parametrize("name", NAMES)
def test_the_log_det_is_the_jacobians(cases, name):
    layer, x = cases[name]
    one = x[:1]                                                 # one item: its own Jacobian
    j = jacobian(lambda t: layer(t)[0], one)
    sign, expected = np.linalg.slogdet(j)
    assert sign != 0
    _, log_det = layer(mg.tensor(one, dtype="float64"))
    assert log_det.shape == (1,)
    assert log_det.item() == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_a_flow_chains_inverses_and_log_dets():
    mg.manual_seed(1)
    with backend.default_dtype("float64"):
        flow = fl.Flow(fl.LogitTransform(), fl.AffineCoupling(conv_net(1), fl.checkerboard_mask(4, 4)),
                       fl.Squeeze(), fl.ActNorm(4),
                       fl.AffineCoupling(conv_net(4), fl.channel_mask(4)))
    x = np.random.default_rng(1).uniform(0.05, 0.95, size=(2, 1, 4, 4))
    z, log_det = flow(mg.tensor(x, dtype="float64"))
    assert z.shape == (2, 4, 2, 2) and log_det.shape == (2,)
    assert_allclose(flow.inverse(z).numpy(), x, atol=1e-10)
    j = jacobian(lambda t: flow(t)[0], x[:1])
    _, log_det_one = flow(mg.tensor(x[:1], dtype="float64"))
    assert log_det_one.item() == pytest.approx(np.linalg.slogdet(j)[1], rel=1e-9)


def test_a_2d_flow_density_integrates_to_one():
    mg.manual_seed(2)
    with backend.default_dtype("float64"):
        flow = fl.Flow(*[fl.AffineCoupling(mlp_net(2), mg.tensor([[1.0, 0.0]] if k % 2 == 0
                                                                   else [[0.0, 1.0]]))
                         for k in range(4)])
    side, half = 401, 8.0
    grid = np.linspace(-half, half, side)
    xx, yy = np.meshgrid(grid, grid)
    points = np.stack([xx.ravel(), yy.ravel()], axis=1)
    with mg.no_grad():
        density = np.exp(flow.log_prob(mg.tensor(points, dtype="float64")).numpy())
    cell = (grid[1] - grid[0]) ** 2
    assert density.sum() * cell == pytest.approx(1.0, abs=0.01)
    z, _ = flow(mg.tensor(points[:5], dtype="float64"))
    assert not np.allclose(z.numpy(), points[:5])               # not the identity


@given(arrays((2, 1, 2, 2)), st.sampled_from([0, 1]))
def test_coupling_gradient(x, parity):
    mg.manual_seed(3)
    with backend.default_dtype("float64"):
        layer = fl.AffineCoupling(conv_net(1), fl.checkerboard_mask(2, 2, parity))
    mg.gradcheck(lambda t: layer(t), [mg.tensor(x, dtype="float64", requires_grad=True)])
    # ∂L/∂w of the net's first weight, L = Σ y ⊙ g + Σ log_det, against central differences
    g = np.random.default_rng(0).normal(size=x.shape)

    def loss():
        y, log_det = layer(mg.tensor(x, dtype="float64"))
        return (y * mg.tensor(g, dtype="float64")).sum() + log_det.sum()

    weight = layer.net[0].weight
    weight.grad = None
    loss().backward()
    analytic = weight.grad.numpy().ravel()
    for k in (0, 7, 20, 41, 70):
        original = weight.data.flat[k]
        weight.data.flat[k] = original + 1e-6
        up = loss().item()
        weight.data.flat[k] = original - 1e-6
        down = loss().item()
        weight.data.flat[k] = original
        assert analytic[k] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-8)


def test_bits_per_dim():
    assert fl.bits_per_dim(mg.zeros(3), 784).numpy() == pytest.approx(8.0)   # uniform: 8 bits
    log_p = mg.tensor([100.0 * math.log(2.0)])                  # 2^100 times more likely
    assert fl.bits_per_dim(log_p, 100).item() == pytest.approx(7.0)


def test_dequantize():
    mg.manual_seed(0)
    levels = np.tile(np.array([0, 17, 255]), (4000, 1))
    y = fl.dequantize(levels).numpy()
    assert y.min() >= 0 and y.max() < 1
    assert np.all(np.floor(y * 256) == levels)                  # each in its level's cell
    assert_allclose(y.mean(axis=0), (levels[0] + 0.5) / 256, atol=3e-3)
    with pytest.raises(ValueError, match=r"dequantize: expected 8-bit levels in \[0, 255\]"):
        fl.dequantize(np.array([0, 256]))


def test_masks_and_errors():
    assert_allclose(fl.checkerboard_mask(2, 3).numpy()[0, 0], [[1, 0, 1], [0, 1, 0]])
    assert_allclose(fl.checkerboard_mask(2, 3, 1).numpy()[0, 0], [[0, 1, 0], [1, 0, 1]])
    assert_allclose(fl.channel_mask(4, 1).numpy().ravel(), [0, 0, 1, 1])
    with pytest.raises(ValueError, match="channels must be even"):
        fl.channel_mask(3)
    with pytest.raises(ValueError, match="must return 2C = 4 channels"):
        fl.AffineCoupling(nn.Conv2d(2, 2, 1), fl.channel_mask(2))(mg.zeros(1, 2, 2, 2))
    with pytest.raises(ValueError, match="height and width must be even"):
        fl.Squeeze()(mg.zeros(1, 1, 3, 2))
    with pytest.raises(ValueError, match=r"ActNorm: expected \(N, 2, ...\)"):
        fl.ActNorm(2)(mg.zeros(1, 3, 2, 2))
