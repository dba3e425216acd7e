"""The Tensor API (attributes, operators, indexing), the factories, the default dtype,
and the error messages for mismatched shapes."""
import operator

import numpy as np
import pytest

import minigen
import minigen.functional as F
from minigen import Tensor

A = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])


# ---------------------------------------------------------------- attributes
def test_attributes():
    t = minigen.tensor(A, requires_grad=True)
    assert isinstance(t.data, np.ndarray)
    assert t.grad is None and t.requires_grad is True
    assert t.shape == (2, 3) and t.ndim == 2 and t.dtype == np.float32
    assert t.numel() == 6 and t.size() == (2, 3) and t.size(0) == 2 and t.size(-1) == 3
    assert len(t) == 2 and t.dim() == 2
    assert t.is_leaf and t.grad_fn is None


def test_transpose_property():
    t = minigen.tensor(A)
    assert t.T.shape == (3, 2)
    np.testing.assert_array_equal(t.T.numpy(), A.T)


def test_item_numpy_tolist():
    assert minigen.tensor(3.5).item() == 3.5
    assert isinstance(minigen.tensor([7]).item(), int)
    with pytest.raises(ValueError, match=r"\(2,\)"):
        minigen.tensor([1.0, 2.0]).item()
    t = minigen.tensor(A, requires_grad=True)
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(t.numpy(), A.astype(np.float32))
    assert t.tolist() == A.tolist()


def test_repr_shows_values_and_grad_fn():
    x = minigen.tensor([1.5, -2.0], requires_grad=True)
    assert "1.5" in repr(x) and "-2." in repr(x) and "requires_grad=True" in repr(x)
    y = x * 2
    assert "3." in repr(y) and "-4." in repr(y) and "grad_fn=Mul" in repr(y)


def test_tensor_of_a_tensor_is_an_error():
    with pytest.raises(TypeError):
        Tensor(minigen.ones(2))


# ---------------------------------------------------------------- operators
B = np.array([[0.5, 2.0, -1.0], [3.0, -0.25, 4.0]])

BINARY = {
    "+": (lambda a, b: a + b), "-": (lambda a, b: a - b), "*": (lambda a, b: a * b),
    "/": (lambda a, b: a / b), "@": (lambda a, b: a @ b.T),
}


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_operators_match_numpy(op):
    f = BINARY[op]
    out = f(minigen.tensor(A), minigen.tensor(B))
    assert isinstance(out, Tensor) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), f(A, B), rtol=1e-6)


def test_pow_unary_minus_and_abs():
    t = minigen.tensor(A)
    np.testing.assert_allclose((t ** 2).numpy(), A ** 2)
    np.testing.assert_allclose((minigen.tensor(np.abs(A)) ** 0.5).numpy(), np.abs(A) ** 0.5,
                               rtol=1e-6)
    np.testing.assert_array_equal((-t).numpy(), -A)
    np.testing.assert_array_equal(abs(t).numpy(), np.abs(A))
    np.testing.assert_array_equal(t.abs().numpy(), np.abs(A))


@pytest.mark.parametrize("left", [2, 2.0, np.float32(2), np.float64(2), np.int64(2)],
                         ids=["int", "float", "np.float32", "np.float64", "np.int64"])
def test_reflected_operators_with_a_number_on_the_left(left):
    t = minigen.tensor(B)
    for out, expected in [(left + t, 2 + B), (left - t, 2 - B), (left * t, 2 * B),
                          (left / t, 2 / B)]:
        assert isinstance(out, Tensor)
        assert out.dtype == np.float32   # a scalar does not promote the tensor
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    out = left ** t
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.numpy(), 2.0 ** B, rtol=1e-5)


def test_reflected_matmul_with_an_array_on_the_left():
    out = np.ones((2, 2), dtype=np.float32) @ minigen.tensor(B)
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.numpy(), np.ones((2, 2)) @ B)
    with pytest.raises(TypeError, match="matmul: operands must have the same dtype, got "
                                        "float64 and float32"):
        np.ones((2, 2)) @ minigen.tensor(B)              # NumPy's float64: no silent upcast


@pytest.mark.exercise_mul_backward
def test_reflected_operators_carry_gradients():
    x = minigen.tensor([1.0, 2.0], requires_grad=True)
    (np.float32(3) * x + 1 - 2 / x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 + 2 / np.array([1.0, 2.0]) ** 2)


def test_float32_times_a_python_number_stays_float32():
    assert (minigen.ones(3) * 2).dtype == np.float32
    assert (minigen.ones(3) * 2.5).dtype == np.float32
    assert (minigen.ones(3, dtype="float64") * 2.5).dtype == np.float64


