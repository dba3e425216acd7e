"""The sample metrics must rank real digits above shuffled pixels and noise."""
import math

import numpy as np
import pytest

from minigen import metrics
from minigen.data import load_digits


@pytest.fixture(scope="module")
def digits():
    test_x, test_y = load_digits("test")
    train_x, _ = load_digits("train")
    rng = np.random.default_rng(0)
    shuffled = test_x.reshape(len(test_x), -1).copy()
    rng.permuted(shuffled, axis=1, out=shuffled)              # each image's pixels scrambled
    noise = rng.random(test_x.shape).astype(np.float32)
    return dict(test=test_x, labels=test_y, train=train_x[:1000],
                shuffled=shuffled.reshape(test_x.shape), noise=noise)


def test_class_histogram_and_kl_to_uniform(digits):
    counts = metrics.class_histogram(digits["test"])
    assert counts.sum() == 1000 and np.all(counts >= 80)      # 100 per class, 98% recognized
    assert metrics.kl_to_uniform(counts) < 0.01
    ones = digits["test"][digits["labels"] == 1]
    assert metrics.kl_to_uniform(metrics.class_histogram(ones)) > 2.0   # ln 10 = 2.30: collapse
    assert metrics.kl_to_uniform([5, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == pytest.approx(math.log(10))


def test_inception_score_ranks_real_above_shuffled_and_noise(digits):
    real = metrics.inception_score(digits["test"])
    assert real > 8.0                                         # 10 classes, confidently
    assert metrics.inception_score(digits["shuffled"]) < real / 2
    assert metrics.inception_score(digits["noise"]) < real / 2


def test_frechet_digit_distance_ranks_real_closest(digits):
    real_vs_real = metrics.frechet_digit_distance(digits["test"], digits["train"])
    shuffled = metrics.frechet_digit_distance(digits["test"], digits["shuffled"])
    noise = metrics.frechet_digit_distance(digits["test"], digits["noise"])
    assert real_vs_real < shuffled / 10 and real_vs_real < noise / 10
    same = metrics.frechet_digit_distance(digits["test"], digits["test"])
    assert abs(same) < 1e-6 * real_vs_real + 1e-4  # 0 up to rounding in the eigensolves


def test_frechet_distance_of_known_gaussians():
    # 1-D: (μ₁ - μ₂)² + σ₁² + σ₂² - 2σ₁σ₂ = (μ₁ - μ₂)² + (σ₁ - σ₂)²
    d = metrics.frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([3.0]), np.array([[1.0]]))
    assert d == pytest.approx(4.0 + 1.0)
    # diagonal covariances: a sum over dimensions
    d2 = metrics.frechet_distance(np.zeros(2), np.diag([1.0, 9.0]), np.zeros(2), np.diag([4.0, 1.0]))
    assert d2 == pytest.approx((1 - 2) ** 2 + (3 - 1) ** 2)


def test_conditional_accuracy_and_confidence(digits):
    assert metrics.conditional_accuracy(digits["test"], digits["labels"]) >= 0.97
    wrong = (digits["labels"] + 1) % 10
    assert metrics.conditional_accuracy(digits["test"], wrong) < 0.05
    assert metrics.mean_confidence(digits["test"]) > metrics.mean_confidence(digits["noise"])
    with pytest.raises(ValueError, match=r"expected images \(N, 1, 28, 28\)"):
        metrics.class_histogram(np.zeros((3, 28, 28)))
