"""The array backend: only backend.py may import NumPy/CuPy, choosing a backend, devices,
and (on a machine with a GPU) the core ops on CuPy against NumPy closed forms."""
import ast
import pathlib
import sys
import types

import numpy as np
import pytest

import minigen
from minigen import backend

PACKAGE = pathlib.Path(minigen.__file__).parent
ARRAY_MODULES = {"numpy", "cupy", "cupyx"}


# ---------------------------------------------------------------- only backend.py imports NumPy
def array_module_imports(source):
    """Line numbers of every import of numpy, cupy or cupyx in ``source`` (at any depth,
    also ``__import__("numpy")`` and ``importlib.import_module("cupy")``)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module] if node.level == 0 and node.module else []
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and getattr(node.func, "id", getattr(node.func, "attr", None))
              in ("__import__", "import_module")):
            names = [node.args[0].value]
        else:
            continue
        if any(name.split(".")[0] in ARRAY_MODULES for name in names):
            lines.append(node.lineno)
    return sorted(lines)


def test_the_import_finder_finds_imports():
    source = "\n".join([
        "import os",
        "import numpy as np",                       # 2
        "from numpy.linalg import norm",            # 3
        "def f():",
        "    import cupy",                          # 5
        "    from cupyx import scatter_add",        # 6
        "import numpyish, hypothesis.extra.numpy",  # not NumPy itself
        "from . import numpy",                      # minigen's own module, if it had one
        "m = __import__('numpy')",                  # 9
        "import os.path, cupy.cuda",                # 10
    ])
    assert array_module_imports(source) == [2, 3, 5, 6, 9, 10]


def test_only_backend_imports_numpy_or_cupy():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "backend.py":
            continue
        lines = array_module_imports(path.read_text(encoding="utf-8"))
        if lines:
            offenders.append(f"{path.relative_to(PACKAGE.parent)} (lines {lines})")
    assert not offenders, ("only minigen/backend.py may import numpy/cupy; use "
                           "backend.xp / backend.np instead in: " + ", ".join(offenders))


def test_backend_itself_is_found_importing_numpy():
    """The scan above really reads the package: backend.py is where NumPy comes in."""
    assert array_module_imports((PACKAGE / "backend.py").read_text(encoding="utf-8"))
    assert len(list(PACKAGE.rglob("*.py"))) > 10


# ---------------------------------------------------------------- choosing a backend
@pytest.fixture
def forget_cupy(monkeypatch):
    """Make minigen import CuPy afresh; monkeypatch restores _cupy and sys.modules after."""
    monkeypatch.setattr(backend, "_cupy", None)
    return monkeypatch


def fake_cupy(device_count):
    """A stand-in 'cupy' module whose getDeviceCount returns ``device_count`` or raises it."""
    def get_device_count():
        if isinstance(device_count, Exception):
            raise device_count
        return device_count

    module = types.ModuleType("cupy")
    module.ndarray = type("ndarray", (), {})
    module.cuda = types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceCount=get_device_count))
    return module


def test_use_cupy_without_cupy_installed(forget_cupy):
    forget_cupy.setitem(sys.modules, "cupy", None)   # `import cupy` now raises ImportError
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        minigen.use("cupy")
    assert backend.xp is np
    assert backend.gpu_available() is False


@pytest.mark.parametrize("device_count", [0, RuntimeError("cudaErrorNoDevice")],
                         ids=["zero_devices", "driver_error"])
def test_use_cupy_with_cupy_but_no_device(forget_cupy, device_count):
    forget_cupy.setitem(sys.modules, "cupy", fake_cupy(device_count))
    with pytest.raises(RuntimeError, match="no CUDA device is usable"):
        minigen.use("cupy")
    assert backend.xp is np
    assert backend._cupy is None


def test_use_cupy_with_a_device_selects_it(forget_cupy):
    fake = fake_cupy(1)
    forget_cupy.setitem(sys.modules, "cupy", fake)
    minigen.use("cupy")
    assert backend.xp is fake
    minigen.use("numpy")
    assert backend.xp is np


def test_unknown_backend():
    with pytest.raises(ValueError, match="tpu"):
        minigen.use("tpu")


def test_to_cpu_is_a_no_op_and_numpy_gives_an_ndarray():
    t = minigen.tensor([1.0, 2.0], requires_grad=True)
    assert t.to("cpu") is t and t.cpu() is t
    assert t.device == "cpu"
    assert type(t.numpy()) is np.ndarray
    assert type((t * 2).sum().numpy()) is np.ndarray
    with pytest.raises(ValueError, match="tpu"):
        t.to("tpu")


class OtherDeviceArray(np.ndarray):
    """A NumPy array that plays a CuPy array: backend.array_module reports another module."""


@pytest.fixture
def fake_gpu_tensor(monkeypatch):
    """A tensor whose array reports a second array module, as a CuPy array would."""
    other_module = types.SimpleNamespace(__name__="othermodule")
    real_array_module = backend.array_module
    monkeypatch.setattr(backend, "array_module", lambda array: (
        other_module if isinstance(array, OtherDeviceArray) else real_array_module(array)))
    return minigen.Tensor(np.ones((2, 2), dtype=np.float32).view(OtherDeviceArray))


def test_mixing_devices_names_the_op_and_the_devices(fake_gpu_tensor):
    cpu_tensor = minigen.ones(2, 2)
    assert fake_gpu_tensor.device == "gpu" and cpu_tensor.device == "cpu"
    with pytest.raises(RuntimeError) as err:
        cpu_tensor + fake_gpu_tensor
    message = str(err.value)
    assert message.startswith("Add:")
    assert "input 0 on cpu" in message and "input 1 on gpu" in message
    with pytest.raises(RuntimeError) as err:
        fake_gpu_tensor @ cpu_tensor
    message = str(err.value)
    assert message.startswith("MatMul:")
    assert "input 0 on gpu" in message and "input 1 on cpu" in message


# ---------------------------------------------------------------- core ops on each device
RNG = np.random.default_rng(0)
P, Q, M = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))
ROW = RNG.standard_normal(4)
INDEX = [0, 2, 0]


def sigmoid_np(x):
    return 1 / (1 + np.exp(-x))


def softmax_np(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def scatter_np(w):
    out = np.zeros_like(P)
    np.add.at(out, INDEX, w)
    return out


# name: (minigen function, input arrays, expected output, expected input grads given
#        the upstream gradient w), all in NumPy closed form
CORE_OPS = {
    "add": (lambda a, b: a + b, [P, Q], P + Q, lambda w: [w, w]),
    "add_broadcast": (lambda a, r: a + r, [P, ROW], P + ROW, lambda w: [w, w.sum(axis=0)]),
    "mul": (lambda a, b: a * b, [P, Q], P * Q, lambda w: [w * Q, w * P]),
    "matmul": (lambda a, b: a @ b, [P, M], P @ M, lambda w: [w @ M.T, P.T @ w]),
    "exp": (minigen.exp, [P], np.exp(P), lambda w: [w * np.exp(P)]),
    "sum": (lambda a: a.sum(axis=1), [P], P.sum(axis=1),
            lambda w: [np.broadcast_to(w[:, None], P.shape)]),
    "logsumexp": (lambda a: a.logsumexp(axis=1), [P], np.log(np.exp(P).sum(axis=1)),
                  lambda w: [w[:, None] * softmax_np(P)]),
    "getitem": (lambda a: a[INDEX], [P], P[INDEX], lambda w: [scatter_np(w)]),
    "relu": (minigen.relu, [P], np.maximum(P, 0), lambda w: [w * (P > 0)]),
    "sigmoid": (minigen.sigmoid, [P], sigmoid_np(P),
                lambda w: [w * sigmoid_np(P) * (1 - sigmoid_np(P))]),
}


@pytest.mark.parametrize("device", ["cpu", pytest.param("gpu", marks=pytest.mark.gpu)])
@pytest.mark.parametrize("name", sorted(CORE_OPS))
def test_core_op_forward_and_backward(name, device):
    """The same checks on NumPy and (where a GPU is usable) on CuPy."""
    fn, arrays, expected_out, expected_grads = CORE_OPS[name]
    minigen.use("cupy" if device == "gpu" else "numpy")
    inputs = [minigen.tensor(a, dtype="float64").to(device).requires_grad_() for a in arrays]
    out = fn(*inputs)
    assert out.device == device
    np.testing.assert_allclose(out.numpy(), expected_out, rtol=1e-9, atol=1e-12)

    w = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(minigen.tensor(w, dtype="float64").to(device))
    for x, expected in zip(inputs, expected_grads(w)):
        assert x.grad.device == device and x.grad.shape == x.shape
        np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.gpu
def test_moving_between_cpu_and_gpu():
    minigen.use("cupy")
    x = minigen.tensor([1.0, 2.0], requires_grad=True)
    assert x.device == "gpu"
    back = x.to("cpu")
    assert back.device == "cpu" and back.requires_grad and type(back.data) is np.ndarray
    assert back.tolist() == [1.0, 2.0]
    assert back.to("gpu").device == "gpu"


@pytest.mark.gpu
def test_mixing_a_real_cpu_and_gpu_tensor_is_an_error():
    cpu_tensor = minigen.ones(2)
    gpu_tensor = minigen.ones(2).to("gpu")
    with pytest.raises(RuntimeError, match="input 0 on cpu, input 1 on gpu"):
        cpu_tensor * gpu_tensor
