"""Silent wrong results found by trying bad input (issue 15), each now a clear error or a
stated rule: integer inputs to floating ops, mixed float dtypes in matmul and conv,
probabilities outside [0, 1], gradients of the wrong shape, empty kernels, boolean
masks of the wrong length, and what load_state_dict accepts."""
import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen import nn
from minigen.optim import SGD, Adam

FLOATING_OPS = [mg.exp, mg.log, mg.log1p, mg.sqrt, mg.erf, mg.sigmoid, mg.tanh, mg.softplus,
                F.silu, F.gelu]


@pytest.mark.parametrize("op", FLOATING_OPS, ids=[op.__name__ for op in FLOATING_OPS])
def test_integer_inputs_to_floating_ops_are_cast_to_the_default_float(op):
    ints = mg.tensor(np.array([1, 2, 3]))
    out = op(ints)
    assert out.dtype == np.float32                       # not int64 zeros, not float64
    np.testing.assert_allclose(out.numpy(), op(mg.tensor([1.0, 2.0, 3.0])).numpy())


def test_integer_ops_that_are_exact_stay_integer():
    ints = mg.tensor(np.array([-1, 2]))
    assert mg.relu(ints).dtype == np.int64 and mg.abs(ints).dtype == np.int64


def test_mixed_float_dtypes_in_matmul_and_conv_are_refused():
    with pytest.raises(TypeError, match="matmul: operands must have the same dtype, got "
                                        "float32 and float64"):
        mg.matmul(mg.zeros(2, 3), mg.zeros(3, 2, dtype="float64"))
    with pytest.raises(TypeError, match="conv2d: input and weight must have the same dtype, "
                                        "got float32 and float64"):
        F.conv2d(mg.zeros(1, 1, 4, 4), mg.zeros(2, 1, 3, 3, dtype="float64"))
    with pytest.raises(TypeError, match="conv_transpose2d: input and weight must have the "
                                        "same dtype"):
        F.conv_transpose2d(mg.zeros(1, 2, 4, 4, dtype="float64"), mg.zeros(2, 1, 3, 3))
    layer = nn.Linear(3, 2)                              # float32 weights
    with pytest.raises(TypeError, match="same dtype"):
        layer(mg.zeros(4, 3, dtype="float64"))


def test_elementwise_ops_promote_as_pytorch():
    """The stated rule for elementwise ops: float32 with float64 gives float64 (PyTorch's
    and NumPy's promotion); Python numbers follow the tensor."""
    assert (mg.zeros(2) + mg.zeros(2, dtype="float64")).dtype == np.float64
    assert (mg.zeros(2) * 2.5).dtype == np.float32


def test_binary_cross_entropy_checks_its_probabilities():
    with pytest.raises(ValueError, match=r"input must hold probabilities in \[0, 1\], got "
                                         r"values in \[-0.2, 1.5\]"):
        F.binary_cross_entropy(mg.tensor([1.5, -0.2]), mg.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="target must hold probabilities"):
        F.binary_cross_entropy(mg.tensor([0.5, 0.5]), mg.tensor([2.0, 0.0]))
    with pytest.raises(ValueError, match="input must hold probabilities"):
        nn.BCELoss()(mg.tensor([float("nan")]), mg.tensor([1.0]))
    assert F.binary_cross_entropy(mg.tensor([0.0, 1.0]), mg.tensor([0.0, 1.0])).item() == 0


@pytest.mark.parametrize("optimizer", [SGD, Adam])
def test_an_optimizer_refuses_a_gradient_of_another_shape(optimizer):
    layer = nn.Linear(2, 3)
    opt = optimizer(layer.parameters(), lr=0.1)
    before = [p.numpy().copy() for p in layer.parameters()]
    layer.bias.grad = mg.zeros(3)                        # a good one, first in no order
    layer.weight.grad = mg.zeros(3, 1)                   # would broadcast to (3, 2)
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(3, 2\) but its .grad has "
                                         r"shape \(3, 1\)"):
        opt.step()
    for old, p in zip(before, layer.parameters()):      # nothing was updated
        np.testing.assert_array_equal(p.numpy(), old)


