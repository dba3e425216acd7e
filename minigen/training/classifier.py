"""Train ``DigitClassifier`` on the embedded digits and save the shipped weights.

    python -m minigen.training.classifier [--epochs 20] [--out PATH] [--seed 0]

Adam (lr 1e-3 decaying linearly to 2e-5), batch 64, small random shifts of the training digits (±1 pixel) so
the classifier also judges digits that are not perfectly centred, as generated ones
often are. Prints the test accuracy after each epoch; writes ``{"model": state_dict,
"test_accuracy": ..., "epochs": ...}`` with ``minigen.save``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import minigen
import minigen.functional as F
from minigen import backend
from minigen.data import DataLoader, load_digits
from minigen.models.classifier import WEIGHTS, DigitClassifier
from minigen.optim import Adam
from minigen.optim.lr_scheduler import LinearLR


def shift_images(images, max_shift: int, rng):  # type: ignore[no-untyped-def]
    """Each image moved by a random (dy, dx) in [-max_shift, max_shift], zeros filled in."""
    np = backend.np
    n, _, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    dy = rng.integers(0, 2 * max_shift + 1, n)
    dx = rng.integers(0, 2 * max_shift + 1, n)
    rows = dy[:, None] + np.arange(h)[None, :]                   # (N, H)
    cols = dx[:, None] + np.arange(w)[None, :]                   # (N, W)
    picked = padded[np.arange(n)[:, None, None], 0, rows[:, :, None], cols[:, None, :]]  # (N, H, W)
    return picked[:, None]                                                              # (N, 1, H, W)


def accuracy(model: DigitClassifier, images, labels) -> float:  # type: ignore[no-untyped-def]
    model.eval()
    correct = 0
    with minigen.no_grad():
        for start in range(0, len(images), 500):
            predicted, _ = model.predict(minigen.tensor(images[start:start + 500]))
            correct += int((predicted.numpy() == labels[start:start + 500]).sum())
    model.train()
    return correct / len(images)


def train(epochs: int = 20, seed: int = 0, verbose: bool = True) -> tuple[DigitClassifier, float]:
    minigen.manual_seed(seed)
    rng = backend.np.random.default_rng(seed)
    train_x, train_y = load_digits("train")
    test_x, test_y = load_digits("test")
    model = DigitClassifier()
    optimizer = Adam(model.parameters(), lr=1e-3)
    # The learning rate falls linearly to 2% of its start over the epochs: large steps
    # to learn fast, small ones at the end to settle.
    schedule = LinearLR(optimizer, start_factor=1.0, end_factor=0.02, total_iters=epochs)
    acc = 0.0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        shifted = shift_images(train_x, 1, rng)
        for x, y in DataLoader((shifted, train_y), 64, shuffle=True, seed=seed + epoch):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        schedule.step()
        acc = accuracy(model, test_x, test_y)
        if verbose:
            print(f"epoch {epoch:2d}  loss {loss.item():.4f}  test accuracy {acc:.4f}  "
                  f"({time.perf_counter() - start:.1f} s)")
    model.eval()
    return model, acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args()
    model, acc = train(args.epochs, args.seed)
    minigen.save({"model": model.state_dict(), "test_accuracy": acc, "epochs": args.epochs},
                 args.out)
    print(f"saved {args.out} (test accuracy {acc:.4f})")


if __name__ == "__main__":
    main()
