"""Loss functions of ``minigen.functional``: values against NumPy formulas, gradients, errors.

Each loss is compared with its textbook formula written here in NumPy, for every
``reduction``; hypothesis then gradient-checks it on random inputs kept away from kinks
(|x - y| = 0 for l1, p near 0 or 1 for BCE).
"""
import re

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
import minigen.functional as F
from minigen.testing import arrays, shapes

REDUCTIONS = ["mean", "sum", "none"]


def t64(values, requires_grad=False):
    return minigen.tensor(values, dtype="float64", requires_grad=requires_grad)


def reduce_ref(loss, reduction):
    """PyTorch's reduction rule, in NumPy."""
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](loss)


def assert_matches(result, expected):
    assert result.shape == np.shape(expected)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12, atol=1e-14)


RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3))
Y = RNG.standard_normal((4, 3))
P = RNG.uniform(0.05, 0.95, size=(4, 3))       # probabilities
SOFT = RNG.uniform(0.0, 1.0, size=(4, 3))      # soft binary targets
LOGITS = RNG.normal(0.0, 2.0, size=(4, 5))     # (N, C)
LABELS = np.array([0, 4, 2, 2])                # class indices, shape (N,)
PROBS = RNG.uniform(0.1, 1.0, size=(4, 5))
PROBS /= PROBS.sum(axis=1, keepdims=True)      # class probabilities, rows sum to 1


def naive_log_softmax(s):
    """ln(eˢ / Σ eˢ), straight from the definition (fine for moderate logits)."""
    e = np.exp(s)
    return np.log(e / e.sum(axis=1, keepdims=True))


