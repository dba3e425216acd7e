"""Learning-rate schedules: each sets ``optimizer.lr`` from a rule of the epoch count.

PyTorch's semantics: creating the scheduler sets the lr for epoch 0, and every
``scheduler.step()`` (once per epoch, after ``optimizer.step()``) moves to the next
epoch. With base_lr the optimizer's lr when the scheduler was created and t the epoch:

| scheduler | lr at epoch t |
|---|---|
| ``LinearLR(opt, s, e, T)`` | base_lr · (s + (e - s) · min(t, T) / T) |
| ``StepLR(opt, step_size, gamma)`` | base_lr · gamma ^ ⌊t / step_size⌋ |
| ``LambdaLR(opt, lr_lambda)`` | base_lr · lr_lambda(t) |

(s, e, T are LinearLR's ``start_factor``, ``end_factor``, ``total_iters``.)

>>> import minigen
>>> from minigen import optim
>>> opt = optim.SGD([minigen.zeros(1, requires_grad=True)], lr=1.0)
>>> sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     lrs.append(sched.get_last_lr()[0])   # ... train one epoch with opt.step() ...
...     sched.step()
>>> lrs
[1.0, 1.0, 0.5, 0.5, 0.25]

CycleGAN keeps the lr constant for ``n_epochs`` epochs, then decays it linearly to zero
over ``n_epochs_decay`` more. As a LambdaLR (the rule of the CycleGAN code)::

    def rule(epoch):
        return 1.0 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)
    scheduler = LambdaLR(optimizer, lr_lambda=rule)

With LinearLR, the decay phase alone: create
``LinearLR(optimizer, start_factor=1.0, end_factor=0.0, total_iters=n_epochs_decay)``
when the constant phase ends, and step only that one from then on.
"""
from __future__ import annotations

from typing import Any, Callable

from minigen import checks
from minigen.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses define ``get_lr()``, the lr for epoch ``self.last_epoch``.

    Attributes:
        optimizer: the optimizer whose ``lr`` is set.
        base_lr: the optimizer's lr when the scheduler was created.
        last_epoch: the current epoch (0 after creation, +1 per ``step()``).
    """

    # The attributes besides base_lr and last_epoch that state_dict saves.
    settings: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr: float = optimizer.lr
        self.last_epoch = -1
        self.step()  # epoch 0: the optimizer starts with the schedule's first lr

    def get_lr(self) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not define get_lr()")

    def step(self) -> None:
        """Move to the next epoch and set the optimizer's lr for it."""
        self.last_epoch += 1
        self.optimizer.lr = self.get_lr()
        self._last_lr = self.optimizer.lr

    def get_last_lr(self) -> list[float]:
        """The lr set by the last ``step`` (a one-element list, as PyTorch's per-group list)."""
        return [self._last_lr]

    def state_dict(self) -> dict[str, Any]:
        """The epoch count, base lr and settings (a ``lr_lambda`` function is not saved).

        The optimizer's own ``state_dict`` carries its current lr.
        """
        names = ("base_lr", "last_epoch", "_last_lr") + self.settings
        return {name.lstrip("_"): getattr(self, name) for name in names}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict`` saved; a ValueError names wrong keys, changing nothing.

        The optimizer's lr is set back to the saved one too: creating this scheduler set it
        to the schedule's epoch-0 value, so the loading order does not matter.
        """
        expected = {"base_lr", "last_epoch", "last_lr"} | set(self.settings)
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            got = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else state_dict
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected the keys "
                             f"{sorted(expected)}, got {got}")
        checks.positive_int(f"{type(self).__name__}.load_state_dict", "last_epoch",
                            state_dict["last_epoch"], minimum=0)
        for name, value in state_dict.items():
            setattr(self, "_last_lr" if name == "last_lr" else name, value)
        self.optimizer.lr = self._last_lr


class LinearLR(LRScheduler):
    """Scale the lr by a factor going linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs, then stay at ``end_factor`` (a warm-up with the defaults).

    lr(t) = base_lr · (start + (end - start) · min(t, total_iters) / total_iters)
    """

    settings = ("start_factor", "end_factor", "total_iters")

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5) -> None:
        self.start_factor = checks.in_range("LinearLR", "start_factor", start_factor, 0, 1,
                                            closed="high")
        self.end_factor = checks.in_range("LinearLR", "end_factor", end_factor, 0, 1)
        self.total_iters = checks.positive_int("LinearLR", "total_iters", total_iters)
        super().__init__(optimizer)

    def get_lr(self) -> float:
        progress = min(self.last_epoch, self.total_iters) / self.total_iters
        return self.base_lr * (self.start_factor
                               + (self.end_factor - self.start_factor) * progress)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs.

    lr(t) = base_lr · gamma ^ ⌊t / step_size⌋
    """

    settings = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = checks.positive_int("StepLR", "step_size", step_size)
        self.gamma = checks.in_range("StepLR", "gamma", gamma, 0)
        super().__init__(optimizer)

    def get_lr(self) -> float:
        return self.base_lr * self.gamma ** (self.last_epoch // self.step_size)


class LambdaLR(LRScheduler):
    """lr(t) = base_lr · lr_lambda(t), for any rule ``lr_lambda(epoch) -> factor``.

    The function is not saved by ``state_dict``: create the scheduler with the same
    function before loading.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]) -> None:
        if not callable(lr_lambda):
            raise TypeError(f"LambdaLR: lr_lambda must be a function of the epoch, "
                            f"got {type(lr_lambda).__name__}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def get_lr(self) -> float:
        return self.base_lr * float(self.lr_lambda(self.last_epoch))
