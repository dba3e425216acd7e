"""``DigitClassifier``: a small CNN that recognizes the embedded digits.

Later lectures use it as a judge of generated digits: the class it predicts (does a
conditional model draw the digit it was asked for?), its confidence, and its
penultimate features (for a Fréchet distance between generated and real digits).
Trained weights ship with minigen (``pretrained=True``); ``python -m
minigen.training.classifier`` reproduces them.

Architecture (x: (N, 1, 28, 28), pixels in [0, 1]):

    Conv 1->32  k3 p1 + ReLU      -> (N, 32, 28, 28)
    MaxPool 2                     -> (N, 32, 14, 14)
    Conv 32->64 k3 p1 + ReLU      -> (N, 64, 14, 14)
    MaxPool 2                     -> (N, 64, 7, 7)
    Flatten                       -> (N, 3136)
    Linear 3136->128 + ReLU       -> (N, 128)   the features
    Dropout 0.3, Linear 128->10   -> (N, 10)    the logits
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from minigen import backend, nn
from minigen.ops import argmax, softmax
from minigen.ops.arguments import as_tensor
from minigen.serialization import load
from minigen.tensor import Tensor

WEIGHTS = Path(__file__).with_name("digit_classifier.npz")


class DigitClassifier(nn.Module):
    """Logits over the ten digit classes for images (N, 1, 28, 28) in [0, 1]."""

    def __init__(self, pretrained: bool = False) -> None:
        super().__init__()
        # A pretrained judge draws its initial weights from scratch streams: loading it
        # must not move the seeded stream, or a training run would depend on whether a
        # metric had loaded the judge earlier in the process.
        with backend.scratch_random() if pretrained else contextlib.nullcontext():
            self._build()
        if pretrained:
            self.load_state_dict(load(WEIGHTS)["model"])
            self.eval()

    def _build(self) -> None:
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),              # (N, 32, 28, 28)
            nn.MaxPool2d(2),                                        # (N, 32, 14, 14)
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),             # (N, 64, 14, 14)
            nn.MaxPool2d(2),                                        # (N, 64, 7, 7)
            nn.Flatten(),                                           # (N, 3136)
            nn.Linear(64 * 7 * 7, 128), nn.ReLU(),                  # (N, 128)
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(128, 10))  # (N, 10)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
            raise ValueError(f"DigitClassifier: expected images (N, 1, 28, 28), got shape {x.shape}")
        return self.head(self.features(x))

    def embed(self, x: Any) -> Tensor:
        """The 128 penultimate features of each image (N, 128)."""
        return self.features(as_tensor(x))

    def predict(self, x: Any) -> tuple[Tensor, Tensor]:
        """(predicted class (N,), softmax probabilities (N, 10)), for a model in eval mode."""
        probs = softmax(self(x), axis=1)
        return argmax(probs, axis=1), probs
