"""Hypothesis gradient checks of every differentiable op, in float64.

Each test draws shapes, values and hyper-parameters, checks the forward against NumPy,
then checks first derivatives with ``gradcheck`` and second derivatives with
``gradgradcheck`` (every backward is built from differentiable ops). Values are kept
away from kinks (relu at 0, ties in max) by the strategies, not by loose tolerances.
"""
import math

import numpy as np
import hypothesis.extra.numpy as hnp
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import minigen as mg
from minigen import ops
from minigen.testing import arrays, axes, broadcastable_shapes, shapes

from gradient_registry import covers


def check(fn, inputs, expected=None, second_order=True, **kwargs):
    """Forward against ``expected`` (a NumPy result), then first and second derivatives."""
    tensors = [mg.tensor(a, dtype="float64", requires_grad=True) for a in inputs]
    if expected is not None:
        out = fn(*tensors)
        assert out.shape == np.shape(expected)
        assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    mg.gradcheck(fn, tensors, **kwargs)
    if second_order:
        mg.gradgradcheck(fn, tensors, **kwargs)


def grid_arrays(shape, offset=0.0, step=0.01):
    """Values on the grid (k + offset)·step in [-3, 3]: two grids with offsets 0 and 0.5
    never share a value, so maximum/minimum never see a tie."""
    return hnp.arrays(np.float64, shape,
                      elements=st.integers(-300, 299).map(lambda k: (k + offset) * step))


# ---------------------------------------------------------------- elementwise, binary
BINARY = [(ops.add, np.add, ops.Add), (ops.sub, np.subtract, ops.Sub), (ops.mul, np.multiply, ops.Mul)]


@pytest.mark.exercise_broadcast_sum
@covers(ops.Add, ops.Sub, ops.Mul)
@given(st.sampled_from(BINARY), broadcastable_shapes().flatmap(
    lambda s: st.tuples(arrays(s[0]), arrays(s[1]))))
def test_add_sub_mul(op, values):
    fn, reference, _ = op
    a, b = values
    check(fn, [a, b], reference(a, b))


def nonzero(shape, low, high):
    """Values with low <= |v| <= high: an exercise's test keeps its counterexamples
    first-order. At zeros, or with equal operands, a swapped product rule (∂L/∂a = ∂L/∂y ·
    a) would still be right, and a shrunk example would show only a second-order failure;
    drawing a with |a| <= 1.5 and b with |b| >= 2 avoids both."""
    return arrays(shape, low=-high, high=high, avoid=(0.0,), margin=low)


@pytest.mark.exercise_mul_backward
@covers(ops.Mul)
@given(broadcastable_shapes().flatmap(lambda s: st.tuples(
    nonzero(s[0], 0.5, 1.5), nonzero(s[1], 2.0, 3.0))))
def test_mul_away_from_degenerate_points(values):
    a, b = values
    assert np.all(np.abs(a) >= 0.5) and np.all(np.abs(b) >= 2.0)
    check(ops.mul, [a, b], a * b)


@covers(ops.Div)
@given(broadcastable_shapes().flatmap(
    lambda s: st.tuples(arrays(s[0]), arrays(s[1], avoid=(0.0,), margin=0.3))))
def test_div(values):
    a, b = values
    check(ops.div, [a, b], a / b)


@covers(ops.Maximum, ops.Minimum)
@given(st.sampled_from([(ops.maximum, np.maximum), (ops.minimum, np.minimum)]),
       broadcastable_shapes().flatmap(lambda s: st.tuples(grid_arrays(s[0]),
                                                          grid_arrays(s[1], offset=0.5))))
def test_maximum_minimum(op, values):
    fn, reference = op
    a, b = values
    check(fn, [a, b], reference(a, b))


@covers(ops.Where)
@given(hnp.mutually_broadcastable_shapes(num_shapes=3, max_side=4).flatmap(
    lambda s: st.tuples(hnp.arrays(bool, s.input_shapes[0]), arrays(s.input_shapes[1]),
                        arrays(s.input_shapes[2]))))
def test_where(values):
    cond, a, b = values
    check(lambda x, y: ops.where(cond, x, y), [a, b], np.where(cond, a, b))


