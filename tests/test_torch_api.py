"""PyTorch's everyday names, keywords and return values, against NumPy references.

Each test is a line a PyTorch user writes; NumPy-style aliases (``axis``, ``keepdims``)
must give the same result as PyTorch's names, and giving both is a TypeError.
"""
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import minigen as mg
import minigen.functional as F
from minigen import nn, ops
from minigen.testing import arrays, shapes

A = np.array([[1.0, 5.0, 3.0], [7.0, 2.0, 9.0]])


def t(values=A, requires_grad=False):
    return mg.tensor(values, dtype="float64", requires_grad=requires_grad)


# ---------------------------------------------------------------- reductions: dim and keepdim
@pytest.mark.parametrize("name", ["sum", "mean", "prod", "logsumexp", "amax", "amin"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 1), True),
                                         (-1, False)])
def test_reductions_take_dim_and_keepdim_and_the_numpy_aliases(name, dim, keepdim):
    x = t()
    by_torch = getattr(x, name)(dim=dim, keepdim=keepdim)
    by_numpy = getattr(mg, name)(x, axis=dim, keepdims=keepdim)
    positional = getattr(x, name)(dim, keepdim)
    assert_allclose(by_torch.numpy(), by_numpy.numpy())
    assert_allclose(positional.numpy(), by_numpy.numpy())
    reference = {"sum": np.sum, "mean": np.mean, "prod": np.prod, "amax": np.max,
                 "amin": np.min,
                 "logsumexp": lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis,
                                                                     keepdims=keepdims))}[name]
    assert_allclose(by_torch.numpy(), reference(A, axis=dim, keepdims=keepdim))


@pytest.mark.parametrize("call", [
    lambda x: x.sum(dim=1, axis=1), lambda x: x.mean(dim=0, axis=1),
    lambda x: mg.sum(x, 1, keepdim=True, keepdims=True), lambda x: x.max(dim=1, axis=1),
    lambda x: x.var(dim=0, axis=0), lambda x: x.argmax(dim=0, axis=0),
    lambda x: x.var(correction=1, ddof=1), lambda x: x.var(unbiased=True, correction=1),
    lambda x: mg.cat([x, x], dim=0, axis=0), lambda x: x.squeeze(dim=0, axis=0),
    lambda x: x.softmax(dim=1, axis=1)])
def test_giving_both_dim_and_axis_is_a_type_error(call):
    with pytest.raises(TypeError, match="not both"):
        call(t())


def test_max_and_min_along_a_dim_return_values_and_indices():
    x = t()
    result = x.max(dim=1)
    assert type(result) is mg.return_types.max
    values, indices = result
    assert values.tolist() == [5.0, 9.0] and indices.tolist() == [1, 2]
    assert result.values is values and result.indices is indices
    low = mg.min(x, 0, keepdim=True)
    assert low.values.tolist() == [[1.0, 2.0, 3.0]] and low.indices.tolist() == [[0, 1, 0]]
    assert x.max().item() == 9.0 and x.min().item() == 1.0        # without dim: the value
    assert x.max(axis=1).tolist() == [5.0, 9.0]                   # NumPy's alias: values only
    assert x.amax(dim=(0, 1)).item() == 9.0
    with pytest.raises(TypeError, match="one int"):
        x.max(dim=(0, 1))


def test_max_with_a_tensor_is_the_elementwise_maximum():
    a, b = t([1.0, 4.0]), t([3.0, 2.0])
    assert mg.max(a, b).tolist() == [3.0, 4.0] == mg.maximum(a, b).tolist() == a.maximum(b).tolist()
    assert mg.min(a, b).tolist() == [1.0, 2.0] == a.minimum(b).tolist()
    x = t([1.0, 4.0], requires_grad=True)
    mg.max(x, b).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]


def test_max_along_a_dim_is_differentiable():
    x = t(requires_grad=True)
    x.max(dim=1).values.sum().backward()
    assert x.grad.tolist() == [[0, 1, 0], [0, 0, 1]]


