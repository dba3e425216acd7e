"""Pooling: summarize every k_h×k_w window of an (N, C, H, W) image by its max or mean.

Windows slide with a ``stride`` (the kernel size by default, so they tile the image) over
the image padded by ``padding`` on each side (max pooling pads with -∞, which never
wins; average pooling with 0, which counts in the mean, as PyTorch's default
``count_include_pad=True``). Output (p, q) summarizes the padded pixels

    (p·s_h + i, q·s_w + j)   for i < k_h, j < k_w,

and the output has ⌊(H + 2·padding - k) / s⌋ + 1 rows (likewise columns). The windows
are a strided view of the image (``sliding_windows``, no loop over pixels).

Backward: a max passes its gradient to the element that won its window; a mean shares
its gradient equally among the k_h·k_w elements of its window. Where windows overlap
(stride < kernel), an element collects gradient from every window it belongs to.
"""
from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.function import Context, Function
from minigen.ops.arguments import as_tensor
from minigen.ops.fast import fast_kernels
from minigen.ops.fast import pooling as fast_pooling
from minigen.ops.indexing import getitem
from minigen.ops.padding import pad
from minigen.ops.windows import add_windows, output_size, pair, sliding_windows
from minigen.tensor import Tensor

Pair = tuple[int, int]


def _pad_spatial(x: Any, padding: Pair, value: float) -> Any:
    """x (N, C, H, W) with ``padding`` rows above and below and columns left and right."""
    (ph, pw) = padding
    if ph == 0 and pw == 0:
        return x
    xp = backend.array_module(x)
    return xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _first_max(taps: Any, xp: Any) -> tuple[Any, Any]:
    """The elementwise maximum over the first axis of ``taps`` (T, ...) and which tap won.

    A running maximum: tap j takes over only if it is *strictly* larger than the best so
    far, so on a tie the first maximum wins (as in PyTorch). A NaN wins and is not hidden:
    ``maximum`` propagates it, and the first NaN keeps the win (NaN >= anything is false).
    Masks multiply instead of ``where``: arithmetic on booleans is several times faster.
    """
    best = taps[0]
    winner = xp.zeros(best.shape, dtype="int8" if len(taps) <= 127 else "int16")
    for j in range(1, len(taps)):
        take = ~(best >= taps[j])        # tap j > best, or one of them is NaN ...
        take &= ~xp.isnan(best)          # ... but a NaN already in front keeps its win
        best = xp.maximum(best, taps[j])
        winner += take * (j - winner)    # winner = j where take
    return best, winner


class MaxPool2d(Function):
    """y[n, c, p, q] = max over the window (p, q) of x padded with -∞;
    ∂L/∂x = ``MaxPool2dBackward``(∂L/∂y): each ∂L/∂y[n, c, p, q] goes to the element that
    won window (p, q) (adding up where overlapping windows share a winner).

    On ties the *first* maximum of the window in row-major order (the smallest i, then j)
    wins and gets the whole gradient, as in PyTorch. (``minigen.max`` splits it among
    ties instead: a pooling window is a choice, a reduction's max is symmetric.)
    """

    @staticmethod
    def forward(ctx: Context, x: Any, kernel: Pair, stride: Pair, padding: Pair) -> Any:
        xp = ctx.xp
        (kh, kw) = kernel
        windows = sliding_windows(_pad_spatial(x, padding, -xp.inf), kernel, stride, (1, 1))
        n, c, _, _, ho, wo = windows.shape
        # One copy puts each tap (i, j) of all windows in a contiguous block (T, N, C, Ho, Wo):
        # NumPy's loops over contiguous memory are ~5x faster than over the strided view.
        taps = xp.ascontiguousarray(windows.transpose(2, 3, 0, 1, 4, 5))
        best, winner = _first_max(taps.reshape(kh * kw, n, c, ho, wo), xp)
        ctx.winner, ctx.kernel, ctx.stride, ctx.padding = winner, kernel, stride, padding
        return best

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return MaxPool2dBackward.apply(grad, winner=ctx.winner, kernel=ctx.kernel,
                                       stride=ctx.stride, padding=ctx.padding,
                                       size=ctx.inputs[0].shape[2:])