def test_backward_refuses_to_add_into_a_grad_of_another_shape():
    w = mg.ones(2, 2, requires_grad=True)
    w.grad = mg.zeros(1, 2)
    with pytest.raises(ValueError, match=r"a leaf of shape \(2, 2\) already has a .grad of "
                                         r"shape \(1, 2\)"):
        (w * 3).sum().backward()
    assert w.grad.shape == (1, 2)                        # left as it was


@pytest.mark.parametrize("make", [lambda: nn.Conv2d(1, 2, 0), lambda: nn.Conv2d(1, 2, (3, 0)),
                                  lambda: nn.ConvTranspose2d(1, 2, 0)],
                         ids=["conv 0", "conv 3x0", "conv-transpose 0"])
def test_empty_kernels_are_refused(make):
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        make()


def test_empty_weights_are_refused_by_the_functionals():
    with pytest.raises(ValueError, match="conv2d: weight .* has an empty dimension"):
        F.conv2d(mg.zeros(1, 1, 4, 4), mg.zeros(2, 1, 0, 0))
    with pytest.raises(ValueError, match="conv_transpose2d: weight .* has an empty dimension"):
        F.conv_transpose2d(mg.zeros(1, 1, 4, 4), mg.zeros(1, 0, 3, 3))


def test_boolean_masks_must_match_the_axes_they_index():
    x = mg.zeros(3, 4)
    assert x[np.array([True, False, True])].shape == (2, 4)
    assert x[:, mg.tensor(np.array([True, False, True, True]))].shape == (3, 3)
    assert x[..., np.array([False, False, True, True])].shape == (3, 2)
    for index, shapes in [(np.array([True, False]), r"\(2,\) does not match the axes \(3,\)"),
                          ((slice(None), np.array([True] * 3)), r"\(3,\) .* axes \(4,\)"),
                          (np.ones((3, 3), dtype=bool), r"\(3, 3\) .* axes \(3, 4\)")]:
        with pytest.raises(IndexError, match=f"boolean mask of shape {shapes}"):
            x[index]


@pytest.mark.parametrize("value, problem", [
    (np.ones((2, 3), dtype=bool), "bool values for a float32 tensor"),
    (np.ones((2, 3), dtype=np.int64), "int64 values for a float32 tensor"),
    (np.full((2, 3), 1e300), "NaN or infinite values in float32"),
    (np.full((2, 3), np.nan, dtype=np.float32), "NaN or infinite values"),
    (np.array([["a"] * 3] * 2), "weight: ndarray"),
])
def test_load_state_dict_refuses_what_the_parameter_cannot_hold(value, problem):
    layer = nn.Linear(3, 2)
    before = layer.weight.numpy().copy()
    state = layer.state_dict()
    state["weight"] = value
    with pytest.raises(RuntimeError, match=problem):
        layer.load_state_dict(state)
    np.testing.assert_array_equal(layer.weight.numpy(), before)


def test_load_state_dict_casts_finite_floats_to_the_parameters_dtype():
    layer = nn.Linear(3, 2)
    state = {k: v.astype(np.float64) * 0 + 0.25 for k, v in layer.state_dict().items()}
    layer.load_state_dict(state)
    assert layer.weight.dtype == np.float32 and np.all(layer.weight.numpy() == 0.25)


def test_adam_load_state_dict_checks_its_moments():
    layer = nn.Linear(2, 2)
    adam = Adam(layer.parameters(), lr=0.1)
    (layer(mg.ones(1, 2)) ** 2).sum().backward()
    adam.step()
    good = adam.state_dict()
    for key, bad in [("exp_avg", np.full((2, 2), np.nan)), ("exp_avg_sq", np.ones((2, 2), int))]:
        state = adam.state_dict()
        state["state"][0][key] = bad
        with pytest.raises(ValueError, match=f"parameter 0: {key}: "):
            adam.load_state_dict(state)
        for k, v in good["state"][0].items():           # left as it was
            np.testing.assert_array_equal(adam.state_dict()["state"][0][k], v)
