"""``minigen.nn``: modules (layers and models), parameters and weight initialization.

PyTorch's names: ``nn.Module``, ``nn.Parameter``, ``nn.Sequential``, ``nn.Linear``,
``nn.ReLU``, ..., and ``nn.init.normal_``.

>>> import minigen
>>> from minigen import nn
>>> minigen.manual_seed(0)
>>> model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
>>> model(minigen.randn(64, 2)).shape
(64, 1)
"""
from minigen.nn import init
from minigen.nn.activation import LeakyReLU, ReLU, Sigmoid, Tanh
from minigen.nn.containers import ModuleList, Sequential
from minigen.nn.linear import Identity, Linear
from minigen.nn.module import LoadResult, Module
from minigen.nn.parameter import Parameter
from minigen.nn.shape import Flatten, Unflatten

__all__ = ["init", "Module", "Parameter", "LoadResult", "Sequential", "ModuleList", "Linear",
           "Identity", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Flatten", "Unflatten"]
