"""Honest numbers for generated digits, judged by the shipped ``DigitClassifier``.

A GAN's losses say little about its samples, so the course measures them:

* **class histogram** of the classifier's predictions and its KL divergence to the
  uniform distribution: 0 when every digit is drawn equally often, ln 10 ≈ 2.30 when
  only one digit is ever drawn (mode collapse, *colapso de modos*);
* **Inception Score** with the digit classifier in Inception's place:
  IS = exp(E_x KL(p(y|x) || p(y))), high (up to 10) when each sample is clearly one
  digit and all digits appear;
* **Fréchet Digit Distance** between the classifier's penultimate features f of two
  image sets, each summarized by a Gaussian (μ, Σ):
  FDD = ||μ₁ - μ₂||² + Tr(Σ₁ + Σ₂ - 2 (Σ₁ Σ₂)^½); 0 for identical statistics;
* **conditional accuracy**: how often a sample asked for class c is classified as c.

Real test digits give the reference values. Images are (N, 1, 28, 28) in [0, 1].
"""
from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.grad_mode import no_grad
from minigen.models.classifier import DigitClassifier
from minigen.ops import softmax
from minigen.tensor import Tensor

_judge: DigitClassifier | None = None


def _classifier(classifier: DigitClassifier | None) -> DigitClassifier:
    global _judge
    if classifier is not None:
        return classifier
    if _judge is None:
        _judge = DigitClassifier(pretrained=True)
    return _judge


def _host(images: Any) -> Any:
    data = images.data if isinstance(images, Tensor) else images
    data = backend.to_numpy(data)
    if data.ndim != 4 or data.shape[1:] != (1, 28, 28):
        raise ValueError(f"metrics: expected images (N, 1, 28, 28) in [0, 1], got shape {data.shape}")
    return data.astype("float32")


def _batches(images: Any, size: int = 500):  # type: ignore[no-untyped-def]
    for start in range(0, len(images), size):
        yield Tensor(backend.xp.asarray(images[start:start + size]))


def class_probabilities(images: Any, classifier: DigitClassifier | None = None) -> Any:
    """p(y|x) for every image: (N, 10) NumPy array."""
    return judge_outputs(images, classifier)[0]


def features(images: Any, classifier: DigitClassifier | None = None) -> Any:
    """The classifier's penultimate features (N, 128) as a NumPy array."""
    return judge_outputs(images, classifier)[1]


def judge_outputs(images: Any, classifier: DigitClassifier | None = None) -> tuple[Any, Any]:
    """(p(y|x) (N, 10), penultimate features f (N, 128)) from one pass of the classifier:
    the logits are its head applied to f. Every metric below is a function of these two,
    so a caller that needs several metrics runs the classifier once."""
    np = backend.np
    model = _classifier(classifier).eval()
    probs, feats = [], []
    with no_grad():
        for x in _batches(_host(images)):
            f = model.embed(x)                                  # (B, 128)
            probs.append(softmax(model.head(f), axis=1).numpy())
            feats.append(f.numpy())
    return np.concatenate(probs).astype("float64"), np.concatenate(feats).astype("float64")


def class_histogram(images: Any, classifier: DigitClassifier | None = None) -> Any:
    """How many images the classifier assigns to each digit: (10,) integer counts."""
    return histogram_of(class_probabilities(images, classifier))


def histogram_of(p_yx: Any) -> Any:
    """The class histogram (10,) of classifier probabilities p(y|x) (N, 10)."""
    return backend.np.bincount(p_yx.argmax(axis=1), minlength=10)


def kl_to_uniform(counts: Any) -> float:
    """KL(p || uniform) = Σ p_k ln(10 p_k) of a class histogram: 0 = balanced, ln 10 = one class."""
    np = backend.np
    p = np.asarray(counts, dtype="float64")
    p = p / p.sum()
    nonzero = p > 0
    return float((p[nonzero] * np.log(len(p) * p[nonzero])).sum())


def inception_score(images: Any, classifier: DigitClassifier | None = None) -> float:
    """exp(E_x KL(p(y|x) || p(y))) with p(y) the mean of p(y|x) over the images."""
    return inception_score_of(class_probabilities(images, classifier))


def inception_score_of(p_yx: Any) -> float:
    """The Inception Score of classifier probabilities p(y|x) (N, 10)."""
    np = backend.np
    p_yx = np.clip(p_yx, 1e-12, 1.0)                                      # (N, 10)
    p_y = p_yx.mean(axis=0, keepdims=True)                                # (1, 10)
    kl = (p_yx * (np.log(p_yx) - np.log(p_y))).sum(axis=1)                # (N,)
    return float(np.exp(kl.mean()))


def gaussian(f: Any) -> tuple[Any, Any]:
    """(μ (D,), Σ (D, D)) of features f (N, D): the Gaussian a Fréchet distance compares."""
    return f.mean(axis=0), backend.np.cov(f, rowvar=False)


def frechet_distance(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """||μ₁ - μ₂||² + Tr(Σ₁ + Σ₂ - 2 (Σ₁ Σ₂)^½) between two Gaussians.

    Tr (Σ₁Σ₂)^½ = Σ √λ over the eigenvalues λ of Σ₁^½ Σ₂ Σ₁^½, a symmetric positive
    semi-definite matrix with the same eigenvalues as Σ₁Σ₂: two symmetric eigensolves,
    no general matrix square root.
    """
    np = backend.np
    values, vectors = np.linalg.eigh(sigma1)
    root1 = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T      # Σ₁^½
    inner = np.linalg.eigvalsh(root1 @ sigma2 @ root1)
    trace_root = np.sqrt(np.clip(inner, 0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_root)


def frechet_digit_distance(images_a: Any, images_b: Any,
                           classifier: DigitClassifier | None = None) -> float:
    """The Fréchet distance between the classifier features of two image sets."""
    return frechet_distance(*gaussian(features(images_a, classifier)),
                            *gaussian(features(images_b, classifier)))


def conditional_accuracy(images: Any, labels: Any, classifier: DigitClassifier | None = None) -> float:
    """The fraction of images classified as the label they were generated for."""
    return conditional_accuracy_of(class_probabilities(images, classifier), labels)


def conditional_accuracy_of(p_yx: Any, labels: Any) -> float:
    """The fraction of rows of p(y|x) (N, 10) whose most probable class is ``labels`` (N,)."""
    np = backend.np
    labels = np.asarray(backend.to_numpy(labels.data if isinstance(labels, Tensor) else labels))
    predicted = p_yx.argmax(axis=1)
    if labels.shape != predicted.shape:
        raise ValueError(f"conditional_accuracy: {len(predicted)} images but labels of shape "
                         f"{labels.shape}")
    return float((predicted == labels).mean())


def mean_confidence(images: Any, classifier: DigitClassifier | None = None) -> float:
    """The mean of the classifier's largest class probability: how digit-like samples look."""
    return float(class_probabilities(images, classifier).max(axis=1).mean())
