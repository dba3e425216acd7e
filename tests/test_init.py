"""minigen.nn.init: gains, fans, and the statistics of each scheme against its formula.

Tolerances come from the sample size n. For a sample of N(μ, σ²), the mean has std
σ/√n and the sample std has std ≈ σ/√(2n); bounds of about 5-7 of those stds fail by
chance with probability below 1e-6 (and the draws are seeded, so a run repeats). For
U(-b, b), all n draws stay below (1 - δ)·b with probability (1 - δ)ⁿ, negligible for
δ = 1e-3 and n ≥ 2·10⁴.
"""
import math

import numpy as np
import pytest

import minigen
from minigen import nn
from minigen.nn import init
from minigen.nn.init import _calculate_fan_in_and_fan_out


def seeded_zeros(*shape, seed=0):
    minigen.manual_seed(seed)
    return minigen.zeros(*shape)


def assert_uniform_fills(values, bound):
    """All |values| <= bound, the largest within 0.1% of it, variance ≈ bound²/3."""
    n = values.size
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.999 * bound
    # the sample variance of U(-b, b) has relative std √(0.8 / n) (kurtosis 1.8)
    assert abs(values.var() / (bound ** 2 / 3) - 1) < 7 * math.sqrt(0.8 / n)


def assert_normal_fills(values, mean, std):
    n = values.size
    assert abs(values.mean() - mean) < 6 * std / math.sqrt(n)
    assert abs(values.std() / std - 1) < 7 / math.sqrt(2 * n)


# ---------------------------------------------------------------- gains and fans
@pytest.mark.parametrize("nonlinearity, param, expected", [
    ("linear", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0),
    ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)), ("selu", None, 0.75),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / (1 + 0.04))),
    ("leaky_relu", 0, math.sqrt(2)),
    ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
])
def test_calculate_gain(nonlinearity, param, expected):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-12)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a number"):
        init.calculate_gain("leaky_relu", "0.2")


@pytest.mark.parametrize("shape, fans", [
    ((30, 20), (20, 30)),                 # linear (out, in)
    ((64, 32, 3, 3), (288, 576)),         # conv (out, in, kh, kw): 32·9 and 64·9
    ((8, 4, 5), (20, 40)),                # conv1d
])
def test_fans(shape, fans):
    assert _calculate_fan_in_and_fan_out(minigen.zeros(*shape)) == fans


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="at least 2 dimensions.*\\(5,\\)"):
        _calculate_fan_in_and_fan_out(minigen.zeros(5))


# ---------------------------------------------------------------- plain fills
def test_normal_like_dcgan():
    w = seeded_zeros(1000, 1000)
    assert init.normal_(w, 0.0, 0.02) is w
    assert w.dtype == np.float32
    assert_normal_fills(w.numpy(), 0.0, 0.02)     # mean within 1.2e-4, std within 1e-4


def test_normal_with_a_mean():
    w = seeded_zeros(200, 100)
    init.normal_(w, mean=3.0, std=0.5)
    assert_normal_fills(w.numpy(), 3.0, 0.5)


def test_uniform():
    w = seeded_zeros(100, 1000)
    init.uniform_(w, -3.0, 5.0)
    values = w.numpy()
    assert values.min() >= -3.0 and values.max() <= 5.0
    assert values.min() < -3.0 + 8e-3 and values.max() > 5.0 - 8e-3
    # U(a, b) has variance (b - a)²/12 = 16/3; its mean has std √(16/3 / n) ≈ 0.0073
    assert abs(values.mean() - 1.0) < 6 * math.sqrt(16 / 3 / values.size)
    init.uniform_(w)                              # the default is U(0, 1)
    assert 0 <= w.numpy().min() and w.numpy().max() < 1


def test_constant_zeros_ones():
    w = minigen.ones(3, 2)
    assert init.zeros_(w) is w and w.tolist() == [[0.0] * 2] * 3
    init.ones_(w)
    assert w.tolist() == [[1.0] * 2] * 3
    init.constant_(w, -0.5)
    assert w.tolist() == [[-0.5] * 2] * 3


