"""2-D convolution and transposed convolution, as im2col plus one matrix product.

Three ops share one trilinear form. For an input x (N, C, H, W), a weight
w (O, C/g, k_h, k_w) and an output-shaped tensor y (N, O, H_out, W_out):

    T(x, w, y) = ⟨conv2d(x, w), y⟩ = Σ y[n,o,p,q] · w[o,c,i,j] · x[n, c, p·s+i·d, q·s+j·d]

Each op is the gradient of T with respect to one argument:

* ``Conv2d``          x, w -> y-shaped:  conv2d(x, w)         = ∂T/∂y
* ``ConvTranspose2d`` y, w -> x-shaped:  conv_transpose(y, w) = ∂T/∂x  (the adjoint of conv2d)
* ``Conv2dWeight``    x, y -> w-shaped:  correlate(x, y)      = ∂T/∂w

so the backward of each is made of the other two (e.g. ∂L/∂x of conv2d is
conv_transpose(∂L/∂y, w)). Being built of each other, the backward passes are
themselves differentiable: gradients of gradients through convolutions work.

How the forward is computed (no Python loop over pixels or images):
1. pad x with zeros;
2. take every k_h×k_w window as a strided view (``sliding_windows``) and copy it once into
   the *im2col* matrix of columns, K = C·k_h·k_w rows and one column per output position;
3. multiply: weight (O, K) @ columns -> the output.
``ConvTranspose2d`` runs this backwards (wᵀ @ y gives columns, *col2im* adds them back into
an image) and ``Conv2dWeight`` multiplies y by the columns transposed.
With groups, the channels split into g independent blocks and every product is batched.

The same maths, three speed-ups chosen by shape (measured on a 2-core CPU against PyTorch;
each choice is one small function below, so the tests can force every path):
* the columns' layout (``_layout``): per image (N, K, L) when each image has many output
  positions L, or all images side by side (K, L·N) when L is small, so that one large matrix
  product replaces N thin ones; side by side, the image index is the fastest-moving one in
  memory, so every copy moves runs of N numbers rather than short image rows
  (N=64, 32 -> 64 channels, 14x14, stride 2: forward+backward 5.2 -> 3.6 ms);
* col2im (``_col2im``): a loop over the k_h·k_w kernel taps, or, per image, one scatter-add
  with precomputed indices when the windows' rows are short (``_scatter_col2im``);
* layers with few output channels and stride 1 skip im2col altogether (``kn2row.py``).
"""
from __future__ import annotations

import functools
from typing import Any

from minigen import backend
from minigen.function import Context, Function
from minigen.ops.arguments import as_tensor
from minigen.ops.kn2row import kn2row_conv, kn2row_transpose, kn2row_weight, use_kn2row
from minigen.ops.shape import reshape
from minigen.ops.windows import (add_windows, output_size, pad_zeros, pair, sliding_windows,
                                 window_index)
from minigen.tensor import Tensor

Padding = tuple[int, int, int, int]  # (top, bottom, left, right)

# Conv2d keeps its im2col columns for the weight gradient (saves recomputing them in the
# backward pass) when they are at most this big; larger ones would hold too much memory
# from the forward to the backward pass.
_KEEP_COLUMNS_BYTES = 16 * 2**20


# ---------------------------------------------------------------- choosing an algorithm
def _layout(n: int, k: int, l: int) -> str:
    """How the im2col columns (K rows, L = H_out·W_out columns per image) are laid out.

    * ``"bat"``: (N, g, K, L), one matrix product per image; ``w @ columns`` is already NCHW.
    * ``"kln"``: (g, K, L·N), all images side by side, the image index fastest; one large
      product, whose output is NCHW as a transposed view. The input is first copied with
      its image index fastest (``pad_zeros(..., images_last=True)``), so that the im2col
      copy, col2im's adds and the transposes all move runs of N contiguous numbers.
    When L < K, each per-image product is a thin matrix that BLAS runs far below its peak;
    the one large product is worth the transposes. Below 8 images the runs of N numbers
    are too short, and the per-image products cost no more (measured on 2 cores).
    """
    return "kln" if n >= 8 and l < k else "bat"


