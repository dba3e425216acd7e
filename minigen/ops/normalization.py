"""Normalization layers: standardize activations, then scale and shift them (γ x̂ + β).

Batch norm and instance norm compute the same x̂ = (x - μ) / σ; they differ only in the
elements that share one μ and σ. For an (N, C, H, W) batch:

    batch norm:     one μ, σ per channel c, over the N·H·W elements x[:, c, :, :]
    instance norm:  one μ, σ per image and channel (n, c), over the H·W elements x[n, c]

(layer norm would take one per image n, over C·H·W.) So one op, ``Standardize``, does the
standardizing over given axes, with a backward derived by hand; the learned per-channel
scale γ (``weight``) and shift β (``bias``) are ordinary broadcasting ops after it.
"""
from __future__ import annotations

from typing import Any

from minigen import backend, checks
from minigen.function import Context, Function
from minigen.ops.arguments import as_tensor
from minigen.ops.elementwise import sqrt
from minigen.ops.reductions import mean, var
from minigen.ops.shape import reshape
from minigen.tensor import Tensor


class Standardize(Function):
    """x̂ = (x - μ) / σ, where μ and σ² = var + eps are the mean and *biased* variance of x
    over ``axes`` (M elements per group; every group is standardized on its own).

    Backward, for one group (the sums run over its M elements; g = ∂L/∂x̂):

        ∂μ/∂x_j = 1/M,   ∂σ/∂x_j = (x_j - μ) / (M σ) = x̂_j / M   (σ² = Σ (x_k - μ)² / M + eps)

        ∂x̂_i/∂x_j = (δ_ij - 1/M) / σ - (x_i - μ)/σ² · x̂_j/M = (δ_ij - 1/M - x̂_i x̂_j / M) / σ

        ∂L/∂x_j = Σ_i g_i ∂x̂_i/∂x_j = (1/σ) (g_j - mean(g) - x̂_j · mean(g · x̂))

    The two subtracted terms remove the parts of g that would only move the mean of x̂
    (which is always 0) or its variance (always 1 - eps/σ²). In a layer y = γ x̂ + β,
    g = γ · ∂L/∂y: the multiplication by γ is done by the ``Mul`` before this op.

    The backward is written with minigen ops, so it can be differentiated again: x̂ is
    this op's own output, and σ is recomputed from x rather than saved as a constant.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...], eps: float) -> Any:
        ctx.axes, ctx.eps = axes, eps
        mu = x.mean(axis=axes, keepdims=True)
        sigma = ctx.xp.sqrt(x.var(axis=axes, keepdims=True) + eps)
        x_hat = (x - mu) / sigma
        ctx.save_for_backward(x, x_hat)
        return x_hat

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x, x_hat = ctx.saved_tensors                                      # input, output
        # BEGIN SOLUTION instance_norm_backward
        axes = ctx.axes
        sigma = sqrt(var(x, axes, keepdim=True, correction=0) + ctx.eps)  # 1 per group
        mean_g = mean(grad, axes, keepdims=True)                          # 1 per group
        mean_g_x_hat = mean(grad * x_hat, axes, keepdims=True)            # 1 per group
        return (grad - mean_g - x_hat * mean_g_x_hat) / sigma
        # END SOLUTION


def standardize(x: Any, axes: tuple[int, ...], eps: float = 1e-5) -> Tensor:
    """(x - mean) / √(var + eps) over ``axes`` (the biased variance), one group per
    combination of the other axes. (Not PyTorch's ``F.normalize``, which divides by a norm.)"""
    x = as_tensor(x)
    return Standardize.apply(x, axes=tuple(sorted(a % x.ndim for a in axes)), eps=float(eps))


def instance_norm(input: Any, weight: Any = None, bias: Any = None,  # noqa: A002
                  eps: float = 1e-5) -> Tensor:
    """Instance normalization of ``input`` (N, C, H, W): every image's every channel is
    standardized over its H·W pixels, then scaled by ``weight`` (C,) and shifted by
    ``bias`` (C,) when given, as ``torch.nn.functional.instance_norm``
    (with ``use_input_stats=True``, no running statistics).

    >>> import minigen
    >>> x = minigen.tensor([[[[1.0, 3.0]], [[10.0, 14.0]]]])      # (1, 2, 1, 2)
    >>> instance_norm(x, eps=0.0).tolist()                         # μ = 2, σ = 1; μ = 12, σ = 2
    [[[[-1.0, 1.0]], [[-1.0, 1.0]]]]
    """
    x = as_tensor(input)
    if x.ndim != 4:
        raise ValueError(f"instance_norm: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    _check_common("instance_norm", x, eps, {"weight": weight, "bias": bias})
    if x.shape[2] * x.shape[3] < 2:
        raise ValueError(f"instance_norm: needs more than one pixel per channel to normalize, "
                         f"got shape {x.shape}")
    return _affine(standardize(x, (2, 3), eps), weight, bias)


def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None,  # noqa: A002
               eps: float = 1e-5) -> Tensor:
    """Group normalization of ``input`` (N, C, ...): the C channels are cut into
    ``num_groups`` groups of C/G, and each image's each group is standardized over its
    C/G·H·W values; then scaled by ``weight`` (C,) and shifted by ``bias`` (C,) when given,
    as ``torch.nn.functional.group_norm``. G = C is instance norm, G = 1 layer norm.

    It is a reshape to (N, G, C/G·H·W), ``standardize`` over the last axis, and the reshape
    back.
    """
    x = as_tensor(input)
    if x.ndim < 2:
        raise ValueError(f"group_norm: expected an input (N, C, ...), got shape {x.shape}")
    groups = checks.positive_int("group_norm", "num_groups", num_groups)
    if x.shape[1] % groups:
        raise ValueError(f"group_norm: {x.shape[1]} channels (shape {x.shape}) cannot be cut "
                         f"into num_groups={groups} equal groups")
    _check_common("group_norm", x, eps, {"weight": weight, "bias": bias})
    grouped = reshape(x, (x.shape[0], groups, x.numel() // max(x.shape[0] * groups, 1)))
    return _affine(reshape(standardize(grouped, (2,), eps), x.shape), weight, bias)


def batch_norm(input: Any, running_mean: Any, running_var: Any,  # noqa: A002
               weight: Any = None, bias: Any = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization of ``input`` (N, C), (N, C, L) or (N, C, H, W), per channel,
    as ``torch.nn.functional.batch_norm``.

    Training: standardize with the batch's mean and biased variance over all axes but C,
    and update ``running_mean`` and ``running_var`` (C,) in place, if given:

        running_mean ← (1 - momentum) · running_mean + momentum · batch mean
        running_var  ← (1 - momentum) · running_var  + momentum · unbiased batch variance

    (the unbiased variance, Σ (x - μ)² / (M - 1), is PyTorch's convention for the running
    estimate.) Evaluation: standardize with the running statistics, an affine map of x.
    Then scale by ``weight`` (C,) and shift by ``bias`` (C,) when given.

    >>> import minigen
    >>> x = minigen.tensor([[1.0], [3.0]])                       # N = 2, C = 1
    >>> mean, var = minigen.zeros(1), minigen.ones(1)
    >>> batch_norm(x, mean, var, training=True, momentum=0.5, eps=0.0).tolist()
    [[-1.0], [1.0]]
    >>> mean.tolist(), var.tolist()          # ½·0 + ½·2 and ½·1 + ½·2 (unbiased: 2, not 1)
    ([1.0], [1.5])
    """
    x = as_tensor(input)
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"batch_norm: expected a 2-D (N, C), 3-D (N, C, L) or 4-D (N, C, H, W) "
                         f"input, got shape {x.shape}")
    _check_common("batch_norm", x, eps, {"weight": weight, "bias": bias,
                                         "running_mean": running_mean, "running_var": running_var})
    axes = (0,) + tuple(range(2, x.ndim))                   # every axis but the channels
    count = x.numel() // x.shape[1]                            # M: elements per channel
    if training:
        if count < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, "
                             f"got shape {x.shape}")
        checks.in_range("batch_norm", "momentum", momentum, 0, 1)
        out = standardize(x, axes, eps)
        _update_running_stats(x, axes, running_mean, running_var, momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation (training=False) needs running_mean and "
                             "running_var")
        mu = _per_channel(as_tensor(running_mean).detach(), x.ndim)
        sigma = sqrt(_per_channel(as_tensor(running_var).detach(), x.ndim) + float(eps))
        out = (x - mu) / sigma
    return _affine(out, weight, bias)


def _update_running_stats(x: Tensor, axes: tuple[int, ...], running_mean: Any,
                          running_var: Any, momentum: float) -> None:
    """The in-place moving averages of batch norm (no graph: they are statistics, not results)."""
    data = x.data
    if running_mean is not None:
        running_mean.data[...] = ((1 - momentum) * running_mean.data
                                  + momentum * data.mean(axis=axes))
    if running_var is not None:
        running_var.data[...] = ((1 - momentum) * running_var.data
                                 + momentum * data.var(axis=axes, ddof=1))


def _per_channel(t: Tensor, ndim: int) -> Tensor:
    """A (C,) tensor as (1, C, 1, ...) so it broadcasts over an ndim-D (N, C, ...) input."""
    return reshape(t, (1, t.shape[0]) + (1,) * (ndim - 2))


def _affine(x_hat: Tensor, weight: Any, bias: Any) -> Tensor:
    """γ x̂ + β with per-channel γ (``weight``) and β (``bias``), each optional."""
    if weight is not None:
        x_hat = x_hat * _per_channel(as_tensor(weight), x_hat.ndim)
    if bias is not None:
        x_hat = x_hat + _per_channel(as_tensor(bias), x_hat.ndim)
    return x_hat


def _check_common(name: str, x: Tensor, eps: float, per_channel: dict[str, Any]) -> None:
    """A floating input, eps ≥ 0, and every per-channel argument a (C,) tensor."""
    if not backend.is_floating(x.data):
        raise TypeError(f"{name}: expected a floating-point input, got dtype {x.dtype}")
    checks.in_range(name, "eps", eps, 0)
    channels = x.shape[1]
    for arg, value in per_channel.items():
        if value is None:
            continue
        if arg.startswith("running") and not isinstance(value, Tensor):
            raise TypeError(f"{name}: {arg} must be a Tensor (it is updated in place), "
                            f"got {type(value).__name__}")
        shape = as_tensor(value).shape
        if shape != (channels,):
            raise ValueError(f"{name}: {arg} must have shape ({channels},) for an input with "
                             f"{channels} channels (shape {x.shape}), got shape {shape}")
