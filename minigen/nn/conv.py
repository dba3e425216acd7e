"""Convolution layers: ``Conv2d`` and ``ConvTranspose2d`` (PyTorch's arguments and init)."""
from __future__ import annotations

from typing import Any

from minigen import backend, checks
from minigen.nn import init
from minigen.nn.module import Module
from minigen.nn.parameter import Parameter
from minigen.ops import conv2d, conv_transpose2d, pad
from minigen.ops.conv import named_padding
from minigen.ops.windows import pair
from minigen.tensor import Tensor

_PADDING_MODES = ("zeros", "reflect", "replicate")


def _check_channels(name: str, in_channels: int, out_channels: int, groups: int) -> None:
    for what, value in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
        checks.positive_int(name, what, value)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                         f"must be divisible by groups ({groups})")


def _kernel_size(name: str, kernel_size: Any) -> tuple[int, int]:
    """The (k_h, k_w) of an int or a pair, each at least 1 (a 0x0 kernel computes nothing)."""
    kh, kw = pair(kernel_size, f"{name}: kernel_size")
    if kh < 1 or kw < 1:
        raise ValueError(f"{name}: kernel_size must be positive, got {(kh, kw)}")
    return kh, kw


def _make_parameters(layer: Module, weight_shape: tuple[int, ...], out_channels: int,
                     bias: bool) -> None:
    """``layer.weight`` and ``layer.bias`` (or None), with PyTorch's default init."""
    dtype = backend.get_default_dtype()
    layer.weight = Parameter(backend.xp.empty(weight_shape, dtype=dtype))
    if bias:
        layer.bias = Parameter(backend.xp.empty((out_channels,), dtype=dtype))
    else:
        layer.register_parameter("bias", None)
    init.default_layer_init_(layer.weight, layer.bias)


class Conv2d(Module):
    """y = conv2d(x, W) + b  (see ``minigen.functional.conv2d`` for the formula).

    Shapes: x (N, C_in, H, W) -> y (N, C_out, H_out, W_out); W (C_out, C_in/groups, kH, kW),
    b (C_out,). ``padding_mode`` "reflect" or "replicate" pads by copying border pixels
    instead of zeros (CycleGAN's generator uses reflection to avoid dark borders).
    Initialization as PyTorch: W, b ~ U(±1/√fan_in) with fan_in = C_in/groups·kH·kW.

    >>> import minigen
    >>> from minigen import nn
    >>> nn.Conv2d(1, 32, 3, stride=2, padding=1)(minigen.zeros(8, 1, 28, 28)).shape
    (8, 32, 14, 14)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros") -> None:
        super().__init__()
        _check_channels("Conv2d", in_channels, out_channels, groups)
        checks.one_of("Conv2d", "padding_mode", padding_mode, _PADDING_MODES)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _kernel_size("Conv2d", kernel_size)
        self.stride, self.dilation = pair(stride, "Conv2d: stride"), pair(dilation, "Conv2d: dilation")
        if isinstance(padding, str):          # "valid" or "same": checked now, as PyTorch
            if padding_mode != "zeros":
                raise ValueError(f"Conv2d: padding={padding!r} works with padding_mode='zeros' "
                                 "only")
            named_padding("Conv2d", padding, self.kernel_size, self.stride, self.dilation)
            self.padding = padding
        else:
            self.padding = pair(padding, "Conv2d: padding")
        self.padding_mode = padding_mode
        _make_parameters(self, (out_channels, in_channels // groups) + self.kernel_size,
                         out_channels, bias)

    def forward(self, x: Any) -> Tensor:
        if self.padding_mode != "zeros":
            ph, pw = self.padding
            x = pad(x, (pw, pw, ph, ph), mode=self.padding_mode)  # (left, right, top, bottom)
            return conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode!r}"
        return text


class ConvTranspose2d(Module):
    """y = conv_transpose2d(x, W) + b: the adjoint of a convolution, used to upsample.

    Shapes: x (N, C_in, H, W) -> y (N, C_out, H_out, W_out) with
    H_out = (H - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1;
    W (C_in, C_out/groups, kH, kW) (PyTorch's layout), b (C_out,).

    >>> import minigen
    >>> from minigen import nn
    >>> up = nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1)
    >>> up(minigen.zeros(8, 64, 7, 7)).shape
    (8, 32, 14, 14)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1) -> None:
        super().__init__()
        _check_channels("ConvTranspose2d", in_channels, out_channels, groups)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _kernel_size("ConvTranspose2d", kernel_size)
        self.stride = pair(stride, "ConvTranspose2d: stride")
        self.padding = pair(padding, "ConvTranspose2d: padding")
        self.output_padding = pair(output_padding, "ConvTranspose2d: output_padding")
        self.dilation = pair(dilation, "ConvTranspose2d: dilation")
        _make_parameters(self, (in_channels, out_channels // groups) + self.kernel_size,
                         out_channels, bias)

    def forward(self, x: Any) -> Tensor:
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self.output_padding, self.groups, self.dilation)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")
        if self.output_padding != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.bias is None:
            text += ", bias=False"
        return text
