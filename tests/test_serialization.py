"""minigen.save / minigen.load: nested checkpoints keep their structure and types, writes
are atomic (a failed write leaves the old file and no temporary file), and bad files or
values give clear errors."""
import os
import zipfile

import numpy as np
import pytest

import minigen
from minigen import backend, nn, optim


def make_model():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def assert_same(a, b):
    """Equal values of equal types, recursively (arrays: dtype, shape and values)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, minigen.Tensor):
        assert a.dtype == b.dtype and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


def test_nested_structure_and_types_survive(tmp_path):
    obj = {
        "arrays": {"f32": np.arange(6, dtype=np.float32).reshape(2, 3),
                   "i64": np.array([1, -2], dtype=np.int64), "bool": np.array([True, False]),
                   "empty": np.zeros((0, 3)), "scalar0d": np.array(2.5)},
        "tensor": minigen.tensor([1.0, 2.0], requires_grad=True),
        "int_tensor": minigen.tensor([3, 4]),
        "np_scalar": np.float32(0.5),
        "int_keys": {0: "zero", 7: [1, 2.5, None]},
        "betas": (0.9, 0.999), "epoch": 3, "lr": 1e-3, "name": "vae", "done": False,
        "nothing": None, "nested": {"deeper": {"list": [np.ones(2), (1, "a")]}},
    }
    minigen.save(obj, tmp_path / "ckpt.npz")
    assert_same(minigen.load(tmp_path / "ckpt.npz"), obj)


def test_arrays_are_stored_under_their_key_paths(tmp_path):
    model = make_model()
    opt = optim.Adam(model.parameters())
    model(minigen.ones(2, 3)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.npz"
    minigen.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}, path)
    with np.load(path) as npz:
        names = set(npz.files)
    assert {"model/0.weight", "model/2.bias", "optim/state/0/exp_avg"} <= names
    assert "__minigen__" in names


def test_model_round_trip_through_a_file_gives_identical_outputs(tmp_path):
    minigen.manual_seed(0)
    source, target = make_model(), make_model()
    x = minigen.randn(5, 3)
    minigen.save({"model": source.state_dict()}, str(tmp_path / "model.ckpt"))
    assert os.listdir(tmp_path) == ["model.ckpt"]      # written at exactly that path
    target.load_state_dict(minigen.load(str(tmp_path / "model.ckpt"))["model"])
    np.testing.assert_array_equal(target(x).numpy(), source(x).numpy())


def test_colliding_key_paths_and_reserved_names(tmp_path):
    obj = {"a/b": np.ones(1), "a": {"b": np.zeros(1)}, "file": np.full(2, 7.0),
           "__minigen__": np.arange(3)}
    minigen.save(obj, tmp_path / "c.npz")
    assert_same(minigen.load(tmp_path / "c.npz"), obj)


def test_overwriting_replaces_the_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    minigen.save({"epoch": 1}, path)
    minigen.save({"epoch": 2}, path)
    assert minigen.load(path) == {"epoch": 2}
    assert os.listdir(tmp_path) == ["ckpt.npz"]


# ---------------------------------------------------------------- atomic writes
def test_a_write_that_fails_midway_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    minigen.save({"model": make_model().state_dict(), "epoch": 1}, path)
    old_bytes = path.read_bytes()

    real_write_array = backend.np.lib.format.write_array
    written = []

    def write_then_crash(fp, array, **kwargs):
        if written:                               # the second array: the disk "fills up"
            fp.write(b"\x00" * 10)
            raise OSError("No space left on device")
        written.append(array.shape)
        real_write_array(fp, array, **kwargs)

    monkeypatch.setattr(backend.np.lib.format, "write_array", write_then_crash)
    with pytest.raises(OSError, match="No space left"):
        minigen.save({"model": make_model().state_dict(), "epoch": 2}, path)
    assert written                                # it really failed midway, not at the start
    assert path.read_bytes() == old_bytes         # the old checkpoint is intact
    assert os.listdir(tmp_path) == ["ckpt.npz"]   # and no temporary file is left behind
    monkeypatch.undo()
    assert minigen.load(path)["epoch"] == 1


def test_an_unsupported_value_fails_before_any_file_is_touched(tmp_path):
    path = tmp_path / "ckpt.npz"
    minigen.save({"epoch": 1}, path)
    for bad, match in [({"model": {"fc": make_model()}}, "model/fc is a Sequential"),
                       ({"x": {1.5: 2}}, "key 1.5 in x is a float"),
                       ({"x": np.array([None, 1])}, "x has dtype object"),
                       ({"x": {True: 1}}, "key True")]:
        with pytest.raises(TypeError, match=match):
            minigen.save(bad, path)
    assert minigen.load(path) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_saving_into_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        minigen.save({"epoch": 1}, tmp_path / "no_such_dir" / "ckpt.npz")


# ---------------------------------------------------------------- loading bad files
def test_loading_a_missing_file_names_it(tmp_path):
    path = tmp_path / "missing.npz"
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        minigen.load(path)


def test_loading_files_that_are_not_minigen_checkpoints(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, weights=np.ones(3))
    with pytest.raises(ValueError, match="plain.npz.*not a minigen checkpoint.*__minigen__"):
        minigen.load(plain)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not an npz"):
        minigen.load(text)
    single = tmp_path / "array.npy"
    np.save(single, np.ones(3))
    with pytest.raises(ValueError, match="not an npz"):
        minigen.load(single)
    odd = tmp_path / "odd.npz"
    np.savez(odd, __minigen__=np.array('{"format": "other"}'))
    with pytest.raises(ValueError, match="not a minigen checkpoint"):
        minigen.load(odd)


def test_loading_a_truncated_or_damaged_checkpoint(tmp_path):
    path = tmp_path / "ckpt.npz"
    minigen.save({"model": make_model().state_dict()}, path)
    data = path.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.npz"):
        minigen.load(cut)
    hollow = tmp_path / "hollow.npz"                # a manifest that names a missing array
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(hollow, "w") as dst:
        dst.writestr("__minigen__.npy", src.read("__minigen__.npy"))
    with pytest.raises(ValueError, match="hollow.npz.*damaged"):
        minigen.load(hollow)


def test_loading_a_newer_format_version(tmp_path):
    path = tmp_path / "future.npz"
    np.savez(path, __minigen__=np.array('{"format": "minigen", "version": 99, "root": null}'))
    with pytest.raises(ValueError, match="version 99"):
        minigen.load(path)


@pytest.mark.gpu
def test_gpu_tensors_are_saved_as_host_arrays(tmp_path):
    t = minigen.tensor([1.0, 2.0]).to("gpu")
    minigen.save({"t": t, "a": t.data}, tmp_path / "g.npz")
    loaded = minigen.load(tmp_path / "g.npz")
    assert type(loaded["a"]) is np.ndarray and loaded["a"].tolist() == [1.0, 2.0]
    assert loaded["t"].device == "cpu" and loaded["t"].tolist() == [1.0, 2.0]


def test_save_cleans_the_temporaries_a_killed_save_left(tmp_path):
    import minigen
    stale = tmp_path / ".ckpt.npz.a1b2c3.tmp"                  # as a killed save leaves it
    stale.write_bytes(b"x" * 1000)
    other = tmp_path / ".other.npz.d4e5f6.tmp"                  # another target's: kept
    other.write_bytes(b"y")
    minigen.save({"a": 1}, tmp_path / "ckpt.npz")
    assert not stale.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.npz.d4e5f6.tmp", "ckpt.npz"]
