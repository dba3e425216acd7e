"""The autograd engine: accumulation, freeing the graph, graph order, error messages,
grad modes, higher-order gradients and the checks the engine makes on every backward."""
import numpy as np
import pytest

import minigen
from minigen import Function, Tensor


def f64(values, requires_grad=True):
    """A float64 leaf (exact enough to compare with closed forms at tight tolerances)."""
    return minigen.tensor(values, dtype="float64", requires_grad=requires_grad)


def sigmoid_np(x):
    return 1 / (1 + np.exp(-x))


# ---------------------------------------------------------------- accumulating and freeing
def test_gradients_accumulate_across_backward_calls():
    x = f64([1.0, -2.0, 3.0])
    (x * x).sum().backward()             # 2x
    (x * 3.0).sum().backward()           # + 3
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, -2.0, 3.0]) + 3)


@pytest.mark.parametrize("kind", ["mul", "pure_add"])
def test_second_backward_without_retain_graph_raises(kind):
    """Mul saves its inputs; Add saves nothing, yet its node is freed all the same."""
    x = f64(2.0)
    y = x * x if kind == "mul" else x + x + x
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward_and_grads_add_up():
    x = f64([1.0, 2.0])
    y = (x * x * x).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array([1.0, 4.0]))
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([1.0, 4.0]))


def test_grad_in_dot_grad_carries_no_graph():
    x = f64([1.0, 2.0])
    (x * x).sum().backward()
    assert x.grad.requires_grad is False
    assert x.grad._ctx is None
    (g,) = minigen.grad((x * x).sum(), x)
    assert g.requires_grad is False and g._ctx is None


# ---------------------------------------------------------------- graph order
def test_long_chain_backprops_without_recursion_error():
    """100 000 ops deep, far beyond Python's recursion limit; d/dx (x·c^n) = c^n."""
    c, n = 1.0 + 1e-5, 100_000
    x = f64(2.0)
    y = x
    for _ in range(n):
        y = y * c
    y.backward()
    assert x.grad.item() == pytest.approx(c ** n, rel=1e-9)   # about e
    assert y.item() == pytest.approx(2.0 * c ** n, rel=1e-9)


def test_diamond():
    a = f64(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_dag_where_an_input_also_feeds_another_input():
    """root = B·A with A = 3B, B = 2x: root = 12x², so d root/dx = 24x.

    B must receive A's contribution before passing its gradient on."""
    xs = np.array([1.0, -2.0, 0.5])
    x = f64(xs)
    b = x * 2.0
    a = b * 3.0
    root = (b * a).sum()             # the root's inputs are [B, A]; A depends on B
    root.backward()
    np.testing.assert_allclose(x.grad.numpy(), 24 * xs)


class CountingIdentity(Function):
    """y = x; counts how often its backward runs."""
    calls = 0

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        CountingIdentity.calls += 1
        return grad


def test_each_node_backward_runs_once_with_its_total_gradient():
    CountingIdentity.calls = 0
    x = f64(1.5)
    b = CountingIdentity.apply(x)
    root = b * b + b + b             # d root/db = 2b + 2, reaching b along four edges
    root.backward()
    assert CountingIdentity.calls == 1
    assert x.grad.item() == pytest.approx(2 * 1.5 + 2)


# ---------------------------------------------------------------- backward() errors
def test_backward_on_non_scalar_without_grad_names_the_shape():
    y = minigen.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        y.backward()


def test_backward_with_a_non_scalar_grad():
    x = f64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w = np.arange(6.0).reshape(2, 3)
    (x * x).backward(w)
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() * w)


def test_backward_with_wrongly_shaped_grad_names_both_shapes():
    y = minigen.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(ValueError) as err:
        y.backward(minigen.ones(3))
    assert "(3,)" in str(err.value) and "(2, 3)" in str(err.value)


def test_backward_on_tensor_without_grad_raises():
    y = minigen.ones(3) * 2
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


# ---------------------------------------------------------------- grad modes
def test_no_grad_context_manager():
    x = minigen.ones(3, requires_grad=True)
    with minigen.no_grad():
        assert not minigen.is_grad_enabled()
        y = x * 2
    assert y.requires_grad is False and y._ctx is None
    assert minigen.is_grad_enabled()
    assert (x * 2).requires_grad   # recording is back on


def test_no_grad_decorator():
    @minigen.no_grad()
    def double(t):
        return t * 2

    y = double(minigen.ones(3, requires_grad=True))
    assert y.requires_grad is False and y._ctx is None
    assert minigen.is_grad_enabled()


def test_no_grad_restores_mode_after_an_exception():
    with pytest.raises(KeyError):
        with minigen.no_grad():
            raise KeyError
    assert minigen.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = f64([1.0, 2.0])
    with minigen.no_grad():
        with minigen.enable_grad():
            y = (x * x).sum()
        z = x * x
    assert y.requires_grad and not z.requires_grad
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