def test_var_and_std_follow_pytorchs_unbiased_default():
    x = t()
    assert_allclose(x.var().item(), A.var(ddof=1))
    assert_allclose(x.var(dim=1).numpy(), A.var(axis=1, ddof=1))
    assert_allclose(x.var(dim=1, correction=0).numpy(), A.var(axis=1))
    assert_allclose(x.var(1, unbiased=False).numpy(), A.var(axis=1))
    assert_allclose(x.std(axis=0, ddof=0, keepdims=True).numpy(), A.std(axis=0, keepdims=True))
    assert_allclose(mg.std(x, dim=0).numpy(), A.std(axis=0, ddof=1))


def test_argmax_argmin_take_dim():
    x = t()
    assert x.argmax(dim=1).tolist() == [1, 2] == mg.argmax(x, axis=1).tolist()
    assert x.argmin(dim=0, keepdim=True).tolist() == [[0, 1, 0]]
    assert x.argmax().item() == 5
    with pytest.raises(ValueError, match="out of range"):
        x.argmax(dim=2)


def test_softmax_takes_dim():
    x = t()
    assert_allclose(x.softmax(dim=0).numpy(), mg.softmax(x, axis=0).numpy())
    assert_allclose(F.log_softmax(x, dim=1).numpy(), x.log_softmax(-1).numpy())


# ---------------------------------------------------------------- sizes and shapes
def test_size_numel_dim():
    x = mg.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) == x.shape and x.size(0) == 2 and x.size(-1) == 4
    assert x.numel() == 24 and x.dim() == 3 == x.ndim
    with pytest.raises(IndexError):
        x.size(3)


def test_view_reshape_flatten_permute_transpose():
    x = mg.arange(24.0).view(2, 3, 4)
    a = np.arange(24.0).reshape(2, 3, 4)
    assert x.reshape(4, -1).shape == (4, 6) and x.view((6, 4)).shape == (6, 4)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.flatten(0, 1).shape == (6, 4) and x.flatten(start_dim=1, end_dim=-2).shape == (2, 3, 4)
    assert mg.flatten(x, 1, 2).shape == (2, 12)
    assert_allclose(x.permute(2, 0, 1).numpy(), a.transpose(2, 0, 1))
    assert_allclose(x.permute((2, 0, 1)).numpy(), a.transpose(2, 0, 1))
    assert_allclose(x.transpose(0, 2).numpy(), a.swapaxes(0, 2))       # PyTorch: swap two dims
    assert_allclose(mg.transpose(x, -1, 1).numpy(), a.swapaxes(-1, 1))
    assert_allclose(x.T.numpy(), a.T)
    with pytest.raises(ValueError, match="start_dim"):
        x.flatten(2, 1)


def test_squeeze_unsqueeze_expand():
    x = mg.zeros(1, 3, 1)
    assert x.squeeze().shape == (3,) and x.squeeze(0).shape == (3, 1) and x.squeeze(-1).shape == (1, 3)
    assert x.squeeze(1).shape == (1, 3, 1)                 # PyTorch: a larger dim is left alone
    with pytest.raises(ValueError, match="not 1"):
        x.squeeze(axis=1)                                   # NumPy's alias keeps NumPy's error
    assert x.unsqueeze(0).shape == (1, 1, 3, 1) and mg.unsqueeze(x, dim=-1).shape == (1, 3, 1, 1)
    row = t([[1.0, 2.0, 3.0]], requires_grad=True)
    big = row.expand(4, -1)
    assert big.shape == (4, 3) and row.expand(2, 4, 3).shape == (2, 4, 3)
    assert row.expand_as(mg.zeros(5, 3)).shape == (5, 3)
    big.sum().backward()
    assert row.grad.tolist() == [[4.0, 4.0, 4.0]]
    with pytest.raises(ValueError):
        row.expand(-1, 4, 3)


