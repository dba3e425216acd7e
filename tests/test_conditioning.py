"""Conditioning on a class: [z, onehot(y)] and [x, planes(y)], checked element by element,
and the label errors every conditional model shares."""
import pytest

import minigen
from minigen import backend
from minigen.generative.conditioning import one_hot_labels, with_label, with_label_planes

np = backend.np


def test_with_label_appends_the_one_hot_row():
    h = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = with_label(minigen.tensor(h), [2, 0], num_classes=4, owner="test").numpy()
    expected = np.array([[0, 1, 2, 0, 0, 1, 0], [3, 4, 5, 1, 0, 0, 0]], dtype=np.float32)
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float32


def test_with_label_planes_appends_one_constant_plane_per_class():
    x = np.random.default_rng(0).random((3, 2, 5, 4))            # float64 stays float64
    labels = np.array([1, 0, 1])
    out = with_label_planes(minigen.tensor(x, dtype=np.float64), labels, 3, "test").numpy()
    assert out.shape == (3, 2 + 3, 5, 4) and out.dtype == np.float64
    np.testing.assert_array_equal(out[:, :2], x)                   # the image, untouched
    for i, y in enumerate(labels):
        for k in range(3):                                         # plane k: 1 where y = k
            np.testing.assert_array_equal(out[i, 2 + k], np.full((5, 4), float(k == y)))


def test_the_gradient_reaches_the_input_not_the_labels():
    x = minigen.tensor(np.ones((2, 1, 3, 3)), requires_grad=True)
    with_label_planes(x, [0, 1], 2, "test").sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 1, 3, 3)))
    z = minigen.tensor(np.ones((2, 4)), requires_grad=True)
    (with_label(z, [0, 1], 2, "test") * 3).sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), np.full((2, 4), 3.0))


@pytest.mark.parametrize("labels, message", [
    (None, "G: labels are required"),
    ([0, 1], r"G: labels must have shape \(3,\), one per image, got \(2,\)"),
    ([0, 1, 4], "G: labels"),                                      # outside [0, 4)
    ([0, -1, 2], "G: labels"),
])
def test_bad_labels_are_refused_naming_the_caller(labels, message):
    with pytest.raises(ValueError, match=message):
        one_hot_labels("G", labels, 3, 4, np)
    with pytest.raises(ValueError, match=message):
        with_label(minigen.zeros(3, 2), labels, 4, "G")
    with pytest.raises(ValueError, match=message):
        with_label_planes(minigen.zeros(3, 1, 2, 2), labels, 4, "G")


def test_labels_as_list_array_or_integer_tensor_agree():
    z = minigen.zeros(2, 1)
    expected = with_label(z, [3, 1], 4, "test").numpy()
    for labels in (np.array([3, 1]), minigen.tensor(np.array([3, 1]))):
        np.testing.assert_array_equal(with_label(z, labels, 4, "test").numpy(), expected)
