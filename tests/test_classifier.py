"""DigitClassifier: the shipped weights are measured on the 1 000 test digits, and training
from scratch really lowers the loss."""
import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen.data import DataLoader, load_digits
from minigen.models import DigitClassifier
from minigen.training.classifier import shift_images
from minigen.optim import Adam


def test_shipped_weights_reach_97_percent_on_the_test_digits():
    images, labels = load_digits("test")
    model = DigitClassifier(pretrained=True)
    assert not model.training
    with mg.no_grad():
        predicted, probs = model.predict(mg.tensor(images))
    accuracy = float((predicted.numpy() == labels).mean())
    assert accuracy >= 0.97, accuracy
    assert np.allclose(probs.numpy().sum(axis=1), 1, atol=1e-5)


def test_training_from_scratch_lowers_the_loss():
    mg.manual_seed(0)
    images, labels = load_digits("train")
    model = DigitClassifier()
    optimizer = Adam(model.parameters(), lr=1e-3)
    batches = DataLoader((images[:1280], labels[:1280]), 64, shuffle=True, seed=0)
    losses = []
    for _ in range(2):
        for x, y in batches:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    # chance level is ln 10 = 2.30; 40 steps take it well below
    assert np.mean(losses[:3]) > 2.0
    assert np.mean(losses[-5:]) < 1.0, losses


def test_features_and_input_checks():
    model = DigitClassifier(pretrained=True)
    assert model.embed(mg.zeros(3, 1, 28, 28)).shape == (3, 128)
    with pytest.raises(ValueError, match=r"expected images \(N, 1, 28, 28\)"):
        model(mg.zeros(3, 28, 28))


def test_shift_images_moves_whole_images():
    rng = np.random.default_rng(0)
    images = np.zeros((5, 1, 28, 28), dtype=np.float32)
    images[:, 0, 10:18, 12:16] = 1
    shifted = shift_images(images, 2, rng)
    assert shifted.shape == images.shape
    assert np.all(shifted.sum(axis=(1, 2, 3)) == images.sum(axis=(1, 2, 3)))  # nothing cut off
    assert not np.array_equal(shifted, images)


def test_loading_the_pretrained_judge_leaves_the_random_stream_alone():
    """A run must not depend on whether a metric loaded the judge before it."""
    mg.manual_seed(0)
    expected = mg.randn(5).numpy()
    mg.manual_seed(0)
    DigitClassifier(pretrained=True)
    np.testing.assert_array_equal(mg.randn(5).numpy(), expected)
    mg.manual_seed(0)
    DigitClassifier()                      # an untrained one draws its weights as usual
    assert not np.array_equal(mg.randn(5).numpy(), expected)
