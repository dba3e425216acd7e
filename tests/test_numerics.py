"""Numerical stability: the stable forms stay finite and exact for inputs of size 1e4.

exp(1e4) overflows in every float type, so the textbook formulas 1 / (1 + e⁻ˣ),
ln(1 + eˣ) and ln Σ eˣ give inf or nan there. minigen's forms must not, in float32 and
in float64. Expected values come from float64 formulas written in this file (``math``
and NumPy), never from minigen itself.
"""
import math

import numpy as np
import pytest

import minigen
import minigen.functional as F

BIG = 1e4
LN2 = math.log(2.0)
DTYPES = ["float32", "float64"]


def rtol(dtype):
    """Relative tolerance of a correctly rounded result (a few units in the last place)."""
    return 1e-6 if dtype == "float32" else 1e-12


def leaf(values, dtype):
    return minigen.tensor(values, dtype=dtype, requires_grad=True)


def assert_finite(t):
    assert np.all(np.isfinite(t.numpy())), f"not finite: {t.numpy()}"


def close(actual, expected, dtype, atol=0.0, rel=None):
    np.testing.assert_allclose(actual.numpy(), expected, atol=atol,
                               rtol=rtol(dtype) if rel is None else rel)


# ---------------------------------------------------------------- references (float64)
def sigmoid_ref(x):
    """σ(x) = (1 + tanh(x/2)) / 2: an identity that never overflows."""
    return np.array([(1 + math.tanh(v / 2)) / 2 for v in x])


def softplus_ref(x):
    """ln(1 + eˣ) = x + ln(1 + e⁻ˣ) for x > 0 (so e only ever sees a negative argument)."""
    return np.array([v + math.log1p(math.exp(-v)) if v > 0 else math.log1p(math.exp(v))
                     for v in x])


def log_softmax_ref(x):
    """Rows of x - m - ln Σ exp(x - m) with m the row maximum, in float64."""
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


HUGE_LOGITS = [[BIG, BIG, -BIG],      # a tie at the top: each gets ½
               [-BIG, 0.0, BIG],      # one clear winner
               [-BIG, -BIG, -BIG]]    # all tiny but equal: ⅓ each


# ---------------------------------------------------------------- sigmoid
@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_saturates_exactly_at_huge_inputs(dtype):
    """σ(1e4) = 1 and σ(-1e4) = 0, exactly; σ' = σ(1 - σ) = 0 there, not nan."""
    x = leaf([BIG, -BIG], dtype)
    y = minigen.sigmoid(x)
    y.sum().backward()
    assert y.dtype == np.dtype(dtype)
    assert y.tolist() == [1.0, 0.0]
    assert x.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_gradient_is_y_times_one_minus_y(dtype):
    values = [-BIG, -20.0, -2.0, 0.0, 0.5, 2.0, 20.0, BIG]
    x = leaf(values, dtype)
    y = minigen.sigmoid(x)
    y.sum().backward()
    s = sigmoid_ref(values)
    assert_finite(x.grad)
    close(y, s, dtype, atol=1e-7)
    close(x.grad, s * (1 - s), dtype, atol=1e-7)


# ---------------------------------------------------------------- softplus
@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_at_huge_inputs(dtype):
    """softplus(1e4) = 1e4 and softplus(-1e4) = 0 (e⁻¹⁰⁰⁰⁰ is far below any float)."""
    x = leaf([BIG, -BIG], dtype)
    y = minigen.softplus(x)
    assert y.dtype == np.dtype(dtype)
    assert y.tolist()[0] == BIG
    assert 0.0 <= y.tolist()[1] < 1e-30


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_values_and_gradient_is_sigmoid(dtype):
    values = [-BIG, -30.0, -1.0, 0.0, 1.0, 30.0, BIG]
    x = leaf(values, dtype)
    y = minigen.softplus(x)
    y.sum().backward()
    assert_finite(y)
    assert_finite(x.grad)
    close(y, softplus_ref(values), dtype, atol=1e-30)
    close(x.grad, sigmoid_ref(values), dtype, atol=1e-7)


# ---------------------------------------------------------------- logsumexp
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("value", [BIG, -BIG])
def test_logsumexp_of_two_equal_huge_values(dtype, value):
    """ln(eᵛ + eᵛ) = v + ln 2, and the gradient is the softmax (½, ½)."""
    x = leaf([value, value], dtype)
    y = minigen.logsumexp(x)
    y.backward()
    assert y.dtype == np.dtype(dtype)
    close(y, value + LN2, dtype)
    assert_finite(x.grad)
    # The gradient exp(x - y) inherits the rounding of y ≈ 1e4: float32 spaces numbers
    # near 1e4 by 2⁻¹⁰ ≈ 1e-3, so only about three digits of (½, ½) survive.
    close(x.grad, [0.5, 0.5], dtype, rel=1e-3 if dtype == "float32" else 1e-11)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_rows_of_huge_logits(dtype):
    x = leaf(HUGE_LOGITS, dtype)
    y = minigen.logsumexp(x, axis=1)
    y.sum().backward()
    expected_lse = np.array([BIG + LN2, BIG, -BIG + math.log(3.0)])
    expected_grad = np.exp(log_softmax_ref(HUGE_LOGITS))
    assert y.shape == (3,)
    close(y, expected_lse, dtype)
    assert_finite(x.grad)
    close(x.grad, expected_grad, dtype, atol=1e-12,
          rel=1e-3 if dtype == "float32" else 1e-11)


