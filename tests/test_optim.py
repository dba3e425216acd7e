"""minigen.optim: SGD and Adam steps against their formulas worked out in NumPy, skipping
parameters without gradients, state round trips, argument checks, and the learning-rate
schedulers against hand-written lr sequences."""
import numpy as np
import pytest

import minigen
from minigen import nn, optim
from minigen.optim.lr_scheduler import LambdaLR, LinearLR, StepLR

P0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
GRADS = [np.array([[0.1, -0.2, 0.3], [-0.4, 0.5, 0.6]]),
         np.array([[1.0, 0.0, -1.0], [0.5, -0.5, 2.0]]),
         np.array([[-0.3, 0.7, 0.2], [0.0, 1.0, -0.1]])]


def param(values=P0):
    return nn.Parameter(minigen.tensor(values, dtype="float64"))


def set_grad(p, g):
    """Give ``p`` a chosen gradient, as backward would."""
    p.grad = minigen.tensor(g, dtype="float64")


# ---------------------------------------------------------------- construction
@pytest.mark.parametrize("make", [optim.SGD, optim.Adam])
def test_bad_parameter_lists_raise(make):
    w = param()
    with pytest.raises(ValueError, match="empty parameter list"):
        make([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        make(w, lr=0.1)
    with pytest.raises(TypeError, match="parameter 1 is a ndarray"):
        make([w, np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match=r"parameter 1 \(shape \(2,\)\) does not require grad"):
        make([w, minigen.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="not a leaf.*Mul"):
        make([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        make([w, w], lr=0.1)


def test_a_plain_tensor_that_requires_grad_is_accepted_and_generators_too():
    w = minigen.zeros(3, requires_grad=True)
    assert optim.SGD([w], lr=0.1).params == [w]
    layer = nn.Linear(2, 2)
    assert optim.Adam(layer.parameters()).params == [layer.weight, layer.bias]


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=-1.0), "lr must be a number >= 0"),
    (dict(lr=0.1, momentum=-0.5), "momentum"),
    (dict(lr=0.1, weight_decay="1e-4"), "weight_decay"),
])
def test_sgd_checks_its_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optim.SGD([param()], **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=-1e-3), "lr"), (dict(eps=-1.0), "eps"), (dict(betas=(0.9, 1.0)), "betas"),
    (dict(betas=(0.9,)), "betas"), (dict(weight_decay=-1.0), "weight_decay"),
])
def test_adam_checks_its_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optim.Adam([param()], **kwargs)


# ---------------------------------------------------------------- SGD
def test_sgd_step_is_p_minus_lr_grad():
    w = param()
    opt = optim.SGD([w], lr=0.1)
    set_grad(w, GRADS[0])
    opt.step()
    np.testing.assert_allclose(w.numpy(), P0 - 0.1 * GRADS[0], rtol=1e-15)
    assert opt.state == {}                        # no momentum: nothing to remember


def test_sgd_with_momentum_and_weight_decay_over_three_steps():
    lr, mu, wd = 0.1, 0.9, 0.01
    w = param()
    opt = optim.SGD([w], lr=lr, momentum=mu, weight_decay=wd)
    p, v = P0.copy(), None
    for g in GRADS:
        set_grad(w, g)
        opt.step()
        d = g + wd * p                            # g + wd·p
        v = d if v is None else mu * v + d        # v = g on the first step
        p = p - lr * v
        np.testing.assert_allclose(w.numpy(), p, rtol=1e-13)
    np.testing.assert_allclose(opt.state[0]["momentum_buffer"], v, rtol=1e-13)
    # the second step worked out by hand, for the first element (p0 = 0.5):
    # d1 = 0.1 + 0.005 = 0.105, p1 = 0.5 - 0.0105 = 0.4895
    # d2 = 1.0 + 0.004895 = 1.004895, v2 = 0.9·0.105 + 1.004895 = 1.099395
    # p2 = 0.4895 - 0.1099395 = 0.3795605
    w2 = param()
    opt2 = optim.SGD([w2], lr=lr, momentum=mu, weight_decay=wd)
    for g in GRADS[:2]:
        set_grad(w2, g)
        opt2.step()
    assert w2.numpy()[0, 0] == pytest.approx(0.3795605, rel=1e-12)


