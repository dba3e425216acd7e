"""Convolution speed: forward+backward milliseconds and peak memory, float32, on the CPU.

Run:  python benchmarks/bench_conv.py [--min-time 0.25] [--rounds 5] [--cases abcdef]

Cases (the layers the course's models are made of):
  (a) conv2d           N=64  1->32  28x28 k3 s2 p1      (an encoder's first layer)
  (b) conv2d           N=64 32->64  14x14 k3 s2 p1      (an encoder's second layer)
  (c) conv2d           N=1  64->64  64x64 k3 s1, reflect padding 1 (CycleGAN)
  (d) conv_transpose2d N=64 64->32  7x7 -> 14x14 k3 s2 p1 op1 (a decoder layer)
  (e) conv2d           N=64 32->1   28x28 k3 s1 p1      (a decoder's last layer)
  (f) one training step of minigen.models.DigitClassifier (batch 64, Adam)

When PyTorch is installed (never a dependency of minigen; ``pip install torch`` gives a
CPU build) it times the same work in the same run and prints the ratio minigen / torch.

How it times: ``--rounds`` rounds (default 5) per case, each timing minigen and then torch
for ``--min-time`` seconds (at least 7 calls after 2 warm-ups). A library's figure is the
median of its calls over all rounds; the ratio is the median of the rounds' ratios. The
rounds interleave the two libraries because a small cloud VM changes speed for seconds
at a time (seen here: the same minigen call at 3.4 ms for a few seconds, then at 6.2 ms,
with both cores busy), and a ratio should compare the libraries on the same machine state.
Peak memory is minigen's largest traced allocation during one forward+backward
(tracemalloc), measured in a separate untimed call.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time
import tracemalloc
from typing import Any, Callable

import numpy as np

import minigen as mg
import minigen.functional as F

try:
    import torch
except ImportError:  # the table then has minigen's column only
    torch = None


def call_ms(fn: Callable[[], Any], min_time: float) -> list[float]:
    """Milliseconds of each timed call of fn: at least 7, for about ``min_time`` seconds."""
    # Both libraries keep worker threads that spin for a while after a parallel call; let
    # the other library's threads go idle first, or they steal the cores being measured.
    time.sleep(0.5)
    for _ in range(2):
        fn()
    times: list[float] = []
    start_all = time.perf_counter()
    while len(times) < 7 or (time.perf_counter() - start_all < min_time and len(times) < 200):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def timed_rounds(ours: Callable[[], Any], theirs: Callable[[], Any] | None, rounds: int,
                 min_time: float) -> tuple[float, float | None, float | None]:
    """(minigen ms, torch ms, ratio): medians over all calls, and the median of the rounds'
    ratios; each round times both libraries one after the other."""
    our_calls: list[float] = []
    their_calls: list[float] = []
    ratios: list[float] = []
    for _ in range(rounds):
        ours_now = call_ms(ours, min_time)
        our_calls += ours_now
        if theirs is not None:
            theirs_now = call_ms(theirs, min_time)
            their_calls += theirs_now
            ratios.append(statistics.median(ours_now) / statistics.median(theirs_now))
    if theirs is None:
        return statistics.median(our_calls), None, None
    return statistics.median(our_calls), statistics.median(their_calls), statistics.median(ratios)


def peak_mb(fn: Callable[[], Any]) -> float:
    fn()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


# ---------------------------------------------------------------- the cases
def conv_case(n: int, c_in: int, c_out: int, size: int, stride: int, padding: int,
              reflect: bool = False) -> tuple[Callable, Callable | None]:
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((n, c_in, size, size)).astype(np.float32)
    w_np = (rng.standard_normal((c_out, c_in, 3, 3)) * 0.1).astype(np.float32)
    x = mg.tensor(x_np, requires_grad=True)
    w = mg.tensor(w_np, requires_grad=True)

    def ours() -> None:
        x.grad = w.grad = None
        inp = F.pad(x, (padding,) * 4, mode="reflect") if reflect else x
        y = F.conv2d(inp, w, stride=stride, padding=0 if reflect else padding)
        y.backward(mg.ones_like(y))

    theirs = None
    if torch is not None:
        xt = torch.tensor(x_np, requires_grad=True)
        wt = torch.tensor(w_np, requires_grad=True)

        def theirs() -> None:
            xt.grad = wt.grad = None
            inp = torch.nn.functional.pad(xt, (padding,) * 4, mode="reflect") if reflect else xt
            y = torch.nn.functional.conv2d(inp, wt, stride=stride, padding=0 if reflect else padding)
            y.backward(torch.ones_like(y))
    return ours, theirs


def conv_transpose_case() -> tuple[Callable, Callable | None]:
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((64, 64, 7, 7)).astype(np.float32)
    w_np = (rng.standard_normal((64, 32, 3, 3)) * 0.1).astype(np.float32)
    x = mg.tensor(x_np, requires_grad=True)
    w = mg.tensor(w_np, requires_grad=True)

    def ours() -> None:
        x.grad = w.grad = None
        y = F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
        y.backward(mg.ones_like(y))

    theirs = None
    if torch is not None:
        xt = torch.tensor(x_np, requires_grad=True)
        wt = torch.tensor(w_np, requires_grad=True)

        def theirs() -> None:
            xt.grad = wt.grad = None
            y = torch.nn.functional.conv_transpose2d(xt, wt, stride=2, padding=1, output_padding=1)
            y.backward(torch.ones_like(y))
    return ours, theirs


def torch_digit_classifier():  # type: ignore[no-untyped-def]
    """The same network as minigen.models.DigitClassifier, in PyTorch (for timing only)."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
        nn.Dropout(0.3), nn.Linear(128, 10))


