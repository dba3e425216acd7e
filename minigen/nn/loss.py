"""Loss modules: the losses of ``minigen.functional`` as layers, PyTorch's names.

Each takes ``reduction`` ("mean", "sum" or "none") when built and is called as
``criterion(input, target)``::

    >>> import minigen
    >>> from minigen import nn
    >>> nn.MSELoss(reduction="sum")(minigen.tensor([1.0, 2.0]), minigen.tensor([0.0, 0.0])).item()
    5.0
"""
from __future__ import annotations

from typing import Any

from minigen import checks
from minigen import functional as F
from minigen.nn.module import Module
from minigen.tensor import Tensor


class _Loss(Module):
    """A loss module: ``forward(input, target)`` is ``loss(input, target, reduction)``."""

    loss: Any = None  # the functional form, set by each subclass
    reductions = ("mean", "sum", "none")

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = checks.one_of(type(self).__name__, "reduction", reduction,
                                       self.reductions)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return type(self).loss(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Squared error (x - y)² (``F.mse_loss``)."""

    loss = staticmethod(F.mse_loss)


class L1Loss(_Loss):
    """Absolute error |x - y| (``F.l1_loss``)."""

    loss = staticmethod(F.l1_loss)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] (``F.binary_cross_entropy``)."""

    loss = staticmethod(F.binary_cross_entropy)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits, exact for any logit
    (``F.binary_cross_entropy_with_logits``)."""

    loss = staticmethod(F.binary_cross_entropy_with_logits)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) against class indices or probabilities
    (``F.cross_entropy``)."""

    loss = staticmethod(F.cross_entropy)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (N, C) against class indices
    (``F.nll_loss``): ``NLLLoss()(log_softmax(s, 1), y)`` is ``CrossEntropyLoss()(s, y)``."""

    loss = staticmethod(F.nll_loss)


class KLDivLoss(_Loss):
    """KL(target ‖ q) for log-probabilities ``input`` = ln q (``F.kl_div``); use
    ``reduction="batchmean"`` for the KL divergence per sample."""

    reductions = ("mean", "sum", "none", "batchmean")

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction)
        self.log_target = bool(log_target)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
