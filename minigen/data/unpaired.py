"""Unpaired image domains made from the embedded digits, for CycleGAN.

CycleGAN learns a translation X -> Y from two *unpaired* sets (*datos no emparejados*):
images of X and images of Y, with no y given for any x. ``load_unpaired`` builds such
sets from the 4 000 training digits: it splits them into two disjoint halves, shuffles
each on its own (no hidden pairs remain), and turns the second half into domain Y.
Three pairs of domains:

* ``"thin-thick"`` (the default): thin strokes (erosion) vs thick strokes (dilation).
  On the test set the true translation is known: the thick version of the same digit.
* ``"handwritten-typeset"``: the digits as they are vs digits typeset in the fonts that
  matplotlib ships (``render_digits``): a change of style that keeps the class.
* ``"digits-negatives"``: digits vs negatives 1 - x, a quick smoke test (the identity
  loss must be off: it asks G(y) ≈ y, the opposite of an inversion).

Erosion and dilation (*erosión, dilatación*) are the minimum and maximum over a 3×3
neighbourhood::

    erode(x)[i, j]  = min { x[i + a, j + b] : (a, b) in the footprint }
    dilate(x)[i, j] = max { x[i + a, j + b] : (a, b) in the footprint }

with the background (0) outside the image. At 28×28 a 3×3 erosion wipes out strokes
two pixels wide (the classifier then recognizes about half of the eroded test digits),
so ``thin_strokes`` and ``thick_strokes`` work at twice the resolution: each pixel
becomes a 2×2 block, a 3×3 cross (*plus*) erodes or dilates, and each 2×2 block is
averaged back: half a pixel off or onto every stroke's border.

Images are NumPy arrays (N, 1, 28, 28) float32 in [0, 1] like ``load_digits``'.

>>> data = load_unpaired("thin-thick", train_size=100, test_size=10)
>>> data.names, data.x_train.shape, data.y_test.shape, data.paired_test
(('thin', 'thick'), (100, 1, 28, 28), (10, 1, 28, 28), True)
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Callable

from minigen import backend, checks
from minigen.data.embedded import load_digits

DOMAIN_PAIRS: dict[str, tuple[str, str]] = {"thin-thick": ("thin", "thick"),
                                            "handwritten-typeset": ("handwritten", "typeset"),
                                            "digits-negatives": ("digits", "negatives")}
FOOTPRINTS = {"square": ((1, 1, 1), (1, 1, 1), (1, 1, 1)),
              "plus": ((0, 1, 0), (1, 1, 1), (0, 1, 0))}

# The fonts matplotlib ships with digits in them (not the symbol-only STIXSize*, cmex, ...).
FONTS = ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique",
         "DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSerif", "DejaVuSerif-Bold",
         "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic", "STIXGeneral", "STIXGeneralBol",
         "STIXGeneralItalic", "STIXGeneralBolIta", "cmr10", "cmb10", "cmss10", "cmtt10")
_SUPERSAMPLE = 4          # render at 4x the resolution, then average 4x4 blocks (anti-aliasing)


# ---------------------------------------------------------------- erosion and dilation
def _neighbourhood(images: Any, reduce: Callable[..., Any], footprint: str) -> Any:
    """``reduce`` (min or max) over the 3×3 neighbourhood of every pixel of (..., H, W)."""
    checks.one_of("erode/dilate", "footprint", footprint, tuple(FOOTPRINTS))
    if getattr(images, "ndim", 0) < 2:
        raise ValueError(f"erode/dilate: expected images (..., H, W), got {type(images).__name__} "
                         f"of shape {getattr(images, 'shape', None)}")
    xp = backend.array_module(images)
    h, w = images.shape[-2:]
    padded = xp.pad(images, [(0, 0)] * (images.ndim - 2) + [(1, 1), (1, 1)])  # (..., H+2, W+2)
    out = None
    for a, row in enumerate(FOOTPRINTS[footprint]):
        for b, inside in enumerate(row):
            if inside:
                view = padded[..., a:a + h, b:b + w]       # x[i + a - 1, j + b - 1]
                out = view.copy() if out is None else reduce(out, view)
    return out


def erode(images: Any, footprint: str = "square") -> Any:
    """3×3 erosion: each pixel becomes the minimum of its neighbourhood (strokes get thinner).

    >>> from minigen import backend
    >>> x = backend.np.zeros((5, 5)); x[1:4, 1:4] = 1
    >>> int(erode(x).sum()), int(erode(x, "plus").sum())      # only the centre survives
    (1, 1)
    """
    xp = backend.array_module(images)
    return _neighbourhood(images, xp.minimum, footprint)


def dilate(images: Any, footprint: str = "square") -> Any:
    """3×3 dilation: each pixel becomes the maximum of its neighbourhood (strokes get thicker).

    >>> from minigen import backend
    >>> x = backend.np.zeros((5, 5)); x[2, 2] = 1
    >>> int(dilate(x).sum()), int(dilate(x, "plus").sum())
    (9, 5)
    """
    xp = backend.array_module(images)
    return _neighbourhood(images, xp.maximum, footprint)


def _at_double_resolution(images: Any, operation: Callable[[Any], Any]) -> Any:
    """``operation`` on the images upsampled 2× (pixel -> 2×2 block), then 2×2 means."""
    xp = backend.array_module(images)
    big = xp.repeat(xp.repeat(images, 2, axis=-2), 2, axis=-1)       # (..., 2H, 2W)
    out = operation(big)
    h, w = images.shape[-2:]
    return out.reshape(out.shape[:-2] + (h, 2, w, 2)).mean(axis=(-3, -1)).astype(images.dtype)


def thin_strokes(images: Any) -> Any:
    """Domain "thin": a cross-shaped 3×3 erosion at twice the resolution."""
    return _at_double_resolution(images, lambda big: erode(big, "plus"))


def thick_strokes(images: Any) -> Any:
    """Domain "thick": a cross-shaped 3×3 dilation at twice the resolution."""
    return _at_double_resolution(images, lambda big: dilate(big, "plus"))


def negatives(images: Any) -> Any:
    """Domain "negatives": 1 - x (ink becomes background)."""
    return 1 - images


# ---------------------------------------------------------------- typeset digits
@functools.lru_cache(maxsize=None)
def _glyphs() -> dict[tuple[str, int], list[Any]]:
    """The outline of every digit in every font: closed polygons (in font units, y up)."""
    import os  # noqa: PLC0415

    import matplotlib  # noqa: PLC0415 — only the typeset domain needs it
    from matplotlib.font_manager import FontProperties  # noqa: PLC0415
    from matplotlib.textpath import TextPath  # noqa: PLC0415

    folder = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
    glyphs = {}
    for font in FONTS:
        prop = FontProperties(fname=os.path.join(folder, font + ".ttf"))
        for digit in range(10):
            glyphs[font, digit] = TextPath((0, 0), str(digit), size=100, prop=prop).to_polygons()
    return glyphs


def _render_one(polygons: list[Any], rng: Any, grid: Any) -> Any:
    """One glyph at a random size, rotation and position, with jittered strokes: (28, 28)."""
    from matplotlib.path import Path  # noqa: PLC0415
    from matplotlib.transforms import Affine2D  # noqa: PLC0415

    np = backend.np
    corners = np.concatenate(polygons)
    low, high = corners.min(axis=0), corners.max(axis=0)
    scale = rng.uniform(17, 21) / (high[1] - low[1])             # height 17-21 px, as MNIST's 20
    scale = min(scale, 20 / (high[0] - low[0]))                  # width at most 20 px
    centre = (low + high) / 2
    place = (Affine2D().translate(-centre[0], -centre[1])
             .scale(scale, -scale)                               # font y is up, image rows down
             .rotate_deg(rng.uniform(-12, 12))
             .translate(*(14 + rng.uniform(-1.5, 1.5, size=2))))
    inside = np.zeros(len(grid), dtype=bool)
    for polygon in polygons:             # even-odd rule: the holes of 0, 4, 6, 8, 9 stay empty
        corners = place.transform(polygon) + rng.normal(0, 0.2, polygon.shape)  # wobbly outline
        inside ^= Path(corners).contains_points(grid)
    side = 28 * _SUPERSAMPLE
    ink = inside.reshape(side, side).astype(np.float32)
    width = int(rng.integers(-1, 4))      # stroke jitter: -1 .. 3 sub-pixel erosions/dilations
    for _ in range(abs(width)):
        ink = dilate(ink, "plus") if width > 0 else erode(ink, "plus")
    return ink.reshape(28, _SUPERSAMPLE, 28, _SUPERSAMPLE).mean(axis=(1, 3))


def render_digits(labels: Any, seed: int = 0) -> Any:
    """Typeset digits: ``labels[i]`` in a random font of ``FONTS``, deterministic given ``seed``.

    Each digit gets a random height (17-21 px) and rotation (±12°), a shift (±1.5 px)
    from the centre, a jittered outline (σ = 0.2 px per vertex) and a random stroke
    width; it is drawn at 4× the resolution and averaged down (anti-aliased like
    MNIST). No download: the fonts ship with matplotlib.

    Returns:
        float32 (N, 1, 28, 28) in [0, 1], a NumPy array.

    >>> images = render_digits([3, 7], seed=0)
    >>> images.shape, bool(images.max() > 0.9), bool((render_digits([3, 7], 0) == images).all())
    ((2, 1, 28, 28), True, True)
    """
    np = backend.np
    labels = np.asarray(backend.to_numpy(labels))
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or (labels.size and (
            labels.min() < 0 or labels.max() > 9)):
        raise ValueError(f"render_digits: labels must be digits 0-9 in a 1-d integer array, got "
                         f"{labels.dtype} of shape {labels.shape}")
    glyphs = _glyphs()
    rng = np.random.default_rng(seed)
    centres = (np.arange(28 * _SUPERSAMPLE) + 0.5) / _SUPERSAMPLE            # sub-pixel centres
    cols, rows = np.meshgrid(centres, centres)
    grid = np.stack([cols.ravel(), rows.ravel()], axis=1)                    # (x, y) points
    images = np.zeros((len(labels), 1, 28, 28), dtype=np.float32)
    for i, digit in enumerate(labels):
        font = FONTS[int(rng.integers(len(FONTS)))]
        images[i, 0] = _render_one(glyphs[font, int(digit)], rng, grid)
    return images


# ---------------------------------------------------------------- the domains
@dataclass
class UnpairedDigits:
    """Two domains X and Y: unpaired training sets, and test sets (paired when T is known).

    ``x_*_labels`` / ``y_*_labels`` are the digits' classes (for measuring whether a
    translation keeps the class; training never sees them). When ``paired_test`` is
    True, ``y_test[i]`` is the true translation of ``x_test[i]`` (the same test digit).
    """

    pair: str
    names: tuple[str, str]
    x_train: Any
    x_train_labels: Any
    y_train: Any
    y_train_labels: Any
    x_test: Any
    x_test_labels: Any
    y_test: Any
    y_test_labels: Any
    paired_test: bool


_TRANSFORMS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any] | None]] = {
    "thin-thick": (thin_strokes, thick_strokes),
    "handwritten-typeset": (lambda x: x, None),       # Y is rendered from the labels
    "digits-negatives": (lambda x: x, negatives),
}


def _check_size(name: str, size: Any, available: int) -> None:
    if size is None:
        return
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= available:
        raise ValueError(f"load_unpaired: {name} must be an integer from 1 to {available}, "
                         f"got {size!r}")


@functools.lru_cache(maxsize=8)
def _build(pair: str, seed: int, train_size: int | None, test_size: int | None) -> UnpairedDigits:
    np = backend.np
    to_x, to_y = _TRANSFORMS[pair]
    images, labels = load_digits("train")
    test_images, test_labels = load_digits("test")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    half = len(images) // 2
    first = rng.permutation(order[:half])[:train_size]     # two disjoint halves, each
    second = rng.permutation(order[half:])[:train_size]    # shuffled on its own: no pairs
    test_images, test_labels = test_images[:test_size], test_labels[:test_size]
    if to_y is None:                                       # typeset: drawn, not transformed
        y_train = render_digits(labels[second], seed=seed)
        y_test = render_digits(test_labels, seed=seed + 1)
    else:
        y_train, y_test = to_y(images[second]), to_y(test_images)
    return UnpairedDigits(pair, DOMAIN_PAIRS[pair], to_x(images[first]), labels[first],
                          y_train, labels[second], to_x(test_images), test_labels,
                          y_test, test_labels, paired_test=to_y is not None)


def load_unpaired(pair: str = "thin-thick", seed: int = 0, train_size: int | None = None,
                  test_size: int | None = None) -> UnpairedDigits:
    """Two unpaired domains built from ``load_digits`` (see the module docstring).

    Args:
        pair: one of ``DOMAIN_PAIRS``: "thin-thick", "handwritten-typeset", "digits-negatives".
        seed: the split into halves, their order and the typeset digits (same seed, same data).
        train_size: images per domain (at most 2 000, the default); the first of each half.
        test_size: the first N of the 1 000 test digits (default all), in both domains.

    Returns:
        An ``UnpairedDigits`` of NumPy arrays (copies: yours to change).
    """
    if pair not in DOMAIN_PAIRS:
        raise ValueError(f"load_unpaired: unknown pair {pair!r}; expected one of "
                         + ", ".join(DOMAIN_PAIRS))
    seed = checks.positive_int("load_unpaired", "seed", seed, minimum=0)
    _check_size("train_size", train_size, 2000)
    _check_size("test_size", test_size, 1000)
    data = _build(pair, seed, train_size, test_size)          # cached: hand out copies
    return dataclasses.replace(data, **{name: getattr(data, name).copy() for name in (
        "x_train", "x_train_labels", "y_train", "y_train_labels", "x_test", "x_test_labels",
        "y_test", "y_test_labels")})