def test_cat_stack_chunk_split_take_dim():
    a, b = t(), t() * 2
    assert mg.cat([a, b], dim=1).shape == (2, 6) and mg.cat([a, b]).shape == (4, 3)
    assert_allclose(mg.cat([a, b], dim=1).numpy(), mg.concat([a, b], axis=1).numpy())
    assert mg.stack([a, b], dim=2).shape == (2, 3, 2)
    assert [c.shape for c in mg.arange(10.0).chunk(3)] == [(4,), (4,), (2,)]
    assert [c.shape for c in mg.chunk(mg.zeros(2, 5), 2, dim=1)] == [(2, 3), (2, 2)]
    assert [c.shape for c in mg.zeros(2, 4).chunk(8, dim=1)] == [(2, 1)] * 4   # fewer pieces
    assert [s.shape for s in a.split(2, dim=1)] == [(2, 2), (2, 1)]
    assert [s.shape for s in mg.split(a, [1, 2], dim=1)] == [(2, 1), (2, 2)]


# ---------------------------------------------------------------- elementwise
def test_pow_sqrt_clamp_and_clip():
    x = t([-2.0, 0.5, 3.0])
    assert x.pow(2).tolist() == [4.0, 0.25, 9.0] and mg.pow(x, 2).tolist() == x.pow(2).tolist()
    assert mg.tensor([4.0, 9.0]).sqrt().tolist() == [2.0, 3.0]
    assert x.clamp(-1, 1).tolist() == [-1.0, 0.5, 1.0] == x.clip(-1, 1).tolist()
    assert mg.clamp(x, min=0.0).tolist() == [0.0, 0.5, 3.0] == mg.clip(x, min=0.0).tolist()
    assert mg.clamp(x, max=1.0).tolist() == [-2.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="at least one"):
        mg.clamp(x)


def test_comparisons_by_name_give_bool_tensors_without_grad():
    x, y = t([1.0, 2.0, 3.0], requires_grad=True), t([2.0, 2.0, 2.0])
    expected = {"eq": [False, True, False], "ne": [True, False, True], "lt": [True, False, False],
                "le": [True, True, False], "gt": [False, False, True], "ge": [False, True, True]}
    for name, values in expected.items():
        for out in (getattr(mg, name)(x, y), getattr(x, name)(y), getattr(mg, name)(x, 2.0)):
            assert out.tolist() == values and out.dtype == bool and not out.requires_grad


def test_where_function_and_method():
    x, y = t([1.0, -2.0]), t([10.0, 20.0])
    assert mg.where(x > 0, x, y).tolist() == [1.0, 20.0] == x.where(x > 0, y).tolist()


def test_erf_against_math():
    values = np.linspace(-4, 4, 17)
    assert_allclose(mg.erf(t(values)).numpy(), [math.erf(v) for v in values], rtol=1e-15,
                    atol=1e-16)
    assert mg.erf(mg.tensor([0.5])).dtype == np.float32


# ---------------------------------------------------------------- creation
def test_like_creators_keep_shape_and_dtype():
    x = t()
    for out, check in [(mg.zeros_like(x), lambda a: (a == 0).all()),
                       (mg.ones_like(x), lambda a: (a == 1).all()),
                       (mg.full_like(x, 7.0), lambda a: (a == 7).all()),
                       (mg.rand_like(x), lambda a: ((0 <= a) & (a < 1)).all()),
                       (mg.randn_like(x), lambda a: np.isfinite(a).all())]:
        assert out.shape == x.shape and out.dtype == np.float64 and check(out.numpy())
    assert mg.zeros_like(x, dtype="float32").dtype == np.float32
    assert mg.randn_like(x, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="floating"):
        mg.randn_like(mg.arange(3))


def test_random_like_creators_are_seeded():
    x = mg.zeros(3, 4)
    mg.manual_seed(5)
    first = mg.randn_like(x).numpy(), mg.rand_like(x).numpy()
    mg.manual_seed(5)
    assert_allclose(mg.randn_like(x).numpy(), first[0])
    assert_allclose(mg.rand_like(x).numpy(), first[1])


