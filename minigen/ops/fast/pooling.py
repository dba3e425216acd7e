"""Fast max pooling backward: windows that tile the image need no col2im.

The reference ``MaxPool2dBackward`` (``minigen.ops.pooling``) builds one gradient map per
kernel tap, ∂L/∂y where that tap won its window and 0 elsewhere, and adds them back onto
the image with ``add_windows`` (col2im). When the windows tile the image exactly (stride =
kernel, no padding, nothing left over, as in the usual 2×2 pooling), every pixel belongs
to exactly one window and one tap, so each tap's map can be written straight into its
pixels of an uninitialized image: no zero fill, no taps buffer, no adds.
"""
from __future__ import annotations

from typing import Any

from minigen import backend

Pair = tuple[int, int]


def tiles(shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair) -> bool:
    """Do the windows tile an image of ``shape`` (N, C, H, W) exactly? Then every pixel
    belongs to exactly one window.

    >>> tiles((1, 1, 4, 4), (2, 2), (2, 2), (0, 0)), tiles((1, 1, 5, 4), (2, 2), (2, 2), (0, 0))
    (True, False)
    """
    (kh, kw), (h, w) = kernel, shape[2:]
    return tuple(stride) == tuple(kernel) and tuple(padding) == (0, 0) and h % kh == 0 \
        and w % kw == 0


def max_pool_backward_tiled(g: Any, winner: Any, kernel: Pair) -> Any:
    """x[n, c, p·k_h + i, q·k_w + j] = g[n, c, p, q] if tap (i, j) won window (p, q), else 0,
    for windows that tile the image (``tiles``). g, winner (N, C, H_out, W_out) -> x
    (N, C, H_out·k_h, W_out·k_w)."""
    xp = backend.array_module(g)
    n, c, ho, wo = g.shape
    kh, kw = kernel
    image = xp.empty((n, c, ho * kh, wo * kw), dtype=g.dtype)
    pixels = image.reshape(n, c, ho, kh, wo, kw)             # pixel (p·kh + i, q·kw + j)
    for t in range(kh * kw):
        i, j = divmod(t, kw)
        xp.multiply(g, winner == t, out=pixels[:, :, :, i, :, j])
    return image
