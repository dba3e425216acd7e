"""What the models of the course share: the image shape, the classes, where a model's
parameters live and the noise z ~ N(0, I)."""
from __future__ import annotations

from typing import Any

from minigen import backend, nn
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
