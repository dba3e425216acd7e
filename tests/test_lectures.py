"""The lecture notebooks (``lectures/*.ipynb``) run top to bottom, and are committed clean.

Each notebook is executed in a fresh ``python3`` Jupyter kernel with ``MINIGEN_FAST=1``,
which every lecture reads (``FAST = os.environ.get("MINIGEN_FAST") == "1"``) to use fewer
epochs and samples: a few seconds to about 30 s per notebook. The notebooks' own asserts
and numerical checks are the test; the first failing cell is reported with its traceback.

Notebooks are committed without outputs or execution counts (students produce those when
they run them), which keeps the repository small and the diffs readable.
"""
import re
import time
from pathlib import Path

import pytest

LECTURES = Path(__file__).resolve().parent.parent / "lectures"
NOTEBOOKS = sorted(LECTURES.glob("*.ipynb"))
CELL_TIMEOUT = 120      # seconds for any one cell, in fast mode
NOTEBOOK_BUDGET = 120   # seconds for a whole notebook in fast mode (they take ~5-30 s)

nbformat = pytest.importorskip("nbformat", reason="needs the dev extra (nbformat, nbclient)")


def _params():
    if not NOTEBOOKS:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no notebooks in {LECTURES}"))]
    return [pytest.param(path, id=path.name) for path in NOTEBOOKS]


def _plain(err):
    """The error's text without the terminal colour codes of IPython's tracebacks."""
    return re.sub(r"\x1b\[[0-9;]*m", "", str(err))


def _code_cells(nb):
    return [(k, cell) for k, cell in enumerate(nb.cells) if cell.cell_type == "code"]


@pytest.mark.parametrize("path", _params())
def test_notebook_runs_in_fast_mode(path, monkeypatch, tmp_path):
    nbclient = pytest.importorskip("nbclient", reason="needs the dev extra (nbclient, ipykernel)")
    pytest.importorskip("ipykernel", reason="needs the dev extra (ipykernel)")
    nb = nbformat.read(path, as_version=4)
    # The kernel is a child process: it inherits this environment.
    monkeypatch.setenv("MINIGEN_FAST", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)   # let the kernel pick its inline backend
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    monkeypatch.setenv("HYPOTHESIS_STORAGE_DIRECTORY", str(tmp_path / "hypothesis"))  # not lectures/
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(LECTURES)}})   # run from lectures/, as Jupyter does
    start = time.perf_counter()
    failure = None
    try:
        client.execute()
    except nbclient.exceptions.CellTimeoutError as err:
        failure = (f"{path.name}: a cell ran longer than {CELL_TIMEOUT} s in fast mode "
                   f"(does it read MINIGEN_FAST?):\n{_plain(err)}")
    except nbclient.exceptions.CellExecutionError as err:
        failure = f"{path.name}: a cell failed in fast mode:\n{_plain(err)}"
    if failure:
        pytest.fail(failure, pytrace=False)
    elapsed = time.perf_counter() - start
    assert elapsed < NOTEBOOK_BUDGET, (
        f"{path.name} took {elapsed:.0f} s in fast mode; keep it under {NOTEBOOK_BUDGET} s "
        "(use FAST to shrink epochs and samples)")


@pytest.mark.parametrize("path", _params())
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    with_outputs = [k for k, cell in _code_cells(nb) if cell.outputs]
    with_counts = [k for k, cell in _code_cells(nb) if cell.execution_count is not None]
    assert not with_outputs and not with_counts, (
        f"{path.name} is committed with outputs in cells {_short(with_outputs)} and execution "
        f"counts in cells {_short(with_counts)}; clear them before committing, e.g. "
        f"`jupyter nbconvert --clear-output --inplace lectures/{path.name}`")


def _short(indices):
    shown = ", ".join(map(str, indices[:8]))
    return (shown + f", ... ({len(indices)} in all)") if len(indices) > 8 else (shown or "none")


@pytest.mark.parametrize("path", _params())
def test_notebook_follows_the_lecture_template(path):
    """A title cell first, and a cell that reads MINIGEN_FAST (else fast mode means nothing)."""
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        f"{path.name}: the first cell must be markdown starting with the title ('# ...')")
    assert "pip install" in first.source, f"{path.name}: the first cell must say how to run it"
    assert any('os.environ.get("MINIGEN_FAST") == "1"' in cell.source
               for _, cell in _code_cells(nb)), (
        f"{path.name}: no cell sets FAST = os.environ.get(\"MINIGEN_FAST\") == \"1\"")
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", (
        f"{path.name}: the kernel must be python3")


@pytest.mark.parametrize("path", _params())
def test_solution_markers_are_balanced(path):
    """Every ``# BEGIN SOLUTION <id>`` has its ``# END SOLUTION`` in the same cell, ids are
    unique, and blocks do not nest: an assignment builder can blank them safely."""
    nb = nbformat.read(path, as_version=4)
    seen = set()
    for k, cell in _code_cells(nb):
        open_id = None
        for line in cell.source.splitlines():
            begin = re.match(r"\s*# BEGIN SOLUTION(?:\s+(\S+))?\s*$", line)
            if begin:
                assert open_id is None, f"{path.name} cell {k}: nested BEGIN SOLUTION"
                open_id = begin.group(1)
                assert open_id, f"{path.name} cell {k}: BEGIN SOLUTION without an id"
                assert open_id not in seen, f"{path.name}: solution id {open_id!r} used twice"
                seen.add(open_id)
            elif re.match(r"\s*# END SOLUTION\s*$", line):
                assert open_id is not None, f"{path.name} cell {k}: END SOLUTION without BEGIN"
                open_id = None
        assert open_id is None, f"{path.name} cell {k}: BEGIN SOLUTION {open_id} is never closed"


def test_lectures_leave_no_files_behind():
    """Run after the notebooks (pytest keeps file order): they write no figures or data into
    lectures/ (hidden folders such as Jupyter's checkpoints or hypothesis's cache, which
    ignore themselves in git, are allowed)."""
    assert LECTURES.is_dir()
    extra = sorted(p.name for p in LECTURES.iterdir()
                   if p.suffix != ".ipynb" and not p.name.startswith(".") and p.name != "README.md")
    assert not extra, f"unexpected files in lectures/: {extra}"
