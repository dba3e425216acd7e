"""Adam (Kingma & Ba, 2015): per-parameter steps scaled by running gradient statistics."""
from __future__ import annotations

from typing import Any, Iterable

from minigen import backend, checks
from minigen.optim.optimizer import Optimizer
from minigen.tensor import Tensor


class Adam(Optimizer):
    """For each parameter p with gradient ∇, at its step t = 1, 2, ...:

        g = ∇ + weight_decay · p                  (L2 regularization, as PyTorch's Adam)
        m = β1 · m + (1 - β1) · g                 (running mean of gradients)
        v = β2 · v + (1 - β2) · g²                (running mean of squared gradients)
        m̂ = m / (1 - β1ᵗ),   v̂ = v / (1 - β2ᵗ)    (m, v start at 0: this undoes that bias)
        p = p - lr · m̂ / (√v̂ + eps)

    Each coordinate moves by about lr per step whatever the scale of its gradient, which
    is why one learning rate (1e-3, or 2e-4 with β1 = 0.5 for GANs) works widely.

    >>> import minigen
    >>> from minigen import optim
    >>> w = minigen.tensor([1.0, -3.0], requires_grad=True)
    >>> opt = optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()                      # the first step is lr·sign(∇) (up to eps)
    >>> [round(x, 4) for x in w.tolist()]
    [0.9, -2.9]
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")
    state_keys = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        self._check_hyperparameters(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super().__init__(params)
        self.lr = lr
        self.betas = tuple(betas)
        self.eps = eps
        self.weight_decay = weight_decay

    def _check_hyperparameters(self, **values: Any) -> None:
        for name in ("lr", "eps", "weight_decay"):
            checks.in_range("Adam", name, values[name], 0)
        betas = values["betas"]
        if (not isinstance(betas, (tuple, list)) or len(betas) != 2
                or not all(isinstance(b, (int, float)) and 0.0 <= b < 1.0 for b in betas)):
            raise ValueError(f"Adam: betas must be two numbers in [0, 1), got {betas!r}")

    def step(self) -> None:
        """One update of every parameter whose ``.grad`` is set."""
        # BEGIN SOLUTION adam_step
        beta1, beta2 = self.betas
        for i, p, grad in self._with_grads():
            state = self.state.get(i)
            if state is None:
                xp = backend.array_module(p.data)
                state = self.state[i] = {"step": 0, "exp_avg": xp.zeros_like(p.data),
                                         "exp_avg_sq": xp.zeros_like(p.data)}
            g = grad + self.weight_decay * p.data if self.weight_decay else grad
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m *= beta1  # in place: the state arrays are updated, not replaced
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            state["step"] += 1
            t = state["step"]
            m_hat = m / (1 - beta1 ** t)
            v_hat = v / (1 - beta2 ** t)
            p.data -= self.lr * m_hat / (backend.array_module(v_hat).sqrt(v_hat) + self.eps)
        # END SOLUTION
