"""minigen.data: the shipped digit and clothes sets, the IDX reader, and the DataLoader."""
import gzip
import struct

import numpy as np
import pytest

import minigen
from minigen.data import (DIGIT_CLASSES, FASHION_CLASSES, DataLoader, load_digits, load_fashion,
                          load_fashion_mnist, load_mnist, parse_idx)
from minigen.data import embedded
from minigen.data.idx import IMAGES_MAGIC, LABELS_MAGIC

EMBEDDED = {"digits": (load_digits, "mnist_5k.npz"),
            "fashion": (load_fashion, "fashion_mnist_5k.npz")}


def raw_file(filename):
    """The shipped file as stored: uint8 images (5000, 28, 28), uint8 labels (5000,)."""
    with np.load(embedded.HERE / filename) as archive:
        return archive["images"], archive["labels"]


def as_bytes(images):
    """Float images in [0, 1] (N, 1, 28, 28) back to the uint8 pixels, one bytes key each."""
    pixels = np.rint(images * 255).astype(np.uint8)
    return [p.tobytes() for p in pixels]


# ---------------------------------------------------------------- the shipped sets
@pytest.mark.parametrize("name", sorted(EMBEDDED))
@pytest.mark.parametrize("split, n", [("train", 4000), ("test", 1000)])
def test_embedded_shapes_dtypes_and_ranges(name, split, n):
    load, _ = EMBEDDED[name]
    images, labels = load(split)
    assert type(images) is np.ndarray and type(labels) is np.ndarray
    assert images.shape == (n, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (n,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(labels.tolist()) == set(range(10))
    # pixel / 255: every value is a whole number of 255ths
    np.testing.assert_allclose(images * 255, np.rint(images * 255), atol=1e-4)


@pytest.mark.parametrize("name", sorted(EMBEDDED))
def test_embedded_images_keep_their_labels(name):
    """Every loaded (image, label) is a row of the shipped file, with that row's label."""
    load, filename = EMBEDDED[name]
    raw_images, raw_labels = raw_file(filename)
    label_of = dict(zip(as_bytes(raw_images[:, None] / 255.0), raw_labels.tolist()))
    assert len(label_of) == 5000  # every shipped image is distinct, so the lookup is exact
    for split in ("train", "test"):
        images, labels = load(split)
        # NumPy compares: pytest's diff of two 4 000-element lists would take minutes
        np.testing.assert_array_equal([label_of[key] for key in as_bytes(images)], labels)


@pytest.mark.parametrize("name", sorted(EMBEDDED))
def test_split_is_stratified_disjoint_and_complete(name):
    load, filename = EMBEDDED[name]
    (train_images, train_labels), (test_images, test_labels) = load("train"), load("test")
    assert np.bincount(train_labels).tolist() == [400] * 10
    assert np.bincount(test_labels).tolist() == [100] * 10
    train_keys, test_keys = set(as_bytes(train_images)), set(as_bytes(test_images))
    assert len(train_keys) == 4000 and len(test_keys) == 1000    # no image twice
    assert not train_keys & test_keys                             # disjoint
    shipped = set(as_bytes(raw_file(filename)[0][:, None] / 255.0))
    assert len((train_keys | test_keys) ^ shipped) == 0                 # all shipped, no others


@pytest.mark.parametrize("name", sorted(EMBEDDED))
def test_split_is_deterministic_and_ignores_manual_seed(name):
    load, _ = EMBEDDED[name]
    minigen.manual_seed(1)
    first = load("test")
    minigen.manual_seed(2)
    minigen.randn(3)
    second = load("test")
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_loading_does_not_use_minigens_generator():
    minigen.manual_seed(0)
    expected = minigen.randn(5).numpy()
    minigen.manual_seed(0)
    load_digits("train")
    np.testing.assert_array_equal(minigen.randn(5).numpy(), expected)


@pytest.mark.parametrize("name", sorted(EMBEDDED))
@pytest.mark.parametrize("split", ["train", "test"])
def test_split_is_shuffled_not_sorted_by_class(name, split):
    _, labels = EMBEDDED[name][0](split)
    assert len(set(labels[:100].tolist())) == 10   # the shipped files are sorted by class


def test_split_never_changes():
    """Results in the course are compared across years: the split is pinned. If this fails
    (e.g. NumPy changed its generator stream), the split changed: pin an index table."""
    _, raw_labels = raw_file("mnist_5k.npz")
    train, test = embedded.stratified_split(raw_labels, embedded.TEST_PER_CLASS,
                                            embedded.SPLIT_SEED)
    assert test[:6].tolist() == PINNED_TEST_ROWS
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(5000))


PINNED_TEST_ROWS = [4695, 2307, 2466, 3153, 3219, 2774]


def test_stratified_split_needs_enough_rows_per_class():
    with pytest.raises(ValueError, match="class 1 has 2 rows, fewer than test_per_class=3"):
        embedded.stratified_split(np.array([0, 0, 0, 1, 1]), 3, seed=0)


@pytest.mark.parametrize("load", [load_digits, load_fashion])
@pytest.mark.parametrize("split", ["validation", "Train", None, 0])
def test_unknown_split_names_the_valid_ones(load, split):
    with pytest.raises(ValueError) as err:
        load(split)
    message = str(err.value)
    assert load.__name__ in message and repr(split) in message
    assert "'train'" in message and "'test'" in message


def test_class_names():
    assert DIGIT_CLASSES == tuple(str(d) for d in range(10))
    assert FASHION_CLASSES == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


# ---------------------------------------------------------------- IDX files
def idx_bytes(array, magic=None):
    """IDX bytes of a uint8 array: magic number, big-endian uint32 sizes, the data."""
    if magic is None:
        magic = 0x00000800 | array.ndim
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def write(path, raw):
    """Write ``raw`` to ``path``, gzipped when the name ends in .gz; return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)
    return path


def random_set(n, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, size=n, dtype=np.uint8))


def write_split(folder, split, images, labels, gz=False):
    prefix = "train" if split == "train" else "t10k"
    suffix = ".gz" if gz else ""
    write(folder / f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(images))
    write(folder / f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(labels))


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
@pytest.mark.parametrize("split", ["train", "test"])
@pytest.mark.parametrize("load", [load_mnist, load_fashion_mnist])
def test_idx_round_trip(tmp_path, load, split, gz):
    images, labels = random_set(7)
    write_split(tmp_path, split, images, labels, gz=gz)
    other_images, other_labels = random_set(3, seed=1)   # the other split, to be ignored
    write_split(tmp_path, "test" if split == "train" else "train", other_images, other_labels)
    got_images, got_labels = load(tmp_path, split=split)
    assert got_images.shape == (7, 1, 28, 28) and got_images.dtype == np.float32
    assert got_labels.shape == (7,) and got_labels.dtype == np.int64
    np.testing.assert_array_equal(got_images[:, 0], images.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(got_labels, labels)


def test_idx_matches_the_shipped_format(tmp_path):
    """The same pixels through an IDX file and through load_digits give the same arrays."""
    images, labels = load_digits("test")
    pixels = np.rint(images[:, 0] * 255).astype(np.uint8)
    write_split(tmp_path, "test", pixels, labels.astype(np.uint8), gz=True)
    got_images, got_labels = load_mnist(str(tmp_path), split="test")
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_parse_idx_reads_any_image_size_and_labels():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    got = parse_idx(idx_bytes(images, magic=IMAGES_MAGIC), ndim=3)
    np.testing.assert_array_equal(got, images)
    assert got.flags.writeable
    labels = parse_idx(idx_bytes(np.array([3, 1, 4], dtype=np.uint8), magic=LABELS_MAGIC), 1)
    assert labels.tolist() == [3, 1, 4] and labels.dtype == np.uint8


def test_plain_file_is_preferred_and_gz_is_found(tmp_path):
    images, labels = random_set(4)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(images))
    write(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(images[:2]))  # not used
    write(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(labels))
    got_images, got_labels = load_mnist(tmp_path)
    assert len(got_images) == 4 and got_labels.tolist() == labels.tolist()


def test_minigen_data_env_var_is_used_with_a_folder_per_data_set(tmp_path, monkeypatch):
    digits, digit_labels = random_set(5, seed=2)
    clothes, clothes_labels = random_set(6, seed=3)
    write_split(tmp_path / "mnist", "train", digits, digit_labels)
    write_split(tmp_path / "fashion_mnist", "train", clothes, clothes_labels, gz=True)
    monkeypatch.setenv("MINIGEN_DATA", str(tmp_path))
    assert load_mnist()[1].tolist() == digit_labels.tolist()
    assert load_fashion_mnist()[1].tolist() == clothes_labels.tolist()
    # an explicit path wins over the environment variable
    write_split(tmp_path / "elsewhere", "train", *random_set(2, seed=4))
    assert len(load_mnist(tmp_path / "elsewhere")[1]) == 2


def test_no_path_and_no_env_var(monkeypatch):
    monkeypatch.delenv("MINIGEN_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="MINIGEN_DATA"):
        load_mnist()


def test_missing_file_names_the_file_and_the_folder(tmp_path, monkeypatch):
    images, _ = random_set(3)
    write(tmp_path / "mnist" / "train-images-idx3-ubyte", idx_bytes(images))
    monkeypatch.setenv("MINIGEN_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError) as err:
        load_mnist()
    message = str(err.value)
    assert "train-labels-idx1-ubyte nor train-labels-idx1-ubyte.gz" in message
    assert str(tmp_path / "mnist") in message
    assert "train-images" not in message      # that one was found
    with pytest.raises(FileNotFoundError) as err:
        load_mnist(tmp_path / "mnist", split="test")
    assert "t10k-images-idx3-ubyte" in str(err.value) and "t10k-labels" in str(err.value)


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_fashion_mnist(tmp_path / "nowhere")


def test_bad_split_is_reported_before_looking_for_files(tmp_path):
    with pytest.raises(ValueError, match="load_mnist: unknown split 'val'"):
        load_mnist(tmp_path / "nowhere", split="val")


IMAGES = random_set(4)[0]
GOOD = idx_bytes(IMAGES)
# (what is wrong, the file's bytes, words the message must contain)
CORRUPT_IMAGE_FILES = {
    "bad_magic": (struct.pack(">I", 0x12345678) + GOOD[4:],
                  ["not an IDX file", "0x12345678", "expected 0x00000803"]),
    "gzipped_without_gz_name": (gzip.compress(GOOD), ["not an IDX file", "gzipped"]),
    "int32_data": (struct.pack(">I", 0x00000C03) + GOOD[4:],
                   ["data type code 0x0C", "expected 0x08"]),
    "label_file_as_images": (idx_bytes(np.zeros(4, dtype=np.uint8)),
                             ["1 dimensions", "expected 3", "0x00000803"]),
    "too_short": (b"\x00\x00", ["only 2 bytes"]),
    "truncated_header": (GOOD[:10], ["truncated header", "10 bytes"]),
    "truncated_data": (GOOD[:-5], ["truncated", f"{4 * 784 - 5} data bytes", "expected 3136",
                                   "(4, 28, 28)"]),
    "trailing_bytes": (GOOD + b"\x00", ["too long", "3137 data bytes", "expected 3136"]),
}


@pytest.mark.parametrize("case", sorted(CORRUPT_IMAGE_FILES))
def test_corrupt_file_names_the_file_and_what_was_expected(tmp_path, case):
    raw, words = CORRUPT_IMAGE_FILES[case]
    path = write(tmp_path / "train-images-idx3-ubyte", raw)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4, dtype=np.uint8)))
    with pytest.raises(ValueError) as err:
        load_mnist(tmp_path)
    message = str(err.value)
    assert str(path) in message
    for word in words:
        assert word in message


def test_the_good_file_of_the_corrupt_cases_loads(tmp_path):
    """The corrupt cases above differ from a file that loads in the one way they name."""
    write(tmp_path / "train-images-idx3-ubyte", GOOD)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4, dtype=np.uint8)))
    assert load_mnist(tmp_path)[0].shape == (4, 1, 28, 28)


@pytest.mark.parametrize("raw", [b"not gzip at all", gzip.compress(GOOD)[:-12]],
                         ids=["not_gzip", "truncated_gzip"])
def test_broken_gzip_is_a_value_error_naming_the_file(tmp_path, raw):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(raw)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4, dtype=np.uint8)))
    with pytest.raises(ValueError, match="not a valid gzip file") as err:
        load_mnist(tmp_path)
    assert str(path) in str(err.value)


def test_image_and_label_counts_must_match(tmp_path):
    images, labels = random_set(5)
    write_split(tmp_path, "test", images, labels[:4])
    with pytest.raises(ValueError) as err:
        load_mnist(tmp_path, split="test")
    message = str(err.value)
    assert "5 images" in message and "4 labels" in message
    assert "t10k-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message


# ---------------------------------------------------------------- DataLoader
def numbered(n):
    """Images whose pixels all equal their index, and labels 0..n-1: pairs are checkable."""
    images = np.broadcast_to(np.arange(n, dtype=np.float64)[:, None, None, None],
                             (n, 1, 2, 2)).copy()
    return images, np.arange(n, dtype=np.int64)


def epoch(loader):
    """One pass: the list of label lists, checking each image is paired with its label."""
    batches = []
    for x, y in loader:
        assert isinstance(x, minigen.Tensor) and isinstance(y, minigen.Tensor)
        np.testing.assert_array_equal(x.numpy()[:, 0, 0, 0], y.numpy())
        batches.append(y.numpy().tolist())
    return batches


def test_batches_in_order_without_shuffle():
    loader = DataLoader(numbered(10), batch_size=4)
    assert len(loader) == 3
    assert epoch(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert epoch(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


@pytest.mark.parametrize("n, batch_size, sizes", [(10, 4, [4, 4]), (8, 4, [4, 4]),
                                                  (3, 4, []), (10, 1, [1] * 10)])
def test_drop_last(n, batch_size, sizes):
    loader = DataLoader(numbered(n), batch_size=batch_size, shuffle=True, seed=0, drop_last=True)
    assert len(loader) == len(sizes)
    assert [len(b) for b in epoch(loader)] == sizes


@pytest.mark.parametrize("drop_last", [False, True])
def test_len_is_the_number_of_batches(drop_last):
    for n in range(0, 12):
        for batch_size in (1, 3, 5, 20):
            loader = DataLoader(numbered(n), batch_size, drop_last=drop_last)
            assert len(loader) == len(list(loader))


def test_shuffled_epoch_visits_every_sample_once():
    loader = DataLoader(numbered(50), batch_size=8, shuffle=True, seed=3)
    orders = []
    for _ in range(3):
        batches = epoch(loader)
        assert [len(b) for b in batches] == [8] * 6 + [2]
        order = sum(batches, [])
        assert sorted(order) == list(range(50))
        orders.append(order)
    assert orders[0] != list(range(50))               # shuffled
    assert orders[0] != orders[1] != orders[2]        # a new order each epoch


def test_same_seed_same_batches_different_seed_different():
    def three_epochs(seed):
        loader = DataLoader(numbered(30), batch_size=7, shuffle=True, seed=seed)
        return [epoch(loader) for _ in range(3)]

    assert three_epochs(11) == three_epochs(11)
    assert three_epochs(11) != three_epochs(12)


def test_no_seed_follows_manual_seed():
    def first_epoch():
        return epoch(DataLoader(numbered(30), batch_size=7, shuffle=True))

    minigen.manual_seed(5)
    a = first_epoch()
    minigen.manual_seed(5)
    assert first_epoch() == a
    minigen.manual_seed(6)
    assert first_epoch() != a


def test_batch_dtypes():
    images, labels = numbered(6)
    x, y = next(iter(DataLoader((images, labels), batch_size=6)))   # float64 in
    assert x.dtype == np.float32 and y.dtype == np.int64 and not x.requires_grad
    assert x.device == "cpu" and type(x.data) is np.ndarray
    with minigen.default_dtype("float64"):
        x, y = next(iter(DataLoader((images, labels), batch_size=6)))
    assert x.dtype == np.float64 and y.dtype == np.int64
    (small,) = next(iter(DataLoader((labels.astype(np.uint8),), batch_size=6)))
    assert small.dtype == np.uint8


def test_batches_are_copies():
    images, labels = numbered(4)
    x, _ = next(iter(DataLoader((images, labels), batch_size=4)))
    x.data[:] = -1
    assert images.min() == 0   # the loader's arrays are untouched


def test_accepts_lists_and_tensors():
    loader = DataLoader([minigen.tensor([[1.0], [2.0], [3.0]]), [0, 1, 2]], batch_size=2)
    x, y = next(iter(loader))
    assert x.tolist() == [[1.0], [2.0]] and y.tolist() == [0, 1]


def test_a_whole_epoch_of_the_shipped_digits():
    images, labels = load_digits("test")
    loader = DataLoader((images, labels), batch_size=128, shuffle=True, seed=0)
    seen = np.concatenate([y.numpy() for _, y in loader])
    assert len(loader) == 8 and np.bincount(seen).tolist() == [100] * 10


@pytest.mark.parametrize("arrays, kwargs, error, words", [
    ((np.zeros(10), np.zeros(9)), {}, ValueError, ["equally long", "[10, 9]"]),
    ((np.zeros(3), np.zeros(3), np.zeros(4)), {}, ValueError, ["[3, 3, 4]"]),
    ((), {}, ValueError, ["empty"]),
    (np.zeros((4, 2)), {}, TypeError, ["tuple of arrays", "(images,)"]),
    ((np.zeros(4),), {"batch_size": 0}, ValueError, ["batch_size must be positive, got 0"]),
    ((np.zeros(4),), {"batch_size": -2}, ValueError, ["batch_size must be positive, got -2"]),
    ((np.zeros(4),), {"batch_size": 2.0}, TypeError, ["batch_size must be an int"]),
    ((np.zeros(4),), {"batch_size": True}, TypeError, ["batch_size must be an int"]),
    ((np.zeros(4),), {"seed": -1}, ValueError, ["seed must be non-negative"]),
    ((np.zeros(4),), {"seed": 1.5}, TypeError, ["seed must be an int or None"]),
    ((np.float64(3.0),), {}, ValueError, ["array 0 is 0-d"]),
    ((np.zeros(2), np.array(["a", "b"])), {}, TypeError, ["array 1 has dtype <U1"]),
], ids=["lengths", "three_lengths", "empty", "single_array", "zero_batch", "negative_batch",
        "float_batch", "bool_batch", "negative_seed", "float_seed", "scalar", "strings"])
def test_loader_errors(arrays, kwargs, error, words):
    kwargs = {"batch_size": 2, **kwargs}
    minigen.manual_seed(0)
    expected = minigen.randn(3).numpy()
    minigen.manual_seed(0)
    with pytest.raises(error) as err:
        DataLoader(arrays, **kwargs)
    for word in words:
        assert word in str(err.value)
    # raised before the loader drew its seed from minigen's generator
    np.testing.assert_array_equal(minigen.randn(3).numpy(), expected)


@pytest.mark.gpu
def test_batches_go_to_the_current_backend():
    images, labels = numbered(6)
    loader = DataLoader((images, labels), batch_size=4)   # made on NumPy
    minigen.use("cupy")
    for x, y in loader:
        assert x.device == "gpu" and y.device == "gpu"
        assert x.dtype == np.float32 and y.dtype == np.int64
        np.testing.assert_array_equal(x.numpy()[:, 0, 0, 0], y.numpy())
    minigen.use("numpy")
    assert next(iter(loader))[0].device == "cpu"


def test_an_in_order_loader_leaves_the_random_stream_alone():
    """Evaluating a model on an in-order loader must not change what training draws next."""
    images = np.zeros((10, 1, 28, 28), dtype=np.float32)
    minigen.manual_seed(0)
    expected = minigen.randn(3).numpy()
    minigen.manual_seed(0)
    list(DataLoader((images,), 4))
    np.testing.assert_array_equal(minigen.randn(3).numpy(), expected)
    minigen.manual_seed(0)
    DataLoader((images,), 4, shuffle=True)                  # a shuffled one draws its seed
    assert not np.array_equal(minigen.randn(3).numpy(), expected)
