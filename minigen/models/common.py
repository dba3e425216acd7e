"""What the models of the course share: the image shape, the classes, where a model's
parameters live, the noise z ~ N(0, I) and one-hot labels."""
from __future__ import annotations

from typing import Any

from minigen import backend, checks, nn
from minigen.ops import one_hot
from minigen.tensor import Tensor

IMAGE_SHAPE = (1, 28, 28)
NUM_CLASSES = 10


def array_module_of(model: nn.Module) -> Any:
    """NumPy or CuPy: where the model's parameters live (new tensors go there too)."""
    return backend.array_module(next(iter(model.parameters())).data)


def standard_normal(model: nn.Module, n: int, latent_dim: int) -> Tensor:
    """z ~ N(0, I) of shape (n, latent_dim), from minigen's seeded generator."""
    xp = array_module_of(model)
    z = backend.rng(xp).standard_normal((n, latent_dim))
    return Tensor(z.astype(backend.get_default_dtype()))


def one_hot_labels(owner: str, labels: Any, n: int, num_classes: int, xp: Any) -> Tensor:
    """Labels (n,) of integers in [0, num_classes) as one-hot rows (n, num_classes) on ``xp``."""
    if labels is None:
        raise ValueError(f"{owner}: labels are required (the model is conditional)")
    array = labels.data if isinstance(labels, Tensor) else labels
    array = backend.to_module(backend.to_numpy(array) if not backend.is_array(array)
                              else array, xp)
    if array.ndim != 1 or array.shape[0] != n:
        raise ValueError(f"{owner}: labels must have shape ({n},), one per image, "
                         f"got {tuple(array.shape)}")
    checks.indices_in_range(owner, "labels", array, num_classes)
    return one_hot(array, num_classes)   # (n, num_classes)