# ---------------------------------------------------------------- higher-order gradients
XS = np.array([-1.7, -0.3, 0.4, 2.1])

SECOND_DERIVATIVES = {
    # name: (f, f', f'') with f built from minigen ops, f' and f'' in NumPy
    "cube": (lambda x: x ** 3, lambda x: 3 * x ** 2, lambda x: 6 * x),
    "sigmoid": (minigen.sigmoid,
                lambda x: sigmoid_np(x) * (1 - sigmoid_np(x)),
                lambda x: sigmoid_np(x) * (1 - sigmoid_np(x)) * (1 - 2 * sigmoid_np(x))),
    # SiLU's backward recomputes σ(x) in the graph when a second derivative is wanted:
    # f' = σ(1 + x(1 - σ)), f'' = σ(1 - σ)(2 + x(1 - 2σ))
    "silu": (minigen.ops.silu,
             lambda x: sigmoid_np(x) * (1 + x * (1 - sigmoid_np(x))),
             lambda x: sigmoid_np(x) * (1 - sigmoid_np(x)) * (2 + x * (1 - 2 * sigmoid_np(x)))),
    "tanh": (minigen.tanh, lambda x: 1 - np.tanh(x) ** 2,
             lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    "exp_times_square": (lambda x: minigen.exp(x) * x * x,
                         lambda x: np.exp(x) * (x ** 2 + 2 * x),
                         lambda x: np.exp(x) * (x ** 2 + 4 * x + 2)),
    "log_of_softplus_like": (lambda x: minigen.log(1 + minigen.exp(x)),
                             sigmoid_np, lambda x: sigmoid_np(x) * (1 - sigmoid_np(x))),
}


@pytest.mark.parametrize("name", sorted(SECOND_DERIVATIVES))
def test_second_derivative_with_minigen_grad(name):
    f, df, d2f = SECOND_DERIVATIVES[name]
    x = f64(XS)
    (g,) = minigen.grad(f(x).sum(), x, create_graph=True)
    assert g.requires_grad
    (gg,) = minigen.grad(g.sum(), x)
    np.testing.assert_allclose(g.numpy(), df(XS), rtol=1e-10)
    np.testing.assert_allclose(gg.numpy(), d2f(XS), rtol=1e-10, atol=1e-12)


def test_second_derivative_with_backward_create_graph():
    x = f64(XS)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    np.testing.assert_allclose(g.numpy(), 3 * XS ** 2)
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * XS)


@pytest.mark.exercise_matmul_backward
def test_hessian_vector_product_through_matmul():
    """f(x) = |A x|²: ∇f = 2 AᵀA x and the Hessian is 2 AᵀA, so H v = 2 AᵀA v."""
    rng = np.random.default_rng(0)
    A_np, x_np, v_np = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(3)
    A, x = f64(A_np, requires_grad=False), f64(x_np)
    y = A @ x
    (g,) = minigen.grad((y * y).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), 2 * A_np.T @ A_np @ x_np)
    (hv,) = minigen.grad(g, x, grad_outputs=f64(v_np, requires_grad=False))
    np.testing.assert_allclose(hv.numpy(), 2 * A_np.T @ A_np @ v_np)


@pytest.mark.exercise_matmul_backward
def test_mixed_second_derivative_through_matmul_weights():
    """f(W) = Σ (W x)³ for a vector x: ∂f/∂W_ij = 3 (Wx)_i² x_j, and
    Σ_ij ∂/∂W (∂f/∂W_ij) = 6 (Wx)_i x_j Σ_k x_k."""
    rng = np.random.default_rng(1)
    W_np, x_np = rng.standard_normal((2, 3)), rng.standard_normal(3)
    W, x = f64(W_np), f64(x_np, requires_grad=False)
    (g,) = minigen.grad(((W @ x) ** 3).sum(), W, create_graph=True)
    z = W_np @ x_np
    np.testing.assert_allclose(g.numpy(), 3 * np.outer(z ** 2, x_np))
    (gg,) = minigen.grad(g.sum(), W)
    np.testing.assert_allclose(gg.numpy(), 6 * np.outer(z, x_np) * x_np.sum())


# ---------------------------------------------------------------- minigen.grad
def test_grad_returns_gradients_and_leaves_dot_grad_alone():
    x = f64([1.0, 2.0])
    x.grad = f64([10.0, 10.0], requires_grad=False)
    (g,) = minigen.grad((x * x).sum(), x)
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(), [10.0, 10.0])
    y = f64(1.0)
    minigen.grad(y * 3.0, y)
    assert y.grad is None


def test_grad_with_respect_to_an_intermediate_tensor():
    x = f64(3.0)
    y = x * 2.0
    (g,) = minigen.grad(y * y, y)       # d(y²)/dy = 2y = 12
    assert g.item() == 12.0
    assert x.grad is None


