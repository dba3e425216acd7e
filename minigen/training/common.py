"""What the training steps of every family share: one optimizer update and a frozen player.

One step of gradient descent on a loss L(θ), as every lecture writes it::

    optimizer.zero_grad()      # forget the last step's ∂L/∂θ (gradients accumulate)
    loss.backward()            # ∂L/∂θ for every parameter
    optimizer.step()           # θ ← θ - lr · update(∂L/∂θ)
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

from minigen import nn
from minigen.data import DataLoader
from minigen.grad_mode import no_grad
from minigen.optim import Optimizer
from minigen.tensor import Tensor

EVAL_BATCH = 500   # images per forward pass when evaluating (no graph: memory is cheap)


def optimizer_step(optimizer: Optimizer, loss: Tensor) -> None:
    """One update of the optimizer's parameters down the gradient of the scalar ``loss``."""
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


@contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """Within the block the modules' parameters record no gradient: they are not updated,
    and their weight gradients are not even computed (e.g. D during G's step). The
    gradient still flows *through* them into whatever made their input."""
    for module in modules:
        module.requires_grad_(False)
    try:
        yield
    finally:
        for module in modules:
            module.requires_grad_(True)


def mean_parts(parts_of: Callable[..., dict[str, Tensor]], arrays: Iterable[Any],
               model: nn.Module, batch_size: int = EVAL_BATCH) -> dict[str, float]:
    """The mean of each loss part over a data set, without a graph, in evaluation mode.

    ``parts_of(*batch)`` returns scalar tensors, each a mean over its batch; they are
    weighted by the batch sizes, so the result is the mean over every item.
    ``arrays``: the data set's arrays, e.g. (images, labels).
    """
    arrays = tuple(arrays)
    was_training = model.training
    model.eval()
    totals: dict[str, float] = {}
    with no_grad():
        for batch in DataLoader(arrays, batch_size):
            size = batch[0].shape[0]
            for name, value in parts_of(*batch).items():
                totals[name] = totals.get(name, 0.0) + value.item() * size
    model.train(was_training)
    return {name: total / len(arrays[0]) for name, total in totals.items()}
