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

from minigen import backend, devices
from minigen.grad_mode import is_grad_enabled, no_grad

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
        self._data = data
        self._version_counter = [0]  # shared with detach(): one counter per array
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._ctx: Any = None  # the Context of the op that made this tensor (None for a leaf)
        self.name: str | None = None

    # ------------------------------------------------------------ the data and its version
    @property
    def data(self) -> Any:
        """The array. Assigning it (``t.data = a``, ``t.data -= lr * g``) counts as an
        in-place write (see ``_version``); writing *into* it (``t.data[...] = 0``) cannot be
        seen and is not counted."""
        return self._data

    @data.setter
    def data(self, array: Any) -> None:
        self._data = array
        self._bump_version()

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's data has had (PyTorch's name). Each op
        records it for the values it saves, and its backward refuses to use a value written
        since: the gradient would silently be computed from the new values."""
        return self._version_counter[0]

    def _bump_version(self) -> None:
        self._version_counter[0] += 1

    # ------------------------------------------------------------ array facts
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    def size(self, dim: int | None = None) -> Any:
        """The shape as a tuple, or the length of axis ``dim`` as an int (PyTorch's ``size``;
        the number of elements, NumPy's ``size``, is ``numel()``)."""
        if dim is None:
            return self.shape
        if not -max(self.ndim, 1) <= dim < max(self.ndim, 1) or self.ndim == 0:
            raise IndexError(f"size: dim {dim} is out of range for a tensor of shape {self.shape}")
        return self.shape[dim]

    def numel(self) -> int:
        """The number of elements: the product of the shape."""
        return int(self.data.size)

    def dim(self) -> int:
        """The number of axes (``ndim``)."""
        return self.data.ndim

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def device(self) -> devices.device:
        """``device("cpu")`` or ``device("cuda")`` (the GPU); equal to the names "cpu", "gpu"
        and "cuda"."""
        return devices.device(backend.device_name(self.data))

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
            extras.append(f"device='{self.device.name}'")
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
        if self.numel() != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, shape is {self.shape}")
        return backend.to_numpy(self.data).reshape(()).item()

    def numpy(self) -> Any:
        """The data as a NumPy array (copied from the GPU when needed). Carries no graph."""
        return backend.to_numpy(self.data)

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def detach(self) -> "Tensor":
        """A new leaf tensor sharing this data, cut from the graph (no gradient flows back)."""
        out = Tensor(self.data, requires_grad=False)
        out._version_counter = self._version_counter  # the same array: writes count for both
        return out

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

    def to(self, device: Any = None, dtype: Any = None) -> "Tensor":
        """This tensor on ``device`` (``"cpu"``/NumPy or ``"gpu"``/``"cuda"``/CuPy, or a
        ``minigen.device``) and/or converted to ``dtype``; ``t.to(dtype)`` works too.

        Moving makes a new leaf: move data and parameters before computing with them, since
        a tensor made by an op cannot move without cutting its graph. Converting the dtype
        is differentiable (``astype``).
        """
        if device is not None and not isinstance(device, (str, devices.device)):
            device, dtype = None, device  # t.to(dtype)
        out = self if dtype is None else self.astype(dtype)
        if device is None:
            return out
        module = backend.module_for_device(device)
        if backend.array_module(out.data) is module:
            return out
        if out._ctx is not None:
            raise RuntimeError(
                f"to({device!r}): this tensor was made by {out.grad_fn} and moving it would cut "
                "its graph; move the leaf tensors (inputs, parameters) before computing")
        return Tensor(backend.to_module(out.data, module), requires_grad=out.requires_grad)

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self) -> "Tensor":
        """This tensor on the GPU (PyTorch's name; ``gpu()`` is minigen's)."""
        return self.to("cuda")

    def gpu(self) -> "Tensor":
        return self.to("gpu")

    # ------------------------------------------------------------ in place, under no_grad
    def _writable(self, name: str) -> Any:
        """The array an in-place method may overwrite; refuses a tensor autograd depends on."""
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError(
                f"{name}(): this tensor requires grad, so autograd may need its values; write "
                f"it in place only under no_grad: `with minigen.no_grad(): t.{name}(...)`")
        return self.data

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> "Tensor":
        """Fill with samples of N(mean, std²), in place (under no_grad if it requires grad)."""
        self._writable("normal_")
        return _init().normal_(self, mean, std)

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> "Tensor":
        """Fill with samples of U(a, b), in place."""
        self._writable("uniform_")
        return _init().uniform_(self, a, b)

    def fill_(self, value: float) -> "Tensor":
        """Set every element to ``value``, in place."""
        self._writable("fill_")
        return _init().constant_(self, value)

    def zero_(self) -> "Tensor":
        """Set every element to 0, in place."""
        self._writable("zero_")
        return _init().zeros_(self)

    def copy_(self, src: Any) -> "Tensor":
        """Copy the values of ``src`` (broadcast to this shape, converted to this dtype and
        device) into this tensor, in place."""
        array = self._writable("copy_")
        values = src.data if isinstance(src, Tensor) else backend.xp.asarray(src)
        try:
            fits = backend.np.broadcast_shapes(tuple(values.shape), self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"copy_: a source of shape {tuple(values.shape)} does not broadcast "
                             f"to this tensor's shape {self.shape}")
        array[...] = backend.to_module(values, backend.array_module(array))
        self._bump_version()
        return self

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

    # &, |, ^, ~ of boolean tensors: logical, as PyTorch's on bool tensors (no gradient).
    def __and__(self, other: Any) -> "Tensor":
        return ops.logical(self, other, "&")

    def __or__(self, other: Any) -> "Tensor":
        return ops.logical(self, other, "|")

    def __xor__(self, other: Any) -> "Tensor":
        return ops.logical(self, other, "^")

    def __rand__(self, other: Any) -> "Tensor":
        return ops.logical(other, self, "&")

    def __ror__(self, other: Any) -> "Tensor":
        return ops.logical(other, self, "|")

    def __rxor__(self, other: Any) -> "Tensor":
        return ops.logical(other, self, "^")

    def __invert__(self) -> "Tensor":
        return ops.logical_not(self)

    # ------------------------------------------------------------ method forms of ops
    # Reductions and the ops along an axis take PyTorch's ``dim`` and ``keepdim``; NumPy's
    # ``axis`` and ``keepdims`` are accepted as aliases (``**aliases``), not both.
    @property
    def T(self) -> "Tensor":  # noqa: N802 — NumPy's name
        """The tensor with its axes reversed."""
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    def reshape(self, *shape: Any) -> "Tensor":
        return ops.reshape(self, _shape_args(shape))

    def view(self, *shape: Any) -> "Tensor":
        return ops.reshape(self, _shape_args(shape))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        return ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        """Swap two axes (PyTorch's transpose; ``permute`` reorders them all)."""
        return ops.transpose(self, dim0, dim1)

    def permute(self, *dims: Any) -> "Tensor":
        return ops.permute(self, _shape_args(dims))

    def squeeze(self, dim: Any = None, **aliases: Any) -> "Tensor":
        return ops.squeeze(self, dim, **aliases)

    def unsqueeze(self, dim: Any = None, **aliases: Any) -> "Tensor":
        return ops.unsqueeze(self, dim, **aliases)

    def expand(self, *sizes: Any) -> "Tensor":
        """Broadcast to ``sizes`` without copying; -1 keeps that axis's size."""
        return ops.expand(self, _shape_args(sizes))

    def expand_as(self, other: "Tensor") -> "Tensor":
        return ops.expand(self, other.shape)

    def broadcast_to(self, shape: Sequence[int]) -> "Tensor":
        return ops.broadcast_to(self, shape)

    def chunk(self, chunks: int, dim: Any = None, **aliases: Any) -> list["Tensor"]:
        return ops.chunk(self, chunks, dim, **aliases)

    def split(self, split_size_or_sections: Any, dim: Any = None, **aliases: Any) -> list["Tensor"]:
        return ops.split(self, split_size_or_sections, dim, **aliases)

    def sum(self, dim: Any = None, keepdim: Any = None, **aliases: Any) -> "Tensor":
        return ops.sum(self, dim, keepdim, **aliases)

    def prod(self, dim: Any = None, keepdim: Any = None, **aliases: Any) -> "Tensor":
        return ops.prod(self, dim, keepdim, **aliases)

    def mean(self, dim: Any = None, keepdim: Any = None, **aliases: Any) -> "Tensor":
        return ops.mean(self, dim, keepdim, **aliases)

    def max(self, dim: Any = None, keepdim: Any = None, **aliases: Any) -> Any:
        """The largest element; along an int ``dim``, ``(values, indices)``."""
        return ops.max(self, dim, keepdim, **aliases)

    def min(self, dim: Any = None, keepdim: Any = None, **aliases: Any) -> Any:
        """The smallest element; along an int ``dim``, ``(values, indices)``."""
        return ops.min(self, dim, keepdim, **aliases)

    def amax(self, dim: Any = None, keepdim: Any = None, **aliases: Any) -> "Tensor":
        return ops.amax(self, dim, keepdim, **aliases)

    def amin(self, dim: Any = None, keepdim: Any = None, **aliases: Any) -> "Tensor":
        return ops.amin(self, dim, keepdim, **aliases)

    def var(self, dim: Any = None, **options: Any) -> "Tensor":
        """Variance; ``correction=1`` (unbiased) by default, as PyTorch."""
        return ops.var(self, dim, **options)

    def std(self, dim: Any = None, **options: Any) -> "Tensor":
        return ops.std(self, dim, **options)

    def argmax(self, dim: Any = None, keepdim: Any = None, **aliases: Any) -> "Tensor":
        return ops.argmax(self, dim, keepdim, **aliases)

    def argmin(self, dim: Any = None, keepdim: Any = None, **aliases: Any) -> "Tensor":
        return ops.argmin(self, dim, keepdim, **aliases)

    def logsumexp(self, dim: Any = None, keepdim: Any = None, **aliases: Any) -> "Tensor":
        return ops.logsumexp(self, dim, keepdim, **aliases)

    def softmax(self, dim: Any = None, **aliases: Any) -> "Tensor":
        return ops.softmax(self, dim, **aliases)

    def log_softmax(self, dim: Any = None, **aliases: Any) -> "Tensor":
        return ops.log_softmax(self, dim, **aliases)

    def pow(self, exponent: Any) -> "Tensor":
        return ops.pow(self, exponent)

    def exp(self) -> "Tensor":
        return ops.exp(self)

    def log(self) -> "Tensor":
        return ops.log(self)

    def sqrt(self) -> "Tensor":
        return ops.sqrt(self)

    def abs(self) -> "Tensor":
        return ops.abs(self)

    def erf(self) -> "Tensor":
        return ops.erf(self)

    def log1p(self) -> "Tensor":
        return ops.log1p(self)

    def atanh(self) -> "Tensor":
        return ops.atanh(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> "Tensor":  # noqa: A002
        return ops.clamp(self, min, max)

    clip = clamp

    def maximum(self, other: Any) -> "Tensor":
        return ops.maximum(self, other)

    def minimum(self, other: Any) -> "Tensor":
        return ops.minimum(self, other)

    def where(self, condition: Any, other: Any) -> "Tensor":
        """``self`` where ``condition`` holds, else ``other`` (``where(condition, self, other)``)."""
        return ops.where(condition, self, other)

    # The comparisons by name: boolean tensors, no gradient.
    eq, ne = __eq__, __ne__
    lt, le, gt, ge = __lt__, __le__, __gt__, __ge__

    def relu(self) -> "Tensor":
        return ops.relu(self)

    def sigmoid(self) -> "Tensor":
        return ops.sigmoid(self)

    def tanh(self) -> "Tensor":
        return ops.tanh(self)


def _init() -> Any:
    """``minigen.nn.init``, whose fills the in-place methods reuse (imported when first used:
    the layers are built on Tensor)."""
    from minigen.nn import init  # noqa: PLC0415

    return init


def _shape_args(args: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept both ``t.reshape(2, 3)`` and ``t.reshape((2, 3))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


# Tensor's operators call the ops and ``backward`` calls the engine; both modules are
# built on Tensor, so they are imported after it is defined.
from minigen import autograd, ops  # noqa: E402

__all__ = ["Tensor", "no_grad"]
