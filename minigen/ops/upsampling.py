"""Upsampling: ``F.interpolate`` of (N, C, H, W) images by integer factors, mode "nearest".

Nearest-neighbour upsampling by (s_h, s_w) turns every pixel into an s_h×s_w block of
copies of itself, the first step of many decoders and GAN generators (followed by a
convolution, it avoids the checkerboard artifacts of transposed convolutions).
"""
from __future__ import annotations

from typing import Any

from minigen.function import Context, Function
from minigen.ops.arguments import as_tensor
from minigen.ops.shape import reshape
from minigen.tensor import Tensor

Pair = tuple[int, int]

# PyTorch's other modes: known names, not implemented here.
_OTHER_MODES = ("linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")


class UpsampleNearest2d(Function):
    """y[n, c, h·s_h + a, w·s_w + b] = x[n, c, h, w] for a < s_h, b < s_w  (y: N, C, H·s_h, W·s_w);
    ∂L/∂x[n, c, h, w] = Σ over its s_h×s_w block of ∂L/∂y: the block's sum.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, scale: Pair) -> Any:
        ctx.scale = scale
        n, c, h, w = x.shape
        sh, sw = scale
        blocks = ctx.xp.broadcast_to(x.reshape(n, c, h, 1, w, 1), (n, c, h, sh, w, sw))
        return blocks.reshape(n, c, h * sh, w * sw)            # one copy

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        n, c, h, w = ctx.inputs[0].shape
        sh, sw = ctx.scale
        blocks = reshape(grad, (n, c, h, sh, w, sw))           # axes 3 and 5 run within a block
        # The block's sum, one offset (a, b) at a time: s_h + s_w slices and adds. (NumPy's
        # sum over the two short axes, sum(blocks, axis=(3, 5)), is ten times slower.)
        rows = blocks[:, :, :, 0]                              # (N, C, H, W, s_w)
        for a in range(1, sh):
            rows = rows + blocks[:, :, :, a]
        total = rows[..., 0]                                   # (N, C, H, W)
        for b in range(1, sw):
            total = total + rows[..., b]
        return total


def interpolate(input: Any, size: Any = None, scale_factor: Any = None,  # noqa: A002
                mode: str = "nearest") -> Tensor:
    """Upsample ``input`` (N, C, H, W) by whole factors, as ``torch.nn.functional.interpolate``.

    Give either ``scale_factor`` (an int, or a (height, width) pair of ints) or the output
    ``size`` (an int or a pair, whole multiples of H and W). Only ``mode="nearest"`` is
    implemented. Note PyTorch's order: the second positional argument is ``size``.

    >>> import minigen
    >>> x = minigen.tensor([[[[1.0, 2.0]]]])
    >>> interpolate(x, scale_factor=2).tolist()
    [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
    """
    x = as_tensor(input)
    if mode != "nearest":
        if mode in _OTHER_MODES:
            raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented; "
                                      "only mode='nearest' with integer scale factors is")
        raise ValueError(f"interpolate: unknown mode {mode!r}; only 'nearest' is implemented")
    if x.ndim != 4:
        raise ValueError(f"interpolate: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    h, w = x.shape[2:]
    if scale_factor is not None:
        scale = tuple(_whole(f, "scale_factor") for f in _two(scale_factor, "scale_factor"))
    else:
        out = tuple(_whole(s, "size") for s in _two(size, "size"))
        if h == 0 or w == 0 or out[0] % h or out[1] % w:
            raise NotImplementedError(f"interpolate: size {out} is not a whole multiple of the "
                                      f"input size {(h, w)}; only integer scale factors are "
                                      "implemented")
        scale = (out[0] // h, out[1] // w)
    if min(scale) < 1:
        raise ValueError(f"interpolate: scale factors must be at least 1, got {scale}")
    if scale == (1, 1):
        return x
    return UpsampleNearest2d.apply(x, scale=scale)


def _two(value: Any, name: str) -> tuple[Any, Any]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"interpolate: {name} needs one value per spatial axis (2), "
                             f"got {value!r}")
        return value[0], value[1]
    return value, value


def _whole(value: Any, name: str) -> int:
    """An int, or a float with a whole value (2.0); anything else is not implemented."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"interpolate: {name} must be an int or a pair of ints, got {value!r}")
    if not float(value).is_integer():
        raise NotImplementedError(f"interpolate: {name} {value} is not a whole number; only "
                                  "integer scale factors are implemented")
    return int(value)
