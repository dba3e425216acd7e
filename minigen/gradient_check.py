"""Gradient checking: compare a backward pass with central finite differences.

For a function f and a random upstream gradient v (random, not ones, so that errors
cannot cancel out), the backward pass computes the vector-Jacobian product

    g = vᵀ ∂f/∂x.

Element j of g is also the derivative of the scalar φ(x) = ⟨v, f(x)⟩ along the unit
vector e_j, which central differences estimate with an error of order eps²:

    g_j ≈ (φ(x + eps·e_j) - φ(x - eps·e_j)) / (2 eps).

Float32 would round φ to about 7 digits and drown that estimate in noise, so every
check runs in float64. A check passes when, for every element,

    |analytic - numeric| <= atol + rtol · |numeric|.

Small inputs are checked element by element (the full vector-Jacobian product); large
ones along a few random directions u, comparing ⟨g, u⟩ with (φ(x + eps·u) - φ(x - eps·u))
/ (2 eps), which costs two evaluations per direction whatever the size. When a direction
fails, the elements are checked one by one to say which one is wrong.

>>> import minigen
>>> x = minigen.randn(3, dtype="float64", requires_grad=True)
>>> minigen.gradcheck(lambda t: (t * t).sum(), [x])
True
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from minigen import backend
from minigen.autograd import grad
from minigen.grad_mode import enable_grad
from minigen.tensor import Tensor


class GradcheckError(AssertionError):
    """A gradient check failed. The message says which input and element; the attributes
    hold the same facts for programs (an autograder, a test)."""

    def __init__(self, message: str, *, input_index: int, element: tuple[int, ...] | None,
                 analytic: float, numeric: float, max_abs_error: float,
                 max_rel_error: float, op_name: str) -> None:
        super().__init__(message)
        self.input_index = input_index
        self.element = element
        self.analytic = analytic
        self.numeric = numeric
        self.max_abs_error = max_abs_error
        self.max_rel_error = max_rel_error
        self.op_name = op_name


def gradcheck(fn: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, max_full: int = 256,
              n_directions: int = 3, seed: int = 0) -> bool:
    """Check the gradients of ``fn(*inputs)`` for every input that requires grad.

    Args:
        fn: takes the inputs and returns a Tensor or a tuple of Tensors.
        inputs: Tensors (the ones with ``requires_grad`` are checked) and other arguments.
        eps: the finite-difference step.
        atol, rtol: the tolerance (see the module docstring).
        max_full: inputs with at most this many elements are checked element by element;
            larger ones along ``n_directions`` random directions.
        seed: seeds the upstream gradient and the directions.

    Returns True, or raises ``GradcheckError`` naming the input, the element, the
    analytic and numeric values, the largest errors and the op.
    """
    xs = _float64_copies(inputs)
    checked = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    with backend.default_dtype("float64"):
        with enable_grad():
            outputs = _as_outputs(fn(*xs))
        for k, out in enumerate(outputs):
            if out.dtype != backend.np.float64:
                raise TypeError(f"gradcheck: output {k} of {_name(fn)} is {out.dtype}; gradient "
                                "checks need float64 results (does fn cast to float32?)")
        xp = backend.array_module(outputs[0].data)
        rng = backend.np.random.default_rng(seed)
        upstream = [xp.asarray(rng.standard_normal(o.shape)) for o in outputs]
        op_name = outputs[0].grad_fn or _name(fn)
        analytic = _analytic(outputs, upstream, [xs[i] for i in checked])

        def phi(i: int, data: Any) -> float:
            """⟨v, f(x)⟩ with input i replaced by ``data``."""
            args = list(xs)
            args[i] = Tensor(data, requires_grad=True)
            with enable_grad():
                outs = _as_outputs(fn(*args))
            return float(sum(float((o.data * v).sum()) for o, v in zip(outs, upstream)))

        for i, g in zip(checked, analytic):
            _check_input(phi, i, xs[i].data, g, eps, atol, rtol, max_full, n_directions, rng,
                         op_name, _name(fn))
    return True


def gradgradcheck(fn: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, max_full: int = 256,
                  n_directions: int = 3, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of x ↦ vᵀ ∂f/∂x (computed with
    ``create_graph=True``) for a fixed random v. Errors are reported as by ``gradcheck``,
    for the function that computes the first gradients."""
    xs = _float64_copies(inputs)
    checked = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    with backend.default_dtype("float64"):
        with enable_grad():
            outputs = _as_outputs(fn(*xs))
        xp = backend.array_module(outputs[0].data)
        rng = backend.np.random.default_rng(seed + 1)
        upstream = [xp.asarray(rng.standard_normal(o.shape)) for o in outputs]

        def first_gradients(*args: Any) -> tuple[Tensor, ...]:
            outs = _as_outputs(fn(*args))
            wanted = [args[i] for i in checked]
            return tuple(_analytic(outs, upstream, wanted, create_graph=True))

        # _name reads __qualname__ first, so set both
        first_gradients.__name__ = first_gradients.__qualname__ = f"gradient of {_name(fn)}"
        with enable_grad():
            graphless = [i for i, g in zip(checked, first_gradients(*xs)) if not g.requires_grad]
        try:
            return gradcheck(first_gradients, xs, eps, atol, rtol, max_full, n_directions, seed)
        except GradcheckError as err:
            if err.input_index not in graphless:
                raise
            # A gradient with no graph is constant to autograd: its derivative reads 0.
            hint = (f"\n  the gradient of input {err.input_index} carries no graph, so its "
                    "derivative reads 0 everywhere: did the backward use .data or NumPy "
                    "directly? Compute it with Tensor ops so create_graph=True can "
                    "differentiate it again.")
            raise GradcheckError(str(err) + hint, input_index=err.input_index,
                                 element=err.element, analytic=err.analytic,
                                 numeric=err.numeric, max_abs_error=err.max_abs_error,
                                 max_rel_error=err.max_rel_error, op_name=err.op_name) from None