class MaxPool2dBackward(Function):
    """x[n, c, p·s_h + i - p_h, q·s_w + j - p_w] += g[n, c, p, q] where tap (i, j) won window
    (p, q): max pooling's gradient routing, for an image of ``size`` (H, W).

    The routing multiplies g by 0/1 masks, so an infinite gradient becomes NaN beside its
    winner (inf · 0), as in ``ReLU``'s backward.

    It is linear in g, so its own backward gathers: ∂L/∂g[n, c, p, q] = ∂L/∂x at the winner
    of window (p, q), written with pad and slicing (differentiable ops) so that second
    derivatives through max pooling work.
    """

    @staticmethod
    def forward(ctx: Context, g: Any, winner: Any, kernel: Pair, stride: Pair, padding: Pair,
                size: Pair) -> Any:
        ctx.winner, ctx.kernel, ctx.stride, ctx.padding = winner, kernel, stride, padding
        xp = ctx.xp
        n, c, ho, wo = g.shape
        (kh, kw), (ph, pw), (h, w) = kernel, padding, size
        if fast_kernels() and fast_pooling.tiles((n, c, h, w), kernel, stride, padding):
            return fast_pooling.max_pool_backward_tiled(g, winner, kernel)
        # BEGIN SOLUTION max_pool_backward
        taps = xp.empty((kh, kw, n, c, ho, wo), dtype=g.dtype)
        for t in range(kh * kw):                                  # g where tap t won, else 0
            i, j = divmod(t, kw)
            xp.multiply(g, winner == t, out=taps[i, j])
        padded = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=g.dtype)
        add_windows(padded, taps.transpose(2, 3, 0, 1, 4, 5), stride, (1, 1))   # col2im
        return padded[:, :, ph:ph + h, pw:pw + w].copy()   # the border was padding
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (kh, kw), (sh, sw), (ph, pw) = ctx.kernel, ctx.stride, ctx.padding
        winner = ctx.winner                                     # (N, C, Ho, Wo)
        ho, wo = winner.shape[2:]
        padded = pad(grad, (pw, pw, ph, ph)) if ph or pw else grad
        gathered = None
        for t in range(kh * kw):
            i, j = divmod(t, kw)
            tap = getitem(padded, (slice(None), slice(None), slice(i, i + sh * (ho - 1) + 1, sh),
                                   slice(j, j + sw * (wo - 1) + 1, sw)))
            picked = tap * Tensor((winner == t).astype(grad.dtype))
            gathered = picked if gathered is None else gathered + picked
        return gathered


class AvgPool2d(Function):
    """y[n, c, p, q] = (1 / (k_h·k_w)) Σ over the window (p, q) of x padded with zeros;
    ∂L/∂x = ``AvgPool2dBackward``(∂L/∂y): every ∂L/∂y[n, c, p, q] / (k_h·k_w) added onto
    each element of the window (p, q).
    """

    @staticmethod
    def forward(ctx: Context, x: Any, kernel: Pair, stride: Pair, padding: Pair) -> Any:
        ctx.kernel, ctx.stride, ctx.padding = kernel, stride, padding
        windows = sliding_windows(_pad_spatial(x, padding, 0.0), kernel, stride, (1, 1))
        return windows.mean(axis=(2, 3))    # (N, C, kh, kw, Ho, Wo) -> (N, C, Ho, Wo)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return AvgPool2dBackward.apply(grad, kernel=ctx.kernel, stride=ctx.stride,
                                       padding=ctx.padding, size=ctx.inputs[0].shape[2:])


