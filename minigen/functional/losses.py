"""Loss functions, with PyTorch's names, arguments and ``reduction`` rule.

``reduction="mean"`` averages over every element, ``"sum"`` adds them, ``"none"`` keeps
the elementwise losses. Inputs and targets must have the same shape: a loss never
broadcasts silently (a (N, 1) prediction against an (N,) target would give an (N, N)
loss).
"""
from __future__ import annotations

from typing import Any

from minigen import backend, checks
from minigen.ops import abs, clip, getitem, log, log_softmax, mean, softplus, sum, where
from minigen.ops.arguments import as_tensor, as_tensors
from minigen.tensor import Tensor


def apply_reduction(loss: Tensor, reduction: str, name: str) -> Tensor:
    """``loss`` reduced as PyTorch's ``reduction`` argument says ("mean", "sum" or "none");
    ``name`` is the loss named in the error for any other value."""
    checks.one_of(name, "reduction", reduction, ("mean", "sum", "none"))
    if reduction == "mean":
        return mean(loss)
    return sum(loss) if reduction == "sum" else loss


def _same_shape(name: str, input: Tensor, target: Tensor) -> None:  # noqa: A002
    if input.shape != target.shape:
        raise ValueError(f"{name}: input shape {input.shape} and target shape {target.shape} "
                         "differ; losses compare elementwise and never broadcast")


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Squared error (x - y)², reduced."""
    input, target = as_tensors(input, target)
    _same_shape("mse_loss", input, target)
    diff = input - target
    return apply_reduction(diff * diff, reduction, "mse_loss")


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Absolute error |x - y|, reduced."""
    input, target = as_tensors(input, target)
    _same_shape("l1_loss", input, target)
    return apply_reduction(abs(input - target), reduction, "l1_loss")


def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """-[y ln p + (1 - y) ln(1 - p)] for probabilities p in [0, 1].

    Like PyTorch, each log is clamped at -100, so p = 0 or 1 gives a large finite loss
    instead of infinity. Prefer ``binary_cross_entropy_with_logits``: it is exact for
    any logit.
    """
    input, target = as_tensors(input, target)
    _same_shape("binary_cross_entropy", input, target)
    log_p, log_1mp = _clamped_log(input), _clamped_log(1 - input)
    return apply_reduction(-(target * log_p + (1 - target) * log_1mp), reduction, "binary_cross_entropy")


def _clamped_log(p: Tensor) -> Tensor:
    """max(ln p, -100), with a finite gradient also where p <= 0.

    ln is only evaluated where p > 0 (elsewhere on a harmless 1): ln 0 = -inf would make
    the backward compute 0 / 0 = nan even though the clamp passes no gradient there.
    """
    positive = p.data > 0
    return where(positive, clip(log(where(positive, p, 1.0)), min=-100.0), -100.0)


def binary_cross_entropy_with_logits(input: Any, target: Any,  # noqa: A002
                                     reduction: str = "mean") -> Tensor:
    """BCE of σ(s) against y, computed from the logit s without forming σ(s):

        -[y ln σ(s) + (1 - y) ln(1 - σ(s))] = softplus(s) - y·s

    since ln σ(s) = -softplus(-s) and ln(1 - σ(s)) = -softplus(s). Finite for any s.
    """
    input, target = as_tensors(input, target)
    _same_shape("binary_cross_entropy_with_logits", input, target)
    return apply_reduction(softplus(input) - target * input, reduction, "binary_cross_entropy_with_logits")


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Softmax cross-entropy of logits (N, C) against class indices (N,):
    -log softmax(s)[y] = logsumexp(s) - s_y.

    ``target`` may also hold class probabilities of shape (N, C): then the loss is
    -Σ_c y_c log softmax(s)_c.
    """
    input = as_tensor(input)
    target_t = target if isinstance(target, Tensor) else Tensor(
        backend.to_module(backend.np.asarray(target), backend.array_module(input.data)))
    if input.ndim != 2:
        raise ValueError(f"cross_entropy: input must be logits of shape (N, C), got {input.shape}")
    log_p = log_softmax(input, axis=1)  # (N, C)
    if target_t.dtype.kind in "iu":
        if target_t.shape != (input.shape[0],):
            raise ValueError(f"cross_entropy: class-index target must have shape "
                             f"({input.shape[0]},), got {target_t.shape}")
        labels = checks.indices_in_range("cross_entropy", "class indices", target_t.data,
                                         input.shape[1])
        rows = backend.array_module(labels).arange(input.shape[0])
        loss = -getitem(log_p, (rows, labels))  # (N,)
    else:
        _same_shape("cross_entropy", input, target_t)
        loss = -sum(target_t * log_p, axis=1)
    return apply_reduction(loss, reduction, "cross_entropy")
