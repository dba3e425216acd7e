"""Gradients at kinks: the conventions where a function has no derivative, pinned to PyTorch's.

At a kink (relu and abs at 0, two equal maxima, the bounds of clip) any value between the
one-sided derivatives is a valid subgradient, so a framework has to pick one. minigen
picks PyTorch's, and these tests pin each choice with exact values. Finite differences
cannot check these points, which is why they are tested here by hand.
"""
import numpy as np
import pytest

import minigen


def leaf(values, dtype="float32"):
    return minigen.tensor(values, dtype=dtype, requires_grad=True)


def grad_of(fn, values, upstream=None, dtype="float32"):
    """∂/∂x of Σ upstream · fn(x), as a list."""
    x = leaf(values, dtype)
    y = fn(x)
    w = np.ones(y.shape) if upstream is None else np.asarray(upstream)
    (y * minigen.tensor(w, dtype=dtype)).sum().backward()
    return x.grad.tolist()


# ---------------------------------------------------------------- activations
def test_relu_gradient_at_zero_is_zero():
    assert minigen.relu(leaf([-1.0, 0.0, 2.0])).tolist() == [0.0, 0.0, 2.0]
    assert grad_of(minigen.relu, [-1.0, 0.0, 2.0]) == [0.0, 0.0, 1.0]


def test_abs_gradient_at_zero_is_zero():
    assert grad_of(minigen.abs, [-2.0, 0.0, 3.0]) == [-1.0, 0.0, 1.0]


@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_leaky_relu_gradient_at_zero_is_the_negative_slope(slope):
    grad = grad_of(lambda x: minigen.leaky_relu(x, negative_slope=slope), [-2.0, 0.0, 3.0],
                   dtype="float64")
    assert grad == [slope, slope, 1.0]


def test_leaky_relu_default_slope_is_pytorchs():
    assert grad_of(minigen.leaky_relu, [0.0], dtype="float64") == [0.01]


def test_sqrt_gradient_is_one_over_two_sqrt_x():
    grad = grad_of(minigen.sqrt, [0.25, 1.0, 4.0, 9.0], dtype="float64")
    np.testing.assert_allclose(grad, [1.0, 0.5, 0.25, 1 / 6], rtol=1e-15)


def test_sqrt_gradient_at_zero_is_infinite():
    """1/(2√0) = inf, as in PyTorch: the kink is not smoothed over."""
    with np.errstate(divide="ignore"):
        assert grad_of(minigen.sqrt, [0.0, 1.0]) == [np.inf, 0.5]


# ---------------------------------------------------------------- max and min over axes
def test_max_with_ties_splits_the_gradient_equally():
    assert grad_of(minigen.max, [1.0, 3.0, 3.0]) == [0.0, 0.5, 0.5]


def test_min_with_ties_splits_the_gradient_equally():
    assert grad_of(minigen.min, [2.0, 1.0, 5.0, 1.0]) == [0.0, 0.5, 0.0, 0.5]


def test_max_over_an_axis_splits_ties_within_each_row():
    x = [[1.0, 3.0, 3.0],
         [2.0, 2.0, 2.0],
         [5.0, 0.0, 1.0]]
    upstream = [6.0, 3.0, 2.0]  # one per row
    grad = grad_of(lambda t: minigen.max(t, axis=1), x, upstream)
    assert grad == [[0.0, 3.0, 3.0],
                    [1.0, 1.0, 1.0],
                    [2.0, 0.0, 0.0]]


def test_min_over_an_axis_splits_ties_within_each_column():
    x = [[1.0, 4.0],
         [1.0, 0.0],
         [3.0, 0.0]]
    grad = grad_of(lambda t: minigen.min(t, axis=0, keepdims=True), x, [[4.0, 2.0]])
    assert grad == [[2.0, 0.0],
                    [2.0, 1.0],
                    [0.0, 1.0]]


def test_max_over_all_axes_splits_ties_across_rows():
    grad = grad_of(minigen.max, [[1.0, 3.0], [3.0, 2.0]], dtype="float64")
    assert grad == [[0.0, 0.5], [0.5, 0.0]]


def test_max_over_an_axis_tuple_with_a_three_way_tie():
    x = np.array([[[7.0, 1.0], [7.0, 7.0]]])  # shape (1, 2, 2): 7 appears three times
    grad = grad_of(lambda t: minigen.max(t, axis=(1, 2)), x, [3.0], dtype="float64")
    assert grad == [[[1.0, 0.0], [1.0, 1.0]]]


# ---------------------------------------------------------------- elementwise maximum and minimum
def test_maximum_ties_split_half_and_half():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([2.0, 2.0, 2.0])
    minigen.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.0, 0.5, 1.0]
    assert b.grad.tolist() == [1.0, 0.5, 0.0]


def test_minimum_ties_split_half_and_half():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([2.0, 2.0, 2.0])
    minigen.minimum(a, b).sum().backward()
    assert a.grad.tolist() == [1.0, 0.5, 0.0]
    assert b.grad.tolist() == [0.0, 0.5, 1.0]


def test_maximum_tie_shares_add_up_over_broadcasting():
    """b = [2] is compared with every element of a: its shares are summed."""
    a, b = leaf([1.0, 2.0, 3.0, 2.0]), leaf([2.0])
    minigen.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.0, 0.5, 1.0, 0.5]
    assert b.grad.tolist() == [1.0 + 0.5 + 0.0 + 0.5]


# ---------------------------------------------------------------- clip
def test_clip_passes_the_gradient_at_the_bounds_and_inside():
    """PyTorch's clamp: ∂/∂x = 1 for min ≤ x ≤ max (bounds included), 0 outside."""
    x = [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert minigen.clip(leaf(x), -1.0, 1.0).tolist() == [-1.0, -1.0, 0.0, 1.0, 1.0]
    assert grad_of(lambda t: minigen.clip(t, -1.0, 1.0), x) == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_clip_with_one_bound():
    x = [-1.0, 0.0, 1.0]
    assert grad_of(lambda t: minigen.clip(t, min=0.0), x) == [0.0, 1.0, 1.0]
    assert grad_of(lambda t: minigen.clip(t, max=0.0), x) == [1.0, 1.0, 0.0]


# ---------------------------------------------------------------- argmax and argmin
def test_argmax_and_argmin_return_the_first_index_on_ties():
    x = minigen.tensor([1.0, 3.0, 0.0, 3.0, 0.0])
    assert minigen.argmax(x).item() == 1
    assert minigen.argmin(x).item() == 2


def test_argmax_and_argmin_along_an_axis_pick_the_first_tie():
    x = minigen.tensor([[2.0, 5.0, 5.0],
                        [4.0, 4.0, 1.0],
                        [0.0, 0.0, 0.0]])
    assert minigen.argmax(x, axis=1).tolist() == [1, 0, 0]
    assert minigen.argmin(x, axis=1).tolist() == [0, 2, 0]
    assert minigen.argmax(x, axis=0).tolist() == [1, 0, 0]


def test_argmax_and_argmin_carry_no_gradient():
    x = leaf([[1.0, 4.0], [3.0, 2.0]])
    for index in (minigen.argmax(x, axis=1), minigen.argmin(x, axis=1), x.argmax()):
        assert index.dtype.kind == "i"
        assert not index.requires_grad
        assert index.grad_fn is None
