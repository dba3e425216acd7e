"""F.pad: forward and backward against a plain-loop reference, gradient checks, errors.

The reference walks over every element of the padded result and asks which input
element it holds (or none): the definition of each mode, one element at a time.
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


# ---------------------------------------------------------------- the plain-loop reference
def source_index(k, n, before, mode):
    """Which input element (along one axis of length n) padded position k holds; None for
    the constant border."""
    i = k - before
    if 0 <= i < n:
        return i
    if mode == "constant":
        return None
    if mode == "replicate":
        return 0 if i < 0 else n - 1
    return -i if i < 0 else 2 * (n - 1) - i  # reflect: mirror at the first / last element


def numpy_widths(ndim, pad):
    """PyTorch's flat pad (last axis first) as (before, after) per axis."""
    widths = [(0, 0)] * ndim
    for k in range(len(pad) // 2):
        widths[ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return widths


def reference_pad(x, pad, mode, value=0.0):
    """(padded x, sources): sources[out_index] is the input index it copies, or None."""
    widths = numpy_widths(x.ndim, pad)
    shape = tuple(n + b + a for n, (b, a) in zip(x.shape, widths))
    out = np.empty(shape)
    sources = {}
    for index in np.ndindex(*shape):
        src = tuple(source_index(k, n, b, mode) for k, n, (b, _) in zip(index, x.shape, widths))
        sources[index] = None if None in src else src
        out[index] = value if None in src else x[src]
    return out, sources


def reference_pad_backward(x_shape, grad, sources):
    """∂L/∂x: every padded element's gradient added onto the input element it copied."""
    grad_x = np.zeros(x_shape)
    for index, src in sources.items():
        if src is not None:
            grad_x[src] += grad[index]
    return grad_x


# ---------------------------------------------------------------- hypothesis
@st.composite
def pad_cases(draw):
    """(x, pad): 1- to 4-D inputs, pads of 0 to 3 on some of the last axes."""
    ndim = draw(st.integers(1, 4), label="ndim")
    max_side = 7 if ndim <= 2 else 4
    shape = tuple(draw(st.integers(1, max_side), label="side") for _ in range(ndim))
    padded_axes = draw(st.integers(1, ndim), label="padded axes")
    pad = tuple(draw(st.integers(0, 3), label="pad") for _ in range(2 * padded_axes))
    x = draw(arrays(shape), label="x")
    return x, pad


def fit_reflect(pad, shape):
    """Each reflect pad cut to at most its axis length - 1 (PyTorch's limit)."""
    return tuple(min(p, shape[len(shape) - 1 - k // 2] - 1) for k, p in enumerate(pad))


@covers(ops.Pad, ops.PadBackward)
@given(pad_cases(), st.floats(-2, 2))
def test_pad_matches_the_loop_reference_and_gradients(case, value):
    x, raw_pad = case
    for mode in ["constant", "reflect", "replicate"]:
        pad = fit_reflect(raw_pad, x.shape) if mode == "reflect" else raw_pad
        fill = value if mode == "constant" else 0.0
        expected, sources = reference_pad(x, pad, mode, fill)
        t = mg.tensor(x, dtype="float64", requires_grad=True)
        y = F.pad(t, pad, mode=mode, value=fill)
        assert_allclose(y.numpy(), expected, rtol=0, atol=0)

        g = np.random.default_rng(0).standard_normal(expected.shape)
        y.backward(g)
        assert_allclose(t.grad.numpy(), reference_pad_backward(x.shape, g, sources), atol=1e-12)

        fn = lambda u: F.pad(u, pad, mode=mode, value=fill)  # noqa: E731
        mg.gradcheck(fn, [t])
        mg.gradgradcheck(fn, [t])
        check_backward_is_differentiable(fn, x, expected.shape)


def check_backward_is_differentiable(fn, x, out_shape):
    """gradcheck the backward itself, g ↦ ∂⟨g, fn(x)⟩/∂x, as a function of g: its
    gradient comes from the backward of the backward (what create_graph=True needs)."""
    def backward_of(g):
        t = mg.tensor(x, dtype="float64", requires_grad=True)
        (grad_x,) = mg.grad(fn(t), t, grad_outputs=g, create_graph=True)
        return grad_x

    g = mg.tensor(np.random.default_rng(1).standard_normal(out_shape), dtype="float64",
                  requires_grad=True)
    mg.gradcheck(backward_of, [g])


# ---------------------------------------------------------------- PyTorch's conventions
def test_pad_order_is_last_axis_first():
    x = mg.ones(1, 1, 2, 3)
    y = F.pad(x, (1, 2, 3, 0))  # columns: 1 left, 2 right; rows: 3 on top, 0 below
    assert y.shape == (1, 1, 5, 6)
    assert y.numpy()[0, 0, 3:, 1:4].sum() == 6 and y.numpy().sum() == 6


def test_reflect_and_replicate_by_hand():
    x = mg.tensor([[1.0, 2.0, 3.0, 4.0]])
    assert F.pad(x, (2, 2), mode="reflect").tolist() == [[3, 2, 1, 2, 3, 4, 3, 2]]
    assert F.pad(x, (2, 1), mode="replicate").tolist() == [[1, 1, 1, 2, 3, 4, 4]]
    assert F.pad(x, (1, 1), value=-1.5).tolist() == [[-1.5, 1, 2, 3, 4, -1.5]]
    # Backward folds the border: reflect's copies of 3 and 2 send their gradients home.
    # y = [3 2 | 1 2 3 4 | 3 2] with upstream gradient [10 20 | 1 2 3 4 | 30 40]:
    # x[1] = 2 gets 2 + 20 + 40, x[2] = 3 gets 3 + 10 + 30.
    t = mg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    F.pad(t, (2, 2), mode="reflect").backward(mg.tensor([10.0, 20, 1, 2, 3, 4, 30, 40]))
    assert t.grad.tolist() == [1.0, 62.0, 43.0, 4.0]
    t.grad = None
    F.pad(t, (2, 1), mode="replicate").backward(mg.tensor([10.0, 20, 1, 2, 3, 4, 30]))
    assert t.grad.tolist() == [31.0, 2.0, 3.0, 34.0]


def test_reflect_corner_of_an_image():
    x = mg.arange(9.0).reshape(1, 1, 3, 3)
    y = F.pad(x, (1, 1, 1, 1), mode="reflect")
    assert y.numpy()[0, 0, 0, 0] == 4.0  # mirrored in both axes: x[1, 1]
    assert y.numpy()[0, 0, -1, -1] == 4.0


def test_pad_keeps_float32_and_no_pad_is_the_input():
    x = mg.randn(2, 3)
    assert F.pad(x, (1, 1), mode="replicate").dtype == np.float32
    assert F.pad(x, (0, 0, 0, 0)) is x


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("pad, mode, value, error, match", [
    ((1,), "constant", 0.0, ValueError, "even length"),
    ((1, 1, 1, 1, 1, 1), "constant", 0.0, ValueError, "even length"),
    ((-1, 1), "constant", 0.0, ValueError, "negative"),
    ((1.5, 1), "constant", 0.0, TypeError, "tuple of ints"),
    ((3, 0), "reflect", 0.0, ValueError, "smaller than its length 3"),
    ((0, 0, 0, 2), "reflect", 0.0, ValueError, "axis 0"),
    ((1, 1), "circular", 0.0, ValueError, "circular"),
    ((1, 1), "mirror", 0.0, ValueError, "unknown mode 'mirror'"),
    ((1, 1), "reflect", 2.0, ValueError, "only applies to mode='constant'"),
])
def test_pad_errors(pad, mode, value, error, match):
    x = mg.randn(2, 3)
    with pytest.raises(error, match=match):
        F.pad(x, pad, mode=mode, value=value)
