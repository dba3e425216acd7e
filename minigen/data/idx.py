"""IDX files, the format of the full MNIST and Fashion-MNIST, read with ``struct``.

Format (all integers big-endian, "most significant byte first")::

    offset   size        what
    0        2 bytes     0x00 0x00
    2        1 byte      data type: 0x08 = unsigned byte (the only type minigen reads)
    3        1 byte      number of dimensions d: 3 for images, 1 for labels
    4        4·d bytes   the size of each dimension, one uint32 each
    4 + 4·d  N·… bytes   the data, one byte per value, row-major (last index fastest)

So an image file begins with the magic number 0x00000803 and the sizes N, rows, cols;
a label file with 0x00000801 and N. The distributions name them::

    train-images-idx3-ubyte   train-labels-idx1-ubyte     60 000 training examples
    t10k-images-idx3-ubyte    t10k-labels-idx1-ubyte      10 000 test examples

often gzipped (``.gz``). A tiny image file, two 1x2 images, built by hand:

>>> import struct
>>> raw = struct.pack(">IIII", IMAGES_MAGIC, 2, 1, 2) + bytes([0, 255, 7, 9])
>>> parse_idx(raw, ndim=3).tolist()
[[[0, 255]], [[7, 9]]]
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import Any

from minigen import backend
from minigen.data.common import check_split, to_model_arrays

IMAGES_MAGIC = 0x00000803   # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801   # unsigned bytes, 1 dimension
UNSIGNED_BYTE = 0x08

FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


# ---------------------------------------------------------------- one file
def parse_idx(raw: bytes, ndim: int, name: str = "<bytes>") -> Any:
    """The uint8 array stored in the IDX bytes ``raw``, which must have ``ndim`` dimensions.

    Args:
        raw: the whole (uncompressed) file.
        ndim: the number of dimensions expected: 3 for images, 1 for labels.
        name: the file name, for error messages.

    Returns:
        A NumPy uint8 array of the shape written in the header, e.g. (N, 28, 28) or (N,).

    Raises:
        ValueError: naming the file and what was expected, when the magic number, the data
            type code or the number of dimensions is wrong, or the data is truncated or too long.
    """
    expected_magic = (UNSIGNED_BYTE << 8) | ndim
    if len(raw) < 4:
        raise ValueError(f"{name}: only {len(raw)} bytes, too short for an IDX file "
                         f"(expected the magic number 0x{expected_magic:08X} first)")
    (magic,) = struct.unpack(">I", raw[:4])
    type_code, file_ndim = (magic >> 8) & 0xFF, magic & 0xFF
    if magic >> 16 != 0:
        # gzip files begin with the bytes 1f 8b: a common mistake is a .gz without its suffix.
        hint = "; it looks gzipped: give it a .gz name" if raw[:2] == b"\x1f\x8b" else ""
        raise ValueError(f"{name}: not an IDX file: magic number 0x{magic:08X}, "
                         f"expected 0x{expected_magic:08X}{hint}")
    if type_code != UNSIGNED_BYTE:
        raise ValueError(f"{name}: data type code 0x{type_code:02X} (magic number "
                         f"0x{magic:08X}), expected 0x08, unsigned bytes (magic number "
                         f"0x{expected_magic:08X})")
    if file_ndim != ndim:
        raise ValueError(f"{name}: {file_ndim} dimensions (magic number 0x{magic:08X}), "
                         f"expected {ndim} (magic number 0x{expected_magic:08X})")

    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"{name}: truncated header: {len(raw)} bytes, expected at least "
                         f"{header_size} (magic number and {ndim} sizes)")
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])   # e.g. (60000, 28, 28)
    n_values = math.prod(shape)
    n_data = len(raw) - header_size
    if n_data != n_values:
        problem = "truncated" if n_data < n_values else "too long"
        raise ValueError(f"{name}: {problem}: {n_data} data bytes after the header, expected "
                         f"{n_values} for shape {shape}")
    # frombuffer views the bytes without copying (read-only); copy to a normal array.
    return backend.np.frombuffer(raw, dtype=backend.np.uint8, offset=header_size) \
        .reshape(shape).copy()


def read_idx(path: str | os.PathLike, ndim: int) -> Any:
    """Read an IDX file (gunzipped on the fly when its name ends in ``.gz``); see ``parse_idx``.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not valid gzip (for ``.gz``) or not valid IDX.
    """
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (gzip.BadGzipFile, EOFError, zlib.error) as err:
            raise ValueError(f"{path}: not a valid gzip file ({err})") from err
    return parse_idx(raw, ndim, name=str(path))


# ---------------------------------------------------------------- a data set in a folder
def _folder(path: str | os.PathLike | None, subfolder: str, caller: str) -> Path:
    """``path`` itself, or ``$MINIGEN_DATA/<subfolder>`` when it is None."""
    if path is not None:
        return Path(path)
    root = os.environ.get("MINIGEN_DATA")
    if not root:
        raise FileNotFoundError(
            f"{caller}: no folder given; pass path=<folder with the IDX files> or set the "
            f"environment variable MINIGEN_DATA (files are then read from "
            f"$MINIGEN_DATA/{subfolder})")
    # One subfolder per data set: MNIST and Fashion-MNIST use the same file names.
    return Path(root) / subfolder


def _find(folder: Path, name: str) -> Path | None:
    """``folder/name`` or ``folder/name.gz``, whichever exists (the plain file first)."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _load_idx_split(path: str | os.PathLike | None, split: str, subfolder: str,
                    caller: str) -> tuple[Any, Any]:
    check_split(split, caller)
    folder = _folder(path, subfolder, caller)
    names = FILES[split]
    wanted = ", ".join(f"{name}[.gz]" for name in names)
    if not folder.is_dir():
        raise FileNotFoundError(f"{caller}: folder {folder} does not exist "
                                f"(looking for {wanted})")
    images_path, labels_path = (_find(folder, name) for name in names)
    missing = [name for name, found in zip(names, (images_path, labels_path)) if found is None]
    if missing:
        raise FileNotFoundError(f"{caller}: in folder {folder}, found neither "
                                + "; neither ".join(f"{m} nor {m}.gz" for m in missing))

    images = read_idx(images_path, ndim=3)   # uint8 (N, 28, 28)
    labels = read_idx(labels_path, ndim=1)   # uint8 (N,)
    if len(images) != len(labels):
        raise ValueError(f"{caller}: {images_path} holds {len(images)} images but "
                         f"{labels_path} holds {len(labels)} labels; expected the same number")
    return to_model_arrays(images, labels)


