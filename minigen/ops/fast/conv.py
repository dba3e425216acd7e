"""Fast convolution kernels: the forwards of ``minigen.ops.conv``'s three ops, by shape.

``conv.py`` computes every convolution one way: per-image columns (N, g, K, L), one matrix
product, col2im by ``add_windows``. Here the same results are computed faster where the
shapes allow it; each choice is one small function, so that the tests can force every path
(``tests/test_conv.py``), and ``benchmarks/README.md`` holds the measurements behind them:

* the columns' layout (``_layout``): per image (N, g, K, L) when each image has many output
  positions L, or all images side by side (g, K, L·N) when L is small, so that one large
  matrix product replaces N thin ones. Side by side, the image index is the fastest-moving
  one in memory, so every copy moves runs of N numbers rather than short image rows;
* col2im (``_col2im``): ``add_windows``'s loop over the k_h·k_w kernel taps, or, per image,
  one scatter-add with precomputed indices when the windows' rows are short
  (``_scatter_col2im``);
* layers with few output channels and stride 1 skip im2col altogether (``kn2row.py``);
* work shared between ops (``Memo``): a ``Conv2d`` keeps its columns of x for the weight
  gradient, and the two gradient ops of one backward transpose the incoming gradient into
  rows (``Conv2d``'s backward) or copy it into columns (``ConvTranspose2d``'s backward) once.

Shapes: L = H_out·W_out output positions per image, K = C/g·k_h·k_w rows of columns.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from minigen import backend
from minigen.ops.fast.kn2row import kn2row_conv, kn2row_transpose, kn2row_weight, use_kn2row
from minigen.ops.windows import add_windows, sliding_windows

Padding = tuple[int, int, int, int]  # (top, bottom, left, right)
Pair = tuple[int, int]

# Conv2d keeps its columns for the weight gradient (saves recomputing them in the backward
# pass) when they are at most this big; larger ones would hold too much memory from the
# forward to the backward pass.
_KEEP_COLUMNS_BYTES = 16 * 2**20


# ---------------------------------------------------------------- choosing an algorithm
def _layout(n: int, k: int, l: int) -> str:
    """How the im2col columns (K rows, L = H_out·W_out columns per image) are laid out.

    * ``"bat"``: (N, g, K, L), one matrix product per image; ``w @ columns`` is already NCHW.
    * ``"kln"``: (g, K, L·N), all images side by side, the image index fastest; one large
      product, whose output is NCHW as a transposed view. The input is first copied with
      its image index fastest (``_pad_images_last``), so that the im2col copy, col2im's
      adds and the transposes all move runs of N contiguous numbers.
    When L < K, each per-image product is a thin matrix that BLAS runs far below its peak;
    the one large product is worth the transposes. Below 8 images the runs of N numbers
    are too short, and the per-image products cost no more.
    """
    return "kln" if n >= 8 and l < k else "bat"


def _scatter_col2im(out_hw: Pair) -> bool:
    """col2im by one scatter-add rather than the loop over kernel taps? For short rows: each
    tap of the loop adds N·C·H_out rows of W_out numbers, and short rows make NumPy's
    per-row overhead dominate; long rows make the loop (no index array to read) faster.
    Only for the ``"bat"`` layout: with ``"kln"`` the loop's rows are runs of N ≥ 8 numbers."""
    return out_hw[1] <= 8


# ---------------------------------------------------------------- work shared between ops
class Memo:
    """Arrays that one op's fast kernels computed and the ops of its backward read again.

    ``conv.py`` passes it from an op's forward to the ops of its backward without reading
    it (it is None on the reference path). Each array is stored with the array it was
    computed from and handed out only for that same array (identity, not equality), so a
    second backward (``retain_graph=True``) or a backward of the backward never reads the
    rows or columns of another gradient.

    * ``keep``: the forward's own columns of its input, for every backward of the op;
    * ``shared``: the kinds of array ("rows", "columns") of the incoming gradient that the
      two gradient ops of one backward both need: the first computes and stores them, the
      second takes them out. Empty when only one gradient is computed.
    """

    def __init__(self, shared: tuple[str, ...] = ()) -> None:
        self.shared = shared
        self._values: dict[tuple[str, str], tuple[Any, Any, bool]] = {}

    def keep(self, key: tuple[str, str], source: Any, value: Any) -> None:
        """Hold ``value``, computed from the array ``source``, for every later reader."""
        self._values[key] = (source, value, True)

    def reuse(self, key: tuple[str, str], source: Any, compute: Callable[[], Any]) -> Any:
        """The value stored under ``key`` for the array ``source``, else ``compute()``
        (stored for the second reader when ``key``'s kind is shared)."""
        hit = self._values.get(key)
        if hit is not None and hit[0] is source:
            if not hit[2]:
                del self._values[key]  # the second and last reader of a shared value
            return hit[1]
        value = compute()
        if key[0] in self.shared:
            self._values[key] = (source, value, False)
        return value


