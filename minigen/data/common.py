"""What every minigen data loader returns, and the split names it accepts.

Images are stored as bytes (uint8, 0 = background, 255 = full ink) of shape (N, H, W).
Models want floats in [0, 1] with a channel axis, and integer class labels::

    images: uint8 (N, H, W)  ->  float32 (N, 1, H, W),  x = pixel / 255
    labels: any integer (N,) ->  int64 (N,)

>>> from minigen import backend
>>> pixels = backend.np.array([[[0, 255], [255, 0]]], dtype="uint8")   # one 2x2 image
>>> images, labels = to_model_arrays(pixels, backend.np.array([7], dtype="uint8"))
>>> images.shape, images.dtype, images[0, 0].tolist()
((1, 1, 2, 2), dtype('float32'), [[0.0, 1.0], [1.0, 0.0]])
>>> labels.dtype, labels.tolist()
(dtype('int64'), [7])
"""
from __future__ import annotations

from typing import Any

from minigen import backend

SPLITS = ("train", "test")


def check_split(split: Any, caller: str) -> None:
    """Raise ValueError unless ``split`` is one of ``SPLITS``, naming the caller and the choices."""
    if not isinstance(split, str) or split not in SPLITS:
        raise ValueError(f"{caller}: unknown split {split!r}; expected one of "
                         + ", ".join(repr(s) for s in SPLITS))


def to_model_arrays(images: Any, labels: Any) -> tuple[Any, Any]:
    """uint8 images (N, H, W) and labels (N,) -> float32 (N, 1, H, W) in [0, 1] and int64 (N,).

    Both are NumPy arrays (host memory); ``minigen.tensor`` or a ``DataLoader`` moves them to
    the current backend.
    """
    np = backend.np
    # Divide in float32: the result is exactly what float32 training code will see.
    floats = images.astype(np.float32) / np.float32(255)    # (N, H, W)
    return floats[:, None, :, :], labels.astype(np.int64)    # (N, 1, H, W), (N,)