def test_int_tensor_times_a_float_gives_a_float():
    out = minigen.tensor([1, 2, 3]) * 2.5
    assert out.dtype.kind == "f"
    np.testing.assert_array_equal(out.numpy(), [2.5, 5.0, 7.5])
    assert (minigen.tensor([1, 2]) * 2).dtype.kind == "i"


@pytest.mark.parametrize("compare", [operator.lt, operator.le, operator.gt, operator.ge,
                                     operator.eq, operator.ne])
def test_comparisons_give_bool_tensors_without_grad(compare):
    x = minigen.tensor(A, requires_grad=True)
    out = compare(x, -2.0)
    assert out.dtype == np.bool_
    assert out.requires_grad is False and out._ctx is None
    np.testing.assert_array_equal(out.numpy(), compare(A, -2.0))


# ---------------------------------------------------------------- indexing
X = np.arange(12.0).reshape(3, 4)

INDICES = {
    "int": 1,
    "negative_int": -1,
    "int_pair": (1, -2),
    "slices": (slice(1, None), slice(None, None, 2)),
    "none": None,
    "ellipsis": (Ellipsis, 1),
    "none_in_tuple": (slice(None), None, 1),
    "int_array_repeated": np.array([0, 0, 2]),
    "list": [2, 0, 2],
    "two_int_arrays": (np.array([0, 2, 0]), np.array([1, 1, 1])),
    "bool_mask": X > 5,
}


@pytest.mark.exercise_getitem_backward
@pytest.mark.parametrize("name", sorted(INDICES))
def test_getitem_values_and_gradients(name):
    index = INDICES[name]
    x = minigen.tensor(X, dtype="float64", requires_grad=True)
    y = x[index]
    np.testing.assert_array_equal(y.numpy(), X[index])
    w = np.random.default_rng(0).standard_normal(X[index].shape)
    y.backward(w)
    expected = np.zeros_like(X)
    np.add.at(expected, index, w)       # repeated picks add up
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_tensor_as_index():
    x = minigen.tensor(X, requires_grad=True)
    np.testing.assert_array_equal(x[minigen.tensor([2, 0])].numpy(), X[[2, 0]])
    np.testing.assert_array_equal(x[minigen.tensor(X) > 5].numpy(), X[X > 5])


def test_index_tensor_requiring_grad_is_an_error():
    x = minigen.tensor(X)
    with pytest.raises(TypeError, match="index"):
        x[minigen.tensor([0.0, 1.0], requires_grad=True)]


# ---------------------------------------------------------------- factories
def test_tensor_dtypes():
    assert minigen.tensor([1.0, 2.0]).dtype == np.float32
    assert minigen.tensor(np.zeros(2)).dtype == np.float32          # float64 array -> default
    assert minigen.tensor(np.zeros(2), dtype="float64").dtype == np.float64
    assert minigen.tensor([1, 2]).dtype.kind == "i"
    assert minigen.tensor([True, False]).dtype == np.bool_


def test_tensor_copies_its_data():
    source = np.array([1.0, 2.0], dtype=np.float32)
    t = minigen.tensor(source)
    source[0] = 100.0
    assert t.tolist() == [1.0, 2.0]


def test_int_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating"):
        minigen.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize("make", [minigen.zeros, minigen.ones, minigen.randn, minigen.rand])
def test_filled_and_random_factories(make):
    assert make(2, 3).shape == (2, 3)
    assert make((2, 3)).shape == (2, 3)
    assert make(4).dtype == np.float32
    assert make(4, dtype="float64").dtype == np.float64
    assert make(2, requires_grad=True).requires_grad


def test_factory_values():
    np.testing.assert_array_equal(minigen.zeros(2, 2).numpy(), np.zeros((2, 2)))
    np.testing.assert_array_equal(minigen.ones(3).numpy(), np.ones(3))
    full = minigen.full((2, 3), 7.5)
    assert full.dtype == np.float32
    np.testing.assert_array_equal(full.numpy(), np.full((2, 3), 7.5))
    r = minigen.rand(1000).numpy()
    assert r.min() >= 0.0 and r.max() < 1.0
    n = minigen.randn(10000).numpy()
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1) < 0.1


def test_arange():
    ints = minigen.arange(5)
    assert ints.dtype.kind == "i" and ints.tolist() == [0, 1, 2, 3, 4]
    floats = minigen.arange(0.0, 1.0, 0.25)
    assert floats.dtype == np.float32 and floats.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert minigen.arange(2, 8, 3).tolist() == [2, 5]
    assert minigen.arange(3, dtype="float64").dtype == np.float64


