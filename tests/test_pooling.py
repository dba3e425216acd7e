"""max_pool2d, avg_pool2d and interpolate against plain-loop references; gradients; errors.

The references loop over every image, channel and output position and look at one
window at a time: the definition, with no strided views. They also give the backward:
a max window sends its gradient to its first largest element, a mean window shares it.
"""
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


# ---------------------------------------------------------------- plain-loop references
def reference_pool(x, kernel, stride, padding, kind, grad=None):
    """(y, ∂L/∂x for upstream ``grad``) of a max or average pool, one window at a time."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    fill = -np.inf if kind == "max" else 0.0
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    n, c, hp, wp = padded.shape
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    y = np.empty((n, c, ho, wo))
    grad_padded = np.zeros(padded.shape)
    for b in range(n):
        for ch in range(c):
            for p in range(ho):
                for q in range(wo):
                    rows, cols = slice(p * sh, p * sh + kh), slice(q * sw, q * sw + kw)
                    window = padded[b, ch, rows, cols]
                    if kind == "max":
                        y[b, ch, p, q] = window.max()
                        i, j = np.unravel_index(np.argmax(window), window.shape)  # first max
                        if grad is not None:
                            grad_padded[b, ch, p * sh + i, q * sw + j] += grad[b, ch, p, q]
                    else:
                        y[b, ch, p, q] = window.sum() / (kh * kw)
                        if grad is not None:
                            grad_padded[b, ch, rows, cols] += grad[b, ch, p, q] / (kh * kw)
    return y, grad_padded[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]


def reference_upsample(x, sh, sw):
    n, c, h, w = x.shape
    y = np.empty((n, c, h * sh, w * sw))
    for i in range(h * sh):
        for j in range(w * sw):
            y[:, :, i, j] = x[:, :, i // sh, j // sw]
    return y


# ---------------------------------------------------------------- hypothesis
@st.composite
def pool_cases(draw, unique=False):
    """(x, kernel, stride, padding): hyper-parameters first, then an image they fit."""
    kernel = (draw(st.integers(1, 3), label="kh"), draw(st.integers(1, 3), label="kw"))
    stride = (draw(st.integers(1, 3), label="sh"), draw(st.integers(1, 3), label="sw"))
    padding = (draw(st.integers(0, kernel[0] // 2), label="ph"),
               draw(st.integers(0, kernel[1] // 2), label="pw"))
    h = draw(st.integers(max(1, kernel[0] - 2 * padding[0]), 7), label="H")
    w = draw(st.integers(max(1, kernel[1] - 2 * padding[1]), 7), label="W")
    n, c = draw(st.integers(1, 3), label="N"), draw(st.integers(1, 3), label="C")
    x = draw(arrays((n, c, h, w), unique=unique), label="x")
    return x, kernel, stride, padding


def as_args(kernel, stride, padding, as_ints):
    """The hyper-parameters as users write them: ints when both sides agree, else pairs."""
    if as_ints and kernel[0] == kernel[1] and stride[0] == stride[1] and padding[0] == padding[1]:
        return kernel[0], stride[0], padding[0]
    return kernel, stride, padding


def check_backward_is_differentiable(fn, x, out_shape):
    """gradcheck g ↦ ∂⟨g, fn(x)⟩/∂x: the backward of the backward, as create_graph needs."""
    def backward_of(g):
        t = mg.tensor(x, dtype="float64", requires_grad=True)
        (grad_x,) = mg.grad(fn(t), t, grad_outputs=g, create_graph=True)
        return grad_x

    g = mg.tensor(np.random.default_rng(1).standard_normal(out_shape), dtype="float64",
                  requires_grad=True)
    mg.gradcheck(backward_of, [g])


@pytest.mark.exercise_im2col
@pytest.mark.exercise_max_pool_backward
@covers(ops.MaxPool2d, ops.MaxPool2dBackward)
@given(pool_cases(unique=True), st.booleans())  # distinct values: no ties, so no kinks
def test_max_pool2d(case, int_args):
    x, kernel, stride, padding = case
    k, s, p = as_args(kernel, stride, padding, int_args)
    fn = lambda t: F.max_pool2d(t, k, s, p)  # noqa: E731
    expected, _ = reference_pool(x, kernel, stride, padding, "max")
    g = np.random.default_rng(0).standard_normal(expected.shape)
    _, expected_grad = reference_pool(x, kernel, stride, padding, "max", g)
    t = mg.tensor(x, dtype="float64", requires_grad=True)
    y = fn(t)
    assert_allclose(y.numpy(), expected, rtol=0, atol=0)
    y.backward(g)
    assert_allclose(t.grad.numpy(), expected_grad, atol=1e-12)
    mg.gradcheck(fn, [t])
    mg.gradgradcheck(fn, [t])
    check_backward_is_differentiable(fn, x, expected.shape)


@pytest.mark.exercise_im2col
@pytest.mark.exercise_col2im
@covers(ops.AvgPool2d, ops.AvgPool2dBackward)
@given(pool_cases(), st.booleans())
def test_avg_pool2d(case, int_args):
    x, kernel, stride, padding = case
    k, s, p = as_args(kernel, stride, padding, int_args)
    fn = lambda t: F.avg_pool2d(t, k, s, p)  # noqa: E731
    expected, _ = reference_pool(x, kernel, stride, padding, "avg")
    g = np.random.default_rng(0).standard_normal(expected.shape)
    _, expected_grad = reference_pool(x, kernel, stride, padding, "avg", g)
    t = mg.tensor(x, dtype="float64", requires_grad=True)
    y = fn(t)
    assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    y.backward(g)
    assert_allclose(t.grad.numpy(), expected_grad, rtol=1e-12, atol=1e-12)
    mg.gradcheck(fn, [t])
    mg.gradgradcheck(fn, [t])
    check_backward_is_differentiable(fn, x, expected.shape)  # AvgPool2dBackward's backward


@pytest.mark.exercise_im2col
@pytest.mark.exercise_col2im
@covers(ops.AvgPool2dBackward, ops.AvgPool2d)
@given(pool_cases())
def test_avg_pool2d_backward_is_the_adjoint(case):
    # AvgPool2dBackward on its own: ⟨A x, g⟩ = ⟨x, Aᵀ g⟩ for random x and g, then gradcheck.
    x, kernel, stride, padding = case
    y, _ = reference_pool(x, kernel, stride, padding, "avg")
    g = np.random.default_rng(2).standard_normal(y.shape)
    adjoint = lambda t: ops.AvgPool2dBackward.apply(  # noqa: E731
        t, kernel=kernel, stride=stride, padding=padding, size=x.shape[2:])
    g_t = mg.tensor(g, dtype="float64", requires_grad=True)
    assert_allclose((adjoint(g_t).numpy() * x).sum(), (y * g).sum(), rtol=1e-10)
    mg.gradcheck(adjoint, [g_t])
    mg.gradgradcheck(adjoint, [g_t])


@covers(ops.UpsampleNearest2d)
@given(arrays(st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4),
                        st.integers(1, 4))),
       st.integers(1, 3), st.integers(1, 3), st.booleans())
def test_interpolate_nearest(x, sh, sw, by_size):
    h, w = x.shape[2:]
    fn = ((lambda t: F.interpolate(t, size=(h * sh, w * sw))) if by_size else
          (lambda t: F.interpolate(t, scale_factor=(sh, sw), mode="nearest")))
    expected = reference_upsample(x, sh, sw)
    t = mg.tensor(x, dtype="float64", requires_grad=True)
    y = fn(t)
    assert_allclose(y.numpy(), expected, rtol=0, atol=0)
    g = np.random.default_rng(0).standard_normal(expected.shape)
    y.backward(g)
    block_sums = g.reshape(x.shape[0], x.shape[1], h, sh, w, sw).sum(axis=(3, 5))
    assert_allclose(t.grad.numpy(), block_sums, atol=1e-12)
    mg.gradcheck(fn, [t])
    mg.gradgradcheck(fn, [t])
    check_backward_is_differentiable(fn, x, expected.shape)


# ---------------------------------------------------------------- PyTorch's conventions
def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    # All equal: every window's first element (top-left in row-major order) wins.
    x = mg.zeros(1, 1, 4, 4, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    assert_allclose(x.grad.numpy()[0, 0], expected)
    # Overlapping 3×3 windows with stride 1 and padding 1 (the same counts as PyTorch).
    x = mg.zeros(1, 1, 4, 4, requires_grad=True)
    F.max_pool2d(x, 3, stride=1, padding=1).sum().backward()
    assert x.grad.numpy()[0, 0].tolist() == [[4, 2, 2, 0], [2, 1, 1, 0], [2, 1, 1, 0], [0, 0, 0, 0]]


def test_max_pool_padding_never_wins_and_nan_propagates():
    x = mg.full((1, 1, 2, 2), -1e30)
    assert (F.max_pool2d(x, 3, stride=1, padding=1).numpy() == -1e30).all()
    x = mg.tensor([[[[1.0, float("nan"), 3.0, 0.0]]]])
    y = F.max_pool2d(x, (1, 2)).numpy()
    assert np.isnan(y[0, 0, 0, 0]) and y[0, 0, 0, 1] == 3.0


def test_avg_pool_counts_the_padding():
    x = mg.ones(1, 1, 2, 2)
    y = F.avg_pool2d(x, 3, stride=1, padding=1)  # each window holds 4 ones and 5 zeros
    assert_allclose(y.numpy(), np.full((1, 1, 2, 2), 4 / 9), rtol=1e-6)


def test_stride_defaults_to_the_kernel_and_floor_drops_the_rest():
    x = mg.randn(2, 3, 7, 5)
    assert F.max_pool2d(x, 2).shape == (2, 3, 3, 2)
    assert F.avg_pool2d(x, (3, 2), stride=(2, 1)).shape == (2, 3, 3, 4)
    assert F.max_pool2d(x, 2).dtype == np.float32 and F.avg_pool2d(x, 2).dtype == np.float32


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("pool", [F.max_pool2d, F.avg_pool2d])
@pytest.mark.parametrize("shape, kwargs, error, match", [
    ((3, 4, 4), {"kernel_size": 2}, ValueError,
     r"expected a 4-D input \(N, C, H, W\), got shape \(3, 4, 4\)"),
    ((1, 1, 4, 4), {"kernel_size": 0}, ValueError, "must be positive"),
    ((1, 1, 4, 4), {"kernel_size": 2, "stride": 0}, ValueError, "must be positive"),
    ((1, 1, 4, 4), {"kernel_size": 2.5}, ValueError, "kernel_size must be an int or a pair"),
    ((1, 1, 4, 4), {"kernel_size": (2, 2, 2)}, ValueError, "kernel_size must be an int or a pair"),
    ((1, 1, 4, 4), {"kernel_size": 3, "padding": 2}, ValueError, "at most half the kernel"),
    ((1, 1, 4, 4), {"kernel_size": 3, "padding": -1}, ValueError, "non-negative"),
    ((1, 1, 2, 4), {"kernel_size": 3}, ValueError, "does not fit"),
])
def test_pool_errors(pool, shape, kwargs, error, match):
    with pytest.raises(error, match=f"^{pool.__name__}: .*{match}"):
        pool(mg.randn(*shape), **kwargs)


def test_pool_rejects_integer_input():
    with pytest.raises(TypeError, match="floating-point"):
        F.max_pool2d(mg.tensor(np.ones((1, 1, 2, 2), dtype=np.int64)), 2)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"scale_factor": 2, "mode": "bilinear"}, NotImplementedError, "'bilinear' is not implemented"),
    ({"scale_factor": 2, "mode": "fancy"}, ValueError, "unknown mode 'fancy'"),
    ({"scale_factor": 1.5}, NotImplementedError, "not a whole number"),
    ({"size": (5, 6)}, NotImplementedError, "not a whole multiple"),
    ({"size": 4, "scale_factor": 2}, ValueError, "exactly one of size and scale_factor"),
    ({}, ValueError, "exactly one of size and scale_factor"),
    ({"scale_factor": 0}, ValueError, "at least 1"),
    ({"scale_factor": (2, 2, 2)}, ValueError, "one value per spatial axis"),
    ({"scale_factor": "2"}, TypeError, "must be an int or a pair"),
])
def test_interpolate_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        F.interpolate(mg.randn(1, 1, 2, 3), **kwargs)


def test_interpolate_needs_images():
    with pytest.raises(ValueError, match=r"4-D input \(N, C, H, W\), got shape \(2, 3\)"):
        F.interpolate(mg.randn(2, 3), scale_factor=2)
    x = mg.randn(1, 2, 3, 3)
    assert F.interpolate(x, scale_factor=2.0).shape == (1, 2, 6, 6)
    assert F.interpolate(x, scale_factor=1) is x


@pytest.mark.parametrize("kernels", ["reference", "fast"])
@pytest.mark.parametrize("shape, kernel", [((2, 3, 6, 8), 2), ((1, 2, 9, 6), 3), ((2, 1, 4, 4), (2, 1))])
def test_max_pool2d_tiling_windows_take_the_fast_backward(shape, kernel, kernels):
    """Windows that tile the image exactly: the fast kernels write each pixel's gradient once
    (minigen/ops/fast/pooling.py), the reference adds the taps back with add_windows; the
    results are the same."""
    with mg.reference_kernels(kernels == "reference"):
        _check_max_pool_against_the_loop(shape, kernel)


@pytest.mark.exercise_max_pool_backward
def test_max_pool2d_reference_backward_runs_add_windows(monkeypatch):
    from minigen.ops import pooling
    calls = []
    original = pooling.add_windows
    monkeypatch.setattr(pooling, "add_windows", lambda *a: calls.append(1) or original(*a))
    x = mg.randn(2, 3, 6, 8, requires_grad=True)
    for reference in (False, True):
        with mg.reference_kernels(reference):
            F.max_pool2d(x, 2).sum().backward()     # 2×2 windows tile the 6×8 image
    assert calls == [1]                              # only the reference path reaches col2im


def _check_max_pool_against_the_loop(shape, kernel):
    x = np.random.default_rng(3).permutation(np.prod(shape)).reshape(shape) / 7.0  # no ties
    k = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    expected, _ = reference_pool(x, k, k, (0, 0), "max")
    g = np.random.default_rng(4).standard_normal(expected.shape)
    _, expected_grad = reference_pool(x, k, k, (0, 0), "max", g)
    t = mg.tensor(x, dtype="float64", requires_grad=True)
    y = F.max_pool2d(t, kernel)
    assert_allclose(y.numpy(), expected)
    y.backward(g)
    assert_allclose(t.grad.numpy(), expected_grad, atol=1e-12)
    mg.gradgradcheck(lambda u: F.max_pool2d(u, kernel), [t])


@pytest.mark.parametrize("shape, kernel, stride, padding", [
    ((2, 3, 6, 8), (2, 2), (2, 2), (0, 0)),     # tiling: the two-pass path
    ((1, 2, 9, 6), (3, 3), (3, 3), (0, 0)),
    ((2, 2, 4, 6), (2, 3), (2, 3), (0, 0)),
    ((2, 2, 5, 5), (3, 3), (1, 1), (1, 1)),     # overlapping windows: the general path
    ((1, 2, 7, 6), (2, 2), (2, 2), (0, 0)),     # 7 rows: the last is dropped, general path
])
def test_max_pool_ties_and_nans_follow_the_loop_reference(shape, kernel, stride, padding):
    """Values from {0, 1, 2, NaN}: ties everywhere and NaNs in every position of a window.
    The first maximum (or the first NaN) of each window, in row-major order, wins — the
    plain loop's ``argmax`` — in the forward, the backward and the backward's backward."""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 3, shape).astype(np.float64)
    x[rng.random(shape) < 0.1] = np.nan
    expected, _ = reference_pool(x, kernel, stride, padding, "max")
    g = rng.standard_normal(expected.shape)
    _, expected_grad = reference_pool(x, kernel, stride, padding, "max", g)
    t = mg.tensor(x, dtype="float64", requires_grad=True)
    y = F.max_pool2d(t, kernel, stride, padding)
    assert_allclose(y.numpy(), expected, rtol=0, atol=0)          # NaN where the loop has NaN
    y.backward(g)
    assert_allclose(t.grad.numpy(), expected_grad, rtol=0, atol=1e-12)  # sums differ in order
    # The backward is linear in g, so its own backward is checked by finite differences in
    # g even though x has ties (no kink in g).
    finite = np.nan_to_num(x, nan=-1.0)      # NaN would poison the finite differences
    check_backward_is_differentiable(lambda u: F.max_pool2d(u, kernel, stride, padding),
                                     finite, expected.shape)
