"""The examples in the README and in docstrings must run and print what they claim."""
import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import minigen

README = Path(__file__).parent.parent / "README.md"


def readme_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_examples_run():
    namespace: dict = {}
    ran = 0
    for block in readme_blocks():
        if 'mg.use("cupy")' in block:
            continue  # needs a GPU; tests/test_backend.py covers the backend switch
        exec(compile(block, str(README), "exec"), namespace)
        ran += 1
    assert ran >= 3
    assert namespace["dt"].item() == 27.0 and namespace["ddt"].item() == 18.0
    assert callable(namespace["test_swish"])


def test_readme_gradcheck_example_catches_a_wrong_backward():
    namespace: dict = {}
    for block in readme_blocks():
        if "class Swish" in block:
            exec(block, namespace)
    swish = namespace["Swish"]
    original = swish.backward
    swish.backward = staticmethod(lambda ctx, g: original(ctx, g) * 1.5)
    try:
        with pytest.raises(minigen.GradcheckError):
            minigen.gradcheck(swish.apply, [namespace["x"]])
    finally:
        swish.backward = staticmethod(original)


MODULES = sorted(m.name for m in pkgutil.walk_packages(minigen.__path__, prefix="minigen."))


@pytest.mark.parametrize("name", ["minigen"] + MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"


def _formula_table():
    section = README.read_text().split("## Where is each formula")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    for row in rows:
        where = row.rstrip(" |").rsplit("|", 1)[1]
        path, names = where.split(":", 1)
        yield path.strip(" `"), [n.strip(" `") for n in names.split(",")]


def test_readme_formula_table_names_functions_that_exist():
    """Every ``file: function`` of the README's "Where is each formula" table exists."""
    table = list(_formula_table())
    assert len(table) >= 20
    root = README.parent
    for path, names in table:
        assert (root / path).is_file(), path
        module = importlib.import_module(path[:-len(".py")].replace("/", "."))
        for name in names:
            obj = module
            for part in name.split("."):
                assert hasattr(obj, part), f"README: {path} has no {name}"
                obj = getattr(obj, part)