def test_full_arange_linspace():
    assert mg.full((2, 2), 3.0).tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert mg.arange(5).tolist() == [0, 1, 2, 3, 4] and mg.arange(1.0, 2.0, 0.5).tolist() == [1.0, 1.5]
    x = mg.linspace(0, 1, 5)
    assert x.dtype == np.float32 and x.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert mg.linspace(-1, 1, 3, dtype="float64").tolist() == [-1.0, 0.0, 1.0]


# ---------------------------------------------------------------- devices
def test_device_objects():
    cpu, gpu = mg.device("cpu"), mg.device("cuda")
    assert repr(gpu) == "device(type='cuda')" and str(gpu) == "cuda" and gpu.type == "cuda"
    assert gpu == mg.device("gpu") and gpu == "gpu" and gpu == "cuda" and "cuda:0" == gpu
    assert gpu != cpu and cpu == "cpu" and cpu != "gpu"
    assert mg.device("cuda:0").index == 0 and mg.device(gpu) == gpu
    assert {mg.device("gpu"), mg.device("cuda")} == {gpu}
    with pytest.raises(ValueError, match="'cpu'"):
        mg.device("tpu")
    with pytest.raises(ValueError, match="one GPU"):
        mg.device("cuda", 1)


def test_tensor_to_device_and_dtype_on_the_cpu():
    x = mg.ones(2, requires_grad=True)
    assert x.device == cpu_device() and x.device.type == "cpu"
    assert x.to(mg.device("cpu")) is x and x.cpu() is x and x.to("cpu") is x
    y = x.to(np.float64)
    assert y.dtype == np.float64 and y.grad_fn == "Cast"
    assert x.to(dtype="float64").dtype == np.float64
    assert x.to("cpu", "float64").dtype == np.float64
    assert mg.zeros(2, device="cpu").device == "cpu" and mg.randn(2, device=mg.device("cpu")).shape == (2,)
    model = nn.Linear(2, 2).to(mg.device("cpu"))
    assert all(p.device == "cpu" for p in model.parameters())


def cpu_device():
    return mg.device("cpu")


def test_cuda_is_available_is_a_bool_and_cuda_fails_clearly_without_a_gpu():
    assert isinstance(mg.cuda.is_available(), bool)
    assert mg.cuda.device_count() == int(mg.cuda.is_available())
    if not mg.cuda.is_available():
        with pytest.raises(RuntimeError, match="GPU|CUDA"):
            mg.ones(2).cuda()


@pytest.mark.gpu
def test_cuda_moves_to_the_gpu_and_back():
    x = mg.ones(2, requires_grad=True).cuda()
    assert x.device == "cuda" and x.device == mg.device("gpu") and x.requires_grad
    assert mg.zeros(3, device="cuda").device == "gpu"
    assert mg.randn_like(x).device == "cuda"
    assert x.cpu().device == "cpu"
    assert nn.Linear(2, 2).cuda()(x).device == "cuda"


def test_importing_minigen_does_not_import_cupy():
    code = "import sys, minigen; minigen.cuda; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- in place, under no_grad
def test_in_place_fills_under_no_grad():
    w = mg.zeros(200, 300, requires_grad=True)
    mg.manual_seed(0)
    with mg.no_grad():
        assert w.normal_(1.0, 0.5) is w
    assert abs(w.numpy().mean() - 1.0) < 0.01 and abs(w.numpy().std() - 0.5) < 0.01
    with mg.no_grad():
        w.uniform_(-2.0, 3.0)
        assert w.numpy().min() >= -2.0 and w.numpy().max() <= 3.0
        w.fill_(4.0)
        assert (w.numpy() == 4.0).all()
        w.zero_()
        assert (w.numpy() == 0.0).all()
        w.copy_(mg.arange(300.0))               # broadcasts (300,) to (200, 300)
        assert (w.numpy()[7] == np.arange(300.0)).all()
    assert w.requires_grad and w.is_leaf


