"""kn2row: stride-1 convolutions with few output channels, without an im2col matrix.

im2col copies the *input* k_h·k_w times: its matrix has C·k_h·k_w rows. For a layer like
a decoder's last one (32 -> 1 channels, N=64, 28x28) that is a 58 MB buffer to fill, multiply
and add back, for an output of 200 KB. kn2row copies the *small* side instead, the O
output channels, k_h·k_w times (for O=1: 32x less memory).

Everything lives on the grid of the zero-padded input, flattened: position g = r·W_p + s
of an (H_p, W_p) image. Kernel tap t = (i, j) is the shift off_t = i·d_h·W_p + j·d_w, and
an output-shaped y (N, O, H_out, W_out) sits in the top-left corner of that grid, so

    conv2d:          y[o, g]       = Σ_{c,t} w[o,c,t] · x[c, g + off_t]
    conv_transpose:  x[c, g]       = Σ_{o,t} w[o,c,t] · y[o, g - off_t]
    weight gradient: w[o, c, t]    = Σ_g y[o, g - off_t] · x[c, g]        (summed over images)

Writing ys[(o, t), g] = y[o, g - off_t] (the O channels of y, shifted once per tap),
the last two are plain matrix products with the inner size O·k_h·k_w:

    x = wᵀ (C, O·k_h·k_w) @ ys,        w = ys @ xᵀ

and conv2d multiplies first and shifts afterwards: z[(t, o), g] = Σ_c w[o,c,t] · x[c, g],
then y[o, g] = Σ_t z[(t, o), g + off_t] (k_h·k_w shifted adds of O-channel maps).

A shift never wraps into a wrong row: for an output position (p < H_out, q < W_out), the
tap lands at row p + i·d_h < H_p and column q + j·d_w < W_p; every other grid position of
y is zero. Only stride 1 qualifies (with stride s only one grid position in s² holds an
output, and the products would waste the rest), and only groups=1, to keep it short.
"""
from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.ops.windows import pad_zeros


def use_kn2row(out_channels: int, in_channels: int, stride: tuple[int, int], groups: int,
               ratio: int = 2) -> bool:
    """Is kn2row the faster algorithm? For stride 1 and groups=1, with at most 1/ratio as
    many output as input channels. Its buffers have O·k_h·k_w rows where im2col's have
    C·k_h·k_w; the products cost the same, so it must be clearly smaller to win (the
    extra shifted adds cost more than they save at equal channel counts, see
    benchmarks/README.md). ``ConvTranspose2d`` asks with ratio 1 for large maps.
    """
    return tuple(stride) == (1, 1) and groups == 1 and ratio * out_channels <= in_channels


def _offsets(kernel: tuple[int, int], dilation: tuple[int, int], grid_width: int) -> list[int]:
    """The flat shift of each kernel tap t = i·k_w + j on a grid with rows of ``grid_width``."""
    return [i * dilation[0] * grid_width + j * dilation[1]
            for i in range(kernel[0]) for j in range(kernel[1])]


def _shifted(y: Any, grid_hw: tuple[int, int], offsets: list[int]) -> Any:
    """ys (N, O·T, H_p·W_p) with ys[n, (o, t), g] = y[n, o, g - off_t], zero where g < off_t."""
    xp = backend.array_module(y)
    n, o, ho, wo = y.shape
    m = grid_hw[0] * grid_hw[1]
    grid = xp.zeros((n, o) + tuple(grid_hw), dtype=y.dtype)
    grid[:, :, :ho, :wo] = y
    grid = grid.reshape(n, o, m)
    ys = xp.empty((n, o, len(offsets), m), dtype=y.dtype)  # each element written once:
    for t, off in enumerate(offsets):                      # a shifted copy, zeros before it
        ys[:, :, t, :off] = 0
        ys[:, :, t, off:] = grid[:, :, :m - off]
    return ys.reshape(n, o * len(offsets), m)


def kn2row_conv(x: Any, w: Any, padding: tuple[int, int, int, int], dilation: tuple[int, int],
                out_hw: tuple[int, int]) -> Any:
    """conv2d, stride 1: x (N, C, H, W), w (O, C, k_h, k_w) -> y (N, O, *out_hw)."""
    xp = backend.array_module(x)
    x_pad = pad_zeros(x, padding)
    n, c, hp, wp = x_pad.shape
    o, _, kh, kw = w.shape
    m = hp * wp
    taps = w.transpose(2, 3, 0, 1).reshape(kh * kw * o, c)  # row (t, o)
    z = xp.matmul(taps, x_pad.reshape(n, c, m)).reshape(n, kh * kw, o, m)
    y = xp.zeros((n, o, m), dtype=z.dtype)
    for t, off in enumerate(_offsets((kh, kw), dilation, wp)):
        y[:, :, :m - off] += z[:, t, :, off:]
    return xp.ascontiguousarray(y.reshape(n, o, hp, wp)[:, :, :out_hw[0], :out_hw[1]])


def kn2row_transpose(y: Any, w: Any, padding: tuple[int, int, int, int],
                     dilation: tuple[int, int], out_hw: tuple[int, int]) -> Any:
    """conv_transpose, stride 1: y (N, O, H_y, W_y), w (O, C, k_h, k_w) -> x (N, C, *out_hw)."""
    xp = backend.array_module(y)
    top, bottom, left, right = padding
    hp, wp = out_hw[0] + top + bottom, out_hw[1] + left + right
    o, c, kh, kw = w.shape
    ys = _shifted(y, (hp, wp), _offsets((kh, kw), dilation, wp))  # (N, O·T, M)
    w_t = w.reshape(o, c, kh * kw).transpose(1, 0, 2).reshape(c, o * kh * kw)  # column (o, t)
    x = xp.matmul(w_t, ys).reshape(y.shape[0], c, hp, wp)
    return x[:, :, top:top + out_hw[0], left:left + out_hw[1]]


def kn2row_weight(x: Any, y: Any, padding: tuple[int, int, int, int], dilation: tuple[int, int],
                  kernel: tuple[int, int]) -> Any:
    """The weight gradient, stride 1: x (N, C, H, W), y (N, O, H_out, W_out) -> (O, C, k_h, k_w)."""
    xp = backend.array_module(x)
    x_pad = pad_zeros(x, padding)
    n, c, hp, wp = x_pad.shape
    o = y.shape[1]
    ys = _shifted(y, (hp, wp), _offsets(kernel, dilation, wp))  # (N, O·T, M)
    # One small product per image, (O·T, M) @ (M, C), then the sum over the batch.
    w = xp.matmul(ys, x_pad.reshape(n, c, hp * wp).transpose(0, 2, 1)).sum(axis=0)
    return xp.ascontiguousarray(w.reshape(o, kernel[0], kernel[1], c).transpose(0, 3, 1, 2))
