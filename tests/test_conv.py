"""conv2d and conv_transpose2d: plain-loop references, the adjoint identity, gradients, errors."""
import ast
import contextlib
import re
from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import minigen as mg
import minigen.functional as F
from minigen import nn, ops
from minigen.ops import conv as conv_module
from minigen.ops import fast as fast_switch
from minigen.ops.fast import conv as fast_conv
from minigen.testing import arrays

from gradient_registry import covers


# ---------------------------------------------------------------- plain-loop references
def loop_conv2d(x, w, b, stride, padding, dilation, groups):
    """The definition, one multiply-add at a time."""
    n_img, c_in, h, wd = x.shape
    c_out, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    padded = np.zeros((n_img, c_in, h + 2 * ph, wd + 2 * pw))
    padded[:, :, ph:ph + h, pw:pw + wd] = x
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n_img, c_out, ho, wo))
    per_group = c_out // groups
    for n in range(n_img):
        for o in range(c_out):
            first_channel = (o // per_group) * cg
            for p in range(ho):
                for q in range(wo):
                    total = 0.0 if b is None else b[o]
                    for c in range(cg):
                        for i in range(kh):
                            for j in range(kw):
                                total += w[o, c, i, j] * padded[n, first_channel + c,
                                                                p * sh + i * dh, q * sw + j * dw]
                    y[n, o, p, q] = total
    return y


def loop_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation, groups):
    """Every input pixel scatters a weighted copy of the kernel into the output."""
    n_img, c_in, h, wd = x.shape
    _, cg_out, kh, kw = w.shape
    (sh, sw), (ph, pw), (oh, ow), (dh, dw) = stride, padding, output_padding, dilation
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + oh
    full_w = (wd - 1) * sw + dw * (kw - 1) + 1 + ow
    full = np.zeros((n_img, cg_out * groups, full_h + ph, full_w + pw))
    per_group = c_in // groups
    for n in range(n_img):
        for ci in range(c_in):
            g = ci // per_group
            for p in range(h):
                for q in range(wd):
                    for co in range(cg_out):
                        for i in range(kh):
                            for j in range(kw):
                                full[n, g * cg_out + co, p * sh + i * dh, q * sw + j * dw] += \
                                    x[n, ci, p, q] * w[ci, co, i, j]
    out_h = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1
    out_w = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1
    y = full[:, :, ph:ph + out_h, pw:pw + out_w]
    return y if b is None else y + b[None, :, None, None]


# ---------------------------------------------------------------- hyper-parameter strategies
@st.composite
def conv_cases(draw, transposed=False):
    groups = draw(st.integers(1, 2), label="groups")
    cg_in, cg_out = draw(st.integers(1, 3), label="C_in/g"), draw(st.integers(1, 3), label="C_out/g")
    kernel = (draw(st.integers(1, 3), label="kH"), draw(st.integers(1, 3), label="kW"))
    stride = (draw(st.integers(1, 3), label="sH"), draw(st.integers(1, 3), label="sW"))
    dilation = (draw(st.integers(1, 2), label="dH"), draw(st.integers(1, 2), label="dW"))
    padding = (draw(st.integers(0, 2), label="pH"), draw(st.integers(0, 2), label="pW"))
    size = (draw(st.integers(1, 7), label="H"), draw(st.integers(1, 7), label="W"))
    n = draw(st.integers(1, 2), label="N")
    if transposed:
        opad = tuple(draw(st.integers(0, max(s, d) - 1), label="output_padding")
                     for s, d in zip(stride, dilation))
        out = [(i - 1) * s - 2 * p + d * (k - 1) + o + 1
               for i, s, p, d, k, o in zip(size, stride, padding, dilation, kernel, opad)]
        assume(min(out) >= 1)
        x = draw(arrays((n, cg_in * groups) + size), label="x")
        w = draw(arrays((cg_in * groups, cg_out) + kernel), label="w")
        b = draw(st.one_of(st.none(), arrays((cg_out * groups,))), label="b")
        return x, w, b, dict(stride=stride, padding=padding, output_padding=opad,
                             dilation=dilation, groups=groups)
    out = [(i + 2 * p - d * (k - 1) - 1) // s + 1
           for i, s, p, d, k in zip(size, stride, padding, dilation, kernel)]
    assume(min(out) >= 1)
    x = draw(arrays((n, cg_in * groups) + size), label="x")
    w = draw(arrays((cg_out * groups, cg_in) + kernel), label="w")
    b = draw(st.one_of(st.none(), arrays((cg_out * groups,))), label="b")
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def _tensors(*arrays_):
    return [mg.tensor(a, dtype="float64", requires_grad=True) for a in arrays_ if a is not None]