def test_in_place_fills_draw_from_the_seeded_generator():
    a, b = mg.zeros(5), mg.zeros(5)
    mg.manual_seed(3)
    a.normal_()
    mg.manual_seed(3)
    b.normal_()
    assert a.tolist() == b.tolist()
    mg.manual_seed(3)
    assert mg.randn(5).tolist() == a.tolist()   # the generator randn uses


@pytest.mark.parametrize("call", [lambda w: w.normal_(), lambda w: w.uniform_(),
                                  lambda w: w.fill_(1.0), lambda w: w.zero_(),
                                  lambda w: w.copy_(mg.ones(3))])
def test_in_place_fills_refuse_a_tensor_requiring_grad_outside_no_grad(call):
    w = mg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        call(w)
    call(mg.zeros(3))                           # a tensor without grad: always allowed


def test_copy_refuses_a_source_that_does_not_broadcast():
    x = mg.zeros(2, 3)
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        x.copy_(mg.ones(3, 2))
    with pytest.raises(ValueError):
        x.copy_(mg.ones(2, 3, 1))               # broadcasts, but to a larger shape
    x.copy_(np.full((2, 1), 5.0))
    x.copy_(mg.tensor([[1, 2, 3]]))             # integers converted to this dtype
    assert x.dtype == np.float32 and x.tolist() == [[1.0, 2.0, 3.0]] * 2


# ---------------------------------------------------------------- layers and losses
def test_activation_modules_accept_inplace():
    x = mg.tensor([-1.0, 2.0])
    assert nn.ReLU(True)(x).tolist() == [0.0, 2.0] and nn.ReLU(inplace=True).inplace
    leaky = nn.LeakyReLU(0.2, inplace=True)
    assert leaky(x).tolist() == [pytest.approx(-0.2), 2.0] and x.tolist() == [-1.0, 2.0]
    assert repr(nn.LeakyReLU(0.2, True)) == "LeakyReLU(negative_slope=0.2, inplace=True)"
    assert repr(nn.ReLU()) == "ReLU()"
    assert_allclose(nn.SiLU(inplace=True)(x).numpy(), F.silu(x).numpy())
    assert_allclose(nn.GELU("tanh")(x).numpy(), F.gelu(x, approximate="tanh").numpy())
    assert nn.Identity()(x) is x


def test_silu_and_gelu_against_formulas():
    x = np.linspace(-5, 5, 41)
    sigmoid = 1 / (1 + np.exp(-x))
    assert_allclose(F.silu(t(x)).numpy(), x * sigmoid, rtol=1e-13)
    phi = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    assert_allclose(F.gelu(t(x)).numpy(), x * phi, rtol=1e-13, atol=1e-16)
    tanh_form = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    assert_allclose(F.gelu(t(x), approximate="tanh").numpy(), tanh_form, rtol=1e-13)
    assert np.abs(tanh_form - x * phi).max() < 1e-3          # the approximation is close
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(t(x), approximate="erf")


@given(arrays(shapes(min_dims=1)))
def test_gradients_of_composed_activations(x):
    for fn in (F.silu, F.gelu, lambda u: F.gelu(u, approximate="tanh")):
        mg.gradcheck(fn, [t(x, requires_grad=True)])


def test_linear_uses_pytorchs_weight_layout():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    assert_allclose(F.linear(t(x), t(w), t(b)).numpy(), x @ w.T + b, rtol=1e-12)
    assert_allclose(F.linear(t(x), t(w)).numpy(), x @ w.T, rtol=1e-12)
    layer = nn.Linear(3, 2)
    assert_allclose(layer(t(x).float()).numpy(),
                    F.linear(t(x).float(), layer.weight, layer.bias).numpy())
    with pytest.raises(ValueError, match="out_features, in_features"):
        F.linear(t(x), t(w.T))
    mg.gradcheck(F.linear, [t(x, True), t(w, True), t(b, True)])