# ---------------------------------------------------------------- the pieces
def _name(fn: Callable[..., Any]) -> str:
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):  # ``Square.apply``, whose __qualname__ is "Function.apply"
        return f"{owner.__name__}.{fn.__name__}"
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _float64_copies(inputs: Sequence[Any]) -> list[Any]:
    xs = []
    for x in inputs:
        if isinstance(x, Tensor) and backend.is_floating(x.data):
            x = Tensor(x.data.astype("float64", copy=True), requires_grad=x.requires_grad)
        xs.append(x)
    return xs


def _as_outputs(result: Any) -> tuple[Tensor, ...]:
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    for k, o in enumerate(outputs):
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: fn must return Tensors, output {k} is {type(o).__name__}")
    return tuple(outputs)


def _analytic(outputs: Sequence[Tensor], upstream: Sequence[Any], wanted: Sequence[Tensor],
              create_graph: bool = False) -> list[Tensor]:
    """vᵀ ∂f/∂x for each wanted input (zeros where no output depends on it)."""
    live = [(o, Tensor(v)) for o, v in zip(outputs, upstream) if o.requires_grad]
    found: Sequence[Tensor | None] = [None] * len(wanted)
    if live:
        found = grad([o for o, _ in live], list(wanted), grad_outputs=[v for _, v in live],
                     create_graph=create_graph, allow_unused=True)
    result = []
    for x, g in zip(wanted, found):
        if g is None:
            xp = backend.array_module(x.data)
            g = Tensor(xp.zeros(x.shape, dtype=x.dtype))
        result.append(g)
    return result


def _check_input(phi: Callable[[int, Any], float], i: int, x: Any, g: Tensor, eps: float,
                 atol: float, rtol: float, max_full: int, n_directions: int, rng: Any,
                 op_name: str, fn_name: str) -> None:
    xp = backend.array_module(x)
    analytic = g.data
    if x.size > max_full:
        for _ in range(n_directions):
            u = _direction(x.shape, rng, xp)
            numeric = (phi(i, x + eps * u) - phi(i, x - eps * u)) / (2 * eps)
            along = float((analytic * u).sum())
            if abs(along - numeric) > atol + rtol * abs(numeric):
                break  # locate the wrong element below
        else:
            return
    numeric = xp.empty(x.shape, dtype=x.dtype)
    for j in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus.flat[j] += eps
        minus.flat[j] -= eps
        numeric.flat[j] = (phi(i, plus) - phi(i, minus)) / (2 * eps)
    _compare(i, x.shape, backend.to_numpy(analytic), backend.to_numpy(numeric), eps, atol, rtol,
             op_name, fn_name)


def _direction(shape: tuple[int, ...], rng: Any, xp: Any) -> Any:
    """A random unit vector whose elements are all far from zero (so every element counts)."""
    u = rng.uniform(0.5, 1.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return xp.asarray(u / backend.np.sqrt((u * u).sum()))


def _compare(i: int, shape: tuple[int, ...], analytic: Any, numeric: Any, eps: float,
             atol: float, rtol: float, op_name: str, fn_name: str) -> None:
    np = backend.np
    abs_err = np.abs(analytic - numeric)
    bad = abs_err > atol + rtol * np.abs(numeric)
    if not bad.any():
        return
    rel_err = abs_err / np.maximum(np.abs(numeric), 1e-12)
    worst = np.unravel_index(int(np.argmax(np.where(bad, abs_err, -1.0))), shape)
    worst_abs = np.unravel_index(int(np.argmax(abs_err)), shape)
    worst_rel = np.unravel_index(int(np.argmax(rel_err)), shape)
    element = tuple(int(k) for k in worst)
    lines = [
        f"gradcheck failed for input {i} (shape {tuple(shape)}) of {fn_name} "
        f"(output made by {op_name}):",
        f"  element {element}: analytic {analytic[worst]:.8g}, numeric {numeric[worst]:.8g}",
        f"  {int(bad.sum())} of {bad.size} elements are wrong",
        f"  largest absolute error {abs_err[worst_abs]:.3g} at element "
        f"{tuple(int(k) for k in worst_abs)}; largest relative error {rel_err[worst_rel]:.3g} "
        f"at element {tuple(int(k) for k in worst_rel)}",
        f"  tolerance: |analytic - numeric| <= atol + rtol*|numeric| with atol={atol}, "
        f"rtol={rtol}, eps={eps}",
    ]
    if analytic.size <= 16:
        lines.append(f"  analytic: {np.array2string(analytic.ravel(), precision=6)}")
        lines.append(f"  numeric:  {np.array2string(numeric.ravel(), precision=6)}")
    raise GradcheckError("\n".join(lines), input_index=i, element=element,
                         analytic=float(analytic[worst]), numeric=float(numeric[worst]),
                         max_abs_error=float(abs_err.max()), max_rel_error=float(rel_err.max()),
                         op_name=op_name)