def kernel_choices(*exercise_marks):
    """Both kernel choices, as parameters of a test that runs under ``kernels``: the
    reference (which grades the exercises, so it carries their markers) and the fast ones."""
    return pytest.mark.parametrize("kernels", [
        pytest.param("reference", marks=list(exercise_marks), id="reference"),
        pytest.param("fast", id="fast")])


def kernels_of(choice):
    """The context in which a test with the ``kernels`` parameter runs its ops."""
    return mg.reference_kernels(choice == "reference")


# ---------------------------------------------------------------- forward against the loops
@kernel_choices(pytest.mark.exercise_im2col, pytest.mark.exercise_conv2d_forward)
@covers(ops.Conv2d, ops.ConvTranspose2d, ops.Conv2dWeight)
@given(conv_cases())
def test_conv2d_matches_loop_and_gradients(kernels, case):
    x, w, b, hp = case
    expected = loop_conv2d(x, w, b, hp["stride"], hp["padding"], hp["dilation"], hp["groups"])
    inputs = _tensors(x, w, b)
    fn = lambda *t: F.conv2d(t[0], t[1], t[2] if len(t) == 3 else None, **hp)  # noqa: E731
    with kernels_of(kernels):
        assert_allclose(fn(*inputs).numpy(), expected, rtol=1e-10, atol=1e-10)
        mg.gradcheck(fn, inputs)
        mg.gradgradcheck(fn, inputs[:2])  # second order: the WGAN-GP penalty needs it


@kernel_choices(pytest.mark.exercise_im2col)
@covers(ops.ConvTranspose2d, ops.Conv2d, ops.Conv2dWeight)
@given(conv_cases(transposed=True))
def test_conv_transpose2d_matches_loop_and_gradients(kernels, case):
    x, w, b, hp = case
    expected = loop_conv_transpose2d(x, w, b, hp["stride"], hp["padding"], hp["output_padding"],
                                     hp["dilation"], hp["groups"])
    inputs = _tensors(x, w, b)
    fn = lambda *t: F.conv_transpose2d(t[0], t[1], t[2] if len(t) == 3 else None, **hp)  # noqa: E731
    with kernels_of(kernels):
        assert_allclose(fn(*inputs).numpy(), expected, rtol=1e-10, atol=1e-10)
        mg.gradcheck(fn, inputs)
        mg.gradgradcheck(fn, inputs[:2])


@kernel_choices(pytest.mark.exercise_im2col, pytest.mark.exercise_col2im)
@covers(ops.Conv2dWeight, ops.Conv2d, ops.ConvTranspose2d)
@given(conv_cases())
def test_conv2d_weight_gradient_op(kernels, case):
    # Conv2dWeight is the gradient of conv2d with respect to its weight; check it directly.
    x, w, _, hp = case
    pads = (hp["padding"][0],) * 2 + (hp["padding"][1],) * 2
    y_shape = loop_conv2d(x[:, :, :, :], w, None, hp["stride"], hp["padding"], hp["dilation"],
                          hp["groups"]).shape
    y = np.random.default_rng(0).standard_normal(y_shape)

    def fn(xt, yt):
        return ops.Conv2dWeight.apply(xt, yt, stride=hp["stride"], padding=pads,
                                      dilation=hp["dilation"], groups=hp["groups"],
                                      kernel=w.shape[2:])

    xt, yt = _tensors(x, y)
    with kernels_of(kernels):
        # Σ_n,p,q y · x-window is the weight gradient of ⟨conv2d(x, w), y⟩
        wt = mg.tensor(w, dtype="float64", requires_grad=True)
        (F.conv2d(xt.detach(), wt, **hp) * mg.tensor(y, dtype="float64")).sum().backward()
        assert_allclose(fn(xt, yt).numpy(), wt.grad.numpy(), rtol=1e-10, atol=1e-10)
        mg.gradcheck(fn, [xt, yt])