LOGITS = np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0]])
LABELS = np.array([1, 2])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules_are_the_functionals(reduction):
    p, y = t([[0.2, 0.9], [0.6, 0.4]]), t([[0.0, 1.0], [1.0, 0.0]])
    cases = [(nn.MSELoss, F.mse_loss, p, y), (nn.L1Loss, F.l1_loss, p, y),
             (nn.BCELoss, F.binary_cross_entropy, p, y),
             (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, p, y),
             (nn.CrossEntropyLoss, F.cross_entropy, t(LOGITS), LABELS),
             (nn.NLLLoss, F.nll_loss, F.log_softmax(t(LOGITS), dim=1), LABELS),
             (nn.KLDivLoss, F.kl_div, p.log(), y)]
    for module, functional, input, target in cases:
        criterion = module(reduction=reduction)
        assert repr(criterion) == f"{module.__name__}(reduction={reduction!r})"
        assert_allclose(criterion(input, target).numpy(),
                        functional(input, target, reduction=reduction).numpy())
    with pytest.raises(ValueError, match="BCELoss: reduction"):
        nn.BCELoss(reduction="average")


def test_nll_loss_is_cross_entropy_of_log_softmax():
    log_p = LOGITS - np.log(np.exp(LOGITS).sum(axis=1, keepdims=True))
    expected = -log_p[np.arange(2), LABELS]
    assert_allclose(F.nll_loss(t(log_p), LABELS, reduction="none").numpy(), expected)
    assert_allclose(F.nll_loss(t(log_p), mg.tensor(LABELS)).item(), expected.mean())
    assert_allclose(F.cross_entropy(t(LOGITS), LABELS).item(), expected.mean())
    with pytest.raises(ValueError, match="nll_loss: class indices"):
        F.nll_loss(t(log_p), [0, 3])
    with pytest.raises(ValueError, match="nll_loss"):
        F.nll_loss(t(log_p), t([0.0, 1.0]))


def test_kl_div_as_pytorch():
    q = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    p = np.array([[0.0, 0.5, 0.5], [0.25, 0.25, 0.5]])        # a zero in the target: 0·ln 0 = 0
    pointwise = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1)) - np.log(q)), 0.0)
    assert_allclose(F.kl_div(t(np.log(q)), t(p), reduction="none").numpy(), pointwise)
    assert_allclose(F.kl_div(t(np.log(q)), t(p)).item(), pointwise.mean())
    assert_allclose(F.kl_div(t(np.log(q)), t(p), reduction="batchmean").item(), pointwise.sum() / 2)
    assert_allclose(nn.KLDivLoss(reduction="batchmean", log_target=True)(
        t(np.log(q)), t(np.log(q * 0.5 + 0.25 / 3 * 2))).item(),
        (np.exp(np.log(q * 0.5 + 0.25 / 3 * 2)) * (np.log(q * 0.5 + 0.25 / 3 * 2) - np.log(q))).sum() / 2)
    log_q = t(np.log(q), requires_grad=True)
    mg.gradcheck(lambda u: F.kl_div(u, t(p), reduction="batchmean"), [log_q])


def reference_group_norm(x, groups, weight, bias, eps):
    """One group at a time, with NumPy: standardize the C/G channels of each image together."""
    out = np.empty_like(x)
    size = x.shape[1] // groups
    for n in range(x.shape[0]):
        for g in range(groups):
            block = x[n, g * size:(g + 1) * size]
            out[n, g * size:(g + 1) * size] = (block - block.mean()) / np.sqrt(block.var() + eps)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return out * weight.reshape(shape) + bias.reshape(shape)


@pytest.mark.parametrize("shape,groups", [((2, 6, 3, 4), 3), ((3, 4, 5), 2), ((2, 4), 1),
                                          ((1, 4, 2, 2), 4)])
