"""Loss functions, with PyTorch's names, arguments and ``reduction`` rule.

``reduction="mean"`` averages over every element, ``"sum"`` adds them, ``"none"`` keeps
the elementwise losses. Inputs and targets must have the same shape: a loss never
broadcasts silently (a (N, 1) prediction against an (N,) target would give an (N, N)
loss).
"""
from __future__ import annotations

from typing import Any

from minigen import backend, checks
from minigen.ops import abs, clip, exp, getitem, log, log_softmax, mean, softplus, sum, where
from minigen.ops.arguments import as_tensor, as_tensors
from minigen.tensor import Tensor


def apply_reduction(loss: Tensor, reduction: str, name: str,
                    allowed: tuple[str, ...] = ("mean", "sum", "none")) -> Tensor:
    """``loss`` reduced as PyTorch's ``reduction`` argument says ("mean", "sum" or "none";
    "batchmean", the sum over the batch size, where ``allowed`` has it); ``name`` is the
    loss named in the error for any other value."""
    checks.one_of(name, "reduction", reduction, allowed)
    if reduction == "batchmean":
        return sum(loss) * (1.0 / loss.shape[0]) if loss.ndim else sum(loss)
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
    for name, t in (("input", input), ("target", target)):     # as PyTorch: a range error
        values = t.data
        if values.size and not (values.min() >= 0 and values.max() <= 1):   # NaN fails too
            raise ValueError(f"binary_cross_entropy: {name} must hold probabilities in [0, 1], "
                             f"got values in [{float(values.min()):g}, {float(values.max()):g}]"
                             " (for logits use binary_cross_entropy_with_logits)")
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
    # BEGIN SOLUTION bce_with_logits
    per_element = softplus(input) - target * input  # softplus(s) - y·s, finite for any s
    # END SOLUTION
    return apply_reduction(per_element, reduction, "binary_cross_entropy_with_logits")


def _class_targets(name: str, input: Tensor, target: Any, what: str) -> Tensor:  # noqa: A002
    """``target`` as a tensor on ``input``'s device (class indices or probabilities)."""
    if input.ndim != 2:
        raise ValueError(f"{name}: input must be {what} of shape (N, C), got {input.shape}")
    return target if isinstance(target, Tensor) else Tensor(
        backend.to_module(backend.np.asarray(target), backend.array_module(input.data)))


def nll_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Negative log-likelihood of class indices: -input[n, y_n] for log-probabilities
    ``input`` (N, C) (e.g. from ``log_softmax``) and ``target`` (N,) in [0, C)."""
    input = as_tensor(input)
    target_t = _class_targets("nll_loss", input, target, "log-probabilities")
    if target_t.dtype.kind not in "iu" or target_t.shape != (input.shape[0],):
        raise ValueError(f"nll_loss: target must be class indices of shape ({input.shape[0]},), "
                         f"got shape {target_t.shape} and dtype {target_t.dtype}")
    labels = checks.indices_in_range("nll_loss", "class indices", target_t.data, input.shape[1])
    rows = backend.array_module(labels).arange(input.shape[0])
    return apply_reduction(-getitem(input, (rows, labels)), reduction, "nll_loss")  # (N,)


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Softmax cross-entropy of logits (N, C) against class indices (N,):
    -log softmax(s)[y] = logsumexp(s) - s_y, i.e. ``nll_loss(log_softmax(s), y)``.

    ``target`` may also hold class probabilities of shape (N, C): then the loss is
    -Σ_c y_c log softmax(s)_c.
    """
    input = as_tensor(input)
    target_t = _class_targets("cross_entropy", input, target, "logits")
    log_p = log_softmax(input, dim=1)  # (N, C)
    if target_t.dtype.kind in "iu":
        if target_t.shape != (input.shape[0],):
            raise ValueError(f"cross_entropy: class-index target must have shape "
                             f"({input.shape[0]},), got {target_t.shape}")
        checks.indices_in_range("cross_entropy", "class indices", target_t.data, input.shape[1])
        return nll_loss(log_p, target_t, reduction)
    _same_shape("cross_entropy", input, target_t)
    return apply_reduction(-sum(target_t * log_p, dim=1), reduction, "cross_entropy")


def kl_div(input: Any, target: Any, reduction: str = "mean",  # noqa: A002
           log_target: bool = False) -> Tensor:
    """KL(target ‖ q) elementwise for log-probabilities ``input`` = ln q, as PyTorch:

        target · (ln target - input)     (0 where target = 0: 0·ln 0 = 0)

    ``log_target=True`` takes the target as log-probabilities too: e^t · (t - input).
    ``reduction="batchmean"`` (the sum divided by the batch size) is the true KL divergence
    per sample; ``"mean"``, the default as in PyTorch, divides by every element instead.
    """
    input, target = as_tensors(input, target)
    _same_shape("kl_div", input, target)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        positive = target.data > 0
        log_t = log(where(positive, target, 1.0))       # ln only where it is finite
        loss = where(positive, target * (log_t - input), 0.0)
    return apply_reduction(loss, reduction, "kl_div", ("mean", "sum", "none", "batchmean"))
