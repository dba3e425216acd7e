"""Tests of the gradient checker itself: it must catch wrong backward passes and say where.

Each custom op below is a ``minigen.Function`` written the way a student would, some with
a deliberate bug. A checker that let any of them pass, or blamed the wrong input or
element, would send a student looking in the wrong place.
"""
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen import GradcheckError, gradcheck, gradgradcheck
from minigen.testing import arrays, axes, broadcastable_shapes, check_gradient, shapes


def leaf(values):
    return minigen.tensor(values, dtype="float64", requires_grad=True)


def random_leaf(*shape, low=0.5, high=2.0, seed=0):
    """Values in [low, high] (away from 0, so every element's gradient is nonzero)."""
    rng = np.random.default_rng(seed)
    return leaf(rng.uniform(low, high, size=shape))


# ---------------------------------------------------------------- custom ops, right and wrong
class Square(minigen.Function):
    """y = x²; ∂L/∂x = 2x ∂L/∂y. Correct."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad


class SquareMissingTwo(minigen.Function):
    """y = x², with the factor 2 dropped from the backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return x * grad


class ProductWrongSign(minigen.Function):
    """y = a · b (broadcasting); right for input 0, wrong sign for input 1."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, -(grad * a)


class CubeZeroAt(minigen.Function):
    """y = x³, whose backward wrongly zeroes one element of the gradient."""

    @staticmethod
    def forward(ctx, x, element):
        ctx.save_for_backward(x)
        ctx.element = element
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        mask = np.ones(x.shape)
        mask[ctx.element] = 0.0
        return 3 * x * x * grad * minigen.Tensor(mask)


class SquareConstantBackward(minigen.Function):
    """y = x², whose backward uses raw arrays: right values, but the result is a constant,
    so its own derivative (the second derivative of y) comes out as 0 instead of 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return minigen.Tensor(2 * x.data) * grad


def failure(fn, inputs, **kwargs):
    """The GradcheckError that gradcheck(fn, inputs) must raise."""
    with pytest.raises(GradcheckError) as info:
        gradcheck(fn, inputs, **kwargs)
    return info.value


# ---------------------------------------------------------------- first derivatives
def test_correct_custom_op_passes():
    assert gradcheck(Square.apply, [random_leaf(3, 4, low=-2.0)]) is True


def test_correct_two_input_op_with_broadcasting_passes():
    assert gradcheck(minigen.mul, [random_leaf(3, 1), random_leaf(4, seed=1)]) is True


def test_dropped_factor_two_is_caught():
    err = failure(SquareMissingTwo.apply, [random_leaf(2, 3)])
    assert err.input_index == 0
    assert err.op_name == "SquareMissingTwo"
    assert err.analytic == pytest.approx(err.numeric / 2, rel=1e-6)
    message = str(err)
    assert "input 0" in message
    assert "SquareMissingTwo" in message
    assert "6 of 6 elements are wrong" in message


def test_wrong_sign_for_the_second_input_blames_input_1():
    a, b = random_leaf(3, 1), random_leaf(4, seed=1)  # broadcast to (3, 4)
    err = failure(ProductWrongSign.apply, [a, b])
    assert err.input_index == 1
    assert err.analytic == pytest.approx(-err.numeric, rel=1e-6)
    assert "input 1 (shape (4,))" in str(err)
    assert "ProductWrongSign" in str(err)


def test_input_without_requires_grad_is_not_checked():
    """Only input 1 is wrong: with it frozen, the check passes."""
    a, b = random_leaf(3, 1), random_leaf(4, seed=1).detach()
    assert gradcheck(ProductWrongSign.apply, [a, b]) is True


def test_one_wrong_element_is_located():
    err = failure(lambda x: CubeZeroAt.apply(x, element=(1, 2)), [random_leaf(3, 4)])
    assert err.input_index == 0
    assert err.element == (1, 2)
    assert err.analytic == 0.0
    assert err.numeric != 0.0
    # Only one element is wrong, so it also has the largest error.
    assert err.max_abs_error == pytest.approx(abs(err.numeric))
    assert err.op_name == "CubeZeroAt"


def test_message_names_op_element_values_and_largest_errors():
    err = failure(lambda x: CubeZeroAt.apply(x, element=(1, 2)), [random_leaf(3, 4)])
    message = str(err)
    assert "input 0 (shape (3, 4))" in message
    assert "CubeZeroAt" in message
    assert f"element (1, 2): analytic {err.analytic:.8g}, numeric {err.numeric:.8g}" in message
    assert "1 of 12 elements are wrong" in message
    assert re.search(r"largest absolute error \S+ at element \(1, 2\)", message)
    assert re.search(r"largest relative error \S+ at element \(1, 2\)", message)


def test_message_names_the_op_class_of_apply():
    err = failure(SquareMissingTwo.apply, [random_leaf(3)])
    assert "of SquareMissingTwo.apply" in str(err)


def test_large_input_is_checked_along_few_random_directions():
    """Above max_full elements a correct op costs a few evaluations, not two per element."""
    calls = []

    def counted(x):
        calls.append(1)
        return Square.apply(x)

    x = random_leaf(20, 20)  # 400 elements > max_full = 256
    assert gradcheck(counted, [x]) is True
    assert len(calls) < 20


