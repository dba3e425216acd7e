"""Containers: ``Sequential`` (layers applied in order) and ``ModuleList`` (a list of layers).

Both register their items as submodules named ``"0"``, ``"1"``, ..., which gives the
dotted parameter names ``"0.weight"``, ``"encoder.2.bias"`` and so on::

    >>> from minigen import nn
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> len(net), type(net[1]).__name__, [n for n, _ in net.named_parameters()]
    (3, 'ReLU', ['0.weight', '0.bias', '2.weight', '2.bias'])
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Iterator

from minigen.nn.module import Module


def _check_modules(where: str, modules: list[Any]) -> None:
    """Every item must be a Module; checked before any is added."""
    for i, m in enumerate(modules):
        if not isinstance(m, Module):
            raise TypeError(f"{where}: item {i} is a {type(m).__name__}, not a Module (did you "
                            "pass a function instead of a layer, e.g. F.relu for nn.ReLU()?)")


def _index(where: str, index: int, length: int) -> int:
    """A non-negative position for ``index`` (negative counts from the end)."""
    if not isinstance(index, int):
        raise TypeError(f"{where} indices must be integers or slices, got {type(index).__name__}")
    if not -length <= index < length:
        raise IndexError(f"{where} index {index} is out of range for {length} modules")
    return index % length


class Sequential(Module):
    """Applies its modules in order: ``Sequential(a, b, c)(x) = c(b(a(x)))``.

    Give the modules as arguments (named "0", "1", ...) or as one ordered dict of
    names to modules. Indexing gives a module (a slice gives a new Sequential sharing
    the modules); ``len`` and iteration work as on a list.
    """

    def __init__(self, *modules: Module | "OrderedDict[str, Module]") -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            named = list(modules[0].items())
        else:
            named = [(str(i), m) for i, m in enumerate(modules)]
        _check_modules("Sequential", [m for _, m in named])
        for name, m in named:
            self.add_module(name, m)

    def forward(self, x: Any) -> Any:
        for module in self:
            x = module(x)
        return x

    def append(self, module: Module) -> "Sequential":
        """Add ``module`` at the end; returns self."""
        _check_modules("Sequential.append", [module])
        self.add_module(str(len(self)), module)
        return self

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[_index("Sequential", index, len(items))][1]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


class ModuleList(Module):
    """A list of modules whose parameters the parent module sees.

    A plain Python list would hide its layers from ``parameters()``; this one
    registers them. It has no ``forward``: the parent decides how to use its items.

    >>> from minigen import nn
    >>> blocks = nn.ModuleList([nn.Linear(3, 3) for _ in range(2)])
    >>> _ = blocks.append(nn.Tanh())     # append returns the list itself
    >>> len(blocks), blocks.num_parameters()
    (3, 24)
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def append(self, module: Module) -> "ModuleList":
        """Add ``module`` at the end; returns self."""
        return self.extend([module])

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        """Add every module of ``modules`` at the end; returns self."""
        modules = list(modules)
        _check_modules("ModuleList", modules)
        start = len(self)
        for i, m in enumerate(modules):
            self.add_module(str(start + i), m)
        return self

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[_index("ModuleList", index, len(items))]

    def __setitem__(self, index: int, module: Module) -> None:
        position = _index("ModuleList", index, len(self))
        _check_modules("ModuleList", [module])
        self._modules[str(position)] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward(); iterate over it in the parent's "
                                  "forward, or use Sequential to chain the modules")
