"""The convolution, normalization, dropout, embedding, upsampling and residual layers."""
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import minigen as mg
import minigen.functional as F
from minigen import nn


def test_conv2d_layer_is_the_functional_op_with_its_parameters():
    layer = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    x = mg.randn(2, 3, 9, 8)
    assert layer.weight.shape == (5, 3, 3, 3) and layer.bias.shape == (5,)
    assert_allclose(layer(x).numpy(), F.conv2d(x, layer.weight, layer.bias, 2, 1).numpy())


def test_conv2d_reflect_padding_mode_pads_by_reflection():
    layer = nn.Conv2d(2, 4, 3, padding=1, padding_mode="reflect", bias=False)
    x = mg.randn(1, 2, 5, 6)
    expected = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), layer.weight)
    assert layer(x).shape == (1, 4, 5, 6)
    assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-6)
    # and it differs from zero padding (the border sees reflected pixels, not zeros)
    assert not np.allclose(layer(x).numpy(), F.conv2d(x, layer.weight, padding=1).numpy())


def test_conv_transpose2d_layer_shape_and_op():
    layer = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
    assert layer.weight.shape == (4, 2, 3, 3)
    x = mg.randn(3, 4, 7, 7)
    y = layer(x)
    assert y.shape == (3, 2, 14, 14)
    assert_allclose(y.numpy(), F.conv_transpose2d(x, layer.weight, layer.bias, 2, 1, 1).numpy())


@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Conv2d(6, 4, (3, 5), groups=2), 3 * 3 * 5),
    (lambda: nn.ConvTranspose2d(6, 4, 3), 4 * 3 * 3),
    (lambda: nn.Linear(50, 20), 50),
])
def test_default_init_is_uniform_within_one_over_sqrt_fan_in(make, fan_in):
    mg.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        values = p.numpy()
        assert np.abs(values).max() <= bound + 1e-7
        assert np.abs(values).max() > 0.5 * bound  # spread over the interval, not all near 0


def test_conv_layer_errors():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="circular")
    with pytest.raises(ValueError, match=r"conv2d: input \(1, 2, 8, 8\) has 2 channels"):
        nn.Conv2d(3, 4, 3)(mg.randn(1, 2, 8, 8))


def test_batch_norm_layer_train_and_eval():
    mg.manual_seed(1)
    layer = nn.BatchNorm2d(3, momentum=0.5)
    x = mg.randn(4, 3, 5, 5) * 3 + 2
    y = layer(x).numpy()
    # training: each channel standardized over (N, H, W)
    assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    assert_allclose(y.std(axis=(0, 2, 3)), 1, atol=1e-3)
    xn = x.numpy()
    assert_allclose(layer.running_mean.numpy(), 0.5 * xn.mean(axis=(0, 2, 3)), rtol=1e-5)
    assert_allclose(layer.running_var.numpy(), 0.5 + 0.5 * xn.var(axis=(0, 2, 3), ddof=1), rtol=1e-5)
    # evaluation: the running statistics, an affine map
    layer.eval()
    expected = (xn - layer.running_mean.numpy()[None, :, None, None]) / np.sqrt(
        layer.running_var.numpy()[None, :, None, None] + 1e-5)
    assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert set(layer.state_dict()) == {"weight", "bias", "running_mean", "running_var"}
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected input \(N, 3, H, W\)"):
        layer(mg.randn(2, 4, 3, 3))


def test_instance_norm_layer_is_the_same_in_train_and_eval():
    layer = nn.InstanceNorm2d(2, affine=True)
    x = mg.randn(3, 2, 4, 4) * 5 - 1
    y_train = layer(x).numpy()
    assert_allclose(y_train.mean(axis=(2, 3)), 0, atol=1e-5)
    layer.eval()
    assert_allclose(layer(x).numpy(), y_train)
    assert set(layer.state_dict()) == {"weight", "bias"}
    assert nn.InstanceNorm2d(2).state_dict() == {}  # CycleGAN's: no parameters, no statistics


def test_dropout_layer():
    mg.manual_seed(2)
    layer = nn.Dropout(0.25)
    x = mg.ones(1000)
    y = layer(x).numpy()
    kept = y != 0
    assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert 0.2 < 1 - kept.mean() < 0.3  # about p of the elements dropped (n = 1000)
    layer.eval()
    assert_allclose(layer(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.5)


def test_embedding_layer_looks_up_rows():
    layer = nn.Embedding(10, 4)
    idx = mg.tensor(np.array([[1, 1], [9, 0]]))
    out = layer(idx)
    assert out.shape == (2, 2, 4)
    assert_allclose(out.numpy(), layer.weight.numpy()[idx.numpy()])
    out.sum().backward()
    counts = np.bincount(idx.numpy().ravel(), minlength=10)[:, None] * np.ones(4)
    assert_allclose(layer.weight.grad.numpy(), counts)  # row 1 was used twice


def test_upsample_layer_repeats_pixels():
    x = mg.tensor(np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2))
    y = nn.Upsample(scale_factor=2)(x).numpy()
    assert_allclose(y[0, 0], np.kron(np.arange(4).reshape(2, 2), np.ones((2, 2))))


@pytest.mark.parametrize("norm", ["instance", "batch", "none"])
@pytest.mark.parametrize("padding_mode", ["reflect", "zeros", "replicate"])
def test_residual_block_adds_its_input(norm, padding_mode):
    block = nn.ResidualBlock(4, norm=norm, padding_mode=padding_mode)
    x = mg.randn(2, 4, 6, 6)
    assert block(x).shape == x.shape
    # with the residual branch's convolutions zeroed, the block is the identity
    for name, p in block.named_parameters():
        if name.startswith("block.0") or name.startswith("block.3"):
            p.data[...] = 0
    assert_allclose(block(x).numpy(), x.numpy(), atol=1e-6)
    has_bias = block.block[0].bias is not None
    assert has_bias == (norm != "batch")


def test_residual_block_rejects_unknown_norm():
    with pytest.raises(ValueError, match="ResidualBlock: norm must be 'instance', 'batch' or 'none', got 'layer'"):
        nn.ResidualBlock(4, norm="layer")
