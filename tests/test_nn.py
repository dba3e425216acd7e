"""minigen.nn: Parameter, Module (registration, walking, modes, state_dict, printing),
the containers, the layers against NumPy formulas, and a small MLP that learns."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import minigen
import minigen.functional as F
from minigen import Tensor, nn, optim


def linear_np(x, layer):
    """y = x Wᵀ + b in NumPy, from the layer's own arrays."""
    y = x @ layer.weight.numpy().T
    return y if layer.bias is None else y + layer.bias.numpy()


class Block(nn.Module):
    """A module with a parameter, a buffer and a submodule, like a small norm layer."""

    def __init__(self, n):
        super().__init__()
        self.scale = nn.Parameter(minigen.ones(n))
        self.register_buffer("running_mean", minigen.zeros(n))
        self.fc = nn.Linear(n, n)

    def forward(self, x):
        return self.fc(x - self.running_mean) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), Block(4))
        self.head = nn.Linear(4, 2, bias=False)

    def forward(self, x):
        return self.head(self.encoder(x))


NET_PARAMS = ["encoder.0.weight", "encoder.0.bias", "encoder.2.scale", "encoder.2.fc.weight",
              "encoder.2.fc.bias", "head.weight"]
NET_SIZE = 3 * 4 + 4 + 4 + 4 * 4 + 4 + 4 * 2  # = 48


def arrays_of(module):
    return {name: a.copy() for name, a in module.state_dict().items()}