# ---------------------------------------------------------------- every algorithm, forced
# The fast kernels (minigen/ops/fast/conv.py) pick an algorithm by shape (column layout,
# col2im method, kn2row); the small shapes above mostly take one of them. Here each choice
# is forced, so the loop references, gradcheck and gradgradcheck see every path, also in
# the backward passes.
algorithms = st.fixed_dictionaries({"layout": st.sampled_from(["bat", "kln"]),
                                    "scatter": st.booleans(), "kn2row": st.booleans()})


@contextlib.contextmanager
def forced(layout, scatter, kn2row):
    def kn2row_if_legal(out_channels, in_channels, stride, groups, ratio=2):
        return kn2row and tuple(stride) == (1, 1) and groups == 1
    with mock.patch.object(fast_conv, "_layout", lambda n, k, l: layout), \
            mock.patch.object(fast_conv, "_scatter_col2im", lambda out_hw: scatter), \
            mock.patch.object(fast_conv, "use_kn2row", kn2row_if_legal), \
            mg.reference_kernels(False):
        yield


@pytest.mark.exercise_im2col
@pytest.mark.exercise_col2im
@covers(ops.Conv2d, ops.ConvTranspose2d, ops.Conv2dWeight)
@given(conv_cases(), algorithms)
def test_conv2d_every_algorithm(case, algorithm):
    x, w, b, hp = case
    expected = loop_conv2d(x, w, b, hp["stride"], hp["padding"], hp["dilation"], hp["groups"])
    inputs = _tensors(x, w, b)
    fn = lambda *t: F.conv2d(t[0], t[1], t[2] if len(t) == 3 else None, **hp)  # noqa: E731
    with forced(**algorithm):
        assert_allclose(fn(*inputs).numpy(), expected, rtol=1e-10, atol=1e-10)
        mg.gradcheck(fn, inputs)
        mg.gradgradcheck(fn, inputs[:2])


@pytest.mark.exercise_im2col
@pytest.mark.exercise_col2im
@covers(ops.ConvTranspose2d, ops.Conv2d, ops.Conv2dWeight)
@given(conv_cases(transposed=True), algorithms)
def test_conv_transpose2d_every_algorithm(case, algorithm):
    x, w, b, hp = case
    expected = loop_conv_transpose2d(x, w, b, hp["stride"], hp["padding"], hp["output_padding"],
                                     hp["dilation"], hp["groups"])
    inputs = _tensors(x, w, b)
    fn = lambda *t: F.conv_transpose2d(t[0], t[1], t[2] if len(t) == 3 else None, **hp)  # noqa: E731
    with forced(**algorithm):
        assert_allclose(fn(*inputs).numpy(), expected, rtol=1e-10, atol=1e-10)
        mg.gradcheck(fn, inputs)
        mg.gradgradcheck(fn, inputs[:2])


REALISTIC = [  # (N, C_in, C_out, size, stride, groups): the path the fast kernels take
    pytest.param(8, 4, 3, 9, 2, 1, "kln + loop col2im", id="kln"),      # L = 25 < K = 36, 8 images
    pytest.param(3, 4, 3, 9, 2, 1, "bat + scatter col2im", id="scatter"),  # few images, rows of 5
    pytest.param(2, 1, 3, 9, 1, 1, "bat + loop col2im", id="loop"),     # L = 81 > K = 9, rows of 9
    pytest.param(2, 5, 2, 10, 1, 1, "kn2row", id="kn2row"),             # stride 1, 2·O <= C
    pytest.param(1, 3, 3, 10, 1, 1, "bat + loop col2im", id="kn2row-T"),  # its convT: kn2row
    pytest.param(8, 8, 4, 9, 2, 2, "kln + loop col2im", id="groups-kln"),  # K = 4·9 > L = 25
    pytest.param(3, 4, 2, 9, 2, 2, "bat + scatter col2im", id="groups-scatter"),
]


