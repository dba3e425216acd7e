"""detect_anomaly names the op, the user's line and the shapes of the first NaN or inf."""
import numpy as np
import pytest

import minigen as mg
from minigen import autograd, function


def test_log_of_zero_is_caught_in_the_forward():
    x = mg.tensor([[1.0, 0.0, 2.0]], requires_grad=True)
    with pytest.warns(RuntimeWarning), mg.detect_anomaly():
        with pytest.raises(mg.AnomalyError) as info:
            mg.log(x)  # the line the error must point at
    message = str(info.value)
    assert "Log produced -inf in its forward" in message
    assert "test_anomaly.py" in message and "test_log_of_zero_is_caught_in_the_forward" in message
    assert "(1, 3)" in message


def test_division_by_zero_is_caught_in_the_forward():
    a, b = mg.ones(2, 2, requires_grad=True), mg.zeros(2, 2)
    with pytest.warns(RuntimeWarning), mg.detect_anomaly():
        with pytest.raises(mg.AnomalyError, match="Div produced inf in its forward"):
            a / b


def test_nan_in_a_backward_names_the_op_and_where_it_was_made():
    # sqrt(0) is fine forward (0) but its derivative 1 / (2·0) is infinite
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with pytest.warns(RuntimeWarning), mg.detect_anomaly():
        y = mg.sqrt(x)
        with pytest.raises(mg.AnomalyError) as info:
            y.sum().backward()
    message = str(info.value)
    assert "Sqrt.backward produced inf in the gradient of input 0 (shape (2,))" in message
    assert "test_anomaly.py" in message


def test_off_by_default_and_hooks_removed_after_the_block():
    with pytest.warns(RuntimeWarning):
        y = mg.log(mg.tensor([0.0], requires_grad=True))  # no error outside the block
    assert np.isneginf(y.numpy()[0])
    with mg.detect_anomaly():
        pass
    assert function._forward_hooks == [] and autograd._backward_hooks == []


def test_finite_computations_pass_unchanged():
    x = mg.randn(3, 4, requires_grad=True)
    with mg.detect_anomaly():
        (mg.sigmoid(x) * 2).sum().backward()
    assert x.grad is not None
