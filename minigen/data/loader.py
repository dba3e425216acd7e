"""``DataLoader``: cut equally long arrays into mini-batches of tensors, one epoch per loop.

An epoch visits every sample exactly once. With ``shuffle=True`` each epoch uses a new
random order, a permutation drawn from the loader's own generator; two loaders built with
the same ``seed`` therefore give the same batches, epoch after epoch::

    epoch 1: perm = rng.permutation(N);  batches = rows perm[0:B], perm[B:2B], ...
    epoch 2: a fresh rng.permutation(N), ...

>>> import minigen
>>> from minigen.data import DataLoader
>>> images, labels = minigen.backend.np.zeros((10, 1, 28, 28)), minigen.backend.np.arange(10)
>>> loader = DataLoader((images, labels), batch_size=4, shuffle=True, seed=0)
>>> len(loader)                              # batches of 4, 4 and 2
3
>>> x, y = next(iter(loader))
>>> x.shape, x.dtype, y.shape, y.dtype       # floats get the default dtype
((4, 1, 28, 28), dtype('float32'), (4,), dtype('int64'))
"""
from __future__ import annotations

from typing import Any, Iterator, Sequence

from minigen import backend
from minigen.creation import tensor
from minigen.tensor import Tensor


class DataLoader:
    """Mini-batches of ``arrays`` (e.g. ``(images, labels)``), as tuples of tensors.

    Args:
        arrays: a tuple (or list) of arrays with the same first dimension N; row i of each
            is sample i. NumPy arrays, or anything ``minigen.tensor`` accepts; they are kept
            in host memory and each batch is copied to the current backend when it is made.
        batch_size: samples per batch (> 0).
        shuffle: a new random order every epoch (else rows 0, 1, 2, ... in order).
        seed: seeds the loader's own generator. None: a shuffled loader draws its seed
            from minigen's generator, so ``minigen.manual_seed`` before building the loader
            fixes the order (an in-order loader draws nothing).
        drop_last: leave out the last batch when it is smaller than ``batch_size``.

    Yields:
        One tuple of tensors per batch, in the order of ``arrays``: ``(B, ...)`` each. Floating
        arrays become the default dtype (float32 unless changed); integer labels stay integer.

    Raises:
        TypeError: ``arrays`` is a single array rather than a tuple of them, or ``batch_size``
            or ``seed`` is not an integer, or an array holds something other than numbers.
        ValueError: no arrays, arrays of different lengths (the message lists them), a
            0-d array, ``batch_size <= 0`` or a negative seed.
    """

    def __init__(self, arrays: Sequence[Any], batch_size: int, shuffle: bool = False,
                 seed: int | None = None, drop_last: bool = False) -> None:
        if not isinstance(arrays, (tuple, list)):
            raise TypeError("DataLoader: arrays must be a tuple of arrays such as "
                            "(images, labels); for a single array write (images,)")
        if len(arrays) == 0:
            raise ValueError("DataLoader: arrays is empty; give at least one array")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be positive, got {batch_size}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"DataLoader: seed must be an int or None, got {seed!r}")
        if seed is not None and seed < 0:
            raise ValueError(f"DataLoader: seed must be non-negative, got {seed}")

        host = [a.numpy() if isinstance(a, Tensor) else backend.to_numpy(a) for a in arrays]
        for i, a in enumerate(host):
            if a.ndim == 0:
                raise ValueError(f"DataLoader: array {i} is 0-d (a single number); every "
                                 "array needs a first dimension to batch along")
            if a.dtype.kind not in "fiub":
                raise TypeError(f"DataLoader: array {i} has dtype {a.dtype}; expected numbers")
        lengths = [len(a) for a in host]
        if len(set(lengths)) != 1:
            raise ValueError(f"DataLoader: the arrays must be equally long, got lengths {lengths}")

        if seed is None and shuffle:
            # Drawn from minigen's generator, so manual_seed() makes the shuffles repeat too.
            # An in-order loader draws nothing: evaluating a model must not move the stream.
            seed = int(backend.rng(backend.np).integers(0, 2**63 - 1))
        self.arrays = tuple(host)
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.num_samples = lengths[0]
        self._rng = backend.np.random.default_rng(seed)   # advanced once per shuffled epoch

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        full, rest = divmod(self.num_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        np = backend.np
        n = self.num_samples
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)   # (N,)
        for b in range(len(self)):
            rows = order[b * self.batch_size:(b + 1) * self.batch_size]       # (B,)
            # Index on the host, then move only this batch to the current backend.
            yield tuple(tensor(backend.to_module(a[rows], backend.xp)) for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.arrays)
        return (f"DataLoader(arrays of shapes {shapes}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")