class AvgPool2dBackward(Function):
    """The adjoint of ``AvgPool2d``: x[n, c, h, w] = Σ over the windows (p, q) that contain
    (h, w) of g[n, c, p, q] / (k_h·k_w), for an image of ``size`` (H, W) (col2im).

    Average pooling is linear, y = A x, so its backward is x ↦ Aᵀ g; and the backward of
    Aᵀ is A again: ∂L/∂g = ``AvgPool2d``(∂L/∂x). (Like Sum and BroadcastTo.)
    """

    @staticmethod
    def forward(ctx: Context, g: Any, kernel: Pair, stride: Pair, padding: Pair,
                size: Pair) -> Any:
        ctx.kernel, ctx.stride, ctx.padding = kernel, stride, padding
        n, c, ho, wo = g.shape
        (kh, kw), (ph, pw), (h, w) = kernel, padding, size
        share = ctx.xp.broadcast_to((g / (kh * kw)).reshape(n, c, 1, 1, ho, wo),
                                    (n, c, kh, kw, ho, wo))     # each tap's share, no copy
        padded = ctx.xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=g.dtype)
        add_windows(padded, share, stride, (1, 1))
        return padded[:, :, ph:ph + h, pw:pw + w].copy()        # the border was padding

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return AvgPool2d.apply(grad, kernel=ctx.kernel, stride=ctx.stride, padding=ctx.padding)


# ---------------------------------------------------------------- the functions users call
def max_pool2d(input: Any, kernel_size: Any, stride: Any = None,  # noqa: A002 — PyTorch's name
               padding: Any = 0) -> Tensor:
    """The maximum of every window of ``input`` (N, C, H, W), as ``torch.nn.functional.max_pool2d``.

    ``kernel_size``, ``stride`` (default: ``kernel_size``) and ``padding`` (at most half
    the kernel; pads with -∞) are ints or (height, width) pairs.

    >>> import minigen
    >>> x = minigen.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    x = as_tensor(input)
    kernel, stride, padding = _pool_arguments("max_pool2d", x, kernel_size, stride, padding)
    return MaxPool2d.apply(x, kernel=kernel, stride=stride, padding=padding)


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None,  # noqa: A002 — PyTorch's name
               padding: Any = 0) -> Tensor:
    """The mean of every window of ``input`` (N, C, H, W), as ``torch.nn.functional.avg_pool2d``
    with ``count_include_pad=True``: padded zeros count in the mean.

    >>> import minigen
    >>> x = minigen.arange(16.0).reshape(1, 1, 4, 4)
    >>> avg_pool2d(x, 2).tolist()
    [[[[2.5, 4.5], [10.5, 12.5]]]]
    """
    x = as_tensor(input)
    kernel, stride, padding = _pool_arguments("avg_pool2d", x, kernel_size, stride, padding)
    return AvgPool2d.apply(x, kernel=kernel, stride=stride, padding=padding)


def _pool_arguments(name: str, x: Tensor, kernel_size: Any, stride: Any,
                    padding: Any) -> tuple[Pair, Pair, Pair]:
    """Check the input and hyper-parameters of a pool; return them as (height, width) pairs."""
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if not backend.is_floating(x.data):
        raise TypeError(f"{name}: expected a floating-point input, got dtype {x.dtype}")
    kernel = pair(kernel_size, f"{name}: kernel_size")
    stride = kernel if stride is None else pair(stride, f"{name}: stride")
    padding = pair(padding, f"{name}: padding")
    if min(kernel) < 1 or min(stride) < 1:
        raise ValueError(f"{name}: kernel_size {kernel} and stride {stride} must be positive")
    if min(padding) < 0:
        raise ValueError(f"{name}: padding {padding} must be non-negative")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{name}: padding {padding} must be at most half the kernel size {kernel}")
    h, w = x.shape[2:]
    if min(output_size(h, kernel[0], stride[0], padding[0], 1),
           output_size(w, kernel[1], stride[1], padding[1], 1)) < 1:
        raise ValueError(f"{name}: a {kernel[0]}×{kernel[1]} kernel does not fit in the "
                         f"{h}×{w} input padded by {padding}")
    return kernel, stride, padding
