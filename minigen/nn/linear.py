"""``Linear`` (a fully connected layer) and ``Identity``."""
from __future__ import annotations

from typing import Any

from minigen import backend, checks
from minigen import functional as F
from minigen.nn import init
from minigen.nn.module import Module
from minigen.nn.parameter import Parameter
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor


class Linear(Module):
    """y = x Wᵀ + b, applied to the last axis of x.

    Shapes: x (..., in_features) -> y (..., out_features); W (out_features, in_features),
    b (out_features,). Storing W as (out, in), as PyTorch does, makes row i the weights
    of output i.

    Initialization (PyTorch's default): W and b ~ U(-1/√in_features, 1/√in_features),
    which is ``kaiming_uniform_(W, a=√5)``.

    >>> import minigen
    >>> from minigen import nn
    >>> layer = nn.Linear(3, 2)
    >>> layer.weight.shape, layer.bias.shape
    ((2, 3), (2,))
    >>> layer(minigen.ones(4, 3)).shape
    (4, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features = checks.positive_int("Linear", "in_features", in_features)
        self.out_features = checks.positive_int("Linear", "out_features", out_features)
        dtype = backend.get_default_dtype()
        self.weight = Parameter(backend.xp.empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(backend.xp.empty((out_features,), dtype=dtype))
        else:
            self.register_parameter("bias", None)  # the slot exists, so self.bias is None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights: U(±1/√in_features) for W and b, as PyTorch."""
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear({self.extra_repr()}): input of shape {x.shape} does not fit weight of "
                f"shape {self.weight.shape}; the input's last dimension must be "
                f"in_features={self.in_features}, i.e. shape (..., {self.in_features})")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """y = x: a placeholder layer (e.g. to switch a block off without changing the code)."""

    def forward(self, x: Any) -> Any:
        return x
