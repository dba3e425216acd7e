"""``Module``: the base class of every layer and model.

A module holds three kinds of things, each registered simply by assigning an attribute
in ``__init__``:

* parameters (``Parameter``): what the optimizer learns, e.g. a layer's weight;
* buffers (``register_buffer``): state that is saved but not learned, e.g. the running
  mean of a batch-norm layer;
* submodules (``Module``): the layers a model is built from.

Everything else (``parameters()``, ``state_dict()``, ``train()``, ``to("gpu")``, the
printed tree) walks that registry recursively::

    >>> import minigen
    >>> from minigen import nn
    >>> class MLP(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()                 # creates the registry: call it first
    ...         self.hidden = nn.Linear(2, 8)      # a submodule, registered as "hidden"
    ...         self.out = nn.Linear(8, 1)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    >>> model = MLP()
    >>> [name for name, _ in model.named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    >>> model.num_parameters()                     # 2·8 + 8 + 8·1 + 1
    33
    >>> model(minigen.zeros(5, 2)).shape           # calling a module runs forward
    (5, 1)
    >>> print(model)                               # the tree, counts, last output shapes
    MLP(  # 33 params, out (5, 1)
      (hidden): Linear(in_features=2, out_features=8, bias=True)  # 24 params, out (5, 8)
      (out): Linear(in_features=8, out_features=1, bias=True)  # 9 params, out (5, 1)
    )

The printed shapes are those of each module's most recent output (``output_shape``),
recorded on every call; a module not called yet shows only its parameter count.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator, Mapping, NamedTuple

from minigen import backend, checks
from minigen.nn.parameter import Parameter
from minigen.tensor import Tensor


class LoadResult(NamedTuple):
    """The keys ``load_state_dict`` did not use (with ``strict=True`` both lists are empty)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: subclasses define ``__init__`` and ``forward``.

    Attributes:
        training: True in training mode (the default), False after ``eval()``. Layers
            such as dropout and batch norm behave differently in the two modes.
        output_shape: the shape of the last output of ``forward`` (a tuple of shapes if
            it returned several tensors), or None before the first call.
    """

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these three dicts to exist.
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "output_shape", None)

    # ------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """What the module computes; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` and remember the shape of its result (shown by ``print(model)``)."""
        out = self.forward(*args, **kwargs)
        object.__setattr__(self, "output_shape", _shape_of(out))
        return out

    # ------------------------------------------------------------ registering by assignment
    def __setattr__(self, name: str, value: Any) -> None:
        registry = self.__dict__.get("_parameters")
        if registry is None and isinstance(value, (Parameter, Module)):
            raise AttributeError(
                f"cannot assign {type(value).__name__} {name!r} before Module.__init__() ran; "
                f"call super().__init__() first in {type(self).__name__}.__init__")
        if isinstance(value, Parameter):
            self._forget(name)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            self._modules[name] = value
        elif registry is not None and name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                "(a Parameter or None expected); wrap it: Parameter(value)")
            self._parameters[name] = None
        elif registry is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as submodule {name!r} "
                                "(a Module or None expected)")
            self._modules[name] = None
        elif registry is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} "
                                "(a Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: registered things live in the three dicts.
        # Read them through __dict__, so a half-built object (copy.deepcopy) cannot recurse.
        for store in ("_parameters", "_buffers", "_modules"):
            registry = self.__dict__.get(store)
            if registry is not None and name in registry:
                return registry[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if not self._forget(name):
            object.__delattr__(self, name)

    def _forget(self, name: str) -> bool:
        """Remove ``name`` from the registries and plain attributes; True if it was registered."""
        found = False
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                found = True
        self.__dict__.pop(name, None)
        return found

    def _check_new_name(self, kind: str, name: Any) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise ValueError(f"{kind} name {name!r} must be non-empty and contain no '.' "
                             "(dots separate the levels of names like 'encoder.0.weight')")
        if name in self.__dict__ or (hasattr(type(self), name)):
            raise ValueError(f"{kind} name {name!r} is already an attribute of "
                             f"{type(self).__name__}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` as ``name`` (same as ``self.name = param``; None keeps the slot)."""
        self._register("parameter", Parameter, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Register a tensor that is saved in ``state_dict`` and moved by ``to`` but not learned.

        >>> import minigen
        >>> from minigen import nn
        >>> m = nn.Module()
        >>> m.register_buffer("running_mean", minigen.zeros(3))
        >>> list(m.state_dict())
        ['running_mean']
        """
        self._register("buffer", Tensor, name, tensor)

    def _register(self, kind: str, kind_class: type, name: str, value: Any) -> None:
        """Store ``value`` (a ``kind_class`` or None) as the ``kind`` ``name`` ("parameter"
        goes to ``_parameters``, "buffer" to ``_buffers``), checked first."""
        if f"_{kind}s" not in self.__dict__:
            raise AttributeError(f"call Module.__init__() before register_{kind}()")
        if value is not None and not isinstance(value, kind_class):
            raise TypeError(f"register_{kind}: {name!r} must be a {kind_class.__name__} or "
                            f"None, got {type(value).__name__}")
        store = self.__dict__[f"_{kind}s"]
        if name not in store:
            self._check_new_name(kind, name)
        self._forget(name)
        store[name] = value

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register ``module`` as the submodule ``name`` (as ``setattr(self, name, module)``)."""
        if "_modules" not in self.__dict__:
            raise AttributeError("call Module.__init__() before add_module()")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, "
                            f"got {type(module).__name__}")
        if name not in self._modules:
            self._check_new_name("module", name)
        self._forget(name)
        self._modules[name] = module

    # ------------------------------------------------------------ walking the tree
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module and every module below it, with dotted names ("" for this one).

        A module shared by two parents is listed once.
        """
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(_join(name, n), m) for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))  # reversed: children come out in order

    def modules(self) -> Iterator["Module"]:
        """This module and every module below it."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """The direct submodules with their names."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator["Module"]:
        """The direct submodules."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, store: str, recurse: bool) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, tensor) for the parameters or buffers, each tensor once."""
        seen: set[int] = set()
        modules = self.named_modules() if recurse else iter([("", self)])
        for prefix, module in modules:
            for name, t in getattr(module, store).items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield _join(prefix, name), t

    def named_parameters(self, recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, e.g. ``("encoder.0.weight", w)``; shared ones once."""
        yield from self._named_members("_parameters", recurse)  # type: ignore[misc]

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter of this module and (with ``recurse``) its submodules: give them to
        an optimizer, ``Adam(model.parameters())``."""
        for _, p in self.named_parameters(recurse):
            yield p

    def named_buffers(self, recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs."""
        yield from self._named_members("_buffers", recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer of this module and (with ``recurse``) its submodules."""
        for _, b in self.named_buffers(recurse):
            yield b

    def num_parameters(self) -> int:
        """How many numbers the parameters hold (each shared parameter counted once)."""
        return sum(p.numel() for p in self.parameters())

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn`` on every submodule (deepest first) and on this module; returns self.

        DCGAN initializes its weights this way::

            def weights_init(m):
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0.0, 0.02)
            model.apply(weights_init)
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (``mode=True``) or evaluation mode on this module and all below."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode): mode must be True or False, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Freeze (False) or unfreeze every parameter, e.g. the discriminator while the
        generator trains."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (set ``.grad`` to None) before the next backward."""
        for p in self.parameters():
            p.grad = None

    # ------------------------------------------------------------ saving and loading
    def _state_tensors(self) -> "OrderedDict[str, Tensor]":
        """name -> tensor for every parameter and buffer, this module's first (PyTorch's order).

        Unlike ``parameters()``, a shared tensor appears under each of its names.
        """
        out: OrderedDict[str, Tensor] = OrderedDict()

        def collect(module: Module, prefix: str) -> None:
            for store in (module._parameters, module._buffers):
                for name, t in store.items():
                    if t is not None:
                        out[_join(prefix, name)] = t
            for name, child in module._modules.items():
                if child is not None:
                    collect(child, _join(prefix, name))

        collect(self, "")
        return out

    def state_dict(self) -> "OrderedDict[str, Any]":
        """name -> NumPy copy of every parameter and buffer: a snapshot that later training
        does not change, ready for ``minigen.save``.

        >>> from minigen import nn
        >>> {name: a.shape for name, a in nn.Linear(3, 2).state_dict().items()}
        {'weight': (2, 3), 'bias': (2,)}
        """
        return OrderedDict((name, backend.to_numpy(t.data).copy())
                           for name, t in self._state_tensors().items())

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy the values of ``state_dict`` (arrays or Tensors) into the parameters and buffers.

        Everything is checked before anything is copied: missing keys, unexpected keys
        (both only when ``strict``), shape mismatches and values that are not arrays are
        reported together in one RuntimeError, and the module is left unchanged. Values
        are converted to each tensor's dtype and device; the Parameter objects stay the
        same, so an optimizer holding them keeps working.

        The dtype rule: a floating tensor takes floating values only, cast to its dtype,
        and only if they are finite after the cast (a float64 1e300 would become inf in
        float32, a NaN weight is a diverged run); an integer tensor takes integers, a
        boolean one booleans. Anything else is refused, naming the key.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping name -> array, "
                            f"got {type(state_dict).__name__}")
        own = self._state_tensors()
        missing = [name for name in own if name not in state_dict]
        unexpected = [str(name) for name in state_dict if name not in own]
        mismatched, wrong_type, new_data = [], [], {}
        for name, target in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            array = value.data if isinstance(value, Tensor) else value
            if not backend.is_array(array) or array.dtype.kind not in "fiub":
                wrong_type.append(f"{name}: {type(value).__name__} (expected a numeric array "
                                  "or Tensor)")
            elif tuple(array.shape) != target.shape:
                mismatched.append(f"{name}: checkpoint {tuple(array.shape)}, "
                                  f"model {target.shape}")
            elif (problem := checks.load_problem(array, target.dtype)) is not None:
                wrong_type.append(f"{name}: {problem}")                # the dtype rule
            else:
                module = backend.array_module(target.data)
                # A copy, on the tensor's device and in its dtype: the checkpoint and the
                # model must not share memory that training then changes.
                new_data[name] = backend.to_module(array, module).astype(target.dtype, copy=True)
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if mismatched:
            problems.append("shape mismatches: " + "; ".join(mismatched))
        if wrong_type:
            problems.append("values of the wrong type: " + "; ".join(wrong_type))
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__} "
                               "(nothing was loaded):\n  " + "\n  ".join(problems))
        for name, data in new_data.items():
            own[name].data = data
        return LoadResult(missing, unexpected)

    # ------------------------------------------------------------ devices
    def to(self, device: Any) -> "Module":
        """Move every parameter (with its gradient) and buffer to ``"cpu"`` or ``"gpu"``
        (``"cuda"``, or a ``minigen.device``), in place; returns self. Create the optimizer after moving, or its state stays behind."""
        module = backend.module_for_device(device)  # checks the name before anything moves
        for t in list(self.parameters()) + list(self.buffers()):
            t.data = backend.to_module(t.data, module)
            if t.grad is not None:
                t.grad = Tensor(backend.to_module(t.grad.data, module))
        return self

    def cpu(self) -> "Module":
        return self.to("cpu")

    def gpu(self) -> "Module":
        return self.to("gpu")

    def cuda(self) -> "Module":
        """PyTorch's name for ``gpu()``."""
        return self.to("cuda")

    # ------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text between the parentheses of this module's line, e.g. ``in_features=2, ...``."""
        return ""

    def __repr__(self) -> str:
        return "\n".join(self._repr_lines())

    def _repr_lines(self) -> list[str]:
        notes = []
        count = self.num_parameters()
        if count:
            notes.append(f"{count:,} params")
        if self.output_shape is not None:
            notes.append(f"out {_format_shape(self.output_shape)}")
        note = "  # " + ", ".join(notes) if notes else ""
        name, extra = type(self).__name__, self.extra_repr()
        children = list(self.named_children())
        if not children:
            return [f"{name}({extra}){note}"]
        lines = [f"{name}({note}"]
        if extra:
            lines.append("  " + extra)
        for child_name, child in children:
            child_lines = child._repr_lines()
            lines.append(f"  ({child_name}): {child_lines[0]}")
            lines.extend("  " + line for line in child_lines[1:])
        lines.append(")")
        return lines


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _shape_of(out: Any) -> Any:
    """The shape of a Tensor, a tuple of shapes for a tuple/list of Tensors, else None."""
    if isinstance(out, Tensor):
        return out.shape
    if isinstance(out, (tuple, list)) and out and all(isinstance(o, Tensor) for o in out):
        return tuple(o.shape for o in out)
    return None


def _format_shape(shape: Any) -> str:
    if shape and isinstance(shape[0], tuple):  # several outputs
        return ", ".join(str(s) for s in shape)
    return str(shape)
