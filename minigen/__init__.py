"""minigen: a from-scratch NumPy/CuPy deep-learning framework for teaching generative models.

>>> import minigen
>>> x = minigen.tensor([1.0, 2.0], requires_grad=True)
>>> (x ** 2).sum().backward()
>>> x.grad.tolist()
[2.0, 4.0]
"""
# Tensor first: its module pulls in the engine and the ops, which are built on it.
from minigen.tensor import Tensor  # isort: skip
from minigen import backend
from minigen.anomaly import AnomalyError, detect_anomaly
from minigen.autograd import grad
from minigen.backend import default_dtype, get_default_dtype, set_default_dtype, use
from minigen.creation import (arange, full, full_like, linspace, manual_seed, ones, ones_like, rand,
                              rand_like, randint, randn, randn_like, tensor, zeros, zeros_like)
from minigen.devices import device
from minigen import cuda  # minigen.cuda.is_available(); importing it loads nothing
from minigen.function import Context, Function
from minigen.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigen.gradient_check import GradcheckError, gradcheck, gradgradcheck
from minigen.ops import (abs, amax, amin, argmax, argmin, atanh, broadcast_to, cast, cat, chunk,
                         clamp, clip, concat, detach, div, eq, erf, exp, flatten, ge, gt, le,
                         leaky_relu, log, log1p, log_softmax, logical_and, logical_not,
                         logical_or, logical_xor, logsumexp, lt, matmul, max, maximum, mean, min,
                         minimum,
                         mul, ne, neg, one_hot, permute, pow, prod, relu, reshape, sigmoid,
                         softmax, softplus, split, sqrt, squeeze, stack, std, stop_gradient, sub,
                         sum, sum_to, tanh, transpose, unsqueeze, var, where)
from minigen import return_types  # noqa: F401 — the (values, indices) of max/min along a dim
from minigen.ops import add, getitem  # noqa: F401
from minigen.ops.fast import reference_kernels, reference_kernels_enabled, use_reference_kernels
from minigen.serialization import load, save
from minigen import nn, optim  # minigen.nn.Linear, minigen.optim.Adam, as in PyTorch
from minigen import memory  # noqa: F401 — minigen.memory.tune_allocator(), for training

__version__ = "0.1.0"