# ---------------------------------------------------------------- scaled by the fans
def test_xavier_uniform():
    w = seeded_zeros(300, 200)                    # fan_in 200, fan_out 300
    init.xavier_uniform_(w)
    assert_uniform_fills(w.numpy(), math.sqrt(6 / 500))
    init.xavier_uniform_(w, gain=init.calculate_gain("tanh"))
    assert_uniform_fills(w.numpy(), 5 / 3 * math.sqrt(6 / 500))


def test_xavier_normal():
    w = seeded_zeros(300, 200)
    init.xavier_normal_(w, gain=2.0)
    assert_normal_fills(w.numpy(), 0.0, 2.0 * math.sqrt(2 / 500))


def test_kaiming_uniform_on_a_conv_weight():
    w = seeded_zeros(64, 32, 3, 3)                # fan_in 288, fan_out 576
    init.kaiming_uniform_(w)                      # a=0, leaky_relu: gain √2, b = √(6 / fan_in)
    assert_uniform_fills(w.numpy(), math.sqrt(6 / 288))
    init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    assert_uniform_fills(w.numpy(), math.sqrt(6 / 576))
    init.kaiming_uniform_(w, a=math.sqrt(5))      # Linear's default: b = 1/√fan_in
    assert_uniform_fills(w.numpy(), 1 / math.sqrt(288))


def test_kaiming_normal():
    w = seeded_zeros(64, 32, 3, 3)
    init.kaiming_normal_(w, nonlinearity="relu")
    assert_normal_fills(w.numpy(), 0.0, math.sqrt(2) / math.sqrt(288))
    init.kaiming_normal_(w, a=0.2, mode="fan_out")
    assert_normal_fills(w.numpy(), 0.0, math.sqrt(2 / 1.04) / math.sqrt(576))


# ---------------------------------------------------------------- in place, seeded, no graph
def test_fills_in_place_on_parameters_and_arrays():
    layer = nn.Linear(4, 3)
    array, weight = layer.weight.data, layer.weight
    init.normal_(layer.weight, 0, 0.02)
    assert layer.weight is weight and layer.weight.data is array   # same objects, new values
    assert weight.is_leaf and weight.grad is None and weight.requires_grad
    init.zeros_(layer.bias.data)                  # PyTorch's m.bias.data style: an array
    assert layer.bias.tolist() == [0.0, 0.0, 0.0]
    init.ones_(layer.bias.data.reshape(3))        # a view is written through to the bias
    assert layer.bias.tolist() == [1.0, 1.0, 1.0]


def test_zero_element_weights_are_left_alone():
    """Nothing to fill, and fan_in = 0 must not divide by zero (PyTorch: a no-op too)."""
    for fill in (init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_,
                 init.kaiming_normal_):
        for shape in [(0, 3), (3, 0), (4, 0, 3, 3)]:
            w = minigen.zeros(*shape)
            assert fill(w) is w and w.shape == shape


def test_manual_seed_repeats_the_draws():
    def draw(seed):
        minigen.manual_seed(seed)
        w = minigen.zeros(5, 5)
        init.kaiming_normal_(w)
        return w.numpy()

    np.testing.assert_array_equal(draw(7), draw(7))
    assert not np.array_equal(draw(7), draw(8))


def test_bad_arguments_raise_and_leave_the_tensor_unchanged():
    w = minigen.full((4, 3), 0.25)
    for call, error, match in [
        (lambda: init.normal_(w, 0, -1.0), ValueError,
         "normal_: std must be a number >= 0, got -1.0"),
        (lambda: init.uniform_(w, 1.0, 0.0), ValueError, "above upper bound"),
        (lambda: init.kaiming_uniform_(w, mode="fan_avg"), ValueError, "fan_in' or 'fan_out"),
        (lambda: init.kaiming_normal_(w, nonlinearity="gelu"), ValueError, "unsupported"),
        (lambda: init.kaiming_uniform_(minigen.zeros(0, 3), mode="x"), ValueError, "fan_in"),
        (lambda: init.xavier_normal_(minigen.zeros(3)), ValueError, "at least 2 dimensions"),
        (lambda: init.normal_([0.0, 1.0]), TypeError, "expected a Tensor"),
        (lambda: init.zeros_(minigen.tensor([1, 2])), TypeError, "floating-point"),
    ]:
        with pytest.raises(error, match=match):
            call()
        assert w.tolist() == [[0.25] * 3] * 4
