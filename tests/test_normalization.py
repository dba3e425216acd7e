"""instance_norm and batch_norm: forwards against NumPy, the derived backward against
autograd of the plain formula and finite differences, running statistics, errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import minigen as mg
import minigen.functional as F
from minigen import ops
from minigen.testing import arrays

from gradient_registry import covers

EPS = st.sampled_from([1e-5, 1e-3, 0.1])


def reference_norm(x, axes, eps, weight=None, bias=None):
    """NumPy: (x - mean) / √(biased var + eps) over axes, then the per-channel affine map."""
    x_hat = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    channel = (1, -1) + (1,) * (x.ndim - 2)
    if weight is not None:
        x_hat = x_hat * weight.reshape(channel)
    if bias is not None:
        x_hat = x_hat + bias.reshape(channel)
    return x_hat


def tensors(*values):
    return [mg.tensor(v, dtype="float64", requires_grad=True) for v in values]


def f64(value):
    return mg.tensor(value, dtype="float64")


@st.composite
def images(draw, min_pixels=2):
    """(N, C, H, W) with distinct values (so every group has a variance well above 0)."""
    n, c = draw(st.integers(1, 3), label="N"), draw(st.integers(1, 3), label="C")
    h, w = draw(st.integers(1, 5), label="H"), draw(st.integers(1, 5), label="W")
    if h * w < min_pixels:
        w = min_pixels
    return draw(arrays((n, c, h, w), unique=True), label="x")


# ---------------------------------------------------------------- the derived backward
@pytest.mark.exercise_instance_norm_backward
@covers(ops.Standardize)
@given(st.data(), EPS)
def test_standardize_backward_is_the_autograd_of_the_formula(data, eps):
    x = data.draw(arrays(st.tuples(st.integers(1, 3), st.integers(2, 4), st.integers(1, 4)),
                         unique=True), label="x")
    axes = data.draw(st.sampled_from([(1,), (0, 2), (1, 2), (0, 1, 2)]), label="axes")
    g = np.random.default_rng(0).standard_normal(x.shape)
    (t, u) = tensors(x, x)
    fast = ops.standardize(t, axes, eps)
    centred = u - ops.mean(u, axes, keepdims=True)
    slow = centred / ops.sqrt(ops.var(u, axes, keepdim=True, correction=0) + eps)  # the formula
    assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-12, atol=1e-12)
    fast.backward(g)
    slow.backward(g)
    assert_allclose(t.grad.numpy(), u.grad.numpy(), rtol=1e-9, atol=1e-10)
    fn = lambda v: ops.standardize(v, axes, eps)  # noqa: E731
    mg.gradcheck(fn, [t])
    mg.gradgradcheck(fn, [t])


def test_standardized_groups_have_mean_0_and_variance_about_1():
    x = mg.randn(3, 2, 4, 5, dtype="float64") * 3 + 7
    y = F.instance_norm(x).numpy()
    assert_allclose(y.mean(axis=(2, 3)), 0, atol=1e-12)
    assert_allclose(y.var(axis=(2, 3)), 1, rtol=1e-4)
    y = F.batch_norm(x, None, None, training=True).numpy()
    assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-4)


# ---------------------------------------------------------------- instance norm
@pytest.mark.exercise_instance_norm_backward
@covers(ops.Standardize, ops.Mul, ops.Add)
@given(st.data(), EPS)
def test_instance_norm(data, eps):
    x = data.draw(images(), label="x")
    c = x.shape[1]
    affine = data.draw(st.booleans(), label="affine")
    if affine:
        weight = data.draw(arrays((c,)), label="weight")
        bias = data.draw(arrays((c,)), label="bias")
        inputs = tensors(x, weight, bias)
        fn = lambda t, w, b: F.instance_norm(t, w, b, eps=eps)  # noqa: E731
    else:
        weight = bias = None
        inputs = tensors(x)
        fn = lambda t: F.instance_norm(t, eps=eps)  # noqa: E731
    assert_allclose(fn(*inputs).numpy(), reference_norm(x, (2, 3), eps, weight, bias),
                    rtol=1e-10, atol=1e-10)
    mg.gradcheck(fn, inputs)
    mg.gradgradcheck(fn, inputs)


# ---------------------------------------------------------------- batch norm
@st.composite
def batches(draw):
    """(N, C), (N, C, L) or (N, C, H, W) with at least 2 values per channel."""
    ndim = draw(st.sampled_from([2, 3, 4]), label="ndim")
    n = draw(st.integers(2, 3), label="N")
    shape = (n, draw(st.integers(1, 3), label="C")) + tuple(
        draw(st.integers(1, 4), label="side") for _ in range(ndim - 2))
    return draw(arrays(shape, unique=True), label="x")


@pytest.mark.exercise_instance_norm_backward
@covers(ops.Standardize, ops.Mul, ops.Add)
@given(batches(), EPS, st.floats(0.0, 1.0))
def test_batch_norm_training(x, eps, momentum):
    c = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    rng = np.random.default_rng(0)
    weight, bias = rng.standard_normal(c), rng.standard_normal(c)
    mean0, var0 = rng.standard_normal(c), rng.uniform(0.5, 2.0, c)
    running_mean, running_var = f64(mean0), f64(var0)
    y = F.batch_norm(f64(x), running_mean, running_var, f64(weight), f64(bias),
                     training=True, momentum=momentum, eps=eps)
    assert_allclose(y.numpy(), reference_norm(x, axes, eps, weight, bias), rtol=1e-10, atol=1e-10)
    # Running statistics: moving averages; the variance is the unbiased one (divide by M - 1).
    m = x.size // c
    assert_allclose(running_mean.numpy(), (1 - momentum) * mean0 + momentum * x.mean(axis=axes),
                    rtol=1e-12, atol=1e-12)
    unbiased = ((x - x.mean(axis=axes, keepdims=True)) ** 2).sum(axis=axes) / (m - 1)
    assert_allclose(running_var.numpy(), (1 - momentum) * var0 + momentum * unbiased,
                    rtol=1e-12, atol=1e-12)

    fn = lambda t, w, b: F.batch_norm(t, None, None, w, b, training=True, eps=eps)  # noqa: E731
    inputs = tensors(x, weight, bias)
    mg.gradcheck(fn, inputs)
    mg.gradgradcheck(fn, inputs)


@given(batches(), EPS)
def test_batch_norm_eval_uses_the_running_statistics(x, eps):
    c = x.shape[1]
    rng = np.random.default_rng(1)
    weight, bias = rng.standard_normal(c), rng.standard_normal(c)
    mean0, var0 = rng.standard_normal(c), rng.uniform(0.5, 2.0, c)
    running_mean, running_var = f64(mean0), f64(var0)
    fn = lambda t, w, b: F.batch_norm(t, running_mean, running_var, w, b, eps=eps)  # noqa: E731
    channel = (1, -1) + (1,) * (x.ndim - 2)
    expected = ((x - mean0.reshape(channel)) / np.sqrt(var0.reshape(channel) + eps)
                * weight.reshape(channel) + bias.reshape(channel))
    inputs = tensors(x, weight, bias)
    assert_allclose(fn(*inputs).numpy(), expected, rtol=1e-10, atol=1e-10)
    assert (running_mean.numpy() == mean0).all() and (running_var.numpy() == var0).all()
    mg.gradcheck(fn, inputs)
    mg.gradgradcheck(fn, inputs)


def test_batch_norm_running_stats_by_hand():
    # One channel, values 1, 2, 3, 6: mean 3, biased variance 14/4, unbiased 14/3.
    x = mg.tensor([[1.0], [2.0], [3.0], [6.0]], dtype="float64")
    running_mean = mg.tensor([0.0], dtype="float64")
    running_var = mg.tensor([1.0], dtype="float64")
    y = F.batch_norm(x, running_mean, running_var, training=True, momentum=0.1, eps=0.0)
    assert_allclose(y.numpy().ravel(), np.array([-2, -1, 0, 3]) / np.sqrt(3.5))  # biased
    assert_allclose(running_mean.numpy(), [0.9 * 0 + 0.1 * 3])
    assert_allclose(running_var.numpy(), [0.9 * 1 + 0.1 * 14 / 3])                # unbiased
    # Evaluation then uses exactly these statistics.
    y = F.batch_norm(mg.tensor([[3.0]], dtype="float64"), running_mean, running_var, eps=0.0)
    assert_allclose(y.numpy(), [[(3 - 0.3) / np.sqrt(0.9 + 0.1 * 14 / 3)]])


def test_batch_norm_updates_the_running_arrays_in_place_without_a_graph():
    running_mean, running_var = mg.zeros(2), mg.ones(2)
    mean_data, var_data = running_mean.data, running_var.data
    x = mg.randn(4, 2, 3, 3, requires_grad=True)
    F.batch_norm(x, running_mean, running_var, training=True).sum().backward()
    assert running_mean.data is mean_data and running_var.data is var_data
    assert running_mean.grad is None and running_mean.is_leaf and not running_mean.requires_grad
    assert running_mean.dtype == np.float32 and (running_mean.numpy() != 0).all()


# ---------------------------------------------------------------- errors
def test_normalization_errors():
    x = mg.randn(2, 3, 4, 4)
    with pytest.raises(ValueError, match=r"instance_norm: expected a 4-D input \(N, C, H, W\), "
                                         r"got shape \(2, 3\)"):
        F.instance_norm(mg.randn(2, 3))
    with pytest.raises(ValueError, match="more than one pixel"):
        F.instance_norm(mg.randn(2, 3, 1, 1))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.instance_norm(x, weight=mg.ones(4))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        F.instance_norm(x, bias=mg.ones(3, 1))
    with pytest.raises(ValueError, match="instance_norm: eps must be a number >= 0, got -1.0"):
        F.instance_norm(x, eps=-1.0)
    with pytest.raises(TypeError, match="floating-point"):
        F.instance_norm(mg.tensor(np.ones((1, 1, 2, 2), dtype=np.int64)))
    with pytest.raises(ValueError, match=r"batch_norm: expected a 2-D \(N, C\).*got shape \(3,\)"):
        F.batch_norm(mg.randn(3), None, None, training=True)
    with pytest.raises(ValueError, match="needs running_mean and running_var"):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match="more than one value per channel"):
        F.batch_norm(mg.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"batch_norm: momentum must lie in \[0, 1\], got 1.5"):
        F.batch_norm(x, None, None, training=True, momentum=1.5)
    with pytest.raises(TypeError, match="running_mean must be a Tensor"):
        F.batch_norm(x, np.zeros(3), None, training=True)


def test_batch_norm_errors_change_nothing():
    running_mean, running_var = mg.zeros(3), mg.ones(3)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.batch_norm(mg.randn(4, 3), running_mean, running_var, weight=mg.ones(2), training=True)
    with pytest.raises(ValueError, match=r"running_var must have shape \(3,\)"):
        F.batch_norm(mg.randn(4, 3), running_mean, mg.ones(4), training=True)
    assert (running_mean.numpy() == 0).all() and (running_var.numpy() == 1).all()
