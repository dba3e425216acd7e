"""Normalization layers: ``BatchNorm2d``, ``GroupNorm`` and ``InstanceNorm2d``.

Both standardize x̂ = (x - μ) / √(σ² + eps) and then scale and shift, y = γ x̂ + β, with
one (γ, β) per channel. They differ in which values share μ and σ²:

* batch norm: one channel of the whole batch (N·H·W values), so a sample's output
  depends on the rest of its batch; at evaluation it uses running averages instead;
* instance norm: one channel of one image (H·W values), the same in training and
  evaluation (CycleGAN's choice: a style is a per-image statistic).
"""
from __future__ import annotations

from typing import Any

from minigen import backend, checks
from minigen.nn.module import Module
from minigen.nn.parameter import Parameter
from minigen.ops import batch_norm, group_norm, instance_norm
from minigen.tensor import Tensor


def _check_features(name: str, num_features: int, x: Tensor) -> None:
    if x.ndim != 4 or x.shape[1] != num_features:
        raise ValueError(f"{name}({num_features}): expected input (N, {num_features}, H, W), "
                         f"got shape {x.shape}")


def _affine_parameters(layer: Module, num_features: int, affine: bool) -> None:
    """γ = ``layer.weight`` (ones) and β = ``layer.bias`` (zeros) per channel, or None."""
    if affine:
        dtype = backend.get_default_dtype()
        layer.weight = Parameter(backend.xp.ones(num_features, dtype=dtype))
        layer.bias = Parameter(backend.xp.zeros(num_features, dtype=dtype))
    else:
        layer.register_parameter("weight", None)
        layer.register_parameter("bias", None)


class BatchNorm2d(Module):
    """Batch normalization over (N, H, W) for each of ``num_features`` channels.

    Training: μ, σ² of the batch (biased variance), and running averages updated as
    running ← (1 - momentum)·running + momentum·batch statistic (unbiased variance for
    ``running_var``, as PyTorch). Evaluation (``model.eval()``): the running averages.
    Parameters γ = ``weight`` (ones) and β = ``bias`` (zeros) when ``affine``; buffers
    ``running_mean`` (zeros) and ``running_var`` (ones), saved in ``state_dict``.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum, self.affine = num_features, eps, momentum, affine
        _affine_parameters(self, num_features, affine)
        dtype = backend.get_default_dtype()
        self.register_buffer("running_mean", Tensor(backend.xp.zeros(num_features, dtype=dtype)))
        self.register_buffer("running_var", Tensor(backend.xp.ones(num_features, dtype=dtype)))

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        _check_features("BatchNorm2d", self.num_features, x)
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          training=self.training, momentum=self.momentum, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class GroupNorm(Module):
    """Group normalization (Wu & He, 2018): each image's channels are cut into
    ``num_groups`` groups, each standardized over its C/G·H·W values (``F.group_norm``);
    no running statistics, so the same in training and evaluation, for any batch size.
    γ = ``weight`` (ones) and β = ``bias`` (zeros) per channel when ``affine``.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True) -> None:
        super().__init__()
        self.num_groups = checks.positive_int("GroupNorm", "num_groups", num_groups)
        self.num_channels = checks.positive_int("GroupNorm", "num_channels", num_channels)
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} cannot be cut into "
                             f"num_groups={num_groups} equal groups")
        self.eps, self.affine = eps, affine
        _affine_parameters(self, num_channels, affine)

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected input "
                             f"(N, {self.num_channels}, ...), got shape {x.shape}")
        return group_norm(x, self.num_groups, self.weight, self.bias, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class InstanceNorm2d(Module):
    """Instance normalization: each image's each channel standardized over its H×W pixels.

    No running statistics: it computes the same in training and evaluation. With
    ``affine=True`` it learns γ (ones) and β (zeros) per channel; PyTorch's default,
    and CycleGAN's, is ``affine=False``.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = False) -> None:
        super().__init__()
        self.num_features, self.eps, self.affine = num_features, eps, affine
        _affine_parameters(self, num_features, affine)

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        _check_features("InstanceNorm2d", self.num_features, x)
        return instance_norm(x, self.weight, self.bias, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, affine={self.affine}"