# ---------------------------------------------------------------- Parameter
def test_parameter_is_a_float_tensor_that_requires_grad_and_shares_data():
    t = minigen.zeros(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf
    assert p.data is t.data                      # shares the array, like PyTorch
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    assert nn.Parameter(minigen.zeros(2), requires_grad=False).requires_grad is False
    assert "Parameter containing" in repr(p)


def test_parameter_of_integer_data_is_an_error():
    with pytest.raises(TypeError, match="floating-point.*int64"):
        nn.Parameter(minigen.tensor([1, 2]))


def test_ops_on_a_parameter_give_plain_tensors():
    p = nn.Parameter(minigen.ones(2))
    assert type(p * 2) is Tensor
    assert p.to("cpu") is p


# ---------------------------------------------------------------- registering and walking
def test_named_parameters_have_dotted_names_in_definition_order():
    net = Net()
    assert [name for name, _ in net.named_parameters()] == NET_PARAMS
    assert [p for p in net.parameters()] == [p for _, p in net.named_parameters()]
    assert all(isinstance(p, nn.Parameter) for p in net.parameters())
    assert net.num_parameters() == NET_SIZE
    assert [name for name, _ in net.named_parameters(recurse=False)] == []
    assert [name for name, _ in net.head.named_parameters()] == ["weight"]


def test_buffers_children_and_modules():
    net = Net()
    assert [name for name, _ in net.named_buffers()] == ["encoder.2.running_mean"]
    assert list(net.buffers())[0] is net.encoder[2].running_mean
    assert [name for name, _ in net.named_children()] == ["encoder", "head"]
    assert list(net.children()) == [net.encoder, net.head]
    assert [name for name, _ in net.named_modules()] == [
        "", "encoder", "encoder.0", "encoder.1", "encoder.2", "encoder.2.fc", "head"]
    assert [type(m).__name__ for m in net.modules()] == [
        "Net", "Sequential", "Linear", "ReLU", "Block", "Linear", "Linear"]


def test_shared_parameters_are_listed_once_but_saved_under_each_name():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert model.num_parameters() == 6
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [name for name, _ in model.named_modules()] == ["", "0", "1"]


def test_assignment_replaces_and_unregisters():
    m = nn.Module()
    m.w = nn.Parameter(minigen.ones(2))
    m.sub = nn.Linear(1, 1)
    assert [n for n, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]
    m.w = nn.Linear(1, 1)                         # a parameter slot becomes a submodule
    assert [n for n, _ in m.named_parameters()] == ["sub.weight", "sub.bias", "w.weight",
                                                    "w.bias"]
    del m.sub
    assert [n for n, _ in m.named_parameters()] == ["w.weight", "w.bias"]
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'sub'"):
        m.sub
    m.plain = 3                                   # ordinary attributes are not registered
    assert m.plain == 3 and "plain" not in m.state_dict()


def test_assigning_a_tensor_to_a_parameter_slot_is_an_error():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'.*Parameter"):
        layer.weight = minigen.ones(2, 2)
    assert isinstance(layer.weight, nn.Parameter)
    layer.bias = None                             # None keeps the slot, as PyTorch
    assert layer.bias is None and list(layer.state_dict()) == ["weight"]
    with pytest.raises(TypeError, match="submodule"):
        nn.Sequential(nn.ReLU()).__setattr__("0", 5)


def test_forgetting_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_register_buffer_checks_name_and_type_first():
    m = nn.Module()
    m.register_buffer("count", minigen.tensor(0))
    m.register_buffer("empty", None)
    assert list(m.state_dict()) == ["count"]      # a None buffer is not saved
    m.count = minigen.tensor(5)                    # assigning to a buffer name replaces it
    assert m.state_dict()["count"] == 5
    with pytest.raises(TypeError, match="buffer 'count'"):
        m.count = 5
    with pytest.raises(TypeError, match="Tensor or None"):
        m.register_buffer("x", np.zeros(2))
    with pytest.raises(ValueError, match=r"contain no '\.'"):
        m.register_buffer("a.b", minigen.zeros(1))
    with pytest.raises(ValueError, match="already an attribute"):
        m.register_buffer("training", minigen.zeros(1))
    assert list(m.state_dict()) == ["count"]


def test_register_parameter_and_add_module_check_types():
    m = nn.Module()
    with pytest.raises(TypeError, match="Parameter or None"):
        m.register_parameter("w", minigen.ones(2))
    with pytest.raises(TypeError, match="Module or None"):
        m.add_module("f", F.relu)
    m.register_parameter("w", nn.Parameter(minigen.ones(2)))
    m.add_module("f", nn.ReLU())
    assert [n for n, _ in m.named_parameters()] == ["w"] and list(m.children()) == [m.f]


def test_deepcopy_gives_an_independent_module():
    net = Net()
    twin = copy.deepcopy(net)
    assert [n for n, _ in twin.named_parameters()] == NET_PARAMS
    twin.head.weight.data += 1
    assert not np.allclose(twin.head.weight.numpy(), net.head.weight.numpy())


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Linear", "Block", "Sequential", "Linear", "Net"]


# ---------------------------------------------------------------- modes and gradients
def test_train_and_eval_reach_every_module():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.encoder.train(False)
    assert net.training and not net.encoder[2].fc.training
    with pytest.raises(TypeError, match="True or False"):
        net.train("no")


def test_zero_grad_sets_every_grad_to_none():
    net = Net()
    net(minigen.ones(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_false_freezes_every_parameter():
    net = Net()
    net.encoder.requires_grad_(False)
    net(minigen.ones(5, 3)).sum().backward()
    assert all(p.grad is None for p in net.encoder.parameters())
    assert net.head.weight.grad is not None


# ---------------------------------------------------------------- calling and printing
def test_call_runs_forward_and_records_the_output_shape():
    net = Net()
    assert net.output_shape is None
    out = net(minigen.ones(5, 3))
    assert out.shape == (5, 2) and net.output_shape == (5, 2)
    assert net.encoder[2].output_shape == (5, 4) and net.encoder[1].output_shape == (5, 4)


def test_a_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(minigen.ones(1))


def test_repr_shows_the_tree_counts_and_shapes():
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    assert repr(model) == "\n".join([
        "Sequential(  # 65 params",
        "  (0): Linear(in_features=2, out_features=16, bias=True)  # 48 params",
        "  (1): ReLU()",
        "  (2): Linear(in_features=16, out_features=1, bias=True)  # 17 params",
        ")"])
    model(minigen.ones(64, 2))
    assert repr(model) == "\n".join([
        "Sequential(  # 65 params, out (64, 1)",
        "  (0): Linear(in_features=2, out_features=16, bias=True)  # 48 params, out (64, 16)",
        "  (1): ReLU()  # out (64, 16)",
        "  (2): Linear(in_features=16, out_features=1, bias=True)  # 17 params, out (64, 1)",
        ")"])


def test_repr_nests_and_separates_thousands():
    net = Net()
    lines = repr(net).splitlines()
    assert lines[0] == f"Net(  # {NET_SIZE} params"
    assert lines[1] == "  (encoder): Sequential(  # 40 params"
    assert lines[4] == "    (2): Block(  # 24 params"
    assert lines[5] == "      (fc): Linear(in_features=4, out_features=4, bias=True)  # 20 params"
    assert lines[-2] == "  (head): Linear(in_features=4, out_features=2, bias=False)  # 8 params"
    assert repr(nn.Linear(1000, 1000)) == ("Linear(in_features=1000, out_features=1000, "
                                           "bias=True)  # 1,001,000 params")


def test_repr_of_several_outputs():
    class Two(nn.Module):
        def forward(self, x):
            return x, x.sum()

    two = Two()
    two(minigen.ones(2, 3))
    assert two.output_shape == ((2, 3), ()) and repr(two) == "Two()  # out (2, 3), ()"


# ---------------------------------------------------------------- state_dict
def test_state_dict_holds_numpy_copies_of_parameters_and_buffers():
    net = Net()
    state = net.state_dict()
    assert isinstance(state, OrderedDict)
    assert list(state) == NET_PARAMS[:3] + ["encoder.2.running_mean"] + NET_PARAMS[3:]
    assert all(type(a) is np.ndarray for a in state.values())
    np.testing.assert_array_equal(state["head.weight"], net.head.weight.numpy())
    state["head.weight"] += 1                     # changing the snapshot ...
    assert not np.allclose(state["head.weight"], net.head.weight.numpy())  # ... not the model
    before = net.state_dict()["encoder.0.bias"].copy()
    snapshot = net.state_dict()
    net.encoder[0].bias.data += 1                 # and training does not change a snapshot
    np.testing.assert_array_equal(snapshot["encoder.0.bias"], before)


def test_state_dict_round_trip_gives_identical_outputs():
    minigen.manual_seed(0)
    source, target = Net(), Net()
    x = minigen.randn(7, 3)
    source.encoder[2].running_mean.data[:] = [0.5, -1.0, 2.0, 0.0]
    assert not np.allclose(source(x).numpy(), target(x).numpy())
    weight_object = target.head.weight
    assert target.load_state_dict(source.state_dict()) == ([], [])
    np.testing.assert_array_equal(target(x).numpy(), source(x).numpy())
    assert target.head.weight is weight_object     # same Parameter, new values
    assert target.head.weight.data is not source.head.weight.data


def test_load_state_dict_lists_every_bad_key_and_loads_nothing():
    net = Net()
    before = arrays_of(net)
    state = Net().state_dict()                    # other values, so a partial load would show
    del state["encoder.0.bias"], state["head.weight"]
    state["encoder.9.weight"] = np.zeros(3)
    state["encoder.2.fc.weight"] = np.zeros((4, 5))
    state["encoder.2.scale"] = "oops"
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(state)
    message = str(err.value)
    assert "Error(s) in loading state_dict for Net (nothing was loaded)" in message
    assert "missing keys: encoder.0.bias, head.weight" in message
    assert "unexpected keys: encoder.9.weight" in message
    assert "encoder.2.fc.weight: checkpoint (4, 5), model (4, 4)" in message
    assert "encoder.2.scale: str" in message
    after = arrays_of(net)
    assert list(after) == list(before)
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])


def test_load_state_dict_non_strict_skips_missing_and_unexpected_keys():
    net, other = Net(), Net()
    state = other.state_dict()
    del state["head.weight"]
    state["extra"] = np.zeros(1)
    old_head = net.head.weight.numpy().copy()
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["head.weight"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(net.head.weight.numpy(), old_head)
    np.testing.assert_array_equal(net.encoder[0].weight.numpy(), other.encoder[0].weight.numpy())
    state["encoder.0.bias"] = np.zeros(7)         # a wrong shape is an error even so
    with pytest.raises(RuntimeError, match="encoder.0.bias: checkpoint"):
        net.load_state_dict(state, strict=False)


def test_load_state_dict_converts_dtype_and_accepts_tensors():
    layer = nn.Linear(2, 1)
    layer.load_state_dict({"weight": np.array([[1.0, 2.0]]),            # float64
                           "bias": minigen.tensor([3.0])})
    assert layer.weight.dtype == np.float32 and layer.weight.tolist() == [[1.0, 2.0]]
    assert layer.bias.tolist() == [3.0]
    with pytest.raises(TypeError, match="mapping"):
        layer.load_state_dict([("weight", np.zeros((1, 2)))])


def test_to_cpu_returns_the_module_and_an_unknown_device_changes_nothing():
    net = Net()
    data = [p.data for p in net.parameters()]
    assert net.to("cpu") is net and net.cpu() is net
    assert [p.data for p in net.parameters()] == data
    with pytest.raises(ValueError, match="tpu"):
        net.to("tpu")
    assert all(p.device == "cpu" for p in net.parameters())


@pytest.mark.gpu
def test_to_gpu_moves_parameters_grads_and_buffers_in_place():
    net = Net()
    net(minigen.ones(2, 3)).sum().backward()
    params = list(net.parameters())
    net.to("gpu")
    assert list(net.parameters()) == params            # the same Parameter objects
    assert all(p.device == "gpu" and p.grad.device == "gpu" for p in params)
    assert all(b.device == "gpu" for b in net.buffers())
    out = net(minigen.ones(2, 3).to("gpu"))
    assert out.device == "gpu"
    assert all(type(a) is np.ndarray for a in net.state_dict().values())
    net.to("cpu")
    np.testing.assert_allclose(net(minigen.ones(2, 3)).numpy(), out.numpy(), rtol=1e-5)


# ---------------------------------------------------------------- containers
def test_sequential_indexing_len_iteration_and_slices():
    layers = [nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    head = seq[1:]
    assert isinstance(head, nn.Sequential) and list(head) == layers[1:]
    assert [n for n, _ in head.named_parameters()] == ["2.weight", "2.bias"]
    x = minigen.randn(5, 3)
    np.testing.assert_allclose(seq(x).numpy(), layers[2](layers[1](layers[0](x))).numpy())
    with pytest.raises(IndexError, match="index 3 is out of range for 3"):
        seq[3]
    with pytest.raises(TypeError, match="integers or slices"):
        seq["0"]


def test_sequential_from_an_ordered_dict_and_append():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert [n for n, _ in seq.named_children()] == ["fc", "act"]
    assert seq[1] is seq.act
    assert seq.append(nn.Sigmoid()) is seq and type(seq[2]) is nn.Sigmoid and len(seq) == 3


def test_containers_reject_non_modules_naming_the_item():
    with pytest.raises(TypeError, match="item 1 is a function, not a Module"):
        nn.Sequential(nn.Linear(2, 2), F.relu)
    blocks = nn.ModuleList([nn.ReLU()])
    with pytest.raises(TypeError, match="item 1 is a int"):
        blocks.extend([nn.Tanh(), 3])
    assert len(blocks) == 1                       # extend added nothing


def test_module_list_registers_its_items():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    s = Stack()
    assert s.num_parameters() == 3 * 6
    assert [n for n, _ in s.named_parameters()][-1] == "blocks.2.bias"
    assert s(minigen.ones(4, 2)).shape == (4, 2)
    new = nn.Linear(2, 2)
    s.blocks[-1] = new
    assert s.blocks[2] is new and len(s.blocks) == 3
    assert isinstance(s.blocks[:2], nn.ModuleList) and len(s.blocks[:2]) == 2
    s.blocks.append(nn.ReLU())
    assert len(s.blocks) == 4
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        s.blocks(minigen.ones(1, 2))
    with pytest.raises(IndexError):
        s.blocks[4]


# ---------------------------------------------------------------- layers
@pytest.mark.exercise_matmul_backward
def test_linear_matches_the_formula_and_its_gradients():
    minigen.manual_seed(1)
    layer = nn.Linear(3, 2)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    out = layer(minigen.tensor(x))
    np.testing.assert_allclose(out.numpy(), linear_np(x, layer), rtol=1e-5, atol=1e-6)
    g = np.random.default_rng(1).standard_normal((4, 2)).astype(np.float32)
    out.backward(minigen.tensor(g))
    # y = x Wᵀ + b:  ∂L/∂W = gᵀ x,  ∂L/∂b = Σ_rows g
    np.testing.assert_allclose(layer.weight.grad.numpy(), g.T @ x, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.bias.grad.numpy(), g.sum(axis=0), rtol=1e-5, atol=1e-6)


def test_linear_on_more_axes_and_without_bias():
    layer = nn.Linear(3, 5, bias=False)
    assert layer.bias is None and layer.num_parameters() == 15
    x = np.arange(24, dtype=np.float32).reshape(2, 4, 3) / 10
    out = layer(minigen.tensor(x))
    assert out.shape == (2, 4, 5)
    np.testing.assert_allclose(out.numpy(), linear_np(x, layer), rtol=1e-5, atol=1e-6)
    assert layer(x[0, 0]).shape == (5,)           # a single vector, from an array


def test_linear_rejects_a_wrong_input_width_naming_layer_and_shapes():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError) as err:
        layer(minigen.ones(4, 5))
    message = str(err.value)
    assert "Linear(in_features=3, out_features=2, bias=True)" in message
    assert "(4, 5)" in message and "(2, 3)" in message
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        nn.Linear(0, 2)
    with pytest.raises(ValueError, match="out_features"):
        nn.Linear(2, 2.5)


def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in():
    minigen.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)                      # = 0.05
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # 120000 draws: the largest is within 0.1% of the bound unless P = (1 - 0.0005)^120000 ≈ e^-60
    assert np.abs(w).max() > 0.999 * bound
    # variance of U(-a, a) is a²/3; its estimate has relative std √(0.8 / n) ≈ 0.26% here
    assert abs(w.var() / (bound ** 2 / 3) - 1) < 0.02


def test_activation_layers_match_their_formulas():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0], dtype=np.float32)
    t = minigen.tensor(x)
    np.testing.assert_array_equal(nn.ReLU()(t).numpy(), np.maximum(x, 0))
    np.testing.assert_allclose(nn.LeakyReLU()(t).numpy(), np.where(x > 0, x, 0.01 * x))
    np.testing.assert_allclose(nn.LeakyReLU(0.2)(t).numpy(), np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(nn.Tanh()(t).numpy(), np.tanh(x), rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(t).numpy(), 1 / (1 + np.exp(-x)), rtol=1e-6)
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert nn.Identity()(t) is t


def test_flatten_and_unflatten():
    x = minigen.tensor(np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5))
    flat = nn.Flatten()(x)
    assert flat.shape == (2, 60)
    np.testing.assert_array_equal(flat.numpy(), x.numpy().reshape(2, 60))
    assert nn.Flatten(0)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten(-2)(x).shape == (2, 3, 20)
    back = nn.Unflatten(1, (3, 4, 5))(flat)
    np.testing.assert_array_equal(back.numpy(), x.numpy())
    assert nn.Unflatten(-1, (-1, 5))(flat).shape == (2, 12, 5)


