"""The two small data sets that ship inside minigen: 5 000 digits and 5 000 clothes.

Each file (``mnist_5k.npz``, ``fashion_mnist_5k.npz`` in this folder; sources and licences
in ``DATA_LICENSE.md``) holds 500 images of each of ten classes, sorted by class. minigen
splits each one into a fixed, **stratified** train/test pair:

* test: 100 images of each class (1 000), train: the other 400 of each class (4 000);
* the same split on every call and every machine — it comes from its own generator
  seeded with ``SPLIT_SEED``, not from ``minigen.manual_seed``, so results stay comparable;
* each split is in a fixed shuffled order, so its first images already mix the classes.

>>> from minigen.data import load_digits, DIGIT_CLASSES
>>> images, labels = load_digits("train")
>>> images.shape, images.dtype, labels.shape, labels.dtype
((4000, 1, 28, 28), dtype('float32'), (4000,), dtype('int64'))
>>> DIGIT_CLASSES[labels[0]] == str(labels[0])
True
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from minigen import backend
from minigen.data.common import check_split, to_model_arrays

HERE = Path(__file__).parent
SPLIT_SEED = 2024       # fixes the train/test split of both files, for good
TEST_PER_CLASS = 100    # of the 500 images of each class

DIGIT_CLASSES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def stratified_split(labels: Any, test_per_class: int, seed: int) -> tuple[Any, Any]:
    """Row indices ``(train, test)``: ``test_per_class`` random rows of each class go to test.

    The rows of each class are shuffled and cut; both index arrays are then shuffled again,
    so neither is sorted by class. Same labels and seed -> same indices.

    >>> from minigen import backend
    >>> train, test = stratified_split(backend.np.array([0, 0, 0, 1, 1, 1]), 1, seed=0)
    >>> len(train), len(test), sorted(backend.np.array([0, 0, 0, 1, 1, 1])[test].tolist())
    (4, 2, [0, 1])
    """
    np = backend.np
    rng = np.random.default_rng(seed)   # its own generator: minigen.manual_seed has no say
    train, test = [], []
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))   # this class's rows, shuffled
        if len(rows) < test_per_class:
            raise ValueError(f"stratified_split: class {c} has {len(rows)} rows, fewer than "
                             f"test_per_class={test_per_class}")
        test.append(rows[:test_per_class])
        train.append(rows[test_per_class:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _load_embedded(filename: str, split: str, caller: str) -> tuple[Any, Any]:
    check_split(split, caller)
    with backend.np.load(HERE / filename) as archive:
        images, labels = archive["images"], archive["labels"]   # uint8 (5000, 28, 28), (5000,)
    train, test = stratified_split(labels, TEST_PER_CLASS, SPLIT_SEED)
    rows = train if split == "train" else test
    return to_model_arrays(images[rows], labels[rows])


def load_digits(split: str = "train") -> tuple[Any, Any]:
    """Handwritten digits 0-9 from the MNIST subset shipped with minigen (CC BY-SA 3.0).

    Args:
        split: ``"train"`` (4 000 images, 400 per digit) or ``"test"`` (1 000, 100 per digit).

    Returns:
        ``(images, labels)`` as NumPy arrays (host memory): images float32 (N, 1, 28, 28) in
        [0, 1] (pixel / 255, 0 = background), labels int64 (N,) in 0-9. Wrap them in a
        ``DataLoader`` (or ``minigen.tensor``) to get tensors on the current backend.

    Raises:
        ValueError: ``split`` is not ``"train"`` or ``"test"``.

    >>> images, labels = load_digits("test")
    >>> images.shape, float(images.min()), float(images.max())
    ((1000, 1, 28, 28), 0.0, 1.0)
    """
    return _load_embedded("mnist_5k.npz", split, "load_digits")


def load_fashion(split: str = "train") -> tuple[Any, Any]:
    """Fashion-MNIST articles from the subset shipped with minigen (MIT, Zalando SE 2017).

    Same format and split sizes as ``load_digits``; label ``k`` is ``FASHION_CLASSES[k]``
    (0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker,
    8 Bag, 9 Ankle boot).

    >>> images, labels = load_fashion("train")
    >>> images.shape, FASHION_CLASSES[9]
    ((4000, 1, 28, 28), 'Ankle boot')
    """
    return _load_embedded("fashion_mnist_5k.npz", split, "load_fashion")
