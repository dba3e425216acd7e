"""Unpaired domains for CycleGAN: erosion and dilation against plain loops, the halves
disjoint and unpaired, everything deterministic given the seed, typeset digits."""
import numpy as np
import pytest

from minigen.data import load_digits
from minigen.data.unpaired import (DOMAIN_PAIRS, FONTS, dilate, erode, load_unpaired, negatives,
                                   render_digits, thick_strokes, thin_strokes)
from minigen.metrics import conditional_accuracy

FOOTPRINTS = {"square": [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)],
              "plus": [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]}


def reference_filter(image, reduce, footprint):
    """Plain loops: min or max over the footprint, 0 outside the image."""
    h, w = image.shape
    out = np.empty_like(image)
    for i in range(h):
        for j in range(w):
            values = [image[i + a, j + b] if 0 <= i + a < h and 0 <= j + b < w else 0.0
                      for a, b in FOOTPRINTS[footprint]]
            out[i, j] = reduce(values)
    return out


@pytest.mark.parametrize("footprint", ["square", "plus"])
def test_erode_and_dilate_match_plain_loops(footprint):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (3, 1, 9, 7)).astype("float32")
    for ours, reduce in ((erode, min), (dilate, max)):
        out = ours(images, footprint)
        assert out.shape == images.shape and out.dtype == images.dtype
        for n in range(3):
            np.testing.assert_array_equal(out[n, 0], reference_filter(images[n, 0], reduce,
                                                                      footprint))


def test_thin_and_thick_strokes_work_at_double_resolution():
    x = load_digits("test")[0][:4]
    big = x.repeat(2, axis=2).repeat(2, axis=3)[:, 0]                       # (4, 56, 56)
    for ours, reduce in ((thin_strokes, min), (thick_strokes, max)):
        expected = np.stack([reference_filter(b, reduce, "plus") for b in big])
        expected = expected.reshape(4, 28, 2, 28, 2).mean(axis=(2, 4))[:, None]
        np.testing.assert_allclose(ours(x), expected, rtol=0, atol=1e-6)
    assert (thin_strokes(x) <= x + 1e-7).all() and (x <= thick_strokes(x) + 1e-7).all()
    assert thin_strokes(x).sum() < 0.8 * x.sum() and thick_strokes(x).sum() > 1.2 * x.sum()


def test_the_classifier_still_reads_thin_and_thick_digits():
    """Why double resolution: a plain 3x3 erosion at 28x28 erases two-pixel strokes."""
    x, labels = load_digits("test")
    assert conditional_accuracy(thin_strokes(x), labels) > 0.9
    assert conditional_accuracy(thick_strokes(x), labels) > 0.9
    assert conditional_accuracy(erode(x), labels) < 0.7


def test_bad_filter_arguments():
    with pytest.raises(ValueError, match="footprint"):
        erode(np.zeros((4, 4)), "disk")
    with pytest.raises(ValueError, match=r"\(\.\.\., H, W\)"):
        dilate(np.zeros(4))


def _rows(images):
    return {np.round(image * 255).astype(np.uint8).tobytes() for image in images}  # exact keys


def test_halves_are_disjoint_cover_the_training_digits_and_are_unpaired():
    data = load_unpaired("digits-negatives", seed=3)
    train = load_digits("train")[0]
    x_rows, y_rows = _rows(data.x_train), _rows(negatives(data.y_train))   # undo the negative
    assert len(data.x_train) == len(data.y_train) == 2000
    assert not x_rows & y_rows
    assert x_rows | y_rows == _rows(train)
    assert np.mean(data.x_train_labels == data.y_train_labels) < 0.2          # no pairing
    assert not np.array_equal(data.x_train, train[:2000])                     # shuffled


def test_every_pair_uses_the_same_halves_for_a_seed():
    plain = load_unpaired("digits-negatives", seed=1, train_size=50)
    strokes = load_unpaired("thin-thick", seed=1, train_size=50)
    np.testing.assert_array_equal(strokes.x_train, thin_strokes(plain.x_train))
    np.testing.assert_allclose(strokes.y_train, thick_strokes(1 - plain.y_train), atol=1e-6)
    np.testing.assert_array_equal(strokes.y_train_labels, plain.y_train_labels)


def test_deterministic_by_seed_and_copies():
    a = load_unpaired("thin-thick", seed=5, train_size=30, test_size=5)
    a.x_train[:] = 0                                                  # ours to change
    b = load_unpaired("thin-thick", seed=5, train_size=30, test_size=5)
    c = load_unpaired("thin-thick", seed=6, train_size=30, test_size=5)
    assert b.x_train.any()
    np.testing.assert_array_equal(b.x_train, load_unpaired("thin-thick", 5, 30, 5).x_train)
    assert not np.array_equal(b.x_train, c.x_train)
    np.testing.assert_array_equal(b.x_test, c.x_test)                 # the test set is fixed


def test_thin_thick_test_set_holds_the_true_pairs():
    data = load_unpaired("thin-thick", test_size=20)
    test, labels = load_digits("test")
    assert data.paired_test and data.names == ("thin", "thick")
    np.testing.assert_array_equal(data.x_test, thin_strokes(test[:20]))
    np.testing.assert_array_equal(data.y_test, thick_strokes(test[:20]))
    np.testing.assert_array_equal(data.y_test_labels, labels[:20])


def test_handwritten_typeset_domains():
    data = load_unpaired("handwritten-typeset", seed=2, train_size=40, test_size=30)
    assert not data.paired_test
    assert data.y_train.shape == (40, 1, 28, 28) and data.y_train.dtype == np.float32
    np.testing.assert_array_equal(data.y_train, render_digits(data.y_train_labels, seed=2))
    np.testing.assert_array_equal(data.x_test, load_digits("test")[0][:30])


def test_render_digits_deterministic_and_recognizable():
    labels = np.arange(200) % 10
    images = render_digits(labels, seed=4)
    assert images.shape == (200, 1, 28, 28) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    np.testing.assert_array_equal(images, render_digits(labels, seed=4))
    assert not np.array_equal(images, render_digits(labels, seed=5))
    assert conditional_accuracy(images, labels) > 0.7    # typeset, yet mostly read right
    zeros = images[labels == 0][:, 0]
    assert zeros[:, 12:16, 12:16].mean() < 0.2 < zeros.mean(axis=0).max()   # a hole in the 0
    assert len(FONTS) >= 10


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown pair 'zebras'"):
        load_unpaired("zebras")
    with pytest.raises(ValueError, match="train_size"):
        load_unpaired(train_size=2001)
    with pytest.raises(ValueError, match="test_size"):
        load_unpaired(test_size=0)
    with pytest.raises(ValueError, match="seed"):
        load_unpaired(seed=-1)
    with pytest.raises(ValueError, match="digits 0-9"):
        render_digits([3, 10])
    assert set(DOMAIN_PAIRS) == {"thin-thick", "handwritten-typeset", "digits-negatives"}
