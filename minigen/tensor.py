"""``Tensor``: one array plus what autograd needs to differentiate through it.

A tensor wraps a NumPy or CuPy array (``.data``). When it ``requires_grad``, every op
applied to it records a node of the computation graph (the op's ``Context``, in
``._ctx``), and ``backward()`` walks that graph to fill ``.grad`` of the leaves::

    >>> import minigen
    >>> x = minigen.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()          # y = Σ x_i²
    >>> y.backward()               # ∂y/∂x_i = 2 x_i
    >>> x.grad
    tensor([2., 4., 6.])

The ops themselves live in ``minigen.ops``; the operators and methods here call them.
"""
from __future__ import annotations

from typing import Any, Sequence

from minigen import backend
from minigen.grad_mode import no_grad

Axis = "int | tuple[int, ...] | None"


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    Attributes:
        data: the array (``numpy.ndarray``, or ``cupy.ndarray`` on the GPU).
        grad: a ``Tensor`` of the same shape holding ∂loss/∂self after ``backward``, or None.
        requires_grad: whether gradients flow to this tensor.
    """

    # NumPy must not treat a Tensor as an array: ``np.float32(2) * t`` calls ``t.__rmul__``.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        if isinstance(data, Tensor):
            raise TypeError("Tensor(data): data is already a Tensor; use t.detach() for a copy "
                            "without graph")
        if not backend.is_array(data):
            data = backend.xp.asarray(data)
        if requires_grad and not backend.is_floating(data):
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {data.dtype}; "
                "integer and boolean data never get gradients")
        self.data = data
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._ctx: Any = None  # the Context of the op that made this tensor (None for a leaf)
        self.name: str | None = None

    # ------------------------------------------------------------ array facts
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return int(self.data.size)

    @property
    def device(self) -> str:
        """``"cpu"`` or ``"gpu"``."""
        return backend.device_name(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by an op that recorded a graph)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> str | None:
        """The name of the op that made this tensor, or None for a leaf."""
        return None if self._ctx is None else self._ctx.op_name

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        body = backend.np.array2string(backend.to_numpy(self.data), separator=", ",
                                       prefix="tensor(")
        extras = []
        if self.dtype not in (backend.get_default_dtype(),) and backend.is_floating(self.data):
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self._ctx is not None:
            extras.append(f"grad_fn={self.grad_fn}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    def __bool__(self) -> bool:
        return bool(self.data)

    __hash__ = object.__hash__  # tensors are hashable by identity, although == is elementwise

    # ------------------------------------------------------------ leaving the graph
    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, shape is {self.shape}")
        return backend.to_numpy(self.data).reshape(()).item()

    def numpy(self) -> Any:
        """The data as a NumPy array (copied from the GPU when needed). Carries no graph."""
        return backend.to_numpy(self.data)

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def detach(self) -> "Tensor":
        """A new leaf tensor sharing this data, cut from the graph (no gradient flows back)."""
        return Tensor(self.data, requires_grad=False)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Mark this leaf tensor as needing gradients (in place); returns self."""
        if not self.is_leaf:
            raise RuntimeError(
                f"requires_grad_(): this tensor was made by {self.grad_fn}, so it is not a leaf; "
                "call it on the leaf, or use .detach().requires_grad_()")
        if requires_grad and not backend.is_floating(self.data):
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def to(self, device: str) -> "Tensor":
        """This tensor's data on ``"cpu"`` (NumPy) or ``"gpu"`` (CuPy), as a new leaf.

        Move data and parameters before computing with them: a tensor made by an op
        cannot move, since its graph would be cut.
        """
        module = backend.module_for_device(device)
        if backend.array_module(self.data) is module:
            return self
        if self._ctx is not None:
            raise RuntimeError(
                f"to({device!r}): this tensor was made by {self.grad_fn} and moving it would cut "
                "its graph; move the leaf tensors (inputs, parameters) before computing")
        return Tensor(backend.to_module(self.data, module), requires_grad=self.requires_grad)

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def gpu(self) -> "Tensor":
        return self.to("gpu")

    # ------------------------------------------------------------ autograd
    def backward(self, grad: "Tensor | Any | None" = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Accumulate ∂self/∂leaf into ``leaf.grad`` for every leaf that requires grad.

        ``grad`` is ∂loss/∂self (ones for a scalar). The graph is freed afterwards unless
        ``retain_graph``; with ``create_graph`` the gradients themselves get a graph, so they
        can be differentiated again.
        """
        autograd.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    def graph_summary(self) -> str:
        """The graph that computed this tensor, one op per line (inputs first)."""
        return autograd.graph_summary(self)

    # ------------------------------------------------------------ dtype
    def astype(self, dtype: Any) -> "Tensor":
        """A copy converted to ``dtype`` (differentiable between floating types)."""
        return ops.cast(self, dtype)

    def float(self) -> "Tensor":
        return ops.cast(self, backend.np.float32)

    def double(self) -> "Tensor":
        return ops.cast(self, backend.np.float64)

    # ------------------------------------------------------------ operators
    def __add__(self, other: Any) -> "Tensor":
        return ops.add(self, other)

    def __radd__(self, other: Any) -> "Tensor":
        return ops.add(other, self)

    def __sub__(self, other: Any) -> "Tensor":
        return ops.sub(self, other)

    def __rsub__(self, other: Any) -> "Tensor":
        return ops.sub(other, self)

    def __mul__(self, other: Any) -> "Tensor":
        return ops.mul(self, other)

    def __rmul__(self, other: Any) -> "Tensor":
        return ops.mul(other, self)

    def __truediv__(self, other: Any) -> "Tensor":
        return ops.div(self, other)

    def __rtruediv__(self, other: Any) -> "Tensor":
        return ops.div(other, self)

    def __pow__(self, exponent: Any) -> "Tensor":
        return ops.pow(self, exponent)

    def __rpow__(self, base: Any) -> "Tensor":
        return ops.pow(base, self)

    def __matmul__(self, other: Any) -> "Tensor":
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> "Tensor":
        return ops.matmul(other, self)

    def __neg__(self) -> "Tensor":
        return ops.neg(self)

    def __abs__(self) -> "Tensor":
        return ops.abs(self)

    def __getitem__(self, index: Any) -> "Tensor":
        return ops.getitem(self, index)

    # Comparisons give boolean tensors and carry no gradient.
    def __lt__(self, other: Any) -> "Tensor":
        return ops.compare(self, other, "<")

    def __le__(self, other: Any) -> "Tensor":
        return ops.compare(self, other, "<=")

    def __gt__(self, other: Any) -> "Tensor":
        return ops.compare(self, other, ">")

    def __ge__(self, other: Any) -> "Tensor":
        return ops.compare(self, other, ">=")

    def __eq__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return ops.compare(self, other, "==")

    def __ne__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return ops.compare(self, other, "!=")

    # ------------------------------------------------------------ method forms of ops
    @property
    def T(self) -> "Tensor":  # noqa: N802 — NumPy's name
        """The tensor with its axes reversed."""
        return ops.transpose(self)

    def reshape(self, *shape: Any) -> "Tensor":
        return ops.reshape(self, _shape_args(shape))

    def view(self, *shape: Any) -> "Tensor":
        return ops.reshape(self, _shape_args(shape))

    def flatten(self, start_axis: int = 0) -> "Tensor":
        return ops.flatten(self, start_axis)

    def transpose(self, *axes: Any) -> "Tensor":
        return ops.transpose(self, _shape_args(axes) if axes else None)

    def permute(self, *axes: Any) -> "Tensor":
        return ops.permute(self, _shape_args(axes))

    def squeeze(self, axis: Any = None) -> "Tensor":
        return ops.squeeze(self, axis)

    def unsqueeze(self, axis: int) -> "Tensor":
        return ops.unsqueeze(self, axis)

    def broadcast_to(self, shape: Sequence[int]) -> "Tensor":
        return ops.broadcast_to(self, shape)

    def sum(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return ops.sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return ops.mean(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return ops.max(self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return ops.min(self, axis, keepdims)

    def var(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> "Tensor":
        return ops.var(self, axis, keepdims, ddof)

    def std(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> "Tensor":
        return ops.std(self, axis, keepdims, ddof)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> "Tensor":
        return ops.argmax(self, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> "Tensor":
        return ops.argmin(self, axis, keepdims)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return ops.logsumexp(self, axis, keepdims)

    def softmax(self, axis: int = -1) -> "Tensor":
        return ops.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> "Tensor":
        return ops.log_softmax(self, axis)

    def exp(self) -> "Tensor":
        return ops.exp(self)

    def log(self) -> "Tensor":
        return ops.log(self)

    def sqrt(self) -> "Tensor":
        return ops.sqrt(self)

    def abs(self) -> "Tensor":
        return ops.abs(self)

    def clip(self, min: float | None = None, max: float | None = None) -> "Tensor":  # noqa: A002
        return ops.clip(self, min, max)

    def relu(self) -> "Tensor":
        return ops.relu(self)

    def sigmoid(self) -> "Tensor":
        return ops.sigmoid(self)

    def tanh(self) -> "Tensor":
        return ops.tanh(self)


def _shape_args(args: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept both ``t.reshape(2, 3)`` and ``t.reshape((2, 3))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


# Tensor's operators call the ops and ``backward`` calls the engine; both modules are
# built on Tensor, so they are imported after it is defined.
from minigen import autograd, ops  # noqa: E402

__all__ = ["Tensor", "no_grad"]