# ---------------------------------------------------------------- log_softmax and softmax
@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_of_huge_logits(dtype):
    """log_softmax([1e4, 1e4, -1e4]) = [-ln 2, -ln 2, -2e4 - ln 2], to full precision."""
    x = leaf(HUGE_LOGITS, dtype)
    y = minigen.log_softmax(x, axis=1)
    assert_finite(y)
    close(y, log_softmax_ref(HUGE_LOGITS), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_of_huge_logits_is_finite_and_rows_sum_to_one(dtype):
    x = leaf(HUGE_LOGITS, dtype)
    y = minigen.softmax(x, axis=1)
    assert_finite(y)
    np.testing.assert_allclose(y.numpy().sum(axis=1), 1.0, rtol=rtol(dtype))
    close(y, np.exp(log_softmax_ref(HUGE_LOGITS)), dtype, atol=1e-30)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_gradient_at_huge_logits(dtype):
    """∂/∂x of Σ w·softmax(x) is s ⊙ (w - Σ s w) per row, finite."""
    w = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0], [2.0, -3.0, 1.0]])
    x = leaf(HUGE_LOGITS, dtype)
    (minigen.softmax(x, axis=1) * minigen.tensor(w, dtype=dtype)).sum().backward()
    s = np.exp(log_softmax_ref(HUGE_LOGITS))
    expected = s * (w - (s * w).sum(axis=1, keepdims=True))
    assert_finite(x.grad)
    close(x.grad, expected, dtype, atol=1e-6 if dtype == "float32" else 1e-12)


# ---------------------------------------------------------------- losses on huge logits
def bce_with_logits_ref(s, y):
    """max(s, 0) - s·y + ln(1 + e^(-|s|)): the classic overflow-free form."""
    return np.array([max(a, 0.0) - a * b + math.log1p(math.exp(-abs(a))) for a, b in zip(s, y)])


@pytest.mark.exercise_bce_with_logits
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_at_huge_logits(dtype):
    """A confident wrong logit costs |s| = 1e4; a confident right one costs 0."""
    logits = [BIG, -BIG, BIG, -BIG]
    targets = [0.0, 1.0, 1.0, 0.0]
    s = leaf(logits, dtype)
    y = minigen.tensor(targets, dtype=dtype)
    per_element = F.binary_cross_entropy_with_logits(s, y, reduction="none")
    assert per_element.tolist() == [BIG, BIG, 0.0, 0.0]
    close(per_element, bce_with_logits_ref(logits, targets), dtype)

    loss = F.binary_cross_entropy_with_logits(s, y)  # mean over N = 4
    loss.backward()
    close(loss, BIG / 2, dtype)
    assert_finite(s.grad)
    close(s.grad, (sigmoid_ref(logits) - np.array(targets)) / len(logits), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_gradient_is_sigmoid_minus_target_over_n(dtype):
    logits = [-BIG, -3.0, -0.5, 0.0, 0.7, 4.0, BIG, 2.0]
    targets = [0.0, 1.0, 0.3, 1.0, 0.0, 0.5, 1.0, 0.9]
    s = leaf(logits, dtype)
    loss = F.binary_cross_entropy_with_logits(s, minigen.tensor(targets, dtype=dtype))
    loss.backward()
    close(loss, bce_with_logits_ref(logits, targets).mean(), dtype)
    close(s.grad, (sigmoid_ref(logits) - np.array(targets)) / len(logits), dtype, atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_with_huge_logits_and_class_targets(dtype):
    """-log softmax(s)[y]: 2e4 for a class beaten by 2e4, ln 2 for a tied winner."""
    logits = [[BIG, -BIG, 0.0], [BIG, BIG, -BIG]]
    labels = np.array([1, 0])
    s = leaf(logits, dtype)
    per_row = F.cross_entropy(s, labels, reduction="none")
    close(per_row, [2 * BIG, LN2], dtype)

    loss = F.cross_entropy(s, labels)
    loss.backward()
    close(loss, (2 * BIG + LN2) / 2, dtype)
    # ∂/∂s = (softmax(s) - one_hot(y)) / N
    softmax = np.exp(log_softmax_ref(logits))
    expected = (softmax - np.eye(3)[labels]) / 2
    assert_finite(s.grad)
    close(s.grad, expected, dtype, atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_with_huge_logits_and_probability_targets(dtype):
    logits = [[BIG, -BIG, 0.0], [BIG, BIG, -BIG]]
    targets = np.array([[0.5, 0.0, 0.5], [0.25, 0.25, 0.5]])
    s = leaf(logits, dtype)
    loss = F.cross_entropy(s, minigen.tensor(targets, dtype=dtype), reduction="sum")
    loss.backward()
    expected = -(targets * log_softmax_ref(logits)).sum()
    close(loss, expected, dtype)
    # ∂/∂s = softmax(s) · Σ_c t_c - t  (rows of t sum to 1)
    assert_finite(s.grad)
    close(s.grad, np.exp(log_softmax_ref(logits)) - targets, dtype, atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_on_probabilities_exactly_zero_and_one(dtype):
    """ln 0 is clamped at -100 as in PyTorch: the loss is 0 or 100, and gradients stay finite."""
    probs = [0.0, 1.0, 0.0, 1.0, 0.5]
    targets = [0.0, 1.0, 1.0, 0.0, 1.0]
    p = leaf(probs, dtype)
    loss = F.binary_cross_entropy(p, minigen.tensor(targets, dtype=dtype), reduction="none")
    close(loss, [0.0, 0.0, 100.0, 100.0, LN2], dtype)
    loss.sum().backward()
    assert_finite(p.grad)
    # Away from the clamp the gradient is the usual (p - y) / (p (1 - p)).
    close(p.grad[4], (0.5 - 1.0) / 0.25, dtype)