def test_group_norm_against_a_loop(shape, groups):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 3 + 1
    weight, bias = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    out = F.group_norm(t(x), groups, t(weight), t(bias), eps=1e-5)
    assert_allclose(out.numpy(), reference_group_norm(x, groups, weight, bias, 1e-5), rtol=1e-10,
                    atol=1e-12)
    layer = nn.GroupNorm(groups, shape[1])
    with mg.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    assert_allclose(layer(t(x).float()).numpy(), out.numpy(), rtol=1e-4, atol=1e-5)
    mg.gradcheck(lambda u, w, b: F.group_norm(u, groups, w, b),
                 [t(x, True), t(weight, True), t(bias, True)])


def test_group_norm_checks():
    with pytest.raises(ValueError, match="num_groups=4"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="equal groups"):
        F.group_norm(mg.zeros(2, 6, 3), 4)
    with pytest.raises(ValueError, match=r"\(N, 6, \.\.\.\)"):
        nn.GroupNorm(2, 6)(mg.zeros(2, 4, 3))
    assert nn.GroupNorm(2, 6, affine=False).weight is None
    assert "GroupNorm(2, 6, eps=1e-05, affine=True)" in repr(nn.GroupNorm(2, 6))


# ---------------------------------------------------------------- aliases are the canonical ops
@given(st.data())
def test_aliases_give_the_canonical_result(data):
    x = data.draw(arrays(shapes(min_dims=2, max_dims=3)), label="x")
    a = t(x)
    assert_allclose(mg.clamp(a, -1, 1).numpy(), mg.clip(a, -1, 1).numpy())
    assert_allclose(mg.concat([a, a], axis=1).numpy(), mg.cat([a, a], dim=1).numpy())
    assert_allclose(a.T.numpy(), mg.permute(a, tuple(reversed(range(a.ndim)))).numpy())
    assert_allclose(a.amax(dim=1).numpy(), a.max(dim=1).values.numpy())
    assert_allclose(ops.expand(a, (2,) + a.shape).numpy(), mg.broadcast_to(a, (2,) + a.shape).numpy())
    assert_allclose(a.transpose(0, 1).numpy(), np.swapaxes(x, 0, 1))


def test_logical_operators_on_boolean_tensors():
    x = mg.tensor(np.array([-2.0, -0.5, 0.5, 2.0]))
    a, b = x > 0, x < 1
    for got, expected in [(a & b, [False, False, True, False]), (a | b, [True] * 4),
                          (a ^ b, [True, True, False, True]), (~a, [True, True, False, False])]:
        assert got.dtype == np.bool_ and not got.requires_grad
        np.testing.assert_array_equal(got.numpy(), expected)
    np.testing.assert_array_equal(mg.logical_and(a, b).numpy(), (a & b).numpy())
    np.testing.assert_array_equal(mg.logical_or(a, b).numpy(), (a | b).numpy())
    np.testing.assert_array_equal(mg.logical_xor(a, b).numpy(), (a ^ b).numpy())
    np.testing.assert_array_equal(mg.logical_not(a).numpy(), (~a).numpy())
    np.testing.assert_array_equal((a & np.array([True, False, True, True])).numpy(),
                                  [False, False, True, True])            # with a NumPy mask
    with pytest.raises(TypeError, match=r"&: needs boolean tensors.*float32 and float32"):
        mg.randn(2) & mg.randn(2)
    with pytest.raises(TypeError, match="~: needs a boolean tensor"):
        ~mg.randn(2)
    with pytest.raises(ValueError, match="broadcast"):
        a & mg.tensor(np.array([True, False]))


def test_log1p_and_atanh_against_numpy():
    x = np.linspace(-0.9, 0.9, 7)
    np.testing.assert_allclose(mg.log1p(mg.tensor(x, dtype=np.float64)).numpy(), np.log1p(x))
    np.testing.assert_allclose(mg.tensor(x, dtype=np.float64).atanh().numpy(), np.arctanh(x))
    tiny = mg.tensor(np.array([1e-15]), dtype=np.float64)
    assert mg.log1p(tiny).item() == pytest.approx(1e-15, rel=1e-9, abs=0)
    assert mg.log(1 + tiny).item() != pytest.approx(1e-15, rel=1e-2, abs=0)   # 1 + x rounds