# ---------------------------------------------------------------- Adam
def adam_reference(p, grads, lr, b1, b2, eps, wd=0.0):
    """Adam in NumPy, straight from the formulas; returns the parameters after each step."""
    m, v, out = np.zeros_like(p), np.zeros_like(p), []
    for t, g in enumerate(grads, start=1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out, m, v


@pytest.mark.exercise_adam_step
def test_one_adam_step_moves_each_element_by_about_lr():
    w = param()
    opt = optim.Adam([w], lr=0.01)
    set_grad(w, GRADS[0])
    opt.step()
    # t = 1: m̂ = g and v̂ = g², so the step is lr·g/(|g| + eps) = lr·sign(g) (up to eps)
    g = GRADS[0]
    np.testing.assert_allclose(w.numpy(), P0 - 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    assert opt.state[0]["step"] == 1


@pytest.mark.exercise_adam_step
def test_two_adam_steps_match_the_formula():
    w = param()
    opt = optim.Adam([w], lr=0.01, betas=(0.5, 0.999))
    expected, m, v = adam_reference(P0, GRADS[:2], 0.01, 0.5, 0.999, 1e-8)
    set_grad(w, GRADS[0])
    opt.step()
    np.testing.assert_allclose(w.numpy(), expected[0], rtol=1e-12)
    set_grad(w, GRADS[1])
    opt.step()
    np.testing.assert_allclose(w.numpy(), expected[1], rtol=1e-12)
    np.testing.assert_allclose(opt.state[0]["exp_avg"], m, rtol=1e-12)
    np.testing.assert_allclose(opt.state[0]["exp_avg_sq"], v, rtol=1e-12)
    # element [0, 0] by hand: g1 = 0.1, g2 = 1.0
    # m2 = 0.5·0.05 + 0.5·1.0 = 0.525,  m̂ = 0.525 / 0.75 = 0.7
    # v2 = 0.999·(0.001·0.01) + 0.001·1.0 = 0.00100999,  v̂ = v2 / (1 - 0.999²) = 0.50524762
    # step 2 = 0.01·0.7 / (√v̂ + 1e-8) = 0.01·0.7 / 0.71080773 = 0.00984795
    # p1 = 0.5 - 0.01·0.1 / (0.1 + 1e-8) = 0.49 (to 1e-9), so p2 = 0.49 - 0.00984795
    assert w.numpy()[0, 0] == pytest.approx(0.49 - 0.00984795, abs=1e-8)


@pytest.mark.exercise_adam_step
def test_adam_with_weight_decay_over_three_steps():
    w = param()
    opt = optim.Adam([w], lr=0.05, weight_decay=0.1)
    expected, _, _ = adam_reference(P0, GRADS, 0.05, 0.9, 0.999, 1e-8, wd=0.1)
    for g, p in zip(GRADS, expected):
        set_grad(w, g)
        opt.step()
        np.testing.assert_allclose(w.numpy(), p, rtol=1e-12)


@pytest.mark.exercise_adam_step
def test_float32_parameters_stay_float32():
    w = nn.Parameter(minigen.tensor(P0))
    opt = optim.Adam([w], lr=0.01)
    set_grad(w, GRADS[0])
    w.grad = w.grad.float()
    opt.step()
    assert w.dtype == np.float32 and opt.state[0]["exp_avg"].dtype == np.float32


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: optim.Adam(ps, lr=0.1)], ids=["SGD", "Adam"])
def test_parameters_without_grad_are_skipped(make):
    a, b = param(), param(-P0)
    opt = make([a, b])
    set_grad(a, GRADS[0])
    opt.step()
    np.testing.assert_array_equal(b.numpy(), -P0)       # untouched
    assert not np.allclose(a.numpy(), P0)
    assert list(opt.state) == [0]                       # no state for b, no step counted


def test_zero_grad_sets_grads_to_none():
    a, b = param(), param()
    set_grad(a, GRADS[0])
    opt = optim.SGD([a, b], lr=0.1)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_step_updates_in_place_and_records_no_graph():
    layer = nn.Linear(3, 2)
    weight, array = layer.weight, layer.weight.data
    opt = optim.Adam(layer.parameters(), lr=0.1)
    layer(minigen.ones(4, 3)).sum().backward()
    opt.step()
    assert layer.weight is weight and layer.weight.data is array
    assert weight.is_leaf and weight.requires_grad


# ---------------------------------------------------------------- state_dict
def trained_adam(n_steps=2):
    w, b = param(), param(P0[0])
    opt = optim.Adam([w, b], lr=0.01, betas=(0.8, 0.99))
    for g in GRADS[:n_steps]:
        set_grad(w, g)                              # b never gets a gradient
        opt.step()
    return opt