# ---------------------------------------------------------------- elementwise, unary
UNARY = [
    # (minigen op, NumPy reference, input strategy)
    (ops.neg, np.negative, arrays()),
    (ops.exp, np.exp, arrays()),
    (ops.log, np.log, arrays(low=0.1, high=5.0)),
    (ops.log1p, np.log1p, arrays(low=-0.9, high=5.0)),
    (ops.atanh, np.arctanh, arrays(low=-0.9, high=0.9)),
    (ops.sqrt, np.sqrt, arrays(low=0.1, high=5.0)),
    (ops.abs, np.abs, arrays(avoid=(0.0,))),
    (ops.relu, lambda x: np.maximum(x, 0), arrays(avoid=(0.0,))),
    (ops.sigmoid, lambda x: 1 / (1 + np.exp(-x)), arrays(low=-8, high=8)),
    (ops.silu, lambda x: x / (1 + np.exp(-x)), arrays(low=-8, high=8)),
    (ops.tanh, np.tanh, arrays()),
    (ops.softplus, lambda x: np.log1p(np.exp(x)), arrays(low=-8, high=8)),
]


@covers(ops.Neg, ops.Exp, ops.Log, ops.Log1p, ops.Atanh, ops.Sqrt, ops.Abs, ops.ReLU,
        ops.Sigmoid, ops.SiLU, ops.Tanh, ops.Softplus)
@pytest.mark.parametrize("op", UNARY, ids=[op[0].__name__ for op in UNARY])
@given(data=st.data())
def test_unary(op, data):
    fn, reference, values = op
    x = data.draw(values)
    check(fn, [x], reference(x))


@covers(ops.Erf)
@given(arrays())
def test_erf(x):
    check(ops.erf, [x], np.vectorize(math.erf)(x) if x.ndim else math.erf(float(x)))


@covers(ops.LeakyReLU)
@given(arrays(avoid=(0.0,)), st.floats(0.0, 0.5))
def test_leaky_relu(x, slope):
    check(lambda t: ops.leaky_relu(t, slope), [x], np.where(x > 0, x, slope * x))


@covers(ops.Pow)
@given(arrays(low=0.2, high=3.0), st.floats(-2.5, 2.5))
def test_pow_positive_base(x, p):
    check(lambda t: t ** p, [x], x ** p)


@covers(ops.Pow)
@given(arrays(avoid=(0.0,), margin=0.2), st.integers(-3, 3))
def test_pow_integer_exponent(x, p):
    check(lambda t: t ** p, [x], x ** float(p))


@pytest.mark.exercise_mul_backward
@covers(ops.Exp, ops.Log, ops.Mul)
@given(broadcastable_shapes().flatmap(
    lambda s: st.tuples(arrays(s[0], low=0.2, high=3.0), arrays(s[1], low=-2, high=2))))
def test_pow_tensor_exponent(values):
    base, exponent = values
    check(lambda b, e: b ** e, [base, exponent], base ** exponent)


@covers(ops.Clip)
@given(st.data())
def test_clip(data):
    lo = data.draw(st.one_of(st.none(), st.floats(-2, 0)), label="min")
    hi = data.draw(st.one_of(st.none(), st.floats(0.1, 2)), label="max")
    assume(lo is not None or hi is not None)
    kinks = tuple(b for b in (lo, hi) if b is not None)
    x = data.draw(arrays(avoid=kinks), label="x")
    check(lambda t: ops.clip(t, lo, hi), [x], np.clip(x, lo, hi))


@covers(ops.Cast)
@given(arrays())
def test_cast(x):
    # Through a wider float and back: the value is unchanged, so float64 checks stay exact.
    wide = np.longdouble
    check(lambda t: ops.cast(ops.cast(t, wide) * 3.0, "float64"), [x], 3.0 * x)


