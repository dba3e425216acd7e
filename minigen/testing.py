"""Hypothesis strategies and a one-line gradient property test, for minigen's tests and yours.

Needs the ``dev`` extra (hypothesis). A student checks their own op in three lines::

    from minigen.testing import arrays, check_gradient
    from mystuff import Square
    test_square = check_gradient(Square.apply, arrays())

pytest runs ``test_square`` for many generated shapes and values and, on a failure,
shows the smallest input that breaks the backward pass together with the
``GradcheckError`` that says which element is wrong.

Gradient checks use central differences, which are wrong at *kinks*: where a function
is not differentiable (relu and abs at 0) or where a choice flips (two equal maxima).
The strategies here keep values away from such points instead of loosening tolerances:
``avoid=(0.0,)`` moves values out of a small band around 0, and ``unique=True`` spaces
values apart so no two are tied.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import hypothesis.extra.numpy as hnp
from hypothesis import given
from hypothesis import strategies as st

from minigen import backend
from minigen.gradient_check import gradcheck, gradgradcheck
from minigen.tensor import Tensor

__all__ = ["shapes", "broadcastable_shapes", "arrays", "axes", "check_gradient"]


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, small enough for a full gradient check (at most 4³ elements by default)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         max_side: int = 4) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Tuples of shapes that broadcast together (e.g. ((3, 1), (4,)) ), for binary ops."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims,
                                             max_dims=max_dims, max_side=max_side).map(
        lambda result: result.input_shapes)


def _away_from(points: Sequence[float], margin: float) -> Callable[[float], float]:
    """Move a value that lies within ``margin`` of a kink to ``margin`` away from it."""
    def push(x: float) -> float:
        for p in points:
            if abs(x - p) < margin:
                return p + margin if x >= p else p - margin
        return x
    return push


def arrays(shape: Any = None, low: float = -3.0, high: float = 3.0,
           avoid: Sequence[float] = (), margin: float = 1e-2, unique: bool = False,
           dtype: Any = "float64") -> st.SearchStrategy[Any]:
    """Float arrays with elements in [low, high].

    Args:
        shape: a shape, a strategy of shapes, or None for ``shapes()``.
        avoid: kinks to keep away from; values come no closer than ``margin``.
        unique: space the values at least ``margin`` apart (no ties for max, maximum, sort).
    """
    shape = shapes() if shape is None else shape
    if unique:
        # An integer grid shifted by half a step: distinct, ≥ margin apart, and never on
        # a multiple of margin (so 0 and other round kinks are avoided too).
        lo, hi = int(low / margin), int(high / margin) - 1
        elements = st.integers(lo, hi).map(lambda k: (k + 0.5) * margin)
    else:
        elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
        if avoid:
            elements = elements.map(_away_from(tuple(avoid), margin))
    return hnp.arrays(backend.np.dtype(dtype), shape, elements=elements, unique=unique)


def axes(ndim: int) -> st.SearchStrategy[Any]:
    """A reduction ``axis`` argument for an array of ``ndim`` dims: None, an int (possibly
    negative) or a tuple of distinct axes."""
    if ndim == 0:
        return st.none()
    return st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1),
        st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple),
    )


def check_gradient(fn: Callable[..., Tensor], *input_strategies: st.SearchStrategy[Any],
                   second_order: bool = False, **gradcheck_kwargs: Any) -> Callable[..., None]:
    """A hypothesis test that gradient-checks ``fn`` on arrays drawn from the strategies.

    Every drawn array becomes a float64 tensor that requires grad; ``gradcheck`` (and
    ``gradgradcheck`` with ``second_order=True``) runs on each example. Assign the result
    to a name starting with ``test_`` and pytest collects it.
    """
    if not input_strategies:
        raise ValueError("check_gradient: give one strategy per input of fn")

    # One tuple strategy: hypothesis does not fill ``*args`` from positional strategies.
    @given(st.tuples(*input_strategies))
    def test(drawn: tuple[Any, ...]) -> None:
        inputs = [Tensor(backend.xp.asarray(a), requires_grad=True) for a in drawn]
        gradcheck(fn, inputs, **gradcheck_kwargs)
        if second_order:
            gradgradcheck(fn, inputs, **gradcheck_kwargs)

    test.__name__ = f"test_gradient_of_{getattr(fn, '__qualname__', 'fn')}"
    return test
