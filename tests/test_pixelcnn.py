"""MaskedConv2d (causality of types A and B, the mask picture) and the PixelCNN prior."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import minigen as mg
from minigen.models.pixelcnn import PixelCNN
from minigen.nn.masked_conv import MaskedConv2d, causal_mask
from minigen.optim import Adam

H = W = 5


def _perturbed(x, positions, rng):
    """x (N, C, H, W) with fresh random values at the raster positions given."""
    x = x.copy()
    for p in positions:
        x[:, :, p // W, p % W] = rng.standard_normal(x.shape[:2])
    return x


@pytest.mark.exercise_pixelcnn_mask
def test_the_mask_picture():
    assert causal_mask(5, "A").astype(int).tolist() == [
        [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]
    b = causal_mask(5, "B")
    assert b[2, 2] == 1 and (b - causal_mask(5, "A")).sum() == 1


@pytest.mark.exercise_pixelcnn_mask
@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_conv_output_i_never_depends_on_later_inputs(mask_type):
    """Type A: output i ignores inputs at positions >= i; type B: at positions > i. And it
    does depend on the earlier ones (and, for B, on position i itself)."""
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    layer = MaskedConv2d(3, 4, 5, mask_type=mask_type)
    x = rng.standard_normal((2, 3, H, W)).astype(np.float32)
    y = layer(x).numpy()
    first_hidden = 0 if mask_type == "A" else 1          # offset of the first hidden position
    for i in range(H * W):
        r, c = divmod(i, W)
        hidden = range(i + first_hidden, H * W)
        y_later = layer(_perturbed(x, hidden, rng)).numpy()
        assert_allclose(y_later[:, :, r, c], y[:, :, r, c], rtol=0, atol=0)
        if i > 0:
            y_earlier = layer(_perturbed(x, range(i), rng)).numpy()
            assert np.abs(y_earlier[:, :, r, c] - y[:, :, r, c]).max() > 1e-4
        if mask_type == "B":
            y_self = layer(_perturbed(x, [i], rng)).numpy()
            assert np.abs(y_self[:, :, r, c] - y[:, :, r, c]).max() > 1e-4


@pytest.mark.exercise_pixelcnn_mask
def test_masked_taps_get_no_gradient():
    mg.manual_seed(0)
    layer = MaskedConv2d(2, 3, 3, mask_type="A")
    layer(mg.randn(2, 2, 4, 4)).sum().backward()
    grad = layer.weight.grad.numpy()
    assert np.all(grad[..., causal_mask(3, "A") == 0] == 0)
    assert np.all(np.abs(grad[..., causal_mask(3, "A") == 1]) > 0)
    assert "mask" in layer.state_dict() and "mask" not in dict(layer.named_parameters())


def test_masked_conv_errors():
    with pytest.raises(ValueError, match="mask_type must be 'A', 'B', 'V', 'HA' or 'HB'"):
        MaskedConv2d(1, 1, 3, mask_type="C")
    with pytest.raises(ValueError, match="kernel_size must be an odd positive integer"):
        MaskedConv2d(1, 1, 4)


# ---------------------------------------------------------------- the PixelCNN
def test_pixelcnn_logits_at_i_depend_only_on_codes_before_i():
    mg.manual_seed(1)
    prior = PixelCNN(num_codes=6, channels=8, num_blocks=2, height=4, width=4)
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 6, (3, 4, 4))
    logits = prior(codes).numpy()
    for i in range(16):
        r, c = divmod(i, 4)
        later = codes.copy().reshape(3, -1)
        later[:, i:] = rng.integers(0, 6, (3, 16 - i))
        assert_allclose(prior(later.reshape(3, 4, 4)).numpy()[:, :, r, c], logits[:, :, r, c],
                        rtol=0, atol=0)
        if i > 0:
            earlier = codes.copy().reshape(3, -1)
            earlier[:, :i] = (earlier[:, :i] + 1) % 6
            changed = prior(earlier.reshape(3, 4, 4)).numpy()[:, :, r, c]
            assert np.abs(changed - logits[:, :, r, c]).max() > 1e-5


def test_pixelcnn_learns_a_deterministic_pattern_and_samples_it():
    # every map is the same checkerboard of codes 1 and 3 (position 0 is always 1), so a
    # trained prior must sample exactly that map
    pattern = (np.indices((4, 4)).sum(axis=0) % 2) * 2 + 1                 # 1 3 1 3 / 3 1 ...
    codes = np.broadcast_to(pattern, (16, 4, 4)).copy()
    mg.manual_seed(0)
    prior = PixelCNN(num_codes=5, channels=16, num_blocks=1, height=4, width=4)
    optimizer = Adam(prior.parameters(), lr=1e-2)
    first = prior.loss(codes).item()
    for _ in range(60):
        optimizer.zero_grad()
        loss = prior.loss(codes)
        loss.backward()
        optimizer.step()
    assert first > 1.0 and loss.item() < 0.05          # from about log 5 to almost 0
    mg.manual_seed(0)
    samples = prior.sample(8).numpy()
    assert (samples == pattern).mean() > 0.95


def test_pixelcnn_loss_is_the_cross_entropy_of_every_position():
    mg.manual_seed(0)
    prior = PixelCNN(num_codes=4, channels=4, num_blocks=1, height=2, width=3)
    codes = np.random.default_rng(0).integers(0, 4, (2, 2, 3))
    logits = prior(codes).numpy().transpose(0, 2, 3, 1).reshape(-1, 4).astype(np.float64)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -log_p[np.arange(12), codes.ravel()].mean()
    assert prior.loss(codes).item() == pytest.approx(expected, rel=1e-5)


def test_pixelcnn_errors():
    prior = PixelCNN(num_codes=4, channels=4, num_blocks=1)
    with pytest.raises(ValueError, match=r"expected a code map \(N, 7, 7\)"):
        prior(np.zeros((2, 5, 5), dtype=np.int64))
    with pytest.raises(TypeError, match="codes must be integers"):
        prior.loss(np.zeros((2, 7, 7)))
    with pytest.raises(ValueError, match=r"codes must lie in \[0, 4\)"):
        prior(np.full((1, 7, 7), 4))
    with pytest.raises(ValueError, match="PixelCNN.sample: n must be"):
        prior.sample(0)
    with pytest.raises(ValueError, match="PixelCNN.sample: temperature must be a positive number, got 0"):
        prior.sample(2, temperature=0)
    with pytest.raises(ValueError, match="PixelCNN: num_codes"):
        PixelCNN(num_codes=1)


def test_a_low_temperature_samples_the_most_likely_code():
    mg.manual_seed(0)
    prior = PixelCNN(num_codes=6, channels=8, num_blocks=1, height=3, width=3)
    draws = []
    for seed in (1, 2):
        mg.manual_seed(seed)
        draws.append(prior.sample(4, temperature=1e-3).numpy())
    assert_allclose(draws[0], draws[1])                        # greedy: the seed does not matter
    first = draws[0][:, 0, 0]
    assert np.all(first == prior(np.zeros((1, 3, 3), dtype=np.int64)).numpy()[0, :, 0, 0].argmax())
    mg.manual_seed(1)
    varied = prior.sample(64).numpy()                           # T = 1: an untrained prior varies
    assert len(np.unique(varied[:, 0, 0])) > 1
