"""The gated PixelCNN: causality by autograd dependencies (each output pixel depends on
the pixels before it in raster order and on nothing at or after it), the blind spot of
the plain masked stack and its absence in the gated one, the exact NLL, sampling."""
import numpy as np
import pytest
from hypothesis import given

import minigen as mg
from minigen import nn
from minigen.models.gated_pixelcnn import GatedPixelCNN, gate, shift_down
from minigen.nn.masked_conv import MaskedConv2d
from minigen.testing import arrays

I, J = 12, 12            # the output pixel whose dependencies are traced


def dependencies(net, size=28):
    """|∂ output(I, J) / ∂ input| (size, size), by one backward pass."""
    mg.manual_seed(0)
    x = mg.tensor(np.random.default_rng(0).normal(size=(1, 1, size, size)), requires_grad=True)
    net(x)[0, :, I, J].sum().backward()
    return np.abs(x.grad.numpy()[0, 0])


def before(r, c):
    return r < I or (r == I and c < J)


def plain_stack(layers=4):
    mg.manual_seed(1)
    return nn.Sequential(MaskedConv2d(1, 8, 3, mask_type="A"), nn.Tanh(),
                         *[m for _ in range(layers - 1)
                           for m in (MaskedConv2d(8, 8, 3, mask_type="B"), nn.Tanh())])


@pytest.mark.exercise_pixelcnn_mask
def test_nothing_at_or_after_a_pixel_reaches_it():
    mg.manual_seed(2)
    for net in (plain_stack(), GatedPixelCNN(channels=8, layers=4, kernel_size=3)):
        grad = dependencies(net)
        for r in range(28):
            for c in range(28):
                if not before(r, c):
                    assert grad[r, c] == 0, (type(net).__name__, r, c)


@pytest.mark.exercise_pixelcnn_mask
def test_the_plain_stack_has_a_blind_spot_and_the_gated_one_does_not():
    mg.manual_seed(3)
    window = [(r, c) for r in range(I - 2, I) for c in range(J - 2, J + 3)] + \
             [(I, J - 2), (I, J - 1)]              # inside both nets' receptive fields
    plain = dependencies(plain_stack())
    gated = dependencies(GatedPixelCNN(channels=8, layers=4, kernel_size=3))
    assert all(gated[r, c] > 0 for r, c in window)           # every pixel before: seen
    blind = [(r, c) for r, c in window if plain[r, c] == 0]
    assert (I - 1, J + 2) in blind                           # above and to the right
    assert plain[I - 1, J - 1] > 0 and plain[I, J - 1] > 0


def test_nll_is_the_summed_bce():
    mg.manual_seed(4)
    net = GatedPixelCNN(channels=8, layers=2)
    x = (np.random.default_rng(1).random((3, 1, 28, 28)) > 0.7).astype(np.float32)
    logits = net(mg.tensor(x)).numpy()
    bce = np.logaddexp(0, logits) - x * logits                  # softplus(s) - x s
    assert net.nll(mg.tensor(x)).item() == pytest.approx(bce.sum() / 3, rel=1e-5)


def test_sampling_is_binary_and_seeded():
    mg.manual_seed(5)
    net = GatedPixelCNN(channels=4, layers=1, kernel_size=3)
    mg.manual_seed(6)
    a = net.sample(2).numpy()
    mg.manual_seed(6)
    b = net.sample(2).numpy()
    assert a.shape == (2, 1, 28, 28) and set(np.unique(a)) <= {0.0, 1.0}
    np.testing.assert_array_equal(a, b)


@given(arrays((2, 4, 3, 3)))
def test_gate_and_shift_gradients(a):
    t = mg.tensor(a, dtype="float64", requires_grad=True)
    expected = np.tanh(a[:, :2]) / (1 + np.exp(-a[:, 2:]))
    np.testing.assert_allclose(gate(t).numpy(), expected, rtol=1e-12)
    mg.gradcheck(gate, [t])
    shifted = shift_down(t).numpy()
    np.testing.assert_array_equal(shifted[:, :, 1:], a[:, :, :-1])
    assert np.all(shifted[:, :, 0] == 0)
    mg.gradcheck(shift_down, [t])


def test_bad_input():
    with pytest.raises(ValueError, match=r"expected images \(N, 1, 28, 28\)"):
        GatedPixelCNN(channels=4, layers=1)(mg.zeros(1, 1, 7, 7))


@pytest.mark.parametrize("layers, kernel_size", [(1, 3), (2, 5), (3, 3)])
def test_a_logit_sees_only_its_window(layers, kernel_size):
    # The sampler's window: the logit of pixel (r, c) computed on the crop of rows
    # r - up ... r and columns c - side ... c + side equals the whole image's.
    mg.manual_seed(7)
    with mg.default_dtype("float64"):
        net = GatedPixelCNN(channels=4, layers=layers, kernel_size=kernel_size)
    x = (np.random.default_rng(2).random((2, 1, 28, 28)) > 0.5).astype(np.float64)
    full = net(mg.tensor(x, dtype="float64")).numpy()
    up, side = net.reach
    assert (up, side) == (layers * (kernel_size // 2) + 1, layers * (kernel_size // 2))
    for r in range(28):
        for c in (0, 1, side, 13, 27 - side, 26, 27):
            top, left = max(r - up, 0), max(c - side, 0)
            crop = x[:, :, top:r + 1, left:c + side + 1]
            logit = net.logits(mg.tensor(crop, dtype="float64")).numpy()[:, 0, r - top, c - left]
            np.testing.assert_allclose(logit, full[:, 0, r, c], rtol=1e-12, atol=1e-12)
    # ...and no smaller window would do: the logit depends on the window's far corners.
    t = mg.tensor(x, dtype="float64", requires_grad=True)
    (g,) = mg.autograd.grad(net(t)[:, 0, 27, 13].sum(), t)
    rows, cols = np.nonzero(np.abs(g.numpy()[:, 0]).sum(axis=0))
    assert rows.min() == 27 - up and cols.min() == 13 - side and cols.max() == 13 + side


def test_windowed_sampling_draws_the_same_images():
    mg.manual_seed(8)
    with mg.default_dtype("float64"):
        net = GatedPixelCNN(channels=4, layers=2, kernel_size=3)
    mg.manual_seed(9)
    windowed = net.sample(2).numpy()
    mg.manual_seed(9)
    whole = net.sample(2, window=False).numpy()
    np.testing.assert_array_equal(windowed, whole)