def classifier_step_case() -> tuple[Callable, Callable | None] | None:
    try:
        from minigen.models import DigitClassifier
        from minigen.optim import Adam
    except ImportError:
        return None
    rng = np.random.default_rng(0)
    x_np = rng.random((64, 1, 28, 28)).astype(np.float32)
    y_np = rng.integers(0, 10, 64)
    model = DigitClassifier()
    opt = Adam(model.parameters(), lr=1e-3)
    x, y = mg.tensor(x_np), mg.tensor(y_np)

    def ours() -> None:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    theirs = None
    if torch is not None:
        net = torch_digit_classifier()
        topt = torch.optim.Adam(net.parameters(), lr=1e-3)
        xt, yt = torch.tensor(x_np), torch.tensor(y_np)

        def theirs() -> None:
            topt.zero_grad()
            torch.nn.functional.cross_entropy(net(xt), yt).backward()
            topt.step()
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-time", type=float, default=0.25,
                        help="seconds of timed calls per library and round (at least 7 calls)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds per case, each timing minigen and then torch")
    parser.add_argument("--cases", default="abcdef",
                        help="which cases to run, by letter (default: all, abcdef)")
    args = parser.parse_args()
    # Time what a training run gets: freed arrays kept for reuse (MINIGEN_MALLOC=system
    # times glibc's default instead; benchmarks/README.md compares the two).
    mg.memory.tune_allocator()
    cases: list[tuple[str, Any]] = [
        ("(a) conv2d N=64 1->32 28x28 k3 s2 p1", conv_case(64, 1, 32, 28, 2, 1)),
        ("(b) conv2d N=64 32->64 14x14 k3 s2 p1", conv_case(64, 32, 64, 14, 2, 1)),
        ("(c) conv2d N=1 64->64 64x64 k3 s1 reflect-pad 1", conv_case(1, 64, 64, 64, 1, 1, True)),
        ("(d) conv_transpose2d N=64 64->32 7->14 k3 s2 p1 op1", conv_transpose_case()),
        ("(e) conv2d N=64 32->1 28x28 k3 s1 p1", conv_case(64, 32, 1, 28, 1, 1)),
        ("(f) DigitClassifier training step, batch 64", classifier_step_case()),
    ]
    threads = f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else ""
    malloc = "tuned" if mg.memory.is_tuned() else "as it is"
    print(f"minigen {mg.__version__}, numpy {np.__version__}{threads}, "
          f"Python {platform.python_version()}, float32, forward+backward, malloc {malloc}\n")
    print("| case | minigen ms | torch ms | minigen / torch | minigen peak MB |")
    print("|---|---:|---:|---:|---:|")
    for name, case in cases:
        if name[1] not in args.cases:
            continue
        if case is None:
            print(f"| {name} | not available yet | | | |")
            continue
        ours, theirs = case
        ours_ms, theirs_ms, ours_per_theirs = timed_rounds(ours, theirs, args.rounds,
                                                           args.min_time)
        memory = peak_mb(ours)
        ratio = f"{ours_per_theirs:.2f}x" if ours_per_theirs else "—"
        torch_col = f"{theirs_ms:.2f}" if theirs_ms else "—"
        print(f"| {name} | {ours_ms:.2f} | {torch_col} | {ratio} | {memory:.1f} |")


if __name__ == "__main__":
    main()
