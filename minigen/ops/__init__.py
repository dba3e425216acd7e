"""Every differentiable op of minigen, each a ``Function`` or a composition of them.

The files group them by kind: elementwise arithmetic, activations, reductions, shape
ops, indexing and matrix products. ``minigen.functional`` re-exports what layers need.
"""
from minigen.ops.activations import (LeakyReLU, ReLU, Sigmoid, SiLU, Softplus, Tanh, gelu,
                                     leaky_relu, relu, sigmoid, silu, softplus, tanh)
from minigen.ops.attention import scaled_dot_product_attention
from minigen.ops.conv import (Conv2d, Conv2dWeight, ConvTranspose2d, conv2d,
                              conv_transpose2d)
from minigen.ops.elementwise import (Abs, Add, Atanh, Cast, Clip, Div, Erf, Exp, Log, Log1p,
                                     Maximum, Minimum, Mul, Neg, Pow, Sqrt, Sub, Where, abs, add,
                                     atanh, cast, clamp, clip, compare, div, eq, erf, exp, ge, gt,
                                     le, log, log1p, logical, logical_and, logical_not,
                                     logical_or, logical_xor, lt, maximum, minimum, mul, ne, neg,
                                     pow, sqrt, sub, where)
from minigen.ops.indexing import GetItem, ScatterAdd, getitem, one_hot
from minigen.ops.linalg import MatMul, linear, matmul
from minigen.ops.reductions import (BroadcastTo, LogSumExp, Max, Min, Prod, Sum, amax, amin, argmax,
                                    argmin, broadcast_to, expand, log_softmax, logsumexp, max, mean,
                                    min, prod, softmax, std, sum, sum_to, var)
from minigen.ops.shape import (Concat, Reshape, Transpose, cat, chunk, concat, flatten, permute,
                               reshape, split, squeeze, stack, transpose, unsqueeze)
from minigen.ops.regularization import Dropout, dropout
from minigen.ops.embeddings import embedding
from minigen.ops.normalization import (Standardize, batch_norm, group_norm, instance_norm,
                                       standardize)
from minigen.ops.padding import Pad, PadBackward, pad
from minigen.ops.pooling import (AvgPool2d, AvgPool2dBackward, MaxPool2d, MaxPool2dBackward,
                                 avg_pool2d, max_pool2d)
from minigen.ops.upsampling import UpsampleNearest2d, interpolate


def detach(x):  # type: ignore[no-untyped-def]
    """The value of ``x`` cut from the graph: no gradient flows back through it."""
    return x.detach()


stop_gradient = detach  # the ``sg[·]`` of the VQ-VAE paper

__all__ = [name for name in dir() if not name.startswith("_")]
