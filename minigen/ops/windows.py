"""Sliding windows over images: the shared machinery of convolution and pooling.

A k×k window slides over an (N, C, H, W) image with a ``stride`` and a ``dilation``
(the gap between the taps of one window). Output position (p, q) sees the taps

    x[n, c, p·s_h + i·d_h, q·s_w + j·d_w]   for i < k_h, j < k_w.

``sliding_windows`` returns all windows as a *view* (no copy) of shape
(N, C, k_h, k_w, H_out, W_out): reshaping it to (N, C·k_h·k_w, H_out·W_out) makes one
copy, the *im2col* matrix, and a convolution becomes one matrix product.
``add_windows`` is its adjoint (*col2im*): it adds every window back onto the image
positions it was read from, where overlapping windows add up.
"""
from __future__ import annotations

from typing import Any

from minigen import backend


def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """PyTorch's rule: ⌊(size + 2·padding - dilation·(kernel - 1) - 1) / stride⌋ + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pad_zeros(x: Any, padding: tuple[int, int, int, int]) -> Any:
    """x (N, C, H, W) with (top, bottom, left, right) zero borders.

    Allocating zeros and assigning the middle is 1.5–4x faster than ``xp.pad``.
    """
    top, bottom, left, right = padding
    if not any(padding):
        return x
    n, c, h, w = x.shape
    xp = backend.array_module(x)
    out = xp.zeros((n, c, h + top + bottom, w + left + right), dtype=x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out


def sliding_windows(x: Any, kernel: tuple[int, int], stride: tuple[int, int],
                    dilation: tuple[int, int]) -> Any:
    """A read-only view (N, C, k_h, k_w, H_out, W_out) of every window of x (N, C, H, W).

    """
    # BEGIN SOLUTION im2col
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ho = output_size(h, kh, sh, 0, dh)
    wo = output_size(w, kw, sw, 0, dw)
    s_n, s_c, s_h, s_w = x.strides
    xp = backend.array_module(x)
    return xp.lib.stride_tricks.as_strided(
        x, shape=(n, c, kh, kw, ho, wo),
        strides=(s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw))
    # END SOLUTION


def add_windows(target: Any, windows: Any, stride: tuple[int, int],
                dilation: tuple[int, int]) -> Any:
    """col2im: ``target[n, c, p·s_h + i·d_h, q·s_w + j·d_w] += windows[n, c, i, j, p, q]``.

    ``target`` (N, C, H, W) is updated in place and returned. One strided slice per kernel
    tap, so the loop runs k_h·k_w times, never over pixels or images.
    """
    # BEGIN SOLUTION col2im
    _, _, kh, kw, ho, wo = windows.shape
    (sh, sw), (dh, dw) = stride, dilation
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
        for j in range(kw):
            cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
            target[:, :, rows, cols] += windows[:, :, i, j]
    return target
    # END SOLUTION


def pair(value: Any, name: str) -> tuple[int, int]:
    """An int or a pair of ints as (height, width); anything else is a clear error."""
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return (int(value[0]), int(value[1]))
    raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
