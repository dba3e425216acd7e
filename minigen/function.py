"""``Function``: how every differentiable op is written.

An op is one class with two static methods:

* ``forward(ctx, *arrays, **params)`` computes the result from raw arrays (NumPy or
  CuPy: use ``ctx.xp``), and saves what backward needs with ``ctx.save_for_backward``.
* ``backward(ctx, grad_out)`` receives ∂L/∂out as a ``Tensor`` and returns ∂L/∂input for
  each tensor input (a Tensor, or None for inputs that need none). It is written with
  minigen's own tensor ops, so a backward pass is itself differentiable: that is all
  higher-order gradients need.

A student's own op, differentiated and gradient-checked::

    >>> import minigen
    >>> class Square(minigen.Function):
    ...     '''y = x², ∂L/∂x = 2 x ∂L/∂y'''
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad_out):
    ...         (x,) = ctx.saved_tensors
    ...         return 2 * x * grad_out
    >>> x = minigen.tensor([3.0], requires_grad=True)
    >>> Square.apply(x).sum().backward()
    >>> x.grad
    tensor([6.])

The engine, not each op, sums a gradient back over broadcast axes: a backward may
return ∂L/∂input in the broadcast (output) shape.
"""
from __future__ import annotations

import weakref
from typing import Any

from minigen import backend
from minigen.grad_mode import is_grad_enabled
from minigen.tensor import Tensor

# Hooks called after every op (used by minigen's debugging tools); empty by default.
_forward_hooks: list[Any] = []


class Context:
    """What one recorded op keeps for its backward pass (PyTorch calls it ``ctx``).

    Attributes:
        inputs: the op's tensor inputs, in order.
        needs_input_grad: one bool per input: does a gradient have to flow to it?
        xp: the array module (numpy or cupy) of the inputs, for ``forward``.
    """

    def __init__(self, op: type["Function"], inputs: tuple[Tensor, ...], xp: Any) -> None:
        self.op = op
        self.inputs = inputs
        self.needs_input_grad = tuple(t.requires_grad for t in inputs)
        self.xp = xp
        self.freed = False
        self._saved: tuple[Any, ...] = ()
        self._saved_versions: tuple[Any, ...] = ()  # (tensor, its _version) per saved value
        self._output: Any = None  # weak reference to the result, set by apply

    @property
    def op_name(self) -> str:
        return self.op.__name__

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays (or tensors) for ``backward``; read them back with ``saved_tensors``.

        Each value that is an input tensor's data (or a tensor) is saved with that tensor's
        ``_version``: ``saved_tensors`` refuses it if it was written in place since.
        """
        self._saved = values
        self._saved_versions = tuple(self._owner(v) for v in values)

    def _owner(self, value: Any) -> Any:
        """(tensor, version) for a value that is a tensor or an input's data, else None."""
        if isinstance(value, Tensor):
            return value, value._version
        if backend.is_array(value):
            for t in self.inputs:
                if t.data is value:
                    return t, t._version
        return None

    def _check_versions(self) -> None:
        """The error PyTorch gives when a saved value was overwritten after the forward."""
        owners = list(zip(self._saved, self._saved_versions))
        output = self._output() if self._output is not None else None
        if output is not None:
            owners += [(v, (output, 0)) for v in self._saved if v is output.data]
        for value, owner in owners:
            if owner is None:
                continue
            t, version = owner
            if t._version != version and (value is t or t.data is value):
                raise RuntimeError(
                    f"one of the values {self.op_name} saved for its backward was modified in "
                    f"place after the forward: a tensor of shape {t.shape} at version "
                    f"{t._version}, saved at version {version}. The gradient would use the "
                    "new values; write it after backward(), or compute the graph again")

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The saved values as tensors.

        An array that is an input's data comes back as that input tensor, and the op's own
        result comes back as the output tensor, so a backward built from them stays
        connected to the graph (needed for gradients of gradients). Other arrays come back
        as constant tensors; ``None`` stays ``None``.
        """
        if self.freed:
            raise_freed(self.op_name)
        self._check_versions()
        return tuple(self._as_tensor(v) for v in self._saved)

    def _as_tensor(self, value: Any) -> Any:
        if value is None or isinstance(value, Tensor):
            return value
        if not backend.is_array(value):
            return value  # plain Python values (shapes, flags) pass through
        for t in self.inputs:
            if t.data is value:
                return t
        output = self._output() if self._output is not None else None
        if output is not None and output.data is value:
            return output
        return Tensor(value)

    def release(self) -> None:
        """Drop the saved values after backward: the graph is then freed."""
        self._saved = ()
        self._saved_versions = ()
        self.freed = True


def raise_freed(op_name: str) -> None:
    raise RuntimeError(
        f"backward through the graph a second time: {op_name}'s saved values were freed by the "
        "first backward. Pass retain_graph=True to the first backward() to keep them.")


class Function:
    """Base class of every differentiable op; see the module docstring for an example."""

    @staticmethod
    def forward(ctx: Context, *arrays: Any, **params: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad_out: Tensor) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Tensor:
        """Run ``forward`` on the inputs' arrays and, if needed, record the op in the graph."""
        tensors = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
        xp = _common_module(cls.__name__, tensors)
        ctx = Context(cls, tensors, xp)

        out_data = cls.forward(ctx, *(t.data for t in tensors), **params)
        if not backend.is_array(out_data):
            # Reductions can return NumPy scalars: make it an array (and save that one).
            scalar, out_data = out_data, xp.asarray(out_data)
            ctx._saved = tuple(out_data if v is scalar else v for v in ctx._saved)

        record = is_grad_enabled() and any(ctx.needs_input_grad)
        if record and not backend.is_floating(out_data):
            raise TypeError(
                f"{cls.__name__} produced {out_data.dtype} data from inputs that need a "
                "gradient; gradients only flow through floating-point results")
        out = Tensor(out_data, requires_grad=record)
        _share_version_with_base(out, tensors)
        if record:
            out._ctx = ctx
            ctx._output = weakref.ref(out)
        for hook in _forward_hooks:
            hook(ctx, out)
        return out


def _share_version_with_base(out: Tensor, inputs: tuple[Tensor, ...]) -> None:
    """A result that is a view of an input's memory (reshape, transpose, a slice) shares
    that input's version counter, as PyTorch's views do: writing either one in place is a
    write to both, so an op that saved the view sees a later step on the weight."""
    base = getattr(out.data, "base", None)
    if base is None:
        return
    for t in inputs:
        if base is t.data or base is getattr(t.data, "base", None):
            out._version_counter = t._version_counter
            return


def _common_module(op_name: str, tensors: tuple[Tensor, ...]) -> Any:
    """The one array module all inputs share; mixing CPU and GPU tensors is an error."""
    if not tensors:
        return backend.xp
    first = type(tensors[0].data)
    if all(type(t.data) is first for t in tensors):
        return backend.array_module(tensors[0].data)
    module = backend.array_module(tensors[0].data)
    if any(backend.array_module(t.data) is not module for t in tensors):
        devices = ", ".join(f"input {j} on {u.device.name}" for j, u in enumerate(tensors))
        raise RuntimeError(
            f"{op_name}: inputs live on different devices ({devices}); "
            "move them with .to('cpu') or .to('gpu') first")
    return module
