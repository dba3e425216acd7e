"""How much the autograd engine costs: microseconds per forward+backward.

Run:  python benchmarks/bench_engine.py [--repeats N]

Prints a Markdown table with, for each case, minigen's median time, the same
arithmetic written by hand in plain NumPy (forward and the hand-derived backward), and
their ratio. The difference is the framework's overhead: building Tensors, recording
the graph, ordering it and calling each op's backward.

Cases:
* a small elementwise op (16 elements): almost pure per-op overhead;
* a 64x256 @ 256x256 matmul: the arithmetic dominates;
* a chain of 10 000 small ops: the backward walk over a long graph.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

import minigen as mg


def median_us(fn, repeats: int, inner: int = 1) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times) * 1e6


def bench_elementwise(repeats: int) -> tuple[float, float]:
    a = mg.randn(16, requires_grad=True)
    b = mg.randn(16, requires_grad=True)
    g = mg.randn(16)

    def framework():
        a.grad = b.grad = None
        (a * b).backward(g)

    an, bn, gn = a.numpy(), b.numpy(), g.numpy()

    def numpy_by_hand():
        _ = an * bn
        return gn * bn, gn * an

    return median_us(framework, repeats, 200), median_us(numpy_by_hand, repeats, 200)


def bench_matmul(repeats: int) -> tuple[float, float]:
    a = mg.randn(64, 256, requires_grad=True)
    b = mg.randn(256, 256, requires_grad=True)
    g = mg.randn(64, 256)

    def framework():
        a.grad = b.grad = None
        (a @ b).backward(g)

    an, bn, gn = a.numpy(), b.numpy(), g.numpy()

    def numpy_by_hand():
        _ = an @ bn
        return gn @ bn.T, an.T @ gn

    return median_us(framework, repeats, 10), median_us(numpy_by_hand, repeats, 10)


def bench_chain(repeats: int, length: int = 10_000) -> tuple[float, float]:
    x = mg.randn(8, requires_grad=True)

    def framework():
        x.grad = None
        y = x
        for _ in range(length // 2):  # two ops per step
            y = y * 0.999 + 0.001
        y.sum().backward()

    xn = x.numpy()

    def numpy_by_hand():
        y = xn
        for _ in range(length // 2):
            y = y * 0.999 + 0.001
        g = np.ones_like(xn)
        for _ in range(length // 2):
            g = g * 0.999
        return g

    return median_us(framework, max(3, repeats // 10)), median_us(numpy_by_hand, max(3, repeats // 10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    mg.manual_seed(0)
    rows = [
        ("elementwise mul, 16 elements", *bench_elementwise(args.repeats)),
        ("matmul 64x256 @ 256x256", *bench_matmul(args.repeats)),
        ("chain of 10 000 ops (8 elements)", *bench_chain(args.repeats)),
    ]
    print(f"minigen {mg.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
          f"float32, forward+backward, median of {args.repeats} runs\n")
    print("| case | minigen (µs) | plain NumPy by hand (µs) | ratio |")
    print("|---|---:|---:|---:|")
    for name, ours, plain in rows:
        print(f"| {name} | {ours:,.1f} | {plain:,.1f} | {ours / plain:.1f}x |")
    chain = rows[2][1]
    print(f"\nper op in the chain: {chain / 10_000:.2f} µs (forward + backward)")


if __name__ == "__main__":
    main()