@pytest.mark.exercise_adam_step
def test_adam_state_dict_holds_step_counts_moments_and_hyperparameters():
    opt = trained_adam()
    state = opt.state_dict()
    assert state["hyperparameters"] == {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-8,
                                        "weight_decay": 0.0}
    assert list(state["state"]) == [0] and state["state"][0]["step"] == 2
    _, m, v = adam_reference(P0, GRADS[:2], 0.01, 0.8, 0.99, 1e-8)
    np.testing.assert_allclose(state["state"][0]["exp_avg"], m, rtol=1e-12)
    np.testing.assert_allclose(state["state"][0]["exp_avg_sq"], v, rtol=1e-12)
    state["state"][0]["exp_avg"] += 1               # a copy: the optimizer is unaffected
    np.testing.assert_allclose(opt.state[0]["exp_avg"], m, rtol=1e-12)


@pytest.mark.exercise_adam_step
@pytest.mark.parametrize("through_file", [False, True], ids=["in_memory", "minigen.save"])
def test_resuming_from_a_state_dict_continues_identically(through_file, tmp_path):
    original = trained_adam()
    state = original.state_dict()
    if through_file:
        minigen.save({"optim": state}, tmp_path / "ckpt.npz")
        state = minigen.load(tmp_path / "ckpt.npz")["optim"]
    params = [param(p.numpy()) for p in original.params]
    resumed = optim.Adam(params, lr=0.5)            # other hyperparameters: overwritten
    resumed.load_state_dict(state)
    assert resumed.lr == 0.01 and resumed.betas == (0.8, 0.99)
    for opt in (original, resumed):
        set_grad(opt.params[0], GRADS[2])
        set_grad(opt.params[1], GRADS[2][0])
        opt.step()
    for a, b in zip(original.params, resumed.params):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert resumed.state[0]["step"] == 3 and resumed.state[1]["step"] == 1


def test_sgd_momentum_state_round_trip():
    w = param()
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    set_grad(w, GRADS[0])
    opt.step()
    twin = optim.SGD([param(w.numpy())], lr=0.1, momentum=0.9)
    twin.load_state_dict(opt.state_dict())
    for o in (opt, twin):
        set_grad(o.params[0], GRADS[1])
        o.step()
    np.testing.assert_array_equal(opt.params[0].numpy(), twin.params[0].numpy())


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    opt = trained_adam()
    before = opt.state_dict()
    bad = trained_adam(3).state_dict()
    bad["state"][0]["exp_avg"] = np.zeros((3, 2))
    bad["state"][0]["step"] = 2.5
    bad["state"][5] = {"step": 1, "exp_avg": np.zeros(3), "exp_avg_sq": np.zeros(3)}
    bad["state"][1] = {"step": 1}
    bad["hyperparameters"]["lr"] = -1.0
    with pytest.raises(ValueError) as err:
        opt.load_state_dict(bad)
    message = str(err.value)
    assert "nothing was loaded" in message
    assert "lr must be a number >= 0" in message
    assert "parameter 0: exp_avg is (3, 2), expected an array of shape (2, 3)" in message
    assert "step must be an integer, got 2.5" in message
    assert "state for parameter 5, but there are 2 parameters" in message
    assert "parameter 1: state holds ['step']" in message
    after = opt.state_dict()
    assert after["hyperparameters"] == before["hyperparameters"]
    assert after["state"][0]["step"] == 2 and list(after["state"]) == [0]
    np.testing.assert_array_equal(after["state"][0]["exp_avg"], before["state"][0]["exp_avg"])


def test_load_state_dict_checks_the_layout_and_hyperparameter_names():
    opt = optim.SGD([param()], lr=0.1)
    with pytest.raises(ValueError, match="'state' and 'hyperparameters'"):
        opt.load_state_dict({"state": {}})
    with pytest.raises(ValueError, match="missing hyperparameters: momentum.*\n.*unexpected "
                                         "hyperparameters: betas"):
        opt.load_state_dict({"state": {}, "hyperparameters": {
            "lr": 0.1, "weight_decay": 0.0, "betas": (0.9, 0.9)}})
    assert opt.lr == 0.1 and opt.momentum == 0.0


# ---------------------------------------------------------------- schedulers
def lr_sequence(scheduler, n):
    """The lr the optimizer holds in each of n epochs (one scheduler.step() per epoch)."""
    lrs = []
    for _ in range(n):
        lrs.append(scheduler.optimizer.lr)
        assert scheduler.get_last_lr() == [scheduler.optimizer.lr]
        scheduler.step()
    return lrs


