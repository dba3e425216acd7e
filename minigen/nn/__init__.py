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
from minigen.nn.activation import GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Tanh
from minigen.nn.containers import ModuleList, Sequential
from minigen.nn.conv import Conv2d, ConvTranspose2d
from minigen.nn.dropout import Dropout
from minigen.nn.embedding import Embedding
from minigen.nn.linear import Identity, Linear
from minigen.nn.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, KLDivLoss, L1Loss, MSELoss,
                             NLLLoss)
from minigen.nn.masked_conv import MaskedConv2d
from minigen.nn.module import LoadResult, Module
from minigen.nn.normalization import BatchNorm2d, GroupNorm, InstanceNorm2d
from minigen.nn.parameter import Parameter
from minigen.nn.pooling import AvgPool2d, MaxPool2d
from minigen.nn.residual import ResidualBlock
from minigen.nn.shape import Flatten, Unflatten
from minigen.nn.upsampling import Upsample

__all__ = ["init", "Module", "Parameter", "LoadResult", "Sequential", "ModuleList", "Linear",
           "Identity", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Flatten", "Unflatten", "Conv2d",
           "ConvTranspose2d", "BatchNorm2d", "InstanceNorm2d", "Dropout", "Embedding", "Upsample",
           "ResidualBlock", "MaxPool2d", "AvgPool2d", "MaskedConv2d", "SiLU", "GELU", "GroupNorm",
           "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
           "KLDivLoss"]