# ---------------------------------------------------------------- values
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss(reduction):
    result = F.mse_loss(t64(X), t64(Y), reduction=reduction)
    assert_matches(result, reduce_ref((X - Y) ** 2, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_l1_loss(reduction):
    result = F.l1_loss(t64(X), t64(Y), reduction=reduction)
    assert_matches(result, reduce_ref(np.abs(X - Y), reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    result = F.binary_cross_entropy(t64(P), t64(SOFT), reduction=reduction)
    expected = -(SOFT * np.log(P) + (1 - SOFT) * np.log(1 - P))
    assert_matches(result, reduce_ref(expected, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction):
    result = F.binary_cross_entropy_with_logits(t64(X), t64(SOFT), reduction=reduction)
    sigma = 1 / (1 + np.exp(-X))
    expected = -(SOFT * np.log(sigma) + (1 - SOFT) * np.log(1 - sigma))
    assert_matches(result, reduce_ref(expected, reduction))


def test_bce_with_logits_equals_bce_of_sigmoid():
    a = F.binary_cross_entropy_with_logits(t64(X), t64(SOFT))
    b = F.binary_cross_entropy(minigen.sigmoid(t64(X)), t64(SOFT))
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_class_indices(reduction):
    result = F.cross_entropy(t64(LOGITS), LABELS, reduction=reduction)
    expected = -naive_log_softmax(LOGITS)[np.arange(4), LABELS]
    assert_matches(result, reduce_ref(expected, reduction))


def test_cross_entropy_accepts_an_integer_tensor_target():
    a = F.cross_entropy(t64(LOGITS), minigen.tensor(LABELS))
    b = F.cross_entropy(t64(LOGITS), LABELS)
    assert a.item() == b.item()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_class_probabilities(reduction):
    result = F.cross_entropy(t64(LOGITS), t64(PROBS), reduction=reduction)
    expected = -(PROBS * naive_log_softmax(LOGITS)).sum(axis=1)  # one loss per row
    assert_matches(result, reduce_ref(expected, reduction))


def test_cross_entropy_with_one_hot_probabilities_equals_class_indices():
    one_hot = np.eye(5)[LABELS]
    a = F.cross_entropy(t64(LOGITS), t64(one_hot), reduction="none")
    b = F.cross_entropy(t64(LOGITS), LABELS, reduction="none")
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_losses_keep_float32():
    x, y = minigen.tensor(P), minigen.tensor(SOFT)  # the default dtype, float32
    for loss in (F.mse_loss(x, y), F.l1_loss(x, y), F.binary_cross_entropy(x, y),
                 F.binary_cross_entropy_with_logits(x, y)):
        assert loss.dtype == np.float32


# ---------------------------------------------------------------- gradients (hypothesis)
@st.composite
def same_shape_pair(draw, first=arrays, second=arrays):
    """Two float64 arrays of one shape, drawn from the strategy factories given."""
    shape = draw(shapes(min_dims=1))
    return draw(first(shape)), draw(second(shape))


reductions = st.sampled_from(REDUCTIONS)


@given(same_shape_pair(), reductions)
def test_mse_loss_gradient(pair, reduction):
    x, y = pair
    minigen.gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction),
                      [t64(x, True), t64(y, True)])


@given(same_shape_pair(second=lambda shape: arrays(shape, avoid=(0.0,), margin=0.1)), reductions)
def test_l1_loss_gradient(pair, reduction):
    """The input is target + d with |d| ≥ 0.1, away from the kink of |x - y| at 0."""
    y, d = pair
    minigen.gradcheck(lambda a, b: F.l1_loss(a, b, reduction=reduction),
                      [t64(y + d, True), t64(y, True)])


@given(same_shape_pair(first=lambda shape: arrays(shape, low=0.05, high=0.95),
                       second=lambda shape: arrays(shape, low=0.05, high=0.95)), reductions)
def test_binary_cross_entropy_gradient(pair, reduction):
    """Both inside (0, 1): a central difference at y = 0 or 1 steps outside the range the
    loss accepts."""
    p, y = pair
    minigen.gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
                      [t64(p, True), t64(y, True)])


@pytest.mark.exercise_bce_with_logits
@given(same_shape_pair(first=lambda shape: arrays(shape, low=-6.0, high=6.0),
                       second=lambda shape: arrays(shape, low=0.0, high=1.0)), reductions)
def test_binary_cross_entropy_with_logits_gradient(pair, reduction):
    s, y = pair
    minigen.gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
                      [t64(s, True), t64(y, True)])


@st.composite
def logits_and_labels(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    logits = draw(arrays((n, c), low=-5.0, high=5.0))
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return logits, labels


@st.composite
def logits_and_probabilities(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    logits = draw(arrays((n, c), low=-5.0, high=5.0))
    weights = draw(arrays((n, c), low=0.01, high=1.0))
    return logits, weights / weights.sum(axis=1, keepdims=True)


@pytest.mark.exercise_softmax_cross_entropy_backward
@given(logits_and_labels(), reductions)
def test_cross_entropy_gradient_with_class_indices(data, reduction):
    logits, labels = data
    minigen.gradcheck(lambda s, y: F.cross_entropy(s, y, reduction=reduction),
                      [t64(logits, True), labels])


@pytest.mark.exercise_softmax_cross_entropy_backward
@given(logits_and_probabilities(), reductions)
def test_cross_entropy_gradient_with_class_probabilities(data, reduction):
    logits, probs = data
    minigen.gradcheck(lambda s, y: F.cross_entropy(s, y, reduction=reduction),
                      [t64(logits, True), t64(probs, True)])


# ---------------------------------------------------------------- errors
ELEMENTWISE_LOSSES = [F.mse_loss, F.l1_loss, F.binary_cross_entropy,
                      F.binary_cross_entropy_with_logits]


@pytest.mark.parametrize("loss", ELEMENTWISE_LOSSES, ids=lambda f: f.__name__)
def test_mismatched_shapes_raise_naming_loss_and_shapes(loss):
    """(3, 1) against (3,) would broadcast to (3, 3): a loss refuses instead."""
    x, y = t64(np.full((3, 1), 0.5)), t64(np.full(3, 0.5))
    with pytest.raises(ValueError) as info:
        loss(x, y)
    message = str(info.value)
    assert loss.__name__ in message
    assert "(3, 1)" in message and "(3,)" in message


@pytest.mark.parametrize("loss", ELEMENTWISE_LOSSES + [F.cross_entropy],
                         ids=lambda f: f.__name__)
def test_unknown_reduction_raises(loss):
    x, y = t64(np.full((2, 3), 0.5)), t64(np.full((2, 3), 0.5))
    with pytest.raises(ValueError, match=re.escape("'average'")):
        loss(x, y, reduction="average")


@pytest.mark.parametrize("labels", [[0, 3], [-1, 0]], ids=["too_large", "negative"])
def test_cross_entropy_class_index_out_of_range_raises(labels):
    with pytest.raises(ValueError, match=r"cross_entropy: class indices must lie in \[0, 3\)"):
        F.cross_entropy(t64(np.zeros((2, 3))), np.array(labels))


@pytest.mark.parametrize("target", [
    np.array([[0], [1]]),          # (N, 1) instead of (N,)
    np.array([0, 1, 2]),           # N = 3 for a batch of 2
    np.full((2, 4), 0.25),         # probabilities for 4 classes, logits have 3
], ids=["column", "wrong_batch", "wrong_classes"])
def test_cross_entropy_wrong_target_shape_raises(target):
    with pytest.raises(ValueError, match="cross_entropy"):
        F.cross_entropy(t64(np.zeros((2, 3))), target)


def test_cross_entropy_needs_two_dimensional_logits():
    with pytest.raises(ValueError, match=r"cross_entropy: input must be logits of shape \(N, C\)"):
        F.cross_entropy(t64(np.zeros(3)), np.array([0]))
