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
an image with ``add_windows``) and ``Conv2dWeight`` multiplies y by the columns transposed.
With groups, the channels split into g independent blocks and every product is batched.

This file is the reference: ``im2col`` and ``col2im`` below, and one matrix product per
op. Faster paths chosen by shape (other column layouts, col2im by one scatter-add, kn2row
for few output channels, columns shared between the ops of one backward) live in
``minigen.ops.fast``; each forward takes them when ``fast_kernels()`` says so, and
``minigen.use_reference_kernels(True)`` makes every convolution run the lines below.
"""
from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.function import Context, Function
from minigen.ops.arguments import as_tensor
from minigen.ops.fast import conv as fast
from minigen.ops.fast import fast_kernels
from minigen.ops.shape import reshape
from minigen.ops.windows import add_windows, output_size, pad_zeros, pair, sliding_windows
from minigen.tensor import Tensor

Padding = tuple[int, int, int, int]  # (top, bottom, left, right)
Pair = tuple[int, int]


# ---------------------------------------------------------------- im2col and col2im
def im2col(x: Any, kernel: Pair, stride: Pair, padding: Padding, dilation: Pair, groups: int,
           out_hw: Pair) -> Any:
    """The columns of x (N, C, H, W): (N, g, K, L) with K = C/g·k_h·k_w, L = H_out·W_out,

        cols[n, g, (c, i, j), (p, q)] = x_pad[n, g·C/g + c, p·s_h + i·d_h, q·s_w + j·d_w].

    ``out_hw`` can ask for fewer windows than fit: the backward of a transposed
    convolution with ``output_padding`` must skip the extra rows and columns.

    >>> im2col(backend.np.ones((2, 4, 5, 5)), (3, 3), (1, 1), (0, 0, 0, 0), (1, 1), 2, (3, 3)).shape
    (2, 2, 18, 9)
    """
    x_pad = pad_zeros(x, padding)                               # (N, C, H_p, W_p)
    windows = sliding_windows(x_pad, kernel, stride, dilation)  # view (N, C, k_h, k_w, H_o, W_o)
    windows = windows[:, :, :, :, :out_hw[0], :out_hw[1]]       # (N, C, k_h, k_w, *out_hw)
    n, c, kh, kw, ho, wo = windows.shape
    return windows.reshape(n, groups, (c // groups) * kh * kw, ho * wo)  # the one copy


def col2im(cols: Any, x_shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Padding,
           dilation: Pair, out_hw: Pair) -> Any:
    """The adjoint of ``im2col``: columns (N, g, K, L) added back into an image of
    ``x_shape`` (N, C, H, W), where overlapping windows add up,

        x_pad[n, c, p·s_h + i·d_h, q·s_w + j·d_w] += cols[n, g, (c, i, j), (p, q)],

    then the padding cropped: ⟨im2col(x), cols⟩ = ⟨x, col2im(cols)⟩.

    >>> col2im(backend.np.ones((1, 1, 9, 4)), (1, 1, 4, 4), (3, 3), (1, 1), (0, 0, 0, 0),
    ...        (1, 1), (2, 2))[0, 0, 1]          # how many windows read each pixel
    array([2., 4., 4., 2.])
    """
    n, c, h, w = x_shape
    top, bottom, left, right = padding
    xp = backend.array_module(cols)
    image = xp.zeros((n, c, h + top + bottom, w + left + right), dtype=cols.dtype)  # padded
    windows = cols.reshape(n, c, kernel[0], kernel[1], out_hw[0], out_hw[1])
    add_windows(image, windows, stride, dilation)
    return image[:, :, top:top + h, left:left + w]                 # (N, C, H, W)


def _output_hw(x_shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Padding,
               dilation: Pair) -> Pair:
    """As many windows as fit in the padded input."""
    return (output_size(x_shape[2] + padding[0] + padding[1], kernel[0], stride[0], 0, dilation[0]),
            output_size(x_shape[3] + padding[2] + padding[3], kernel[1], stride[1], 0, dilation[1]))


# ---------------------------------------------------------------- the three ops
# ``memo``: what the fast kernels of an op's forward hand to the ops of its backward (the
# columns of x, say, so that they are not copied twice); this file only passes it along,
# and it is None on the reference path.
class Conv2d(Function):
    """y[n,o,p,q] = Σ_{c,i,j} w[o,c,i,j] · x_pad[n, c, p·s_h + i·d_h, q·s_w + j·d_w]

    Shapes: x (N, C, H, W), w (O, C/g, k_h, k_w) -> y (N, O, H_out, W_out).
    Computed as w (g, O/g, K) @ im2col(x) (N, g, K, L).
    Backward: ∂L/∂x = conv_transpose(∂L/∂y, w),  ∂L/∂w = correlate(x, ∂L/∂y).
    """

    @staticmethod
    def forward(ctx: Context, x: Any, w: Any, stride: Pair, padding: Padding, dilation: Pair,
                groups: int, out_hw: Pair | None = None, memo: fast.Memo | None = None) -> Any:
        ctx.hyper = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        o, cg, kh, kw = w.shape
        out_hw = tuple(out_hw or _output_hw(x.shape, (kh, kw), stride, padding, dilation))
        if fast_kernels():
            y, memo = fast.conv2d(x, w, out_hw, memo, ctx.needs_input_grad, **ctx.hyper)
            ctx.save_for_backward(x, w, memo)
            return y
        ctx.save_for_backward(x, w, None)
        # BEGIN SOLUTION conv2d_forward
        cols = im2col(x, (kh, kw), stride, padding, dilation, groups, out_hw)  # (N, g, K, L)
        w_mat = w.reshape(groups, o // groups, cg * kh * kw)                   # (g, O/g, K)
        y = ctx.xp.matmul(w_mat, cols)                                         # (N, g, O/g, L)
        return y.reshape((x.shape[0], o) + out_hw)                             # (N, O, *out_hw)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, w, memo = ctx.saved_tensors
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = ConvTranspose2d.apply(grad, w, **ctx.hyper, out_hw=x.shape[2:], memo=memo)
        if ctx.needs_input_grad[1]:
            grad_w = Conv2dWeight.apply(x, grad, **ctx.hyper, kernel=w.shape[2:], memo=memo)
        return grad_x, grad_w


class ConvTranspose2d(Function):
    """x[n, c, p·s_h + i·d_h, q·s_w + j·d_w] += Σ_o w[o,c,i,j] · y[n,o,p,q]  (then crop the padding)

    The adjoint of ``Conv2d`` in its input: ⟨conv2d(x, w), y⟩ = ⟨x, conv_transpose(y, w)⟩.
    Shapes: y (N, O, H_in, W_in), w (O, C/g, k_h, k_w) -> x (N, C, H_out, W_out) with
    (H_out, W_out) = ``out_hw``. Computed as columns = wᵀ @ y, then col2im.
    Backward: ∂L/∂y = conv2d(∂L/∂x, w),  ∂L/∂w = correlate(∂L/∂x, y).
    """

    @staticmethod
    def forward(ctx: Context, y: Any, w: Any, stride: Pair, padding: Padding, dilation: Pair,
                groups: int, out_hw: Pair, memo: fast.Memo | None = None) -> Any:
        ctx.hyper = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        n, o, hi, wi = y.shape
        _, cg, kh, kw = w.shape
        if fast_kernels():
            x, memo = fast.conv_transpose2d(y, w, out_hw, memo, ctx.needs_input_grad, **ctx.hyper)
            ctx.save_for_backward(y, w, memo)
            return x
        ctx.save_for_backward(y, w, None)
        w_mat = w.reshape(groups, o // groups, cg * kh * kw)                   # (g, O/g, K)
        rows = y.reshape(n, groups, o // groups, hi * wi)                      # (N, g, O/g, L)
        cols = ctx.xp.matmul(w_mat.transpose(0, 2, 1), rows)                   # (N, g, K, L)
        return col2im(cols, (n, cg * groups) + tuple(out_hw), (kh, kw), stride, padding,
                      dilation, (hi, wi))                                      # (N, C, *out_hw)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        y, w, memo = ctx.saved_tensors
        grad_y = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_y = Conv2d.apply(grad, w, **ctx.hyper, out_hw=y.shape[2:], memo=memo)
        if ctx.needs_input_grad[1]:
            grad_w = Conv2dWeight.apply(grad, y, **ctx.hyper, kernel=w.shape[2:], memo=memo)
        return grad_y, grad_w


class Conv2dWeight(Function):
    """w[o,c,i,j] = Σ_{n,p,q} y[n,o,p,q] · x_pad[n, c, p·s_h + i·d_h, q·s_w + j·d_w]

    The gradient of conv2d with respect to its weight: a correlation of the input x
    (N, C, H, W) with an output-shaped y (N, O, H_out, W_out), giving (O, C/g, k_h, k_w).
    Computed as y @ im2col(x)ᵀ, summed over the batch.
    Backward: ∂L/∂x = conv_transpose(y, ∂L/∂w),  ∂L/∂y = conv2d(x, ∂L/∂w).
    """

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any, stride: Pair, padding: Padding, dilation: Pair,
                groups: int, kernel: Pair, memo: fast.Memo | None = None) -> Any:
        ctx.save_for_backward(x, y)
        ctx.hyper = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        kernel = tuple(kernel)
        if fast_kernels():
            return fast.conv2d_weight(x, y, kernel, memo, **ctx.hyper)
        n, o, ho, wo = y.shape
        c = x.shape[1]
        cols = im2col(x, kernel, stride, padding, dilation, groups, (ho, wo))  # (N, g, K, L)
        rows = y.reshape(n, groups, o // groups, ho * wo)                      # (N, g, O/g, L)
        w = ctx.xp.matmul(rows, cols.transpose(0, 1, 3, 2)).sum(axis=0)        # (g, O/g, K)
        return w.reshape(o, c // groups, kernel[0], kernel[1])                 # (O, C/g, k_h, k_w)

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
    if what.startswith("weight") and min(t.shape) < 1:
        raise ValueError(f"{name}: {what} has an empty dimension, shape {t.shape}")


def _check_same_dtype(name: str, x: Tensor, weight: Tensor) -> None:
    """Refuse float32 against float64, as PyTorch does, instead of upcasting silently."""
    if x.dtype != weight.dtype:
        raise TypeError(f"{name}: input and weight must have the same dtype, got {x.dtype} "
                        f"and {weight.dtype}; cast one of them (e.g. .to(dtype))")


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


def named_padding(owner: str, padding: str, kernel: Pair, stride: Pair, dilation: Pair
                  ) -> Padding:
    """The (top, bottom, left, right) padding that ``"valid"`` or ``"same"`` stands for.

    "valid" is no padding. "same" keeps H×W at stride 1: a total of d(k - 1) rows, the
    odd one at the bottom (PyTorch's rule). PyTorch refuses "same" for a strided
    convolution, and so does minigen, naming the integer padding d(k - 1) // 2 per side,
    which gives ⌈H / s⌉ rows for an odd kernel (and H / s for the DCGAN's k = 2s when s
    divides H).
    """
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding != "same":
        raise ValueError(f"{owner}: padding must be an int, a pair of ints, 'valid' or "
                         f"'same', got {padding!r}")
    th, tw = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)     # total d(k - 1)
    if stride != (1, 1):
        raise ValueError(f"{owner}: padding='same' needs stride 1 (as in PyTorch); for stride "
                         f"{stride} use padding={(th // 2, tw // 2)} (d(k - 1) // 2 per side): "
                         "an odd kernel then gives ⌈H/s⌉ x ⌈W/s⌉ outputs")
    return (th // 2, th - th // 2, tw // 2, tw - tw // 2)


def conv2d(x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as in every deep-learning framework).

    Args:
        x: (N, C_in, H, W).
        weight: (C_out, C_in/groups, k_h, k_w).
        bias: (C_out,) or None.
        stride, dilation: an int or a pair.
        padding: an int, a pair, ``"valid"`` (no padding) or ``"same"`` (stride 1: the
            output keeps H×W; an odd total padding puts the extra row/column at the
            bottom/right, as PyTorch does).

    Returns (N, C_out, H_out, W_out) with H_out = ⌊(H + 2p - d(k-1) - 1)/s⌋ + 1.

    >>> import minigen, minigen.functional as F
    >>> F.conv2d(minigen.ones(1, 1, 4, 4), minigen.ones(1, 1, 3, 3), padding=1).shape
    (1, 1, 4, 4)
    """
    x, weight = as_tensor(x), as_tensor(weight)
    _check_4d("conv2d", "input (N, C, H, W)", x)
    _check_4d("conv2d", "weight (C_out, C_in/groups, kH, kW)", weight)
    _check_same_dtype("conv2d", x, weight)
    stride, dilation = pair(stride, "conv2d: stride"), pair(dilation, "conv2d: dilation")
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"conv2d: stride and dilation must be >= 1, got {stride} and {dilation}")
    if groups < 1 or x.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
        raise ValueError(
            f"conv2d: input {x.shape} has {x.shape[1]} channels but weight {weight.shape} with "
            f"groups={groups} expects {weight.shape[1] * groups} (and C_out divisible by groups)")
    kh, kw = weight.shape[2:]
    if isinstance(padding, str):
        pads = named_padding("conv2d", padding, (kh, kw), stride, dilation)
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
    _check_same_dtype("conv_transpose2d", x, weight)
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


