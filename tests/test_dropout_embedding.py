"""F.dropout (statistics, seeding, gradients with a fixed mask) and F.embedding (against
a plain loop, repeated indices, gradients, errors)."""
import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import minigen as mg
import minigen.functional as F
from minigen import ops
from minigen.testing import arrays, shapes

from gradient_registry import covers


# ---------------------------------------------------------------- dropout
@covers(ops.Dropout)
@given(arrays(shapes(min_dims=1), avoid=(0.0,)), st.floats(0.05, 0.9), st.integers(0, 2**31))
def test_dropout_gradient_with_a_fixed_mask(x, p, seed):
    def fn(t):
        mg.manual_seed(seed)  # every evaluation draws the same mask
        return F.dropout(t, p)

    t = mg.tensor(x, dtype="float64", requires_grad=True)
    y = fn(t)
    kept = y.numpy() != 0  # x avoids 0, so a zero means dropped
    assert_allclose(y.numpy()[kept], x[kept] / (1 - p), rtol=1e-12)
    g = np.random.default_rng(0).standard_normal(x.shape)
    y.backward(g)
    assert_allclose(t.grad.numpy(), np.where(kept, g / (1 - p), 0.0), rtol=1e-12)
    mg.gradcheck(fn, [t])
    mg.gradgradcheck(fn, [t])


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    mg.manual_seed(0)
    x = mg.ones(100_000)
    y = F.dropout(x, p).numpy()
    dropped = (y == 0).mean()
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / x.numel())  # 5 standard errors
    assert_allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)           # inverted: kept ones scaled
    assert abs(y.mean() - 1) < 0.02                               # the expectation is kept
    assert y.dtype == np.float32


def test_dropout_is_repeatable_with_manual_seed():
    x = mg.randn(4, 50)
    mg.manual_seed(3)
    a = F.dropout(x).numpy()
    b = F.dropout(x).numpy()  # the generator moved on: another mask
    mg.manual_seed(3)
    c = F.dropout(x).numpy()
    assert (a == c).all() and not (a == b).all()


def test_dropout_identity_and_extremes():
    x = mg.randn(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)  # PyTorch: everything dropped
    assert (y.numpy() == 0).all() and np.isfinite(y.numpy()).all()
    y.sum().backward()
    assert (x.grad.numpy() == 0).all()


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "0.5", True])
def test_dropout_rejects_bad_probabilities(p):
    with pytest.raises(ValueError, match=r"dropout: p must lie in \[0, 1\], got "):
        F.dropout(mg.randn(3), p)


def test_dropout_rejects_integer_input():
    with pytest.raises(TypeError, match="floating-point"):
        F.dropout(mg.tensor([1, 2, 3]), 0.5)


# ---------------------------------------------------------------- embedding
def reference_embedding(indices, weight, grad):
    """(y, ∂L/∂weight): a loop over every index position."""
    y = np.empty(indices.shape + weight.shape[1:])
    grad_weight = np.zeros(weight.shape)
    for position in np.ndindex(*indices.shape):
        y[position] = weight[indices[position]]
        grad_weight[indices[position]] += grad[position]
    return y, grad_weight


@st.composite
def embedding_cases(draw):
    count = draw(st.integers(1, 6), label="num_embeddings")
    dim = draw(st.integers(1, 4), label="dim")
    weight = draw(arrays((count, dim)), label="weight")
    index_shape = draw(shapes(min_dims=0, max_dims=3, max_side=4), label="index shape")
    indices = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, count - 1)),
                   label="indices")  # small tables: rows repeat
    return indices, weight


@pytest.mark.exercise_getitem_backward
@covers(ops.GetItem, ops.ScatterAdd)
@given(embedding_cases(), st.booleans())
def test_embedding(case, as_tensor):
    indices, weight = case
    index_arg = mg.tensor(indices) if as_tensor else indices
    fn = lambda w: F.embedding(index_arg, w)  # noqa: E731
    g = np.random.default_rng(0).standard_normal(indices.shape + weight.shape[1:])
    expected, expected_grad = reference_embedding(indices, weight, g)
    w = mg.tensor(weight, dtype="float64", requires_grad=True)
    y = fn(w)
    assert y.shape == indices.shape + (weight.shape[1],)
    assert_allclose(y.numpy(), expected, rtol=0, atol=0)
    y.backward(g)
    assert_allclose(w.grad.numpy(), expected_grad, atol=1e-12)
    mg.gradcheck(fn, [w])
    mg.gradgradcheck(fn, [w])

    def backward_of(upstream):  # the backward of the backward (create_graph=True)
        v = mg.tensor(weight, dtype="float64", requires_grad=True)
        return mg.grad(fn(v), v, grad_outputs=upstream, create_graph=True)[0]

    mg.gradcheck(backward_of, [mg.tensor(g, dtype="float64", requires_grad=True)])


@pytest.mark.exercise_getitem_backward
def test_embedding_repeated_rows_add_their_gradients():
    weight = mg.zeros(4, 2, requires_grad=True)
    F.embedding([[3, 1], [3, 3]], weight).sum().backward()
    assert weight.grad.tolist() == [[0, 0], [1, 1], [0, 0], [3, 3]]


@pytest.mark.parametrize("indices, error, match", [
    ([0, 4], IndexError, r"indices must lie in \[0, 4\).*from 0 to 4"),
    ([-1, 2], IndexError, r"indices must lie in \[0, 4\).*from -1 to 2"),
    ([0.0, 1.0], TypeError, "indices must be integers, got dtype float64"),
    ([True, False], TypeError, "indices must be integers, got dtype bool"),
])
def test_embedding_bad_indices(indices, error, match):
    with pytest.raises(error, match=f"embedding: {match}"):
        F.embedding(np.array(indices), mg.randn(4, 3))


def test_embedding_weight_must_be_a_matrix():
    with pytest.raises(ValueError, match=r"embedding: weight must be 2-D \(num_embeddings, dim\), "
                                         r"got shape \(4,\)"):
        F.embedding([0], mg.randn(4))
