"""How good are trained autoencoders? Judge run folders of ``minigen train`` with the
pretrained ``DigitClassifier``.

Run:  python benchmarks/eval_autoencoders.py RUN [RUN ...] [--n 1000] [--seed 0]

e.g. after ``minigen train ae``, ``minigen train vae`` and ``minigen train cvae``::

    python benchmarks/eval_autoencoders.py runs/ae runs/vae runs/cvae

For each run it prints a Markdown row with:

* the last test loss from ``metrics.json``: the negative ELBO (vae, cvae) or the
  reconstruction BCE (ae), in nats per image, and the training seconds (the sum of the
  epochs' times, evaluation and file writing excluded);
* ``confidence``: the mean, over ``--n`` samples decoded from z ~ N(0, I), of the
  classifier's largest softmax probability. Images that look like a clear digit score
  near 1; blobs between classes score lower. A VAE's samples should beat an AE's, whose
  codes do not follow N(0, I);
* ``classes``: how many of the ten digits the samples were classified as (coverage);
* cvae only, ``label accuracy``: the fraction of samples asked for class c (n/10 of each
  class) that the classifier calls c, and the worst class.

The classifier was trained on digits; runs on ``--dataset fashion`` only get the loss.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import minigen
from minigen import backend
from minigen.models import DigitClassifier
from minigen.models.autoencoders import CVAE
from minigen.runs import METRICS, load_run, read_checkpoint

np = backend.np


def classify(classifier: DigitClassifier, images) -> tuple:  # type: ignore[no-untyped-def]
    """(predicted classes (N,), max softmax probabilities (N,)) as NumPy arrays."""
    predicted, confidence = [], []
    with minigen.no_grad():
        for start in range(0, len(images), 500):
            classes, probs = classifier.predict(minigen.tensor(images[start:start + 500]))
            predicted.append(classes.numpy())
            confidence.append(probs.numpy().max(axis=1))
    return np.concatenate(predicted), np.concatenate(confidence)


def evaluate_run(folder: Path, classifier: DigitClassifier, n: int, seed: int) -> dict:
    model, checkpoint = load_run(folder).model, read_checkpoint(folder)
    config = checkpoint["config"]
    metrics = json.loads((folder / METRICS).read_text())
    row = {"run": str(folder), "model": config["model"], "latent": config["latent_dim"],
           "epochs": checkpoint["epoch"], "test_loss": metrics["test_loss"],
           "train_seconds": sum(e["seconds"] for e in metrics["epochs"])}
    if config["dataset"] != "digits":
        return row
    minigen.manual_seed(seed)
    labels = np.repeat(np.arange(10), n // 10) if isinstance(model, CVAE) else None
    images = (model.sample(n) if labels is None else model.sample(len(labels), labels)).numpy()
    predicted, confidence = classify(classifier, images)
    row["confidence"] = float(confidence.mean())
    row["classes"] = int(len(np.unique(predicted)))
    if labels is not None:
        per_class = [float((predicted[labels == c] == c).mean()) for c in range(10)]
        row["label_accuracy"] = float((predicted == labels).mean())
        row["worst_class"] = (int(np.argmin(per_class)), min(per_class))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders of 'minigen train'")
    parser.add_argument("--n", type=int, default=1000, help="samples per run (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the samples (default 0)")
    args = parser.parse_args()
    classifier = DigitClassifier(pretrained=True)
    print("| run | model | latent | epochs | test loss (nats/image) | train s | confidence "
          "| classes | label accuracy (worst class) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for folder in args.runs:
        r = evaluate_run(folder, classifier, args.n, args.seed)
        loss = ("neg ELBO " if r["model"] != "ae" else "BCE ") + f"{r['test_loss']:.2f}"
        confidence = f"{r['confidence']:.3f}" if "confidence" in r else "-"
        classes = str(r.get("classes", "-"))
        accuracy = "-"
        if "label_accuracy" in r:
            worst, worst_accuracy = r["worst_class"]
            accuracy = f"{r['label_accuracy']:.1%} ({worst}: {worst_accuracy:.0%})"
        print(f"| {r['run']} | {r['model']} | {r['latent']} | {r['epochs']} | {loss} "
              f"| {r['train_seconds']:.0f} | {confidence} | {classes} | {accuracy} |")


if __name__ == "__main__":
    main()