def load_mnist(path: str | os.PathLike | None = None,
               split: str = "train") -> tuple[Any, Any]:
    """The full MNIST (60 000 train / 10 000 test digits) from its four IDX files.

    Args:
        path: the folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
            ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each may be ``.gz``).
            None: the folder ``$MINIGEN_DATA/mnist``.
        split: ``"train"`` (the ``train-*`` files) or ``"test"`` (the ``t10k-*`` files).

    Returns:
        ``(images, labels)`` as NumPy arrays, like ``load_digits``: float32 (N, 1, 28, 28) in
        [0, 1] and int64 (N,).

    Raises:
        ValueError: unknown ``split``; a corrupt file (bad magic number or data type,
            truncated, images and labels of different counts), naming the file.
        FileNotFoundError: no folder given and MINIGEN_DATA unset, or a file missing (the
            message names the files looked for and the folder). Catch it to fall back to the
            shipped subset: ``except FileNotFoundError: images, labels = load_digits()``.
    """
    return _load_idx_split(path, split, "mnist", "load_mnist")


def load_fashion_mnist(path: str | os.PathLike | None = None,
                       split: str = "train") -> tuple[Any, Any]:
    """The full Fashion-MNIST (60 000 / 10 000) from its IDX files; as ``load_mnist``.

    None for ``path`` reads ``$MINIGEN_DATA/fashion_mnist``. Class names: ``FASHION_CLASSES``.
    """
    return _load_idx_split(path, split, "fashion_mnist", "load_fashion_mnist")
