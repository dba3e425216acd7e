"""Checkpoints: ``minigen.save(obj, path)`` and ``minigen.load(path)``.

A checkpoint is a nested structure of dicts, lists and tuples whose leaves are arrays,
Tensors, numbers, strings, booleans or None, e.g.::

    {"model": model.state_dict(), "optim": optimizer.state_dict(), "epoch": 3}

It is stored in one NumPy ``.npz`` file (a zip of ``.npy`` arrays):

* each array or Tensor becomes one member named by its path of keys joined with "/",
  e.g. ``model/encoder.0.weight``;
* the member ``__minigen__`` holds the structure as JSON: the key types (str or int),
  containers, small values, and which member each array went to. So ``load`` gives
  back the same types: dicts with the same keys, tuples as tuples, Tensors as Tensors.

Pickle is never used, so loading a file cannot run code hidden in it.

Saving is atomic: the file is written under a temporary name in the same folder and
then renamed over ``path`` in one step (``os.replace``). A crash while writing leaves
the previous checkpoint intact, never half of a new one.

>>> import os, tempfile
>>> import minigen
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
>>> minigen.save({"w": minigen.ones(2), "epoch": 3, "betas": (0.9, 0.999)}, path)
>>> minigen.load(path)
{'w': tensor([1., 1.]), 'epoch': 3, 'betas': (0.9, 0.999)}
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from typing import Any

from minigen import backend
from minigen.tensor import Tensor

_MANIFEST = "__minigen__"
_FORMAT_VERSION = 1
_SEPARATOR = "/"


# ---------------------------------------------------------------- saving
def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of arrays, Tensors, numbers, strings) to ``path``.

    The file is written exactly at ``path`` (no suffix is added). Unsupported values
    raise a TypeError naming their key before any file is touched.
    """
    arrays: dict[str, Any] = {}
    manifest = {"format": "minigen", "version": _FORMAT_VERSION,
                "root": _encode(obj, [], arrays)}
    # The JSON text is stored as a 0-d unicode array: np.load reads it back without pickle.
    arrays[_MANIFEST] = backend.np.array(json.dumps(manifest))

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: the folder {folder!r} of {path!r} does not exist")
    # Same folder as the target: os.replace is only atomic within one file system.
    prefix = f".{os.path.basename(path)}."
    _remove_stale_temporaries(folder, prefix)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=prefix, suffix=".tmp", delete=False)
    try:
        with handle:
            _write_npz(handle, arrays)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename makes it the checkpoint
        # A temporary file is private (0600); give the checkpoint ordinary permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)
        os.replace(handle.name, path)
    except BaseException:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
        raise


def _remove_stale_temporaries(folder: str, prefix: str) -> None:
    """Delete the ``.NAME.*.tmp`` files an earlier save of the same target left behind
    when it was killed mid-write (one writer per target is assumed, as for a run folder)."""
    for name in os.listdir(folder):
        if name.startswith(prefix) and name.endswith(".tmp"):
            try:
                os.unlink(os.path.join(folder, name))
            except FileNotFoundError:
                pass


