"""What each fast kernel buys: forward+backward ms with it and with it switched off.

Run:  python benchmarks/bench_fast_paths.py [--min-time 0.25] [--rounds 3] [--only kln,kn2row]

Each speed-up of ``minigen/ops/fast`` is switched off on its own (the others stay on) by
replacing the one function that chooses it, as the tests do to force every path:

  kln      ``fast.conv._layout`` -> always "bat" (per-image columns)
  scatter  ``fast.conv._scatter_col2im`` -> always False (add_windows' loop over taps)
  kn2row   ``fast.conv.use_kn2row`` -> always False (im2col)
  shared   ``fast.conv._reuse`` -> always recompute (no columns or rows shared between ops)
  maxpool  ``fast.pooling.tiles`` -> always False (the taps buffer and add_windows)

Timing as in ``bench_conv.py``: rounds that interleave the two variants, medians of the
calls, the ratio as the median of the rounds' ratios. float32, on the CPU.
"""
from __future__ import annotations

import argparse
from typing import Any, Callable
from unittest import mock

import numpy as np

import minigen as mg
import minigen.functional as F
from minigen.ops.fast import conv as fast_conv
from minigen.ops.fast import pooling as fast_pooling

from bench_conv import timed_rounds

OFF: dict[str, tuple[Any, str, Any]] = {
    "kln": (fast_conv, "_layout", lambda n, k, l: "bat"),
    "scatter": (fast_conv, "_scatter_col2im", lambda out_hw: False),
    "kn2row": (fast_conv, "use_kn2row", lambda *args, **kwargs: False),
    "shared": (fast_conv, "_reuse", lambda memo, key, source, compute: compute()),
    "maxpool": (fast_pooling, "tiles", lambda *args: False),
}


def conv_step(n: int, c_in: int, c_out: int, size: int, stride: int,
              transposed: bool = False) -> Callable[[], None]:
    """forward+backward of one 3×3, padding-1 layer (output_padding stride-1 when transposed)."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((n, c_in, size, size)).astype(np.float32), requires_grad=True)
    shape = (c_in, c_out, 3, 3) if transposed else (c_out, c_in, 3, 3)
    w = mg.tensor((rng.standard_normal(shape) * 0.1).astype(np.float32), requires_grad=True)

    def step() -> None:
        x.grad = w.grad = None
        if transposed:
            y = F.conv_transpose2d(x, w, stride=stride, padding=1, output_padding=stride - 1)
        else:
            y = F.conv2d(x, w, stride=stride, padding=1)
        y.backward(mg.ones_like(y))
    return step


def pool_step(n: int, c: int, size: int) -> Callable[[], None]:
    """forward+backward of a 2×2 max pool."""
    x = mg.tensor(np.random.default_rng(0).standard_normal((n, c, size, size)).astype(np.float32),
                  requires_grad=True)

    def step() -> None:
        x.grad = None
        y = F.max_pool2d(x, 2)
        y.backward(mg.ones_like(y))
    return step


CASES = [
    ("kln", "conv2d N=64 32->64 14x14 s2 (bench (b))", conv_step(64, 32, 64, 14, 2)),
    ("kln", "conv_transpose2d N=64 64->32 7->14 s2 (bench (d))", conv_step(64, 64, 32, 7, 2, True)),
    ("scatter", "conv2d N=4 32->32 14x14 s2 (W_out 7)", conv_step(4, 32, 32, 14, 2)),
    ("scatter", "conv2d N=1 64->64 16x16 s2 (W_out 8)", conv_step(1, 64, 64, 16, 2)),
    ("kn2row", "conv2d N=64 32->1 28x28 s1 (bench (e))", conv_step(64, 32, 1, 28, 1)),
    ("kn2row", "conv2d N=64 32->16 14x14 s1", conv_step(64, 32, 16, 14, 1)),
    ("kn2row", "conv2d N=1 64->64 64x64 s1 (convT by kn2row, bench (c))",
     conv_step(1, 64, 64, 64, 1)),
    ("shared", "conv2d N=64 32->64 14x14 s2 (bench (b))", conv_step(64, 32, 64, 14, 2)),
    ("shared", "conv_transpose2d N=64 64->32 7->14 s2 (bench (d))",
     conv_step(64, 64, 32, 7, 2, True)),
    ("maxpool", "max_pool2d 2x2 N=64 32ch 28x28 (the classifier's)", pool_step(64, 32, 28)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-time", type=float, default=0.25)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default=",".join(OFF), help="comma-separated: " + ",".join(OFF))
    args = parser.parse_args()
    chosen = args.only.split(",")
    print("| speed-up | layer, forward+backward | with ms | without ms | without / with |")
    print("|---|---|---:|---:|---:|")
    for name, layer, step in CASES:
        if name not in chosen:
            continue
        module, attribute, replacement = OFF[name]

        def without(step: Callable[[], None] = step) -> None:
            with mock.patch.object(module, attribute, replacement):
                step()
        with_ms, without_ms, ratio = timed_rounds(step, without, args.rounds, args.min_time)
        print(f"| {name} | {layer} | {with_ms:.2f} | {without_ms:.2f} | {1 / ratio:.2f}x |")


if __name__ == "__main__":
    main()
