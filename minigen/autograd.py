"""The backward pass: reverse-mode automatic differentiation over the recorded graph.

Every op that needs a gradient records a ``Context`` node pointing at its inputs, so a
result tensor is the root of a directed acyclic graph. ``backward`` applies the chain
rule from the root to the leaves:

    ∂L/∂x = Σ over the ops c that consumed x of  (∂L/∂c) · (∂c/∂x)

A node may only pass its gradient on once all of its consumers have added theirs, so
nodes are visited in reverse *topological order* (every consumer before what it
consumes). Recursion would follow the graph's depth and overflow Python's stack on long
chains, so the order is computed with an explicit stack.

Why an order at all, instead of recursing from each node? In ``b = a + a; c = b + b``
the node ``b`` is reached twice; recursing would push ``b``'s gradient to ``a`` before
``b`` had received all of its own. The topological order visits ``b`` once, complete.
"""
from __future__ import annotations

from typing import Any, Sequence

from minigen import backend
from minigen.function import raise_freed

# Hooks called with (ctx, input_grads) after every op's backward (minigen.detect_anomaly
# uses them); empty by default, so they cost nothing.
_backward_hooks: list[Any] = []
_backward_depth = 0  # > 0 while a backward pass runs (its ops are part of the pass)


def backward_running() -> bool:
    """True while ``backward``/``grad`` is computing gradients."""
    return _backward_depth > 0
from minigen.grad_mode import enable_grad, no_grad
from minigen.tensor import Tensor


