"""In-place writes after a forward are caught by the backward, as in PyTorch.

Every tensor has a version counter (``_version``), bumped by the in-place methods
(``normal_``, ``fill_``, ``copy_``, ...), by ``nn.init`` and by assigning ``.data`` (which
optimizer steps do: ``p.data -= lr * g``). Each op records the versions of the values it
saves, and its backward refuses a value written since.
"""
import numpy as np
import pytest

import minigen as mg
import minigen.functional as F
from minigen import nn
from minigen.optim import SGD, Adam

MESSAGE = (r"one of the values Mul saved for its backward was modified in place after the "
           r"forward: a tensor of shape \(2,\) at version 1, saved at version 0")


def xw():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    return x, w, (x * w).sum()


def test_an_untouched_graph_gives_the_right_gradient():
    x, w, y = xw()
    y.backward()
    assert x.grad.tolist() == [3.0, 4.0] and w._version == 0


@pytest.mark.parametrize("write", [lambda w: w.fill_(100.0), lambda w: w.normal_(),
                                   lambda w: w.uniform_(), lambda w: w.zero_(),
                                   lambda w: w.copy_(mg.ones(2)),
                                   lambda w: nn.init.constant_(w, 100.0)])
def test_an_in_place_write_before_backward_is_an_error(write):
    x, w, y = xw()
    with mg.no_grad():
        write(w)
    assert w._version == 1
    with pytest.raises(RuntimeError, match=MESSAGE):
        y.backward()


def test_assigning_data_counts_as_a_write():
    x, w, y = xw()
    w.data -= 1                      # into the saved array, then through the setter: seen
    with pytest.raises(RuntimeError, match=MESSAGE):
        y.backward()
    x, w, y = xw()
    w.data = w.data * 100            # a new array: the saved one keeps its values
    y.backward()                     # so the backward is still right, and runs
    assert x.grad.tolist() == [3.0, 4.0] and w._version == 1


def test_an_optimizer_step_before_backward_is_an_error():
    x, w, y = xw()
    w.grad = mg.ones(2)
    SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="Mul saved"):
        y.backward()


def test_a_write_to_a_detached_copy_is_seen():
    x, w, y = xw()
    w.detach().fill_(0.0)            # detach shares the data, and so the counter
    with pytest.raises(RuntimeError, match=MESSAGE):
        y.backward()


def test_overwriting_an_ops_own_result_is_seen():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()                      # Exp saves its result
    with mg.no_grad():
        y.zero_()
    with pytest.raises(RuntimeError, match="Exp saved"):
        y.sum().backward()


def test_writing_into_the_raw_array_cannot_be_seen():
    """The documented limit: ``w.data[...] = v`` writes into the array without any setter,
    so the gradient silently uses the new values. Use ``w.copy_(v)`` under no_grad."""
    x, w, y = xw()
    w.data[...] = 100
    y.backward()
    assert x.grad.tolist() == [100.0, 100.0] and w._version == 0


@pytest.mark.parametrize("optimizer", [lambda p: SGD(p, lr=0.1, momentum=0.9),
                                       lambda p: Adam(p, lr=1e-2)])
def test_normal_training_steps_never_trip_the_check(optimizer):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = optimizer(model.parameters())
    x, labels = mg.randn(16, 4), mg.randint(0, 3, (16,))
    losses, start = [], [p._version for p in model.parameters()]   # init wrote them once
    for _ in range(5):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert [p._version - v for p, v in zip(model.parameters(), start)] == [5] * 4


def test_a_graph_kept_across_a_step_is_refused():
    """retain_graph and a step in between: the second backward would use the new weights."""
    layer = nn.Linear(2, 1)
    opt = SGD(layer.parameters(), lr=0.1)
    loss = layer(mg.ones(3, 2)).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="saved for its backward was modified"):
        loss.backward()


def test_views_share_the_counter_of_their_base():
    w = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = mg.tensor([[1.0, 1.0]], requires_grad=True)
    y = (x @ w.T).sum()              # MatMul saves the transposed view, not w itself
    with mg.no_grad():
        w.fill_(0.0)
    assert w.T._version == w._version == 1
    with pytest.raises(RuntimeError, match="MatMul saved"):
        y.backward()


def test_conv_and_norm_layers_train_without_tripping():
    mg.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.GroupNorm(2, 4), nn.SiLU(),
                          nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4 * 5 * 5, 2))
    opt = Adam(model.parameters(), lr=1e-3)
    x = mg.randn(4, 1, 5, 5)
    for _ in range(2):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
    assert np.isfinite(model[0].weight.numpy()).all()