def test_grad_frees_the_graph_unless_create_graph():
    x = f64(2.0)
    y = x * x
    minigen.grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph"):
        minigen.grad(y, x)
    z = x * x
    minigen.grad(z, x, create_graph=True)      # keeps the graph: it may be needed again
    assert minigen.grad(z, x)[0].item() == 4.0


def test_grad_of_unused_input():
    x, z = f64(2.0), f64(5.0)
    with pytest.raises(RuntimeError, match="allow_unused"):
        minigen.grad(x * x, [x, z], retain_graph=True)
    gx, gz = minigen.grad(x * x, [x, z], allow_unused=True)
    assert gx.item() == 4.0 and gz is None


def test_grad_input_that_does_not_require_grad():
    x, c = f64(2.0), f64(3.0, requires_grad=False)
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigen.grad(x * c, [x, c])


def test_grad_outputs_with_wrong_shape_names_both_shapes():
    x = f64([1.0, 2.0, 3.0])
    with pytest.raises(ValueError) as err:
        minigen.grad(x * 2.0, x, grad_outputs=f64([1.0, 1.0], requires_grad=False))
    assert "(2,)" in str(err.value) and "(3,)" in str(err.value)


def test_grad_with_several_outputs_adds_their_gradients():
    x = f64([1.0, 2.0])
    (g,) = minigen.grad([(x * x).sum(), (x * 3.0).sum()], x)
    np.testing.assert_allclose(g.numpy(), [2 + 3, 4 + 3])


# ---------------------------------------------------------------- leaves and detach
def test_detach_stops_gradients():
    xs = np.array([1.0, -3.0])
    x = f64(xs)
    (x * x.detach()).sum().backward()    # only the first factor is differentiated
    np.testing.assert_allclose(x.grad.numpy(), xs)
    assert x.detach().requires_grad is False


def test_requires_grad_on_non_leaf_raises():
    y = f64([1.0]) * 2
    with pytest.raises(RuntimeError, match="not a leaf"):
        y.requires_grad_()


def test_requires_grad_on_int_data_raises():
    with pytest.raises(TypeError):
        minigen.tensor([1, 2]).requires_grad_()


def test_requires_grad_on_leaf():
    x = minigen.tensor([1.0, 2.0]).requires_grad_()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


# ---------------------------------------------------------------- checks on user Functions
class TwoGrads(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class BadShape(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return Tensor(np.ones((5,)))


class ArrayGrad(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad.data * 2   # an array, not a Tensor


class Tile4(Function):
    """(3, 1) -> (3, 4) by broadcasting; backward returns the (3, 4) gradient as it is."""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.broadcast_to(x, (3, 4)).copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class ToInt(Function):
    @staticmethod
    def forward(ctx, x):
        return x.astype("int64")

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_backward_returning_too_many_gradients_names_the_op():
    y = TwoGrads.apply(f64([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="TwoGrads"):
        y.sum().backward()


def test_backward_returning_a_wrongly_shaped_gradient_names_the_op():
    y = BadShape.apply(f64([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError) as err:
        y.sum().backward()
    assert "BadShape" in str(err.value) and "(5,)" in str(err.value)


def test_backward_returning_an_array_raises():
    y = ArrayGrad.apply(f64([1.0, 2.0]))
    with pytest.raises(TypeError, match="ArrayGrad"):
        y.sum().backward()


def test_broadcast_shaped_gradient_is_summed_back_by_the_engine():
    x = f64([[1.0], [2.0], [3.0]])
    w = np.arange(12.0).reshape(3, 4)
    Tile4.apply(x).backward(w)
    assert x.grad.shape == (3, 1)
    np.testing.assert_allclose(x.grad.numpy(), w.sum(axis=1, keepdims=True))


def test_integer_output_from_grad_requiring_input_raises():
    with pytest.raises(TypeError, match="ToInt"):
        ToInt.apply(f64([1.5, 2.5]))
    with minigen.no_grad():   # nothing is recorded, so no gradient is needed
        assert ToInt.apply(f64([1.5, 2.5])).dtype == np.int64


# ---------------------------------------------------------------- dtypes and summaries
def test_gradient_dtype_follows_input_dtype_when_mixing_float32_and_float64():
    a = minigen.tensor([1.0, 2.0], dtype="float32", requires_grad=True)
    b = minigen.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    y = (a * b).sum()
    assert y.dtype == np.float64
    y.backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 2.0])


def test_graph_summary_lists_the_ops_inputs_first():
    x = minigen.ones(2, requires_grad=True)
    summary = (x * 2 + x).sum().graph_summary()
    lines = summary.splitlines()
    assert "leaf" in lines[0]
    ops = [name for line in lines for name in ("Mul", "Add", "Sum") if f"= {name}(" in line]
    assert ops == ["Mul", "Add", "Sum"]
