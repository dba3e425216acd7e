"""The diffusion UNet and its attention: attention against a plain loop, gradients, and
the net's shapes, parameter count, conditioning on t and y, and errors."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import minigen as mg
import minigen.functional as F
from minigen.models.unet import AttentionBlock, UNet
from minigen.testing import arrays


def attention_loop(q, k, v, scale):
    """softmax(q kᵀ · scale) v, one query row at a time, in plain Python and NumPy."""
    out = np.zeros(q.shape[:-1] + (v.shape[-1],))
    for index in np.ndindex(q.shape[:-2]):
        for i in range(q.shape[-2]):
            scores = [scale * float(np.dot(q[index][i], k[index][j])) for j in range(k.shape[-2])]
            top = max(scores)
            weights = [math.exp(s - top) for s in scores]
            total = sum(weights)
            out[index][i] = sum(w / total * v[index][j] for j, w in enumerate(weights))
    return out


shapes = st.tuples(st.integers(1, 2), st.integers(1, 4), st.integers(1, 5), st.integers(1, 3),
                   st.integers(1, 3))


@given(shapes.flatmap(lambda s: st.tuples(
    arrays((s[0], s[1], s[3])), arrays((s[0], s[2], s[3])), arrays((s[0], s[2], s[4])))),
       st.sampled_from([None, 0.3]))
def test_attention_against_a_loop_and_its_gradient(values, scale):
    q, k, v = values
    expected = attention_loop(q, k, v, 1 / math.sqrt(q.shape[-1]) if scale is None else scale)
    tensors = [mg.tensor(a, dtype="float64", requires_grad=True) for a in (q, k, v)]
    fn = lambda a, b, c: F.scaled_dot_product_attention(a, b, c, scale=scale)  # noqa: E731
    assert_allclose(fn(*tensors).numpy(), expected, rtol=1e-10, atol=1e-12)
    mg.gradcheck(fn, tensors)


def test_attention_errors():
    with pytest.raises(ValueError, match=r"query \(2, 3\) and key \(4, 5\) must share"):
        F.scaled_dot_product_attention(mg.zeros(2, 3), mg.zeros(4, 5), mg.zeros(4, 5))
    with pytest.raises(ValueError, match=r"key \(4, 3\) and value \(5, 3\) must have as many rows"):
        F.scaled_dot_product_attention(mg.zeros(2, 3), mg.zeros(4, 3), mg.zeros(5, 3))


def test_the_attention_block_mixes_every_position():
    mg.manual_seed(0)
    block = AttentionBlock(8)
    x = mg.randn(1, 8, 3, 3)
    y0 = block(x).numpy()
    x2 = x.numpy().copy()
    x2[0, :, 0, 0] += 1.0                                    # change one pixel
    y1 = block(mg.tensor(x2)).numpy()
    changed = np.abs(y1 - y0).max(axis=1)[0]                # (3, 3)
    assert np.all(changed > 0)                              # every position saw it


def test_unet_shapes_parameters_and_conditioning():
    mg.manual_seed(0)
    net = UNet()
    assert net.num_parameters() == 337_585                  # as its docstring says
    small = UNet(channels=(8, 8, 16), num_classes=10)
    x = mg.randn(3, 1, 28, 28)
    out = small(x, [5, 5, 5], [1, 1, 10])
    assert out.shape == (3, 1, 28, 28)
    other_t = small(x, [500, 5, 5], [1, 1, 10]).numpy()
    assert not np.allclose(other_t[0], out.numpy()[0]) and np.allclose(other_t[1:], out.numpy()[1:])
    other_y = small(x, [5, 5, 5], [2, 1, 10]).numpy()
    assert not np.allclose(other_y[0], out.numpy()[0]) and np.allclose(other_y[1:], out.numpy()[1:])
    plain = UNet(channels=(8, 8, 8), num_classes=None, attention=False)
    assert plain(x, np.array([0, 1, 2])).shape == (3, 1, 28, 28)


def test_unet_gradients_reach_every_parameter():
    mg.manual_seed(1)
    net = UNet(channels=(8, 8, 8), num_classes=3)
    (net(mg.randn(2, 1, 28, 28), [3, 70], [0, 3]) ** 2).mean().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and np.all(np.isfinite(p.grad.numpy())), name
        assert np.any(p.grad.numpy() != 0), name


def test_unet_input_gradient_is_right():
    from minigen import backend
    mg.manual_seed(2)
    with backend.default_dtype("float64"):
        net = UNet(channels=(8, 8, 8), num_classes=3)
    x = mg.tensor(np.random.default_rng(0).normal(size=(2, 1, 28, 28)), dtype="float64",
                  requires_grad=True)
    mg.gradcheck(lambda image: net(image, [3, 70], [0, 3]), [x])


def test_unet_errors():
    net = UNet(channels=(8, 8, 8), num_classes=10)
    x = mg.zeros(2, 1, 28, 28)
    with pytest.raises(ValueError, match="multiple of 8"):
        UNet(channels=(12, 16, 32))
    with pytest.raises(ValueError, match=r"expected images \(N, 1, 28, 28\)"):
        net(mg.zeros(2, 1, 14, 14), [0, 1], [0, 1])
    with pytest.raises(ValueError, match=r"one step per image \(2,\)"):
        net(x, [0], [0, 1])
    with pytest.raises(ValueError, match="UNet: labels"):
        net(x, [0, 1], [0, 11])                             # 10 is ∅; 11 is no class
    with pytest.raises(ValueError, match="labels given to an unconditional net"):
        UNet(channels=(8, 8, 8), num_classes=None)(x, [0, 1], [0, 1])
