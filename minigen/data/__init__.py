"""Data for the course: two small sets shipped with minigen, the full MNIST, mini-batches.

* ``load_digits`` / ``load_fashion``: 5 000 MNIST digits / Fashion-MNIST articles that
  ship with the package, split 4 000 train / 1 000 test (stratified, always the same).
* ``load_mnist`` / ``load_fashion_mnist``: the full sets (60 000 / 10 000) from their IDX
  files in a folder you downloaded them to (or ``$MINIGEN_DATA/mnist``,
  ``$MINIGEN_DATA/fashion_mnist``).
* ``DataLoader``: mini-batches of minigen tensors, shuffled reproducibly.

Every loader returns NumPy arrays (host memory) ``(images, labels)``: images float32
(N, 1, 28, 28) in [0, 1], labels int64 (N,). The ``DataLoader`` turns batches of them into
tensors on the current backend (CPU or GPU).

>>> from minigen.data import DataLoader, load_digits
>>> images, labels = load_digits("train")
>>> for x, y in DataLoader((images, labels), batch_size=64, shuffle=True, seed=0):
...     break
>>> x.shape, y.shape
((64, 1, 28, 28), (64,))
"""
from minigen.data.common import SPLITS, to_model_arrays
from minigen.data.embedded import DIGIT_CLASSES, FASHION_CLASSES, load_digits, load_fashion
from minigen.data.idx import load_fashion_mnist, load_mnist, parse_idx, read_idx
from minigen.data.loader import DataLoader
from minigen.data.unpaired import DOMAIN_PAIRS, UnpairedDigits, load_unpaired, render_digits

__all__ = ["DIGIT_CLASSES", "DOMAIN_PAIRS", "FASHION_CLASSES", "SPLITS", "DataLoader",
           "UnpairedDigits", "load_unpaired", "render_digits", "load_digits",
           "load_fashion", "load_fashion_mnist", "load_mnist", "parse_idx", "read_idx",
           "to_model_arrays"]