@pytest.mark.parametrize("shape, element, max_full", [
    ((20, 20), (13, 7), 256),   # 400 elements: random directions by default
    ((3, 4), (1, 2), 5),        # a small input forced onto random directions
])
def test_large_input_still_catches_and_locates_a_wrong_element(shape, element, max_full):
    err = failure(lambda x: CubeZeroAt.apply(x, element=element), [random_leaf(*shape)],
                  max_full=max_full)
    assert err.input_index == 0
    assert err.element == element


# ---------------------------------------------------------------- second derivatives
@pytest.mark.parametrize("fn, shapes_", [
    (minigen.tanh, [(3, 4)]),
    (minigen.mul, [(3, 1), (4,)]),
    (minigen.matmul, [(2, 3), (3, 4)]),
    (lambda x: minigen.logsumexp(x, axis=1), [(3, 4)]),
    (Square.apply, [(5,)]),
], ids=["tanh", "mul", "matmul", "logsumexp", "custom_square"])
def test_gradgradcheck_passes_for_correct_double_backward(fn, shapes_):
    inputs = [random_leaf(*s, low=-1.0, high=1.0, seed=k) for k, s in enumerate(shapes_)]
    assert gradgradcheck(fn, inputs) is True


def test_backward_with_raw_arrays_passes_gradcheck_but_fails_gradgradcheck():
    x = random_leaf(2, 3)
    assert gradcheck(SquareConstantBackward.apply, [x]) is True  # first derivative is right
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(SquareConstantBackward.apply, [x])
    err = info.value
    assert err.input_index == 0
    assert err.analytic == 0.0   # the constant backward has no derivative ...
    assert err.numeric != 0.0    # ... but the true second derivative is 2v
    assert "of gradient of SquareConstantBackward.apply" in str(err)
    assert "did the backward use .data or NumPy directly?" in str(err)


def test_a_correct_graphless_gradient_gets_no_hint():
    """x ↦ 3x: its gradient 3 has no graph and a zero derivative, which is right."""
    x = random_leaf(2, 3)
    assert gradgradcheck(lambda t: t * 3.0, [x]) is True


# ---------------------------------------------------------------- misuse
def test_no_input_requiring_grad_raises_value_error():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda x: x * 2, [minigen.tensor([1.0, 2.0], dtype="float64")])


def test_float32_result_raises_type_error():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: (x * 2).float(), [random_leaf(3)])


# ---------------------------------------------------------------- check_gradient
def test_check_gradient_passes_for_a_correct_op():
    check_gradient(Square.apply, arrays())()


def test_check_gradient_fails_for_a_wrong_op():
    test = check_gradient(SquareMissingTwo.apply, arrays())
    with pytest.raises(GradcheckError):
        test()


def test_check_gradient_second_order_catches_a_constant_backward():
    check_gradient(Square.apply, arrays(), second_order=True)()
    test = check_gradient(SquareConstantBackward.apply, arrays(), second_order=True)
    with pytest.raises(GradcheckError):
        test()


# ---------------------------------------------------------------- strategies
@given(arrays(avoid=(0.0,), margin=0.1))
def test_arrays_avoid_keeps_values_margin_away(a):
    assert a.dtype == np.float64
    assert np.all(np.abs(a) >= 0.1)
    assert np.all((-3.0 <= a) & (a <= 3.0))


@given(arrays(shape=(4, 5), avoid=(-1.0, 1.0), margin=0.05))
def test_arrays_avoid_several_points(a):
    assert a.shape == (4, 5)
    tolerance = 0.05 * (1 - 1e-9)  # p ± margin may be rounded by an ulp
    assert np.all(np.abs(a - 1.0) >= tolerance)
    assert np.all(np.abs(a + 1.0) >= tolerance)


@given(arrays(unique=True, margin=0.01))
def test_arrays_unique_values_are_spaced_by_margin(a):
    values = np.sort(a.ravel())
    tolerance = 0.01 * (1 - 1e-9)
    assert np.all(np.diff(values) >= tolerance)
    assert np.all(np.abs(values) >= 0.01 / 2 * (1 - 1e-9))  # never on 0 either


@given(st.data())
def test_axes_are_valid_reduction_arguments(data):
    shape = data.draw(shapes())
    axis = data.draw(axes(len(shape)))
    if axis is None:
        return
    as_tuple = (axis,) if isinstance(axis, int) else axis
    assert all(-len(shape) <= a < len(shape) for a in as_tuple)
    assert len({a % len(shape) for a in as_tuple}) == len(as_tuple)
    np.zeros(shape).sum(axis=axis)  # NumPy accepts it


@given(axes(0))
def test_axes_of_a_scalar_is_none(axis):
    assert axis is None


@given(broadcastable_shapes(), broadcastable_shapes(num_shapes=3))
def test_broadcastable_shapes_broadcast(pair, triple):
    assert len(pair) == 2 and len(triple) == 3
    np.broadcast_shapes(*pair)
    np.broadcast_shapes(*triple)
