"""``minigen.functional`` (imported as ``F``): the ops layers are built from, PyTorch's names.

>>> import minigen
>>> import minigen.functional as F
>>> F.relu(minigen.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""
from minigen.functional.losses import (binary_cross_entropy, binary_cross_entropy_with_logits,
                                       cross_entropy, kl_div, l1_loss, mse_loss, nll_loss)
from minigen.ops import conv2d, conv_transpose2d  # noqa: F401
from minigen.ops import (leaky_relu, log_softmax, logsumexp, one_hot, relu, sigmoid, softmax,
                         softplus, tanh)
from minigen.ops import (avg_pool2d, batch_norm, dropout, embedding, instance_norm, interpolate,
                         max_pool2d, pad)
from minigen.ops import gelu, group_norm, linear, scaled_dot_product_attention, silu

__all__ = ["conv2d", "conv_transpose2d", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy",
           "l1_loss", "mse_loss", "leaky_relu", "log_softmax", "logsumexp", "one_hot", "relu",
           "sigmoid", "softmax", "softplus", "tanh"]
__all__ += ["avg_pool2d", "batch_norm", "dropout", "embedding", "instance_norm", "interpolate",
            "max_pool2d", "pad"]
__all__ += ["gelu", "group_norm", "kl_div", "linear", "nll_loss", "scaled_dot_product_attention",
            "silu"]