def test_randint():
    r = minigen.randint(2, 5, (1000,))
    assert r.shape == (1000,) and r.dtype == np.int64
    assert set(r.tolist()) == {2, 3, 4}
    with pytest.raises(ValueError):
        minigen.randint(5, 5, (2,))


def test_zeros_like_and_ones_like_keep_shape_and_dtype():
    t = minigen.tensor(A, dtype="float64")
    z, o = minigen.zeros_like(t), minigen.ones_like(t)
    assert z.shape == o.shape == (2, 3)
    assert z.dtype == o.dtype == np.float64
    np.testing.assert_array_equal(z.numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(o.numpy(), np.ones((2, 3)))
    assert minigen.zeros_like(t, dtype="float32").dtype == np.float32


def test_negative_dimension_is_an_error():
    with pytest.raises(ValueError):
        minigen.zeros(2, -1)


def _draws():
    return (minigen.randn(5).numpy(), minigen.rand(5).numpy(),
            minigen.randint(0, 1000, (5,)).numpy())


def test_manual_seed_repeats_random_tensors():
    minigen.manual_seed(123)
    first = _draws()
    minigen.manual_seed(123)
    again = _draws()
    minigen.manual_seed(124)
    other = _draws()
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


# ---------------------------------------------------------------- the default dtype
def test_set_default_dtype():
    minigen.set_default_dtype("float64")
    assert minigen.get_default_dtype() == np.float64
    assert minigen.zeros(2).dtype == np.float64
    assert minigen.tensor([1.0]).dtype == np.float64
    assert minigen.randn(2).dtype == np.float64
    minigen.set_default_dtype(np.float32)
    assert minigen.tensor([1.0]).dtype == np.float32


def test_default_dtype_context_manager_restores_even_on_exception():
    with minigen.default_dtype("float64"):
        assert minigen.ones(1).dtype == np.float64
    assert minigen.ones(1).dtype == np.float32
    with pytest.raises(KeyError):
        with minigen.default_dtype("float64"):
            raise KeyError
    assert minigen.get_default_dtype() == np.float32


@pytest.mark.parametrize("dtype", ["int32", "bool", np.int64])
def test_non_float_default_dtype_is_an_error(dtype):
    with pytest.raises(TypeError, match="floating"):
        minigen.set_default_dtype(dtype)
    assert minigen.get_default_dtype() == np.float32


# ---------------------------------------------------------------- shape mismatch errors
S23, S45 = minigen.ones(2, 3), minigen.ones(4, 5)

MISMATCHES = {
    "add": lambda: S23 + S45,
    "sub": lambda: S23 - S45,
    "mul": lambda: S23 * S45,
    "div": lambda: S23 / S45,
    "maximum": lambda: minigen.maximum(S23, S45),
    "minimum": lambda: minigen.minimum(S23, S45),
    "matmul": lambda: S23 @ S45,
    "where": lambda: minigen.where(S23 > 0, S23, S45),
    "cat": lambda: minigen.concat([S23, S45], axis=0),   # concat is an alias of cat
    "stack": lambda: minigen.stack([S23, S45]),
    "broadcast_to": lambda: S23.broadcast_to((4, 5)),
    "mse_loss": lambda: F.mse_loss(S23, S45),
    "l1_loss": lambda: F.l1_loss(S23, S45),
    "binary_cross_entropy": lambda: F.binary_cross_entropy(S23 * 0.5, S45),
    "binary_cross_entropy_with_logits": lambda: F.binary_cross_entropy_with_logits(S23, S45),
    "cross_entropy": lambda: F.cross_entropy(S23, S45),
}


@pytest.mark.parametrize("op", sorted(MISMATCHES))
def test_shape_mismatch_names_op_and_both_shapes(op):
    with pytest.raises(ValueError) as err:
        MISMATCHES[op]()
    message = str(err.value)
    assert message.startswith(op + ":")
    assert "(2, 3)" in message and "(4, 5)" in message


def test_reshape_to_incompatible_shape():
    with pytest.raises(ValueError) as err:
        S23.reshape(4, 2)
    message = str(err.value)
    assert message.startswith("reshape:") and "(2, 3)" in message and "(4, 2)" in message


def test_cross_entropy_with_wrong_label_shape():
    with pytest.raises(ValueError) as err:
        F.cross_entropy(S23, minigen.tensor([0, 1, 2]))
    message = str(err.value)
    assert message.startswith("cross_entropy:") and "(2,)" in message and "(3,)" in message