def topological_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Tensors of the graph below ``roots``, each after all tensors it was computed from.

    An iterative depth-first search: a node is appended once all of its inputs have been.
    """
    order: list[Tensor] = []
    expanded: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False) for root in reversed(roots)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)  # every input of node is already in the order
            continue
        if id(node) in expanded:
            continue  # reached again through another path: already placed or pending
        expanded.add(id(node))
        stack.append((node, True))
        if node._ctx is not None:
            for parent in node._ctx.inputs:
                if parent.requires_grad and id(parent) not in expanded:
                    stack.append((parent, False))
    return order


def backward(root: Tensor, grad: Any = None, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """Accumulate ∂root/∂leaf into ``leaf.grad`` for every leaf below ``root`` that requires grad."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward(): this tensor does not require grad and has no graph. Did you compute it "
            "under no_grad(), or forget requires_grad=True on the inputs?")
    seed = _seed_gradient(root, grad, "backward()")
    _run(roots=[root], seeds=[seed], capture=None, retain_graph=retain_graph,
         create_graph=create_graph)


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` is untouched).

    ``grad_outputs`` are ∂L/∂output (ones for scalar outputs). With ``create_graph=True``
    the returned gradients carry a graph of their own, so they can be differentiated again
    (WGAN-GP's gradient penalty does this).

    >>> import minigen
    >>> x = minigen.tensor(3.0, requires_grad=True)
    >>> (dx,) = minigen.grad(x ** 3, x, create_graph=True)   # 3x² = 27
    >>> (ddx,) = minigen.grad(dx, x)                        # 6x = 18
    >>> dx.item(), ddx.item()
    (27.0, 18.0)
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor) or backend.is_array(grad_outputs):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad(): {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad(): input {i} (shape {t.shape}) does not require grad")
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(
                f"grad(): output {i} does not require grad and has no graph to differentiate")
        seeds.append(_seed_gradient(out, g, f"grad() output {i}"))
    if retain_graph is None:
        retain_graph = create_graph
    found = _run(roots=outputs, seeds=seeds, capture=inputs, retain_graph=retain_graph,
                 create_graph=create_graph)
    result = []
    for i, t in enumerate(inputs):
        g = found.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad(): input {i} (shape {t.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it")
        result.append(g)
    return tuple(result)


def _seed_gradient(root: Tensor, grad: Any, where: str) -> Tensor:
    """∂L/∂root: ones for a one-element root, else the given gradient (shape-checked)."""
    if grad is None:
        if root.numel() != 1:
            raise RuntimeError(
                f"{where}: the gradient can only be implied (as 1) for a one-element tensor; "
                f"this tensor has shape {root.shape}, so pass grad= of that shape")
        return Tensor(backend.array_module(root.data).ones_like(root.data))
    grad = grad if isinstance(grad, Tensor) else Tensor(grad)
    if backend.array_module(grad.data) is not backend.array_module(root.data):
        raise RuntimeError(f"{where}: grad is on {grad.device.name} but the tensor is on {root.device.name}")
    if grad.shape != root.shape:
        raise ValueError(f"{where}: grad has shape {grad.shape} but the tensor has shape {root.shape}")
    return grad


def _run(roots: list[Tensor], seeds: list[Tensor], capture: list[Tensor] | None,
         retain_graph: bool, create_graph: bool) -> dict[int, Tensor]:
    """The chain rule over the graph below ``roots``.

    With ``capture`` None, gradients of leaves go into their ``.grad``; otherwise the
    gradients of the captured tensors are returned and ``.grad`` is untouched.
    """
    order = topological_order(roots)
    if capture is not None:
        order = _prune_to(order, capture)
    else:   # checked before anything runs: a .grad of another shape would be added into
        for t in order:
            if t._ctx is None and t.grad is not None and t.grad.shape != t.shape:
                raise ValueError(f"backward: a leaf of shape {t.shape} already has a .grad of "
                                 f"shape {t.grad.shape}; the new gradient cannot be added to "
                                 "it (set .grad = None first)")
    wanted = {id(t) for t in capture} if capture is not None else set()
    grads: dict[int, Tensor] = {}
    for root, seed in zip(roots, seeds):
        grads[id(root)] = _accumulate(grads.get(id(root)), seed)
    found: dict[int, Tensor] = {}

    global _backward_depth
    _backward_depth += 1
    try:
        with enable_grad() if create_graph else no_grad():
            _backpropagate(order, grads, found, wanted, capture, retain_graph, create_graph)
    finally:
        _backward_depth -= 1
    return found


def _backpropagate(order: list[Tensor], grads: dict[int, Tensor], found: dict[int, Tensor],
                   wanted: set[int], capture: list[Tensor] | None, retain_graph: bool,
                   create_graph: bool) -> None:
    """The loop of ``_run``: each node, consumers first, passes its gradient to its inputs."""
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:
            continue  # no gradient reached this node
        if id(node) in wanted:
            found[id(node)] = g
        ctx = node._ctx
        if ctx is None:  # a leaf: accumulate into .grad
            if capture is None:
                node.grad = _accumulate(node.grad, g if create_graph else g.detach())
            continue
        if ctx.freed:
            raise_freed(ctx.op_name)
        input_grads = ctx.op.backward(ctx, g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(ctx.inputs):
            raise RuntimeError(
                f"{ctx.op_name}.backward returned {len(input_grads)} gradients for "
                f"{len(ctx.inputs)} inputs")
        for hook in _backward_hooks:
            hook(ctx, input_grads)
        for i, (parent, pg) in enumerate(zip(ctx.inputs, input_grads)):
            if pg is None or not ctx.needs_input_grad[i]:
                continue
            pg = _fit_gradient(ctx.op_name, i, parent, pg)
            grads[id(parent)] = _accumulate(grads.get(id(parent)), pg)
        if not retain_graph:
            ctx.release()


def _prune_to(order: list[Tensor], targets: list[Tensor]) -> list[Tensor]:
    """Keep only the nodes from which some target can be reached (the rest need no gradient)."""
    leads: set[int] = {id(t) for t in targets}
    kept = []
    for node in order:  # inputs come before the nodes computed from them
        if id(node) in leads or (node._ctx is not None and
                                 any(id(p) in leads for p in node._ctx.inputs)):
            leads.add(id(node))
            kept.append(node)
    return kept


def _accumulate(total: Tensor | None, g: Tensor) -> Tensor:
    return g if total is None else total + g


def _fit_gradient(op_name: str, index: int, parent: Tensor, g: Any) -> Tensor:
    """Bring a backward's gradient to its input's shape and dtype.

    A forward that broadcast an input of shape (3, 1) to (3, 4) receives a (3, 4)
    gradient; the chain rule sums it over the broadcast axes back to (3, 1). One helper
    does this for every op. Any other shape is a bug in the backward and is reported.
    """
    if not isinstance(g, Tensor):
        raise TypeError(f"{op_name}.backward must return Tensors (or None), got {type(g).__name__} "
                        f"for input {index}")
    if g.shape != parent.shape:
        if not _broadcasts_to(parent.shape, g.shape):
            raise RuntimeError(
                f"{op_name}.backward returned a gradient of shape {g.shape} for input {index}, "
                f"which has shape {parent.shape}")
        g = ops.sum_to(g, parent.shape)
    if g.dtype != parent.dtype:
        g = ops.cast(g, parent.dtype)
    return g


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    if len(shape) > len(target):
        return False
    for s, t in zip(reversed(shape), reversed(target)):
        if s != t and s != 1:
            return False
    return True


def graph_summary(root: Tensor) -> str:
    """A text listing of the graph below ``root``: one line per op, inputs first."""
    order = topological_order([root])
    names: dict[int, str] = {}
    lines = []
    for node in order:
        if node._ctx is None:
            names[id(node)] = node.name or f"leaf{len(names)}"
            lines.append(f"{names[id(node)]}: leaf {node.shape} {node.dtype}"
                         + (" (requires grad)" if node.requires_grad else ""))
            continue
        names[id(node)] = node.name or f"t{len(names)}"
        args = ", ".join(names.get(id(p), f"const{p.shape}") for p in node._ctx.inputs)
        lines.append(f"{names[id(node)]} = {node._ctx.op_name}({args}) -> {node.shape}")
    return "\n".join(lines)


from minigen import ops  # noqa: E402  (ops are built on the engine)
