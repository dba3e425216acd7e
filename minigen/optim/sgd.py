"""Stochastic gradient descent, with momentum and weight decay (PyTorch's formulas)."""
from __future__ import annotations

from typing import Any, Iterable

from minigen import checks
from minigen.optim.optimizer import Optimizer
from minigen.tensor import Tensor


class SGD(Optimizer):
    """For each parameter p with gradient ∇:

        g = ∇ + weight_decay · p        (L2 regularization folded into the gradient)
        v = momentum · v + g            (v = g on the first step)
        p = p - lr · v                  (p = p - lr · g without momentum)

    The velocity v averages recent gradients, so steps keep going through small bumps
    and along narrow valleys.

    >>> import minigen
    >>> from minigen import optim
    >>> w = minigen.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()        # ∇ = 2w = [2, 4]
    >>> opt.step()                      # w - 0.1·∇
    >>> w.tolist()
    [0.800000011920929, 1.600000023841858]
    """

    hyperparameters = ("lr", "momentum", "weight_decay")
    state_keys = ("momentum_buffer",)

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        self._check_hyperparameters(lr=lr, momentum=momentum, weight_decay=weight_decay)
        super().__init__(params)
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay

    def _check_hyperparameters(self, **values: Any) -> None:
        for name in self.hyperparameters:
            checks.in_range("SGD", name, values[name], 0)

    def step(self) -> None:
        """One update of every parameter whose ``.grad`` is set."""
        for i, p, grad in self._with_grads():
            g = grad + self.weight_decay * p.data if self.weight_decay else grad
            if self.momentum:
                state = self.state.setdefault(i, {})
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = g.copy()
                else:
                    v = state["momentum_buffer"]
                    v *= self.momentum  # in place: v = μ·v + g
                    v += g
                g = state["momentum_buffer"]
            p.data -= self.lr * g