def _fast_path(n, c_in, c_out, size, stride, groups):
    """Which algorithm the fast kernels choose for a 3×3, padding-1 conv2d of this shape."""
    ho = (size + 2 - 3) // stride + 1
    if fast_conv.use_kn2row(c_out, c_in, (stride, stride), groups):
        return "kn2row"
    layout = fast_conv._layout(n, (c_in // groups) * 9, ho * ho)
    scatter = layout == "bat" and fast_conv._scatter_col2im((ho, ho))
    return f"{layout} + {'scatter' if scatter else 'loop'} col2im"


@pytest.mark.parametrize("kernels", ["reference", "fast"])
@pytest.mark.parametrize("n, c_in, c_out, size, stride, groups, path", REALISTIC)
def test_realistic_shapes_take_their_path(n, c_in, c_out, size, stride, groups, path, kernels):
    # Bigger maps than the hypothesis cases, so the shape rules pick each path themselves;
    # the reference kernels must give the same results on every one of them.
    assert _fast_path(n, c_in, c_out, size, stride, groups) == path
    rng = np.random.default_rng(4)
    x = rng.standard_normal((n, c_in, size, size))
    w = rng.standard_normal((c_out, c_in // groups, 3, 3))
    ho = (size + 2 - 3) // stride + 1
    hp = dict(stride=stride, padding=1, groups=groups)
    xt, wt = _tensors(x, w)
    with kernels_of(kernels):
        out = F.conv2d(xt, wt, **hp)
        assert_allclose(out.numpy(), loop_conv2d(x, w, None, (stride,) * 2, (1, 1), (1, 1), groups),
                        rtol=1e-10, atol=1e-10)
        mg.gradcheck(lambda a, v: F.conv2d(a, v, **hp), [xt, wt])
        # conv_transpose2d with the same weight is the adjoint, and takes the same path
        opad = (size + 2 - 3) % stride
        y = rng.standard_normal((n, c_out, ho, ho))
        # (C_out, C_in/g, 3, 3) is also conv_transpose2d's (C_in', C_out'/g, 3, 3)
        back = F.conv_transpose2d(mg.tensor(y, dtype="float64"), wt, output_padding=opad, **hp)
        assert float((x * back.numpy()).sum()) == pytest.approx(float((out.numpy() * y).sum()),
                                                                  rel=1e-10)
        mg.gradcheck(lambda a, v: F.conv_transpose2d(a, v, output_padding=opad, **hp),
                     _tensors(y, w))


@pytest.mark.parametrize("shape, c_out, stride", [((8, 2, 5, 5), 3, 2),    # kln: rows shared
                                                  ((2, 3, 6, 6), 2, 1)],   # scatter col2im
                         ids=["kln", "bat"])
def test_fast_kernels_share_work_correctly_across_backwards(shape, c_out, stride):
    # The fast kernels pass columns and rows from an op's forward to the ops of its backward
    # (fast.conv.Memo): a second backward with another gradient, and a backward of the
    # backward, must use their own, not those of the first gradient.
    rng = np.random.default_rng(6)
    x0, w0 = rng.standard_normal(shape), rng.standard_normal((c_out, shape[1], 3, 3))
    g1, g2 = (rng.standard_normal((shape[0], c_out) + (((shape[2] + 2 - 3) // stride + 1),) * 2)
              for _ in range(2))

    def grads(kernels):
        x, w = _tensors(x0, w0)
        found = []
        with kernels_of(kernels):
            y = F.conv2d(x, w, stride=stride, padding=1)
            for g in (g1, g2):             # two backwards through one graph
                x.grad = w.grad = None
                y.backward(mg.tensor(g, dtype="float64"), retain_graph=True)
                found += [x.grad.numpy(), w.grad.numpy()]
            # a backward of the backward: ∂/∂(x, w) of |∂L/∂x|² + |∂L/∂w|², L = Σ conv2d(x, w)²
            gx, gw = mg.grad((F.conv2d(x, w, stride=stride, padding=1) ** 2).sum(), [x, w],
                             create_graph=True)
            x.grad = w.grad = None
            ((gx * gx).sum() + (gw * gw).sum()).backward()
            found += [x.grad.numpy(), w.grad.numpy()]
        return found

    for ours, theirs in zip(grads("fast"), grads("reference")):
        assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)
    x, w = _tensors(x0, w0)
    with kernels_of("fast"):
        mg.gradgradcheck(lambda a, v: F.conv2d(a, v, stride=stride, padding=1), [x, w])


def test_a_memo_hands_out_values_only_for_the_array_they_were_computed_from():
    a, b = np.ones(3), np.ones(3)     # equal, but not the same array
    memo = fast_conv.Memo(shared=("rows",))
    calls = []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert memo.reuse(("rows", "kln"), a, compute) == 1       # computed and stored
    assert memo.reuse(("rows", "kln"), b, compute) == 2       # another array: computed again
    assert memo.reuse(("rows", "kln"), b, compute) == 2       # ... and taken out
    assert memo.reuse(("rows", "kln"), b, compute) == 3
    memo.keep(("columns", "kln"), a, "cols of a")
    assert memo.reuse(("columns", "kln"), a, compute) == "cols of a"
    assert memo.reuse(("columns", "kln"), a, compute) == "cols of a"   # kept for every reader
    assert memo.reuse(("columns", "kln"), b, compute) == 4            # not shared: not stored
    assert memo.reuse(("columns", "kln"), a, compute) == "cols of a"


@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5),
       st.tuples(*[st.integers(0, 2)] * 4))
def test_pad_zeros_in_either_memory_order(n, c, h, w, padding):
    from minigen.ops.windows import pad_zeros
    x = np.random.default_rng(n * 31 + h).standard_normal((n, c, h, w))
    top, bottom, left, right = padding
    expected = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    assert_allclose(pad_zeros(x, padding), expected)
    padded = fast_conv._pad_images_last(x, padding)
    assert_allclose(padded, expected)
    # a (C, H_p, W_p, N) array seen as (N, C, H_p, W_p): no copy to get back
    assert padded.transpose(1, 2, 3, 0).flags.c_contiguous
    assert not np.shares_memory(padded, x)


def test_kln_outputs_stay_in_images_last_order_through_a_second_conv():
    # conv2d's kln output is a transposed view; the next layer reads it as it is
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8, 6, 6, 6))
    w1, w2 = rng.standard_normal((5, 6, 3, 3)), rng.standard_normal((4, 5, 3, 3))
    assert fast_conv._layout(8, 6 * 9, 3 * 3) == "kln"
    x, w1, w2 = _tensors(x, w1, w2)
    with kernels_of("fast"):
        h = F.conv2d(x, w1, stride=2, padding=1)
        assert h.data.transpose(1, 2, 3, 0).flags.c_contiguous
        out = F.conv2d(F.relu(h), w2, padding=1)
    first = loop_conv2d(x.numpy(), w1.numpy(), None, (2, 2), (1, 1), (1, 1), 1)
    expected = loop_conv2d(np.maximum(first, 0), w2.numpy(), None, (1, 1), (1, 1), (1, 1), 1)
    assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-10)


def test_the_benchmark_layers_take_the_measured_fastest_path():
    # (benchmarks/bench_conv.py; the reasons are in ops/fast/conv.py, the figures in
    # benchmarks/README.md)
    assert fast_conv._layout(64, 1 * 9, 14 * 14) == "bat"       # (a) 1->32, 28x28 s2
    assert fast_conv._layout(64, 32 * 9, 7 * 7) == "kln"        # (b) 32->64, 14x14 s2
    assert fast_conv._layout(1, 64 * 9, 64 * 64) == "bat"       # (c) N=1
    assert fast_conv._layout(64, 32 * 9, 7 * 7) == "kln"        # (d) convT 64->32, 7x7 in
    assert fast_conv.use_kn2row(1, 32, (1, 1), 1)               # (e) 32->1, stride 1
    assert not fast_conv.use_kn2row(64, 64, (1, 1), 1)          # (c)


# ---------------------------------------------------------------- the switch
def test_the_switch_function_context_manager_and_environment(monkeypatch):
    monkeypatch.delenv("MINIGEN_REFERENCE_KERNELS", raising=False)
    assert not mg.reference_kernels_enabled() and fast_switch.fast_kernels()
    monkeypatch.setenv("MINIGEN_REFERENCE_KERNELS", "1")       # read at each decision
    assert mg.reference_kernels_enabled() and not fast_switch.fast_kernels()
    mg.use_reference_kernels(False)                             # the call wins
    assert not mg.reference_kernels_enabled()
    with mg.reference_kernels():
        assert mg.reference_kernels_enabled()
        with mg.reference_kernels(False):
            assert not mg.reference_kernels_enabled()
        assert mg.reference_kernels_enabled()
    assert not mg.reference_kernels_enabled()                   # restored
    mg.use_reference_kernels(None)                              # the environment again
    assert mg.reference_kernels_enabled()
    monkeypatch.setenv("MINIGEN_REFERENCE_KERNELS", "0")
    monkeypatch.setattr(fast_switch, "REFERENCE_KERNELS_DEFAULT", True)
    assert not mg.reference_kernels_enabled()                   # 0 forces the fast ones
    monkeypatch.delenv("MINIGEN_REFERENCE_KERNELS")
    assert mg.reference_kernels_enabled()                       # a student copy's default
    monkeypatch.setenv("MINIGEN_REFERENCE_KERNELS", "maybe")
    with pytest.raises(ValueError, match="MINIGEN_REFERENCE_KERNELS='maybe'"):
        mg.reference_kernels_enabled()


def test_importing_minigen_leaves_the_switch_alone():
    import subprocess
    import sys
    code = ("import minigen, minigen.ops.fast as f; "
            "print(f._chosen, f.REFERENCE_KERNELS_DEFAULT, minigen.reference_kernels_enabled())")
    env = {k: v for k, v in __import__("os").environ.items() if k != "MINIGEN_REFERENCE_KERNELS"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.split() == ["None", "False", "False"], done.stderr


@pytest.mark.parametrize("n, c_in, c_out, size, stride, groups, path", REALISTIC)
def test_reference_kernels_run_sliding_windows_and_add_windows(n, c_in, c_out, size, stride,
                                                                groups, path, monkeypatch):
    # Whatever path the fast kernels would take, the reference one reads the windows with
    # sliding_windows (im2col) and adds them back with add_windows (col2im), the exercises.
    calls = {"sliding_windows": 0, "add_windows": 0}

    def counting(name, function):
        def counted(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return counted

    for name in calls:
        monkeypatch.setattr(conv_module, name, counting(name, getattr(conv_module, name)))
    x, w = _tensors(np.ones((n, c_in, size, size)), np.ones((c_out, c_in // groups, 3, 3)))
    with mg.reference_kernels():
        F.conv2d(x, w, stride=stride, padding=1, groups=groups).sum().backward()
    # forward: im2col of x; backward: col2im for ∂L/∂x, im2col of x for ∂L/∂w
    assert calls == {"sliding_windows": 2, "add_windows": 1}
    calls.update(sliding_windows=0, add_windows=0)
    y = mg.tensor(np.ones((n, c_out, 4, 4)), dtype="float64", requires_grad=True)
    with mg.reference_kernels():
        F.conv_transpose2d(y, w.detach().reshape(c_out, c_in // groups, 3, 3), stride=stride,
                           groups=groups).sum().backward()
    assert calls == {"sliding_windows": 1, "add_windows": 1}


# ---------------------------------------------------------------- the adjoint identity
@pytest.mark.exercise_im2col
@given(conv_cases())
def test_conv_transpose_is_the_adjoint_of_conv(case):
    """⟨conv2d(x, w), y⟩ = ⟨x, conv_transpose2d(y, w)⟩ for matching hyper-parameters."""
    x, w, _, hp = case
    y_out = F.conv2d(mg.tensor(x, dtype="float64"), mg.tensor(w, dtype="float64"), **hp)
    y = np.random.default_rng(1).standard_normal(y_out.shape)
    # output_padding restores the rows a strided conv2d dropped, so the shapes match
    opad = tuple((i + 2 * p - d * (k - 1) - 1) % s for i, p, d, k, s in
                 zip(x.shape[2:], hp["padding"], hp["dilation"], w.shape[2:], hp["stride"]))
    assume(all(o < max(s, d) for o, s, d in zip(opad, hp["stride"], hp["dilation"])))
    x_back = F.conv_transpose2d(mg.tensor(y, dtype="float64"), mg.tensor(w, dtype="float64"),
                                output_padding=opad, **hp)
    assert x_back.shape == x.shape
    lhs = float((y_out.numpy() * y).sum())
    rhs = float((x * x_back.numpy()).sum())
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


# ---------------------------------------------------------------- padding="same" and errors
@pytest.mark.exercise_im2col
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 2), st.integers(3, 7))
def test_padding_same_keeps_the_size(kh, kw, dilation, size):
    x = np.random.default_rng(2).standard_normal((1, 2, size, size + 1))
    w = np.random.default_rng(3).standard_normal((3, 2, kh, kw))
    out = F.conv2d(mg.tensor(x, dtype="float64"), mg.tensor(w, dtype="float64"), padding="same",
                   dilation=dilation)
    assert out.shape == (1, 3, size, size + 1)
    # Same result as explicit padding with the extra row/column at the bottom/right.
    th, tw = dilation * (kh - 1), dilation * (kw - 1)
    padded = np.pad(x, ((0, 0), (0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
    expected = loop_conv2d(padded, w, None, (1, 1), (0, 0), (dilation, dilation), 1)
    assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-10)


def test_conv_errors_name_the_op_and_shapes():
    x, w = mg.randn(2, 3, 8, 8), mg.randn(4, 3, 3, 3)
    with pytest.raises(ValueError, match=r"conv2d: expected a 4-D input.*\(3, 8, 8\)"):
        F.conv2d(mg.randn(3, 8, 8), w)
    with pytest.raises(ValueError, match=r"conv2d: input \(2, 5, 8, 8\) has 5 channels"):
        F.conv2d(mg.randn(2, 5, 8, 8), w)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv2d(mg.randn(2, 3, 2, 2), w)
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        F.conv2d(x, w, mg.randn(3))
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match="stride must be an int or a pair"):
        F.conv2d(x, w, stride=(1, 2, 3))
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(x, mg.randn(3, 4, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"conv_transpose2d: input \(2, 3, 8, 8\) has 3 channels"):
        F.conv_transpose2d(x, mg.randn(4, 3, 3, 3))
    with pytest.raises(TypeError, match="floating point"):
        F.conv2d(mg.tensor(np.ones((1, 3, 4, 4), dtype=np.int64)), w)


@pytest.mark.parametrize("k, stride, dilation, size", [(3, 2, 1, 28), (5, 2, 1, 9), (3, 3, 2, 10),
                                                       (1, 2, 1, 7)])
def test_strided_same_padding_is_refused_naming_the_padding_that_works(k, stride, dilation, size):
    x, w = mg.randn(1, 1, size, size), mg.randn(2, 1, k, k)
    with pytest.raises(ValueError, match="padding='same' needs stride 1") as error:
        F.conv2d(x, w, stride=stride, padding="same", dilation=dilation)
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        nn.Conv2d(1, 2, k, stride=stride, padding="same", dilation=dilation)   # at construction
    suggested = ast.literal_eval(re.search(r"use padding=(\(\d+, \d+\))", str(error.value))[1])
    out = F.conv2d(x, w, stride=stride, padding=suggested, dilation=dilation)
    assert out.shape[2:] == (-(-size // stride),) * 2                          # ⌈H/s⌉ (odd k)


def test_valid_padding_is_no_padding():
    x, w = mg.randn(2, 3, 8, 7), mg.randn(4, 3, 3, 2)
    np.testing.assert_array_equal(F.conv2d(x, w, padding="valid").numpy(),
                                  F.conv2d(x, w, padding=0).numpy())
    layer = nn.Conv2d(3, 4, (3, 2), stride=2, padding="valid")             # any stride
    assert layer(x).shape == (2, 4, 3, 3)
    with pytest.raises(ValueError, match="'valid' or 'same', got 'full'"):
        nn.Conv2d(3, 4, 3, padding="full")
    with pytest.raises(ValueError, match="'valid' or 'same', got 'full'"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match="padding='valid' works with padding_mode='zeros' only"):
        nn.Conv2d(3, 4, 3, padding="valid", padding_mode="reflect")