def _reuse(memo: Memo | None, key: tuple[str, str], source: Any,
           compute: Callable[[], Any]) -> Any:
    return compute() if memo is None else memo.reuse(key, source, compute)


def _sharing(needs_input_grad: tuple[bool, ...], kind: str) -> Memo:
    """A Memo for an op whose backward shares ``kind`` when it computes both gradients."""
    return Memo((kind,) if needs_input_grad[0] and needs_input_grad[1] else ())


# ---------------------------------------------------------------- im2col and col2im
def _pad_images_last(x: Any, padding: Padding) -> Any:
    """x (N, C, H, W) with zero borders, stored with the image index fastest in memory: a
    view (N, C, H_p, W_p) of a (C, H_p, W_p, N) array (a copy even without padding)."""
    top, bottom, left, right = padding
    n, c, h, w = x.shape
    xp = backend.array_module(x)
    out = xp.zeros((c, h + top + bottom, w + left + right, n), dtype=x.dtype)
    out = out.transpose(3, 0, 1, 2)
    out[:, :, top:top + h, left:left + w] = x
    return out


def _im2col(x: Any, kernel: Pair, stride: Pair, padding: Padding, dilation: Pair, groups: int,
            out_hw: Pair, layout: str) -> Any:
    """Columns of x (N, C, H, W): (N, g, C/g·k_h·k_w, L) or (g, C/g·k_h·k_w, L·N) by
    ``layout``, one copy of a window view. ``out_hw`` can ask for fewer windows than fit
    (a transposed convolution's ``output_padding``)."""
    if layout == "bat":
        from minigen.ops.conv import im2col  # the reference one (conv.py imports this module)
        return im2col(x, kernel, stride, padding, dilation, groups, out_hw)
    windows = sliding_windows(_pad_images_last(x, padding), kernel, stride, dilation)
    windows = windows[:, :, :, :, :out_hw[0], :out_hw[1]]
    n, c, kh, kw, ho, wo = windows.shape
    # (C, k_h, k_w, H_out, W_out, N): the image index is already fastest in the padded x
    return windows.transpose(1, 2, 3, 4, 5, 0).reshape(groups, (c // groups) * kh * kw,
                                                       ho * wo * n)


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


def window_index(xp: Any, image_shape: tuple[int, ...], kernel: Pair, stride: Pair,
                 dilation: Pair, out_hw: Pair) -> Any:
    """Where each window element sits in the flattened image: an int array (N, C, k_h, k_w,
    H_out, W_out) with ``index[n, c, i, j, p, q]`` = the flat position of
    ``image[n, c, p·s_h + i·d_h, q·s_w + j·d_w]`` in a contiguous image of ``image_shape``.

    With it, col2im is one scatter-add, ``image.ravel()[index] += windows`` (see
    ``backend.scatter_add``): no loop at all, and faster than ``add_windows`` when the
    windows' rows are short (small feature maps), where each tap's slice is many tiny rows.
    """
    n, c, h, w = image_shape
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw

    def axis(size: int, position: int) -> Any:  # arange along one of the 6 axes
        shape = [1] * 6
        shape[position] = size
        return xp.arange(size).reshape(shape)

    rows = axis(ho, 4) * sh + axis(kh, 2) * dh
    cols = axis(wo, 5) * sw + axis(kw, 3) * dw
    return ((axis(n, 0) * c + axis(c, 1)) * h + rows) * w + cols


@functools.lru_cache(maxsize=8)
def _col2im_index(xp: Any, image_shape: tuple[int, ...], kernel: Pair, stride: Pair,
                  dilation: Pair, out_hw: Pair) -> Any:
    """``window_index`` flattened, kept for the next call of the same shape (building it
    costs as much as the scatter-add itself)."""
    return window_index(xp, image_shape, kernel, stride, dilation, out_hw).reshape(-1)


def _col2im(cols: Any, x_shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Padding,
            dilation: Pair, out_hw: Pair, layout: str) -> Any:
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
    elif _scatter_col2im(out_hw):
        image = xp.zeros(image_shape, dtype=cols.dtype)
        index = _col2im_index(xp, image_shape, tuple(kernel), tuple(stride), tuple(dilation),
                              tuple(out_hw))
        backend.scatter_add(image.reshape(-1), index, cols.reshape(-1))
    else:
        from minigen.ops.conv import col2im  # the reference one (conv.py imports this module)
        return col2im(cols, x_shape, kernel, stride, padding, dilation, out_hw)
    return image[:, :, top:top + h, left:left + w]


# ---------------------------------------------------------------- the three ops' forwards
def conv2d(x: Any, w: Any, out_hw: Pair, memo: Memo | None, needs_input_grad: tuple[bool, ...],
           stride: Pair, padding: Padding, dilation: Pair, groups: int) -> tuple[Any, Memo | None]:
    """``Conv2d``'s forward: y (N, O, *out_hw) from x (N, C, H, W) and w (O, C/g, k_h, k_w),
    and the Memo for its backward (None on the kn2row path: it has no columns to keep).
    ``memo``: the caller's (a ``ConvTranspose2d`` backward's), whose columns of x it reuses."""
    n, c = x.shape[:2]
    o, cg, kh, kw = w.shape
    if use_kn2row(o, c, stride, groups):
        return kn2row_conv(x, w, padding, dilation, out_hw), None
    layout = _layout(n, cg * kh * kw, out_hw[0] * out_hw[1])
    cols = _reuse(memo, ("columns", layout), x, lambda: _im2col(
        x, (kh, kw), stride, padding, dilation, groups, out_hw, layout))
    w_mat = w.reshape(groups, o // groups, cg * kh * kw)  # (g, O/g, K)
    xp = backend.array_module(x)
    y = _unrows(xp.matmul(w_mat, cols), (n, o) + tuple(out_hw), groups, layout)
    mine = _sharing(needs_input_grad, "rows")
    # The weight gradient needs these same columns: keep them if they are small.
    if needs_input_grad[1] and cols.nbytes <= _KEEP_COLUMNS_BYTES:
        mine.keep(("columns", layout), x, cols)
    return y, mine


def conv_transpose2d(y: Any, w: Any, out_hw: Pair, memo: Memo | None,
                     needs_input_grad: tuple[bool, ...], stride: Pair, padding: Padding,
                     dilation: Pair, groups: int) -> tuple[Any, Memo]:
    """``ConvTranspose2d``'s forward: x (N, C, *out_hw) from y (N, O, H_in, W_in) and
    w (O, C/g, k_h, k_w), and the Memo for its backward. ``memo``: the caller's (a
    ``Conv2d`` backward's), whose rows of y it reuses."""
    n, o, hi, wi = y.shape
    _, cg, kh, kw = w.shape
    mine = _sharing(needs_input_grad, "columns")
    layout = _layout(n, cg * kh * kw, hi * wi)
    # Here kn2row wins already with as many output as input channels when the maps are
    # large ("bat"): its copies replace the col2im loop over large maps, the slowest step.
    if use_kn2row(o, cg * groups, stride, groups, ratio=1 if layout == "bat" else 2):
        return kn2row_transpose(y, w, padding, dilation, out_hw), mine
    w_mat = w.reshape(groups, o // groups, cg * kh * kw)  # (g, O/g, K)
    rows = _reuse(memo, ("rows", layout), y, lambda: _rows(y, groups, layout))
    cols = backend.array_module(y).matmul(w_mat.transpose(0, 2, 1), rows)
    x = _col2im(cols, (n, cg * groups) + tuple(out_hw), (kh, kw), stride, padding, dilation,
                (hi, wi), layout)
    return x, mine


def conv2d_weight(x: Any, y: Any, kernel: Pair, memo: Memo | None, stride: Pair,
                  padding: Padding, dilation: Pair, groups: int) -> Any:
    """``Conv2dWeight``'s forward: the correlation (O, C/g, k_h, k_w) of x (N, C, H, W) with
    y (N, O, H_out, W_out). ``memo``: the caller's (a ``Conv2d`` or ``ConvTranspose2d``
    backward's), whose columns of x and rows of y it reuses."""
    n, o, ho, wo = y.shape
    c = x.shape[1]
    if use_kn2row(o, c, stride, groups):
        return kn2row_weight(x, y, padding, dilation, kernel)
    layout = _layout(n, (c // groups) * kernel[0] * kernel[1], ho * wo)
    cols = _reuse(memo, ("columns", layout), x, lambda: _im2col(
        x, kernel, stride, padding, dilation, groups, (ho, wo), layout))
    rows = _reuse(memo, ("rows", layout), y, lambda: _rows(y, groups, layout))
    xp = backend.array_module(x)
    if layout == "bat":  # (N, g, O/g, L) @ (N, g, L, K), summed over the images
        w = xp.matmul(rows, cols.transpose(0, 1, 3, 2)).sum(axis=0)
    else:  # one product over all images at once: (g, O/g, N·L) @ (g, N·L, K)
        w = xp.matmul(rows, cols.transpose(0, 2, 1))
    return w.reshape(o, c // groups, kernel[0], kernel[1])