def _scatter_col2im(out_hw: tuple[int, int]) -> bool:
    """col2im by one scatter-add rather than the loop over kernel taps? For short rows: each
    tap of the loop adds N·C·H_out rows of W_out numbers, and short rows make NumPy's
    per-row overhead dominate; long rows make the loop (no index array to read) faster.
    Only for the ``"bat"`` layout: with ``"kln"`` the loop's rows are runs of N ≥ 8 numbers."""
    return out_hw[1] <= 8


# ---------------------------------------------------------------- im2col and col2im
def _im2col(x: Any, kernel: tuple[int, int], stride: tuple[int, int], padding: Padding,
            dilation: tuple[int, int], groups: int, out_hw: tuple[int, int], layout: str) -> Any:
    """Columns of x (N, C, H, W), (N, g, C/g·k_h·k_w, L) or (g, C/g·k_h·k_w, L·N) by
    ``layout``: one copy of a window view.

    ``out_hw`` can ask for fewer windows than fit: the backward of a transposed
    convolution with ``output_padding`` must skip the extra rows and columns.
    """
    x_pad = pad_zeros(x, padding, images_last=layout == "kln")
    windows = sliding_windows(x_pad, kernel, stride, dilation)
    windows = windows[:, :, :, :, :out_hw[0], :out_hw[1]]
    n, c, kh, kw, ho, wo = windows.shape
    k = (c // groups) * kh * kw
    if layout == "bat":
        return windows.reshape(n, groups, k, ho * wo)
    # (C, k_h, k_w, H_out, W_out, N): the image index is already fastest in x_pad
    return windows.transpose(1, 2, 3, 4, 5, 0).reshape(groups, k, ho * wo * n)


def _rows(y: Any, groups: int, layout: str) -> Any:
    """An output-shaped y (N, O, H, W) as the matrix the columns pair with:
    (N, g, O/g, L) for ``"bat"`` (a view), (g, O/g, L·N) for ``"kln"`` (a transposed copy,
    or a view when y already has its image index fastest, as ``_unrows`` leaves it)."""
    n, o, h, w = y.shape
    y = y.reshape(n, groups, o // groups, h * w)
    if layout == "bat":
        return y
    return y.transpose(1, 2, 3, 0).reshape(groups, o // groups, h * w * n)


def _unrows(rows: Any, shape: tuple[int, ...], groups: int, layout: str) -> Any:
    """The inverse of ``_rows``: back to an NCHW array of ``shape`` (for ``"kln"`` a transposed
    view, image index fastest: NumPy's elementwise ops keep that memory order, and the next
    convolution reads it without a transpose)."""
    if layout == "bat":
        return rows.reshape(shape)
    n, o, h, w = shape
    return rows.reshape(groups, o // groups, h, w, n).transpose(4, 0, 1, 2, 3).reshape(shape)


@functools.lru_cache(maxsize=8)
def _col2im_index(xp: Any, image_shape: tuple[int, ...], kernel: tuple[int, int],
                  stride: tuple[int, int], dilation: tuple[int, int],
                  out_hw: tuple[int, int]) -> Any:
    """``window_index`` flattened, kept for the next call of the same shape (building it
    costs as much as the scatter-add itself)."""
    return window_index(xp, image_shape, kernel, stride, dilation, out_hw).reshape(-1)


def _col2im(cols: Any, x_shape: tuple[int, ...], kernel: tuple[int, int], out_hw: tuple[int, int],
            stride: tuple[int, int], padding: Padding, dilation: tuple[int, int], layout: str) -> Any:
    """The adjoint of ``_im2col``: add columns back into an image (N, C, H, W)."""
    n, c, h, w = x_shape
    top, bottom, left, right = padding
    xp = backend.array_module(cols)
    image_shape = (n, c, h + top + bottom, w + left + right)
    if layout == "kln":
        # the image with its image index fastest, like the columns: (C, H_p, W_p, N) in
        # memory, seen as (N, C, H_p, W_p); the result stays a transposed view
        image = xp.zeros((c,) + image_shape[2:] + (n,), dtype=cols.dtype).transpose(3, 0, 1, 2)
        windows = cols.reshape(c, kernel[0], kernel[1], out_hw[0], out_hw[1], n)
        add_windows(image, windows.transpose(5, 0, 1, 2, 3, 4), stride, dilation)
    else:
        image = xp.zeros(image_shape, dtype=cols.dtype)
        if _scatter_col2im(out_hw):
            index = _col2im_index(xp, image_shape, tuple(kernel), tuple(stride),
                                  tuple(dilation), tuple(out_hw))
            backend.scatter_add(image.reshape(-1), index, cols.reshape(-1))
        else:
            windows = cols.reshape(n, c, kernel[0], kernel[1], out_hw[0], out_hw[1])
            add_windows(image, windows, stride, dilation)
    return image[:, :, top:top + h, left:left + w]


def _output_hw(x_shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int],
               padding: Padding, dilation: tuple[int, int]) -> tuple[int, int]:
    """As many windows as fit in the padded input."""
    return (output_size(x_shape[2] + padding[0] + padding[1], kernel[0], stride[0], 0, dilation[0]),
            output_size(x_shape[3] + padding[2] + padding[3], kernel[1], stride[1], 0, dilation[1]))


def _shared_columns(x: Tensor, n_out: int, kernel: tuple[int, int], out_hw: tuple[int, int],
                    hyper: dict) -> Any:
    """im2col of x, computed once for a backward that needs both Conv2d and Conv2dWeight
    of the same x; None where those take the kn2row path (no columns)."""
    n, c = x.shape[:2]
    if use_kn2row(n_out, c, hyper["stride"], hyper["groups"]):
        return None
    g = hyper["groups"]
    layout = _layout(n, (c // g) * kernel[0] * kernel[1], out_hw[0] * out_hw[1])
    return _im2col(x.data, kernel, hyper["stride"], hyper["padding"], hyper["dilation"], g,
                   out_hw, layout)


def _shared_rows(y: Tensor, x_shape: tuple[int, ...], kernel: tuple[int, int],
                 groups: int) -> Any:
    """``_rows`` of an output-shaped y, computed once for a backward that needs both
    ConvTranspose2d and Conv2dWeight of the same y; None where the rows are a free view
    (``"bat"``) or a kn2row path takes them."""
    n, c = x_shape[:2]
    layout = _layout(n, (c // groups) * kernel[0] * kernel[1], y.shape[2] * y.shape[3])
    return _rows(y.data, groups, layout) if layout == "kln" else None


# ---------------------------------------------------------------- the three ops
class Conv2d(Function):
    """y[n,o,p,q] = Σ_{c,i,j} w[o,c,i,j] · x_pad[n, c, p·s_h + i·d_h, q·s_w + j·d_w]

    Shapes: x (N, C, H, W), w (O, C/g, k_h, k_w) -> y (N, O, H_out, W_out).
    ``cols``: x's im2col columns, when the caller already has them.
    Backward: ∂L/∂x = conv_transpose(∂L/∂y, w),  ∂L/∂w = correlate(x, ∂L/∂y).
    """

    @staticmethod
    def forward(ctx: Context, x: Any, w: Any, stride: tuple[int, int], padding: Padding,
                dilation: tuple[int, int], groups: int,
                out_hw: tuple[int, int] | None = None, cols: Any = None) -> Any:
        ctx.hyper = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        n = x.shape[0]
        o, cg, kh, kw = w.shape
        ho, wo = out_hw = tuple(out_hw or _output_hw(x.shape, (kh, kw), stride, padding, dilation))
        if use_kn2row(o, x.shape[1], stride, groups):
            ctx.save_for_backward(x, w, None)
            return kn2row_conv(x, w, padding, dilation, out_hw)
        layout = _layout(n, cg * kh * kw, ho * wo)
        if cols is None:
            cols = _im2col(x, (kh, kw), stride, padding, dilation, groups, out_hw, layout)
        w_mat = w.reshape(groups, o // groups, cg * kh * kw)  # (g, O/g, K)
        y = _unrows(ctx.xp.matmul(w_mat, cols), (n, o, ho, wo), groups, layout)
        # The weight gradient needs these same columns: keep them if they are small.
        keep = ctx.needs_input_grad[1] and cols.nbytes <= _KEEP_COLUMNS_BYTES
        ctx.save_for_backward(x, w, cols if keep else None)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, w, cols = ctx.saved_tensors
        grad_x = grad_w = None
        rows = None  # both gradients read grad as the rows of a matrix: transpose it once
        if ctx.needs_input_grad[0] and ctx.needs_input_grad[1]:
            rows = _shared_rows(grad, x.shape, w.shape[2:], ctx.hyper["groups"])
        if ctx.needs_input_grad[0]:
            grad_x = ConvTranspose2d.apply(grad, w, **ctx.hyper, out_hw=x.shape[2:], rows=rows)
        if ctx.needs_input_grad[1]:
            grad_w = Conv2dWeight.apply(x, grad, **ctx.hyper, kernel=w.shape[2:],
                                        cols=None if cols is None else cols.data, rows=rows)
        return grad_x, grad_w


class ConvTranspose2d(Function):
    """x[n, c, p·s_h + i·d_h, q·s_w + j·d_w] += Σ_o w[o,c,i,j] · y[n,o,p,q]  (then crop the padding)

    The adjoint of ``Conv2d`` in its input: ⟨conv2d(x, w), y⟩ = ⟨x, conv_transpose(y, w)⟩.
    Shapes: y (N, O, H_in, W_in), w (O, C/g, k_h, k_w) -> x (N, C, H_out, W_out) with
    (H_out, W_out) = ``out_hw``. Computed as columns = wᵀ @ y, then col2im.
    ``rows``: ``_rows(y)``, when the caller already has them.
    Backward: ∂L/∂y = conv2d(∂L/∂x, w),  ∂L/∂w = correlate(∂L/∂x, y).
    """

    @staticmethod
    def forward(ctx: Context, y: Any, w: Any, stride: tuple[int, int], padding: Padding,
                dilation: tuple[int, int], groups: int, out_hw: tuple[int, int],
                rows: Any = None) -> Any:
        ctx.save_for_backward(y, w)
        ctx.hyper = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        n, o, hi, wi = y.shape
        _, cg, kh, kw = w.shape
        layout = _layout(n, cg * kh * kw, hi * wi)
        # Here kn2row wins already with as many output as input channels when the maps are
        # large ("bat"): its copies replace the col2im loop over large maps, the slowest step
        # (N=1, 64 -> 64 channels, 64x64: 4.4 vs 5.7 ms; but 8.4 vs 9.7 ms on 16x16 maps).
        if use_kn2row(o, cg * groups, stride, groups, ratio=1 if layout == "bat" else 2):
            return kn2row_transpose(y, w, padding, dilation, out_hw)
        w_mat = w.reshape(groups, o // groups, cg * kh * kw)  # (g, O/g, K)
        if rows is None:
            rows = _rows(y, groups, layout)
        cols = ctx.xp.matmul(w_mat.transpose(0, 2, 1), rows)
        return _col2im(cols, (n, cg * groups) + tuple(out_hw), (kh, kw), (hi, wi), stride,
                       padding, dilation, layout)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        y, w = ctx.saved_tensors
        grad_y = grad_w = None
        kernel, out_hw = w.shape[2:], y.shape[2:]
        cols = None  # both gradients read the columns of grad: build them once
        if ctx.needs_input_grad[0] and ctx.needs_input_grad[1]:
            cols = _shared_columns(grad, w.shape[0], kernel, out_hw, ctx.hyper)
        if ctx.needs_input_grad[0]:
            grad_y = Conv2d.apply(grad, w, **ctx.hyper, out_hw=out_hw, cols=cols)
        if ctx.needs_input_grad[1]:
            grad_w = Conv2dWeight.apply(grad, y, **ctx.hyper, kernel=kernel, cols=cols)
        return grad_y, grad_w


class Conv2dWeight(Function):
    """w[o,c,i,j] = Σ_{n,p,q} y[n,o,p,q] · x_pad[n, c, p·s_h + i·d_h, q·s_w + j·d_w]

    The gradient of conv2d with respect to its weight: a correlation of the input x
    (N, C, H, W) with an output-shaped y (N, O, H_out, W_out), giving (O, C/g, k_h, k_w).
    Computed as y @ columnsᵀ (summed over the batch); ``cols``: x's columns, ``rows``:
    ``_rows(y)``, when the caller already has them.
    Backward: ∂L/∂x = conv_transpose(y, ∂L/∂w),  ∂L/∂y = conv2d(x, ∂L/∂w).
    """

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any, stride: tuple[int, int], padding: Padding,
                dilation: tuple[int, int], groups: int, kernel: tuple[int, int],
                cols: Any = None, rows: Any = None) -> Any:
        ctx.save_for_backward(x, y)
        ctx.hyper = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        kernel = tuple(kernel)
        n, o, ho, wo = y.shape
        c = x.shape[1]
        if use_kn2row(o, c, stride, groups):
            return kn2row_weight(x, y, padding, dilation, kernel)
        layout = _layout(n, (c // groups) * kernel[0] * kernel[1], ho * wo)
        if cols is None:
            cols = _im2col(x, kernel, stride, padding, dilation, groups, (ho, wo), layout)
        y_rows = _rows(y, groups, layout) if rows is None else rows
        if layout == "bat":  # (N, g, O/g, L) @ (N, g, L, K), summed over the images
            w = ctx.xp.matmul(y_rows, cols.transpose(0, 1, 3, 2)).sum(axis=0)
        else:  # one product over all images at once: (g, O/g, N·L) @ (g, N·L, K)
            w = ctx.xp.matmul(y_rows, cols.transpose(0, 2, 1))
        return w.reshape(o, c // groups, kernel[0], kernel[1])

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_x = ConvTranspose2d.apply(y, grad, **ctx.hyper, out_hw=x.shape[2:])
        if ctx.needs_input_grad[1]:
            grad_y = Conv2d.apply(x, grad, **ctx.hyper, out_hw=y.shape[2:])
        return grad_x, grad_y


# ---------------------------------------------------------------- the functions users call
def _check_4d(name: str, what: str, t: Tensor) -> None:
    if t.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D {what}, got shape {t.shape}")
    if not backend.is_floating(t.data):
        raise TypeError(f"{name}: {what} must be floating point, got {t.dtype}")


def _padding4(name: str, padding: Any) -> Padding:
    ph, pw = pair(padding, f"{name}: padding")
    if ph < 0 or pw < 0:
        raise ValueError(f"{name}: padding must be non-negative, got {padding!r}")
    return (ph, ph, pw, pw)


def _add_bias(name: str, out: Tensor, bias: Any) -> Tensor:
    if bias is None:
        return out
    bias = as_tensor(bias)
    if bias.shape != (out.shape[1],):
        raise ValueError(f"{name}: bias must have shape ({out.shape[1]},), got {bias.shape}")
    return out + reshape(bias, (1, out.shape[1], 1, 1))


def conv2d(x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as in every deep-learning framework).

    Args:
        x: (N, C_in, H, W).
        weight: (C_out, C_in/groups, k_h, k_w).
        bias: (C_out,) or None.
        stride, dilation: an int or a pair.
        padding: an int, a pair, or ``"same"`` (stride 1: the output keeps H×W; an odd
            total padding puts the extra row/column at the bottom/right, as PyTorch does).

    Returns (N, C_out, H_out, W_out) with H_out = ⌊(H + 2p - d(k-1) - 1)/s⌋ + 1.

    >>> import minigen, minigen.functional as F
    >>> F.conv2d(minigen.ones(1, 1, 4, 4), minigen.ones(1, 1, 3, 3), padding=1).shape
    (1, 1, 4, 4)
    """
    x, weight = as_tensor(x), as_tensor(weight)
    _check_4d("conv2d", "input (N, C, H, W)", x)
    _check_4d("conv2d", "weight (C_out, C_in/groups, kH, kW)", weight)
    stride, dilation = pair(stride, "conv2d: stride"), pair(dilation, "conv2d: dilation")
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"conv2d: stride and dilation must be >= 1, got {stride} and {dilation}")
    if groups < 1 or x.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
        raise ValueError(
            f"conv2d: input {x.shape} has {x.shape[1]} channels but weight {weight.shape} with "
            f"groups={groups} expects {weight.shape[1] * groups} (and C_out divisible by groups)")
    kh, kw = weight.shape[2:]
    if padding == "same":
        if stride != (1, 1):
            raise ValueError("conv2d: padding='same' needs stride 1")
        th, tw = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
        pads: Padding = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    else:
        pads = _padding4("conv2d", padding)
    ho = output_size(x.shape[2] + pads[0] + pads[1], kh, stride[0], 0, dilation[0])
    wo = output_size(x.shape[3] + pads[2] + pads[3], kw, stride[1], 0, dilation[1])
    if ho < 1 or wo < 1:
        raise ValueError(f"conv2d: kernel {weight.shape[2:]} (dilation {dilation}) is larger than "
                         f"the padded input {x.shape[2:]} + padding {pads}")
    out = Conv2d.apply(x, weight, stride=stride, padding=pads, dilation=dilation, groups=groups)
    return _add_bias("conv2d", out, bias)


def conv_transpose2d(x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """2-D transposed convolution (PyTorch's argument order and output-size rule).

    Args:
        x: (N, C_in, H, W).
        weight: (C_in, C_out/groups, k_h, k_w)  — PyTorch's layout for transposed convs.
        output_padding: extra rows/columns on the bottom/right, < stride or < dilation.

    Returns (N, C_out, H_out, W_out) with H_out = (H - 1)s - 2p + d(k - 1) + output_padding + 1:
    the shape of the conv2d input that this op is the adjoint (gradient) of.

    >>> import minigen, minigen.functional as F
    >>> F.conv_transpose2d(minigen.ones(1, 4, 7, 7), minigen.ones(4, 2, 3, 3), stride=2,
    ...                    padding=1, output_padding=1).shape
    (1, 2, 14, 14)
    """
    x, weight = as_tensor(x), as_tensor(weight)
    _check_4d("conv_transpose2d", "input (N, C, H, W)", x)
    _check_4d("conv_transpose2d", "weight (C_in, C_out/groups, kH, kW)", weight)
    stride, dilation = pair(stride, "conv_transpose2d: stride"), pair(dilation, "conv_transpose2d: dilation")
    opad = pair(output_padding, "conv_transpose2d: output_padding")
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"conv_transpose2d: stride and dilation must be >= 1, got {stride} and {dilation}")
    if groups < 1 or x.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ValueError(f"conv_transpose2d: input {x.shape} has {x.shape[1]} channels but weight "
                         f"{weight.shape} expects {weight.shape[0]} (divisible by groups={groups})")
    for a in range(2):
        if not 0 <= opad[a] < max(stride[a], dilation[a]):
            raise ValueError(f"conv_transpose2d: output_padding {opad} must be smaller than "
                             f"stride {stride} or dilation {dilation}")
    pads = _padding4("conv_transpose2d", padding)
    kh, kw = weight.shape[2:]
    out_hw = ((x.shape[2] - 1) * stride[0] - 2 * pads[0] + dilation[0] * (kh - 1) + opad[0] + 1,
              (x.shape[3] - 1) * stride[1] - 2 * pads[2] + dilation[1] * (kw - 1) + opad[1] + 1)
    if min(out_hw) < 1:
        raise ValueError(f"conv_transpose2d: padding {padding} leaves an empty output {out_hw}")
    out = ConvTranspose2d.apply(x, weight, stride=stride, padding=pads, dilation=dilation,
                                groups=groups, out_hw=out_hw)
    return _add_bias("conv_transpose2d", out, bias)


