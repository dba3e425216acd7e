"""``Optimizer``: the base class of SGD and Adam.

An optimizer holds a list of parameters and, for each, the state its update rule
needs (Adam's moment estimates, SGD's momentum buffer). A training step is::

    optimizer.zero_grad()      # forget the previous gradients
    loss.backward()            # fill p.grad for every parameter
    optimizer.step()           # update every p that got a gradient

Updates write the parameter arrays (``p.data``) in place with plain array arithmetic:
autograd records nothing (what ``@torch.no_grad()`` on PyTorch's ``step`` achieves),
and the Parameter objects stay the same, so the model keeps using them.

Hyperparameters are attributes (``optimizer.lr``), which learning-rate schedulers set.
There are no parameter groups: one optimizer, one set of hyperparameters.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from minigen import backend, checks
from minigen.tensor import Tensor


class Optimizer:
    """Base class: subclasses set their hyperparameters and define ``step``.

    Class attributes of a subclass:
        hyperparameters: the names of the attributes saved in ``state_dict``.
        state_keys: what ``state[i]`` holds for a parameter once it has been updated.

    Attributes:
        params: the parameters, in the order given.
        state: parameter index -> dict of its state (step count, moment arrays);
            empty for a parameter never updated.
    """

    hyperparameters: tuple[str, ...] = ("lr",)
    state_keys: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors "
                            "(e.g. model.parameters() or [w, b]), got a single Tensor")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list; did the "
                             "model register its parameters (nn.Parameter attributes, "
                             "submodules in nn.ModuleList rather than a Python list)?")
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, "
                                "not a Tensor")
            if not p.requires_grad or not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: parameter {i} (shape {p.shape}) "
                                 + ("does not require grad" if p.is_leaf else
                                    f"is not a leaf (it was made by {p.grad_fn})")
                                 + "; only leaf tensors with requires_grad=True can be optimized")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{type(self).__name__}: some parameters appear more than once; "
                             "each would be updated twice per step")
        self.params: list[Tensor] = params
        self.state: dict[int, dict[str, Any]] = {}

    # ------------------------------------------------------------ the update
    def step(self) -> None:
        """Update every parameter that has a gradient."""
        raise NotImplementedError(f"{type(self).__name__} does not define step()")

    def _with_grads(self) -> Iterator[tuple[int, Tensor, Any]]:
        """(index, parameter, gradient array) for each parameter whose ``.grad`` is set.
        Every gradient's shape is checked before the first update: one of another shape
        would broadcast into the parameter silently."""
        ready = [(i, p) for i, p in enumerate(self.params) if p.grad is not None]
        for i, p in ready:
            if p.grad.shape != p.shape:
                raise ValueError(f"{type(self).__name__}.step: parameter {i} has shape "
                                 f"{p.shape} but its .grad has shape {p.grad.shape}")
        for i, p in ready:
            yield i, p, p.grad.data

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``.grad = None``): gradients add up otherwise."""
        for p in self.params:
            p.grad = None

    # ------------------------------------------------------------ saving and loading
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {name: value}}, "hyperparameters": {name: value}}``.

        Arrays are NumPy copies, so the snapshot does not change as training goes on.
        """
        state = {i: {k: backend.to_numpy(v).copy() if backend.is_array(v) else v
                     for k, v in entry.items()}
                 for i, entry in sorted(self.state.items())}
        hyper = {name: getattr(self, name) for name in self.hyperparameters}
        return {"state": state, "hyperparameters": hyper}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what ``state_dict`` saved (for the same parameters, in the same order).

        Everything is checked first; on any problem a ValueError lists them all and the
        optimizer is left unchanged.
        """
        name = type(self).__name__
        if (not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "hyperparameters"}
                or not isinstance(state_dict["state"], Mapping)
                or not isinstance(state_dict["hyperparameters"], Mapping)):
            raise ValueError(f"{name}.load_state_dict: expected a dict with the keys 'state' and "
                             "'hyperparameters', as made by state_dict()")
        problems: list[str] = []
        hyper = dict(state_dict["hyperparameters"])
        missing = [k for k in self.hyperparameters if k not in hyper]
        unexpected = [str(k) for k in hyper if k not in self.hyperparameters]
        if missing:
            problems.append("missing hyperparameters: " + ", ".join(missing))
        if unexpected:
            problems.append("unexpected hyperparameters: " + ", ".join(unexpected))
        if not missing and not unexpected:
            try:
                self._check_hyperparameters(**hyper)
            except (TypeError, ValueError) as err:
                problems.append(str(err))
        new_state = {}
        for i, entry in state_dict["state"].items():
            if not isinstance(i, int) or not 0 <= i < len(self.params):
                problems.append(f"state for parameter {i!r}, but there are "
                                f"{len(self.params)} parameters (0 to {len(self.params) - 1})")
                continue
            new_state[i] = self._load_entry(i, entry, problems)
        if problems:
            raise ValueError(f"{name}.load_state_dict: nothing was loaded:\n  "
                             + "\n  ".join(problems))
        for k, v in hyper.items():
            setattr(self, k, tuple(v) if isinstance(v, list) else v)
        self.state = new_state

    def _load_entry(self, i: int, entry: Any, problems: list[str]) -> dict[str, Any]:
        """One parameter's saved state, checked and converted to its device and dtype."""
        p = self.params[i]
        if not isinstance(entry, Mapping) or set(entry) != set(self.state_keys):
            keys = sorted(map(str, entry)) if isinstance(entry, Mapping) else type(entry).__name__
            problems.append(f"parameter {i}: state holds {keys}, expected {list(self.state_keys)}")
            return {}
        out: dict[str, Any] = {}
        for key, value in entry.items():
            if key == "step":
                if isinstance(value, bool) or not isinstance(value, (int, backend.np.integer)):
                    problems.append(f"parameter {i}: step must be an integer, got {value!r}")
                else:
                    out[key] = int(value)
                continue
            array = value.data if isinstance(value, Tensor) else value
            if not backend.is_array(array) or tuple(array.shape) != p.shape:
                got = tuple(array.shape) if backend.is_array(array) else type(value).__name__
                problems.append(f"parameter {i}: {key} is {got}, expected an array of shape "
                                f"{p.shape}")
                continue
            problem = checks.load_problem(array, p.dtype)        # the rule of Module.load_state_dict
            if problem:
                problems.append(f"parameter {i}: {key}: {problem}")
                continue
            module = backend.array_module(p.data)
            out[key] = backend.to_module(array, module).astype(p.dtype, copy=True)
        return out

    def _check_hyperparameters(self, **values: Any) -> None:
        """Raise ValueError for a bad value; subclasses check theirs."""
        checks.in_range(type(self).__name__, "lr", values["lr"], 0)

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={getattr(self, k)}" for k in self.hyperparameters)
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"
