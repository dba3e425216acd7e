"""``MaskedConv2d``: a convolution that sees only the pixels before the current one.

An autoregressive model writes p(k) = Π_i p(k_i | k_<i), positions i in raster order (row
by row, left to right). A convolution computing the distribution of position i may then
look only at positions < i: its kernel is multiplied by a fixed mask (*máscara*) that
zeroes the taps at the current position's right and in the rows below. For a 5x5 kernel
(the centre is the output position):

    type "A"          type "B"
    1 1 1 1 1         1 1 1 1 1
    1 1 1 1 1         1 1 1 1 1
    1 1 0 0 0         1 1 1 0 0
    0 0 0 0 0         0 0 0 0 0
    0 0 0 0 0         0 0 0 0 0

Type A (the first layer, which reads the data) also hides the centre: output i must not
see input i, the value it predicts. Type B (every later layer) keeps the centre: its
input at i was computed from positions < i only, so it may be used. Stacking A then B's
keeps output i a function of the inputs at positions < i (PixelCNN, van den Oord et al.,
2016). All channels of a position are masked together (one variable per position, such as
a code of the VQ-VAE's code map).

Stacked A and B masks have a blind spot (*punto ciego*): the centre row's taps reach
only leftwards, so pixels above and to the right of the output are never reached, however
deep the stack. The gated PixelCNN (van den Oord et al., 2016, *Conditional image
generation with PixelCNN decoders*) removes it with two stacks: a vertical stack (mask
"V": every row up to the centre's, shifted down one row before use, so it holds rows
above only) and a horizontal stack (masks "HA" then "HB": the centre row's left part)::

    type "V"          type "HA"         type "HB"
    1 1 1 1 1         0 0 0 0 0         0 0 0 0 0
    1 1 1 1 1         0 0 0 0 0         0 0 0 0 0
    1 1 1 1 1         1 1 0 0 0         1 1 1 0 0
    0 0 0 0 0         0 0 0 0 0         0 0 0 0 0
    0 0 0 0 0         0 0 0 0 0         0 0 0 0 0
"""
from __future__ import annotations

from typing import Any

from minigen import backend, checks
from minigen.nn.conv import Conv2d
from minigen.ops import conv2d
from minigen.tensor import Tensor

MASK_TYPES = ("A", "B", "V", "HA", "HB")


def causal_mask(kernel_size: int, mask_type: str) -> Any:
    """The (kernel_size, kernel_size) 0/1 mask of a type "A", "B", "V", "HA" or "HB" masked
    convolution (see the module).

    >>> causal_mask(3, "A").astype(int).tolist()
    [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    >>> causal_mask(3, "B").astype(int).tolist()
    [[1, 1, 1], [1, 1, 0], [0, 0, 0]]
    """
    checks.one_of("MaskedConv2d", "mask_type", mask_type, MASK_TYPES)
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1 \
            or kernel_size % 2 == 0:
        raise ValueError(f"MaskedConv2d: kernel_size must be an odd positive integer (the "
                         f"output position is the centre), got {kernel_size!r}")
    xp = backend.xp
    # BEGIN SOLUTION pixelcnn_mask
    mask = xp.zeros((kernel_size, kernel_size), dtype=backend.get_default_dtype())
    centre = kernel_size // 2
    if mask_type in ("A", "B", "V"):
        mask[:centre, :] = 1                      # the rows above
    if mask_type == "V":
        mask[centre, :] = 1                       # and the whole centre row (shifted later)
    else:
        mask[centre, :centre] = 1                 # the left of the centre row
    if mask_type in ("B", "HB"):
        mask[centre, centre] = 1                  # and the centre itself
    return mask
    # END SOLUTION


class MaskedConv2d(Conv2d):
    """y = conv2d(x, W ⊙ M) + b with the causal mask M of type "A" or "B" (see the module).

    A square, odd ``kernel_size``, stride 1 and "same" zero padding (k // 2): the output
    (N, C_out, H, W) keeps the input's H x W, position by position. The mask is a buffer
    (saved, never learned); W keeps its masked taps but they get zero gradient.

    >>> import minigen
    >>> layer = MaskedConv2d(8, 16, 5, mask_type="A")
    >>> layer(minigen.zeros(2, 8, 7, 7)).shape
    (2, 16, 7, 7)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 mask_type: str = "B", bias: bool = True) -> None:
        mask = causal_mask(kernel_size, mask_type)             # checks both arguments
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                         bias=bias)
        self.mask_type = mask_type
        self.register_buffer("mask", Tensor(mask))              # (k, k), broadcast over channels

    def forward(self, x: Any) -> Tensor:
        return conv2d(x, self.weight * self.mask, self.bias, 1, self.padding)

    def extra_repr(self) -> str:
        return f"mask_type={self.mask_type!r}, " + super().extra_repr()
