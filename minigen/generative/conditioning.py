"""Conditioning on a class (*condicionamiento*): how a CGAN and a CVAE tell a network y.

The conditional GAN (Mirza & Osindero 2014) and the conditional VAE give their networks
the label y as extra input, one-hot encoded: onehot(y)_k = 1 if k = y else 0.

* A vector input (the generator's noise z, the CVAE's features and code) gets the
  one-hot row appended::

      [z, onehot(y)]        (N, Z) -> (N, Z + K)

* An image input (the CGAN discriminator's x) gets K constant planes, plane k all ones
  where y = k, so every convolution window sees the label::

      [x, planes(y)]        (N, C, H, W) -> (N, C + K, H, W)

>>> import minigen
>>> z = minigen.zeros(2, 3)
>>> with_label(z, [1, 0], num_classes=4, owner="example").numpy().tolist()
[[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]]
>>> with_label_planes(minigen.zeros(2, 1, 5, 5), [1, 0], 4, "example").shape
(2, 5, 5, 5)
"""
from __future__ import annotations

from typing import Any

from minigen import backend, checks
from minigen.ops import concat, one_hot
from minigen.tensor import Tensor


def one_hot_labels(owner: str, labels: Any, n: int, num_classes: int, xp: Any) -> Tensor:
    """Labels (n,) of integers in [0, num_classes) -- a list, an array or an integer
    Tensor -- as one-hot rows (n, num_classes) on ``xp`` (NumPy or CuPy), checked first:
    ``owner`` names the caller in the error."""
    if labels is None:
        raise ValueError(f"{owner}: labels are required (the model is conditional)")
    array = labels.data if isinstance(labels, Tensor) else labels
    array = backend.to_module(backend.to_numpy(array) if not backend.is_array(array)
                              else array, xp)
    if array.ndim != 1 or array.shape[0] != n:
        raise ValueError(f"{owner}: labels must have shape ({n},), one per image, "
                         f"got {tuple(array.shape)}")
    checks.indices_in_range(owner, "labels", array, num_classes)
    return one_hot(array, num_classes)                                   # (n, K)


def with_label(h: Tensor, labels: Any, num_classes: int, owner: str) -> Tensor:
    """[h, onehot(y)]: vectors h (N, F) with their labels' one-hot rows -> (N, F + K)."""
    y = one_hot_labels(owner, labels, h.shape[0], num_classes,
                       backend.array_module(h.data))                     # (N, K)
    return concat([h, y], axis=1)                                        # (N, F + K)


def with_label_planes(x: Tensor, labels: Any, num_classes: int, owner: str) -> Tensor:
    """[x, planes(y)]: images x (N, C, H, W) with K constant planes, plane k all ones
    where y = k -> (N, C + K, H, W)."""
    n, _, height, width = x.shape
    xp = backend.array_module(x.data)
    y = one_hot_labels(owner, labels, n, num_classes, xp)                # (N, K)
    ones = xp.ones((1, 1, height, width), dtype=x.dtype)                 # (1, 1, H, W)
    planes = Tensor(y.data[:, :, None, None].astype(x.dtype) * ones)     # (N, K, H, W)
    return concat([x, planes], axis=1)                                   # (N, C + K, H, W)
