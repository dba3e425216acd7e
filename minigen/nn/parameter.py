"""``Parameter``: a tensor that a ``Module`` learns.

A parameter is an ordinary floating-point tensor with ``requires_grad=True``; being a
``Parameter`` (a subclass of ``Tensor``) is only a label. When a module's attribute is
set to a parameter, the module registers it, so ``model.parameters()`` can hand it to
an optimizer::

    >>> import minigen
    >>> from minigen.nn import Parameter
    >>> w = Parameter(minigen.zeros(2, 3))
    >>> w.requires_grad, w.shape
    (True, (2, 3))

Ops on a parameter give plain tensors: ``(w * 2)`` is an intermediate result, not
something to learn.
"""
from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.creation import tensor
from minigen.tensor import Tensor


class Parameter(Tensor):
    """A learnable tensor: floating point, ``requires_grad=True`` unless frozen.

    ``data`` is a Tensor or an array (shared, not copied, as in PyTorch) or nested lists
    of numbers (copied, in the default dtype).
    """

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        if isinstance(data, Tensor):
            data = data.data
        elif not backend.is_array(data):
            data = tensor(data).data
        if not backend.is_floating(data):
            raise TypeError(f"Parameter: a parameter holds floating-point data, got dtype "
                            f"{data.dtype}; convert it first, e.g. Parameter(t.float())")
        super().__init__(data, requires_grad=requires_grad)

    def to(self, device: Any = None, dtype: Any = None) -> "Parameter":
        """This parameter on ``"cpu"`` or ``"gpu"`` (and/or as ``dtype``), still a Parameter
        (``self`` if nothing changes).

        To move a whole model, prefer ``module.to(device)``: it moves every parameter in
        place, so an optimizer that already holds them keeps working.
        """
        moved = super().to(device, dtype)
        return self if moved is self else Parameter(moved.data, requires_grad=self.requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
