"""``minigen.checks``: what each check accepts, what it refuses, and the message it gives."""
import ast
import re
from pathlib import Path

import numpy as np
import pytest

from minigen import checks


# ---------------------------------------------------------------- positive_int
@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.uint8(2)])
def test_positive_int_accepts_python_and_numpy_integers(value):
    got = checks.positive_int("Linear", "in_features", value)
    assert got == value and type(got) is int


@pytest.mark.parametrize("value", [0, -2, True, False, 2.0, 2.5, "3", None, np.float64(2.0)])
def test_positive_int_refuses_bools_floats_and_non_positive(value):
    expected = f"Linear: in_features must be a positive integer, got {value!r}"
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        checks.positive_int("Linear", "in_features", value)


def test_positive_int_with_another_minimum():
    assert checks.positive_int("ResnetGenerator", "n_blocks", 0, minimum=0) == 0
    assert checks.positive_int("CVAE", "num_classes", 2, minimum=2) == 2
    with pytest.raises(ValueError, match=r"^ResnetGenerator: n_blocks must be an integer >= 0, "
                                         r"got -1$"):
        checks.positive_int("ResnetGenerator", "n_blocks", -1, minimum=0)
    with pytest.raises(ValueError, match=r"^CVAE: num_classes must be an integer >= 2, got 1$"):
        checks.positive_int("CVAE", "num_classes", 1, minimum=2)


# ---------------------------------------------------------------- positive_number
@pytest.mark.parametrize("value", [0.5, 3, np.float32(0.25), np.int64(2)])
def test_positive_number_accepts_ints_and_floats(value):
    got = checks.positive_number("PixelCNN.sample", "temperature", value)
    assert got == value and type(got) is float


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), True, "1", None])
def test_positive_number_refuses_zero_nan_bools_and_strings(value):
    expected = f"PixelCNN.sample: temperature must be a positive number, got {value!r}"
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        checks.positive_number("PixelCNN.sample", "temperature", value)


# ---------------------------------------------------------------- in_range
@pytest.mark.parametrize("closed, brackets, low_ok, high_ok", [
    ("both", "[0, 1]", True, True),
    ("low", "[0, 1)", True, False),
    ("high", "(0, 1]", False, True),
    ("neither", "(0, 1)", False, False),
])
def test_in_range_open_and_closed_ends(closed, brackets, low_ok, high_ok):
    assert checks.in_range("f", "p", 0.5, 0, 1, closed=closed) == 0.5
    for value, ok in ((0, low_ok), (1, high_ok), (-0.1, False), (1.1, False)):
        if ok:
            assert checks.in_range("f", "p", value, 0, 1, closed=closed) == value
        else:
            expected = f"f: p must lie in {brackets}, got {value!r}"
            with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
                checks.in_range("f", "p", value, 0, 1, closed=closed)


def test_in_range_without_an_upper_bound():
    assert checks.in_range("SGD", "lr", 0, 0) == 0.0
    assert checks.in_range("SGD", "lr", 1e9, 0) == 1e9
    with pytest.raises(ValueError, match=r"^SGD: lr must be a number >= 0, got -0\.1$"):
        checks.in_range("SGD", "lr", -0.1, 0)
    with pytest.raises(ValueError, match=r"^g: x must be a number > 0, got 0$"):
        checks.in_range("g", "x", 0, 0, closed="neither")


@pytest.mark.parametrize("value", [True, "0.5", None, float("nan"), [0.5]])
def test_in_range_refuses_non_numbers(value):
    with pytest.raises(ValueError, match=r"^dropout: p must lie in \[0, 1\], got "):
        checks.in_range("dropout", "p", value, 0, 1)


def test_in_range_refuses_an_unknown_closed():
    with pytest.raises(ValueError, match="closed must be one of"):
        checks.in_range("f", "p", 0.5, 0, 1, closed="left")


# ---------------------------------------------------------------- one_of
def test_one_of():
    assert checks.one_of("MaskedConv2d", "mask_type", "B", ("A", "B")) == "B"
    with pytest.raises(ValueError, match=r"^MaskedConv2d: mask_type must be 'A' or 'B', "
                                         r"got 'C'$"):
        checks.one_of("MaskedConv2d", "mask_type", "C", ("A", "B"))
    with pytest.raises(ValueError, match=r"^mse_loss: reduction must be 'mean', 'sum' or "
                                         r"'none', got 'avg'$"):
        checks.one_of("mse_loss", "reduction", "avg", ("mean", "sum", "none"))
    with pytest.raises(ValueError, match=r"^f: mode must be 'only', got 'other'$"):
        checks.one_of("f", "mode", "other", ("only",))


# ---------------------------------------------------------------- indices_in_range
@pytest.mark.parametrize("values", [np.array([0, 3, 9]), np.array([[1], [2]], dtype=np.uint8),
                                    np.zeros((0,), dtype=np.int64)])
def test_indices_in_range_accepts_integer_arrays_in_range(values):
    assert checks.indices_in_range("one_hot", "labels", values, 10) is values


@pytest.mark.parametrize("values, smallest, largest", [
    (np.array([0, 10]), 0, 10), (np.array([-1, 2]), -1, 2), (np.array([[12], [-3]]), -3, 12)])
def test_indices_in_range_names_the_smallest_and_largest_value(values, smallest, largest):
    expected = f"one_hot: labels must lie in [0, 10), got values from {smallest} to {largest}"
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        checks.indices_in_range("one_hot", "labels", values, 10)
    with pytest.raises(IndexError, match=re.escape(expected)):
        checks.indices_in_range("one_hot", "labels", values, 10, IndexError)


@pytest.mark.parametrize("values, got", [(np.array([0.0, 1.0]), "dtype float64"),
                                         (np.array([True]), "dtype bool")])
def test_indices_in_range_refuses_other_dtypes(values, got):
    with pytest.raises(TypeError, match=f"^embedding: indices must be integers, got {got}$"):
        checks.indices_in_range("embedding", "indices", values, 4)


def test_indices_in_range_wants_an_array():
    with pytest.raises(TypeError, match="codes must be an array of integers, got list"):
        checks.indices_in_range("VQVAE", "codes", [0, 1], 4)


# ---------------------------------------------------------------- the layering
def test_checks_imports_only_the_backend_and_the_standard_library():
    tree = ast.parse(Path(checks.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported |= {f"{node.module}.{alias.name}" if node.module == "minigen" else
                         node.module for alias in node.names}
    ours = {name for name in imported if name.split(".")[0] == "minigen"}
    assert ours == {"minigen.backend"}, ours