def _write_npz(file: Any, arrays: dict[str, Any]) -> None:
    """An ``.npz`` is a zip archive holding one ``.npy`` file per array (what ``np.savez``
    writes; done by hand here so that any key, even "file", can name an array)."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays.items():
            with zf.open(name + ".npy", mode="w", force_zip64=True) as member:
                backend.np.lib.format.write_array(member, array, allow_pickle=False)


def _encode(value: Any, keys: list[Any], arrays: dict[str, Any]) -> Any:
    """The JSON description of ``value``; its arrays are added to ``arrays``."""
    member = _SEPARATOR.join(str(k) for k in keys) or "root"  # the array's name in the zip
    where = _SEPARATOR.join(str(k) for k in keys) or "the saved object"  # for messages
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save: key {k!r} in {where} is a {type(k).__name__}; "
                                "only str and int keys can be saved")
            items.append([k, _encode(v, keys + [k], arrays)])
        return {"type": "dict", "items": items}
    if isinstance(value, (list, tuple)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {"type": kind, "items": [_encode(v, keys + [i], arrays)
                                        for i, v in enumerate(value)]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"type": "value", "value": value}  # JSON keeps bool/int/float/str/None apart
    if isinstance(value, Tensor):
        return {"type": "tensor", "requires_grad": value.requires_grad,
                "name": _store(value.data, member, where, arrays)}
    if backend.is_array(value) or isinstance(value, backend.np.generic):
        kind = "scalar" if isinstance(value, backend.np.generic) else "array"
        return {"type": kind, "name": _store(value, member, where, arrays)}
    raise TypeError(f"save: {where} is a {type(value).__name__}, which cannot be saved; use "
                    "arrays, Tensors, numbers, strings, None, and dicts/lists/tuples of them")


def _store(array: Any, member: str, where: str, arrays: dict[str, Any]) -> str:
    """Add ``array`` (as NumPy) under the name ``member``, made unique; returns the name."""
    array = backend.to_numpy(array)
    if array.dtype.kind not in "biufcUS":
        raise TypeError(f"save: {where} has dtype {array.dtype}, which would need pickle")
    name, n = member, 1
    while name in arrays or name == _MANIFEST:  # keys containing "/" could collide
        n += 1
        name = f"{member}~{n}"
    arrays[name] = array
    return name


# ---------------------------------------------------------------- loading
def load(path: str | os.PathLike) -> Any:
    """Read a checkpoint written by ``minigen.save``; arrays come back as NumPy arrays,
    Tensors as Tensors on the current backend."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no checkpoint file at {path!r}")
    if not zipfile.is_zipfile(path):  # np.load would try other formats, even pickle
        raise _not_a_checkpoint(path, "it is not an npz (zip) archive")
    try:
        npz = backend.np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise _not_a_checkpoint(path, str(err)) from err
    with npz:
        if _MANIFEST not in npz.files:
            raise _not_a_checkpoint(path, f"it has no {_MANIFEST!r} entry")
        try:
            manifest = json.loads(str(npz[_MANIFEST]))
            if manifest["format"] != "minigen":
                raise ValueError(f"format is {manifest['format']!r}")
        except (KeyError, TypeError, ValueError, OSError, zipfile.BadZipFile) as err:
            raise _not_a_checkpoint(path, f"its {_MANIFEST!r} entry is unreadable: {err}") from err
        if manifest.get("version") != _FORMAT_VERSION:
            raise ValueError(f"load: {path!r} has checkpoint format version "
                             f"{manifest.get('version')!r}; this minigen reads version "
                             f"{_FORMAT_VERSION}")
        try:
            return _decode(manifest["root"], npz)
        except (KeyError, TypeError, ValueError, OSError, zipfile.BadZipFile) as err:
            raise _not_a_checkpoint(path, f"its contents are damaged: {err!r}") from err


def _not_a_checkpoint(path: str, reason: str) -> ValueError:
    return ValueError(f"load: {path!r} is not a minigen checkpoint ({reason})")


def _decode(node: Any, npz: Any) -> Any:
    kind = node["type"]
    if kind == "dict":
        return {k: _decode(v, npz) for k, v in node["items"]}
    if kind == "list":
        return [_decode(v, npz) for v in node["items"]]
    if kind == "tuple":
        return tuple(_decode(v, npz) for v in node["items"])
    if kind == "value":
        return node["value"]
    if kind == "array":
        return npz[node["name"]]
    if kind == "scalar":
        return npz[node["name"]][()]
    if kind == "tensor":
        data = backend.to_module(npz[node["name"]], backend.xp)
        return Tensor(data, requires_grad=node["requires_grad"])
    raise ValueError(f"unknown entry type {kind!r}")