# ---------------------------------------------------------------- reductions
@pytest.mark.exercise_sum_backward
@covers(ops.Sum)
@given(st.data())
def test_sum(data):
    x = data.draw(arrays(), label="x")
    axis = data.draw(axes(x.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    check(lambda t: ops.sum(t, axis, keepdims), [x], np.sum(x, axis=axis, keepdims=keepdims))


@pytest.mark.exercise_sum_backward
@covers(ops.Sum)
@given(st.data())
def test_mean(data):
    x = data.draw(arrays(shapes(min_dims=1)), label="x")
    axis = data.draw(axes(x.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    check(lambda t: ops.mean(t, axis, keepdims), [x], np.mean(x, axis=axis, keepdims=keepdims))


@covers(ops.Max, ops.Min)
@given(st.data())
def test_max_min(data):
    x = data.draw(arrays(shapes(min_dims=1), unique=True), label="x")  # no ties
    axis = data.draw(axes(x.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    op, reference = data.draw(st.sampled_from([(ops.max, np.max), (ops.min, np.min)]))
    check(lambda t: op(t, axis=axis, keepdims=keepdims), [x],
          reference(x, axis=axis, keepdims=keepdims))


@pytest.mark.exercise_sum_backward
@covers(ops.Sum, ops.Sqrt)
@given(st.data())
def test_var_std(data):
    x = data.draw(arrays(shapes(min_dims=1), unique=True), label="x")  # distinct: variance > 0
    axis = data.draw(axes(x.ndim), label="axis")
    n = x.size if axis is None else int(np.prod(np.array(x.shape)[np.atleast_1d(axis)]))
    ddof = data.draw(st.integers(0, 1), label="ddof")
    assume(n - ddof >= 1 and n >= 2)
    keepdims = data.draw(st.booleans(), label="keepdims")
    op, reference = data.draw(st.sampled_from([(ops.var, np.var), (ops.std, np.std)]))
    check(lambda t: op(t, axis=axis, keepdims=keepdims, ddof=ddof), [x],
          reference(x, axis=axis, keepdims=keepdims, ddof=ddof))


@covers(ops.Prod)
@given(st.data())
def test_prod(data):
    # nonzero factors: the backward y / x_i needs them (and keeps products well-scaled)
    x = data.draw(arrays(shapes(min_dims=1), low=-2, high=2, avoid=(0.0,), margin=0.3), label="x")
    axis = data.draw(axes(x.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    check(lambda t: ops.prod(t, axis, keepdims), [x], np.prod(x, axis=axis, keepdims=keepdims))


def _np_logsumexp(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


@pytest.mark.exercise_softmax_cross_entropy_backward
@covers(ops.LogSumExp)
@given(st.data())
def test_logsumexp(data):
    x = data.draw(arrays(shapes(min_dims=1), low=-10, high=10), label="x")
    axis = data.draw(axes(x.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    check(lambda t: ops.logsumexp(t, axis, keepdims), [x], _np_logsumexp(x, axis, keepdims))


@covers(ops.LogSumExp, ops.Exp)
@given(st.data())
def test_softmax_log_softmax(data):
    x = data.draw(arrays(shapes(min_dims=1), low=-10, high=10), label="x")
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    log_p = x - _np_logsumexp(x, axis, keepdims=True)
    check(lambda t: ops.log_softmax(t, axis), [x], log_p)
    check(lambda t: ops.softmax(t, axis), [x], np.exp(log_p))


@covers(ops.BroadcastTo)
@given(st.data())
def test_broadcast_to(data):
    x = data.draw(arrays(), label="x")
    other = data.draw(hnp.broadcastable_shapes(x.shape, max_side=4), label="other")
    target = np.broadcast_shapes(x.shape, other)
    check(lambda t: ops.broadcast_to(t, target), [x], np.broadcast_to(x, target))


@pytest.mark.exercise_sum_backward
@pytest.mark.exercise_broadcast_sum
@covers(ops.Sum, ops.Reshape)
@given(st.data())
def test_sum_to(data):
    shape = data.draw(shapes(), label="shape")
    big = data.draw(hnp.broadcastable_shapes(shape, max_side=4), label="other")
    target = np.broadcast_shapes(shape, big)
    x = data.draw(arrays(target), label="x")
    lead = x.ndim - len(shape)
    summed = x.sum(axis=tuple(range(lead))) if lead else x
    summed = summed.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1), keepdims=True)
    check(lambda t: ops.sum_to(t, shape), [x], summed.reshape(shape))


# ---------------------------------------------------------------- shape ops
@covers(ops.Reshape)
@given(st.data())
def test_reshape(data):
    x = data.draw(arrays(), label="x")
    target = data.draw(st.sampled_from([(-1,), (1, -1), (x.size, 1), x.shape[::-1],
                                        x.shape + (1,)]), label="shape")
    check(lambda t: ops.reshape(t, target), [x], x.reshape(target))


@covers(ops.Reshape)
@given(st.data())
def test_squeeze_unsqueeze_flatten(data):
    x = data.draw(arrays(shapes(min_dims=1, min_side=1, max_side=3)), label="x")
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim), label="axis")
    check(lambda t: ops.unsqueeze(t, axis), [x], np.expand_dims(x, axis))
    check(lambda t: ops.squeeze(t), [x], np.squeeze(x))
    start = data.draw(st.integers(0, x.ndim - 1), label="start")
    check(lambda t: ops.flatten(t, start), [x], x.reshape(x.shape[:start] + (-1,)))


@covers(ops.Transpose)
@given(st.data())
def test_transpose(data):
    x = data.draw(arrays(), label="x")
    perm = tuple(data.draw(st.permutations(range(x.ndim)), label="axes"))
    check(lambda t: ops.permute(t, perm), [x], np.transpose(x, perm))
    check(lambda t: t.T, [x], x.T)


@covers(ops.Concat)
@given(st.data())
def test_concat_stack_split(data):
    base = data.draw(shapes(min_dims=1), label="shape")
    axis = data.draw(st.integers(0, len(base) - 1), label="axis")
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3), label="sizes")
    parts = [data.draw(arrays(base[:axis] + (n,) + base[axis + 1:]), label="part") for n in sizes]
    check(lambda *ts: ops.concat(ts, axis), parts, np.concatenate(parts, axis=axis))
    same = [data.draw(arrays(base), label="same") for _ in sizes]
    check(lambda *ts: ops.stack(ts, axis), same, np.stack(same, axis=axis))
    joined = np.concatenate(parts, axis=axis)

    def first_pieces(t):  # split is a list of views: weight them to check every piece
        return ops.concat([p * (k + 1.0) for k, p in enumerate(ops.split(t, sizes, axis))], axis)

    weights = np.concatenate([np.full(p.shape, k + 1.0) for k, p in enumerate(parts)], axis=axis)
    check(first_pieces, [joined], joined * weights)


@pytest.mark.exercise_getitem_backward
@covers(ops.GetItem, ops.ScatterAdd)
@given(st.data())
def test_getitem_basic(data):
    x = data.draw(arrays(shapes(min_dims=1)), label="x")
    index = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True), label="index")
    check(lambda t: t[index], [x], x[index])


@pytest.mark.exercise_getitem_backward
@covers(ops.GetItem, ops.ScatterAdd)
@given(st.data())
def test_getitem_integer_arrays(data):
    # Integer-array indices may repeat an element: its gradients must add up.
    x = data.draw(arrays(shapes(min_dims=1)), label="x")
    index = data.draw(hnp.integer_array_indices(x.shape, result_shape=hnp.array_shapes(
        min_dims=1, max_dims=2, max_side=5)), label="index")
    check(lambda t: t[index], [x], x[index])


@pytest.mark.exercise_getitem_backward
@covers(ops.ScatterAdd, ops.GetItem)
@given(st.data())
def test_scatter_add(data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    index = data.draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(
        min_dims=1, max_dims=2, max_side=5)), label="index")
    g = data.draw(arrays(np.zeros(shape)[index].shape), label="g")
    expected = np.zeros(shape)
    np.add.at(expected, index, g)
    check(lambda t: ops.ScatterAdd.apply(t, index=index, shape=shape), [g], expected)


# ---------------------------------------------------------------- matmul
@pytest.mark.exercise_matmul_backward
@covers(ops.MatMul)
@given(st.data())
def test_matmul_batched(data):
    n, k, m = (data.draw(st.integers(1, 4), label=name) for name in "nkm")
    batch_a, batch_b = data.draw(broadcastable_shapes(max_dims=2, max_side=3), label="batch")
    a = data.draw(nonzero(batch_a + (n, k), 0.5, 1.5), label="a")
    b = data.draw(nonzero(batch_b + (k, m), 2.0, 3.0), label="b")
    check(ops.matmul, [a, b], a @ b)


@pytest.mark.exercise_matmul_backward
@covers(ops.MatMul)
@given(st.data())
def test_matmul_vectors(data):
    k = data.draw(st.integers(1, 4), label="k")
    a_shape = data.draw(st.sampled_from([(k,), (3, k)]), label="a")
    b_shape = data.draw(st.sampled_from([(k,), (k, 2)]) if len(a_shape) == 2 else
                        st.sampled_from([(k,), (k, 2), (2, k, 3)]), label="b")
    a = data.draw(nonzero(a_shape, 0.5, 1.5), label="a values")
    b = data.draw(nonzero(b_shape, 2.0, 3.0), label="b values")
    check(lambda x, y: x @ y, [a, b], a @ b)
