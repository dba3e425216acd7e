"""The diffusion run against a DCGAN run, judged in one sitting by ``minigen.metrics``.

Run:  python benchmarks/eval_diffusion.py DCGAN_RUN [--ddpm RUN] [--n 1000] [--n-guided 200]
      [--seed 0]

``--ddpm`` defaults to the shipped run (``minigen.runs.shipped_run("ddpm")``); DCGAN_RUN is a
folder of ``minigen train dcgan``. It prints two Markdown tables:

* the Fréchet Digit Distance (the Fréchet distance between the pretrained
  ``DigitClassifier``'s features of the samples and of the first ``--n`` test digits) of
  ``--n`` unconditional diffusion samples (DDIM, the run's ``sample_steps``, label ∅), of
  ``--n`` conditional ones asked for the classes in turn at w = 0 and w = 1, of
  ``--n`` DCGAN samples, and of ``--n`` training digits (the floor), with each one's time
  and its largest class share. The same n for all: the distance is biased upwards at small
  n, so only distances of equal n compare;
* the class accuracy of ``--n-guided`` guided samples (the classes in turn, the same noise for
  every w) at w = 0, 1, 3 and 5, with their time per 100 images.
"""
from __future__ import annotations

import argparse
import time

import minigen
from minigen import backend, metrics
from minigen.data import load_digits
from minigen.runs import load_run, shipped_run
from minigen.training.diffusion import NULL, sample_digits

np = backend.np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dcgan", help="a run folder of minigen train dcgan")
    parser.add_argument("--ddpm", help="a run folder of minigen train ddpm (default: shipped)")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--n-guided", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    diffusion = load_run(args.ddpm) if args.ddpm else shipped_run("ddpm")
    dcgan = load_run(args.dcgan)
    steps = diffusion.config.sample_steps
    test = load_digits("test")[0][:args.n]
    reference = metrics.gaussian(metrics.features(test))

    def judge(name, draw):  # type: ignore[no-untyped-def]
        minigen.manual_seed(args.seed)
        start = time.perf_counter()
        images = draw()
        seconds = time.perf_counter() - start
        p, f = metrics.judge_outputs(images)
        fdd = metrics.frechet_distance(*metrics.gaussian(f), *reference)
        largest = metrics.histogram_of(p).max() / len(images)
        print(f"| {name} | {fdd:.1f} | {largest:.1%} | {seconds:.0f} |")

    print(f"FDD against {len(test)} test digits, n = {args.n} samples each\n")
    print("| samples | FDD | largest class | seconds |\n|---|---:|---:|---:|")
    judge("training digits (the floor)", lambda: load_digits("train")[0][:args.n])
    judge(f"ddpm, unconditional (DDIM {steps})", lambda: sample_digits(
        diffusion.ema, diffusion.schedule, np.full(args.n, NULL), 0.0, steps))
    # The classes in turn: the conditional model as a model of p(x) = Σ_y p(y) p(x | y).
    in_turn = np.arange(args.n) % 10
    for w in (0.0, 1.0):
        judge(f"ddpm, the classes in turn, w = {w:g} (DDIM {steps})", lambda: sample_digits(
            diffusion.ema, diffusion.schedule, in_turn, w, steps))
    judge("dcgan", lambda: dcgan.sample(args.n, None)[0])

    print(f"\nclass accuracy of {args.n_guided} guided ddpm samples (DDIM {steps})\n")
    print("| w | class accuracy | seconds per 100 |\n|---:|---:|---:|")
    labels = np.arange(args.n_guided) % 10
    for w in (0.0, 1.0, 3.0, 5.0):
        minigen.manual_seed(args.seed + 1)
        start = time.perf_counter()
        images = sample_digits(diffusion.ema, diffusion.schedule, labels, w, steps)
        seconds = (time.perf_counter() - start) * 100 / args.n_guided
        print(f"| {w:g} | {metrics.conditional_accuracy(images, labels):.1%} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