def sgd(lr):
    return optim.SGD([param()], lr=lr)


def test_linear_lr_warm_up_with_pytorch_defaults():
    # factor 1/3 -> 1 over 5 epochs: 1/3, 7/15, 9/15, 11/15, 13/15, 1, 1, ...
    lrs = lr_sequence(LinearLR(sgd(0.3)), 8)
    assert lrs == pytest.approx([0.1, 0.14, 0.18, 0.22, 0.26, 0.3, 0.3, 0.3], rel=1e-12)


def test_linear_lr_decay_to_zero():
    lrs = lr_sequence(LinearLR(sgd(0.6), start_factor=1.0, end_factor=0.0, total_iters=3), 6)
    assert lrs == pytest.approx([0.6, 0.4, 0.2, 0.0, 0.0, 0.0], abs=1e-15)


def test_step_lr():
    lrs = lr_sequence(StepLR(sgd(1.0), step_size=3, gamma=0.1), 8)
    assert lrs == pytest.approx([1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01], rel=1e-12)


def test_lambda_lr_cyclegan_rule():
    n_epochs, n_epochs_decay = 3, 3

    def rule(epoch):
        return 1.0 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)

    lrs = lr_sequence(LambdaLR(sgd(2e-4), lr_lambda=rule), 7)
    assert lrs == pytest.approx([2e-4, 2e-4, 2e-4, 1.5e-4, 1e-4, 0.5e-4, 0.0], abs=1e-18)


def test_the_scheduled_lr_is_the_one_the_optimizer_uses():
    w = param()
    opt = optim.SGD([w], lr=1.0)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    sched.step()                                    # epoch 1: lr 0.5
    set_grad(w, GRADS[0])
    opt.step()
    np.testing.assert_allclose(w.numpy(), P0 - 0.5 * GRADS[0], rtol=1e-15)


RESUMABLE = {
    "StepLR": (lambda opt: StepLR(opt, step_size=2, gamma=0.5),
               lambda opt: StepLR(opt, step_size=5, gamma=0.9)),
    "LinearLR": (lambda opt: LinearLR(opt, start_factor=0.25, total_iters=5),
                 lambda opt: LinearLR(opt)),
}


@pytest.mark.parametrize("kind", sorted(RESUMABLE))
def test_scheduler_state_round_trip_resumes_the_sequence(kind, tmp_path):
    make, make_other = RESUMABLE[kind]
    full = lr_sequence(make(sgd(1.0)), 7)
    first = make(sgd(1.0))
    lr_sequence(first, 3)                           # three epochs done, then a "crash"
    minigen.save({"optim": first.optimizer.state_dict(), "sched": first.state_dict()},
                 tmp_path / "ckpt.npz")
    ckpt = minigen.load(tmp_path / "ckpt.npz")
    opt = sgd(1.0)
    opt.load_state_dict(ckpt["optim"])
    resumed = make_other(opt)                       # creating it overwrites opt.lr ...
    resumed.load_state_dict(ckpt["sched"])          # ... which loading sets back
    assert resumed.last_epoch == 3 and resumed.base_lr == 1.0
    assert resumed.state_dict() == first.state_dict()   # settings come from the checkpoint
    assert lr_sequence(resumed, 4) == pytest.approx(full[3:], rel=1e-12)


def test_scheduler_argument_errors():
    opt = sgd(1.0)
    with pytest.raises(TypeError, match="expected an Optimizer"):
        StepLR("adam", step_size=1)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="gamma"):
        StepLR(opt, step_size=1, gamma=-0.1)
    with pytest.raises(ValueError, match="start_factor"):
        LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="end_factor"):
        LinearLR(opt, end_factor=1.5)
    with pytest.raises(ValueError, match="total_iters"):
        LinearLR(opt, total_iters=2.5)
    with pytest.raises(TypeError, match="lr_lambda"):
        LambdaLR(opt, lr_lambda=0.5)
    assert opt.lr == 1.0                            # none of them touched the optimizer
    sched = StepLR(opt, step_size=2)
    with pytest.raises(ValueError, match="expected the keys"):
        sched.load_state_dict({"last_epoch": 4})
    with pytest.raises(ValueError, match="last_epoch must be an integer"):
        sched.load_state_dict(dict(sched.state_dict(), last_epoch=-3))
    assert sched.last_epoch == 0