def test_flatten_and_unflatten_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=1, end_dim=-1\): start_dim=1 is "
                                         r"out of range.*\(4,\)"):
        nn.Flatten()(minigen.ones(4))
    with pytest.raises(ValueError, match="start_dim comes after end_dim"):
        nn.Flatten(2, 1)(minigen.ones(2, 3, 4))
    with pytest.raises(ValueError, match=r"Unflatten.*length 6.*\(4, 2\)"):
        nn.Unflatten(1, (4, 2))(minigen.ones(3, 6))
    with pytest.raises(ValueError, match="length 7"):
        nn.Unflatten(1, (-1, 2))(minigen.ones(3, 7))
    for sizes in [(), (2, -1, -1), (0, 3), (2.5,)]:
        with pytest.raises(ValueError, match="unflattened_size"):
            nn.Unflatten(1, sizes)


# ---------------------------------------------------------------- it learns
@pytest.mark.exercise_adam_step
def test_a_small_mlp_learns_a_regression_with_adam():
    """y = sin(x1) + x2²/2 on 256 points: the loss must drop below 5% of its start."""
    minigen.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(256, 2)).astype(np.float32)
    y = (np.sin(x[:, :1]) + x[:, 1:] ** 2 / 2).astype(np.float32)
    X, Y = minigen.tensor(x), minigen.tensor(y)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 1))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(300):
        loss = F.mse_loss(model(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 * losses[0], (losses[0], losses[-1])
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
