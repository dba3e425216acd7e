"""minigen.assignments: solution regions, the student copy, the grader and the command line.

The expensive parts run once: one copy of the repository with the whole catalogue blanked
(a module fixture), one grading of the repository itself, and a few small gradings of
copies that blank only one or two exercises.
"""
import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from minigen.assignments import BuildError, MarkerError, build, check, grade, list_exercises
from minigen.assignments.builder import (MANIFEST, SWITCH_FILE, SWITCH_LINE, SWITCH_REFERENCE,
                                         list_files, scan)
from minigen.assignments.catalog import CATALOG, exercise_of_region, get_exercise, select
from minigen.assignments.cli import main
from minigen.assignments.regions import blank_notebook, blank_text, find_regions, notebook_regions

ROOT = Path(__file__).resolve().parent.parent
# A student copy (built by ``build``) holds blanked exercises: the solutions are not there.
IS_STUDENT_COPY = (ROOT / MANIFEST).exists()
UNRELATED_TESTS = ["tests/test_data.py", "tests/test_init.py"]  # use no blanked code


def _run(args, cwd, **env):
    """Run a command with ``cwd``'s minigen first on the path; returns the CompletedProcess."""
    environment = dict(os.environ, PYTHONPATH=str(cwd), CI="1", PYTHONDONTWRITEBYTECODE="1",
                       **env)
    return subprocess.run(args, cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def full_copy(tmp_path_factory):
    """A student copy with every exercise of the catalogue blanked."""
    out = tmp_path_factory.mktemp("assignments") / "student"
    result = build(out, source_dir=ROOT)
    return out, result


# ---------------------------------------------------------------- the catalogue
def test_catalogue_ids_markers_and_regions_are_consistent():
    ids = [e.id for e in CATALOG]
    regions = [r for e in CATALOG if not e.fixes for r in e.region_ids]
    assert len(set(ids)) == len(ids) and len(set(regions)) == len(regions)
    assert all(get_exercise(e.fixes).bug is None for e in CATALOG if e.fixes)
    assert [e.id for e in list_exercises()] == ids
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    registered = {line.split(":")[0].strip()
                  for line in cfg["tool:pytest"]["markers"].splitlines() if line.strip()}
    found = {r.region_id for rs in scan(ROOT).values() for r in rs}
    for e in CATALOG:
        assert 1 <= e.difficulty <= 3 and e.max_points > 0
        assert e.marker is None or e.marker in registered, f"register {e.marker} in setup.cfg"
        assert e.notebook is None or (ROOT / e.notebook).exists()
        assert found.intersection(e.region_ids), f"no solution region of {e.id} in the repository"
    assert exercise_of_region("softplus-minigen").id == "softplus"
    assert exercise_of_region("nothing") is None


def test_select_checks_the_ids():
    assert [e.id for e in select("kl_divergence, mul_backward")] == ["mul_backward", "kl_divergence"]
    with pytest.raises(ValueError, match="unknown exercise.*nope.*known: mul_backward"):
        select(["nope"])
    with pytest.raises(ValueError, match="named twice: im2col"):
        select("im2col,im2col")
    with pytest.raises(KeyError, match="unknown exercise 'x'"):
        get_exercise("x")


# ---------------------------------------------------------------- regions
SOURCE = ('def f(x):\n'
          '    """Docstring.\n'
          '    # BEGIN SOLUTION not_a_marker_inside_a_string\n'
          '    """\n'
          '    y = 2 * x\n'
          '    # BEGIN SOLUTION mul_backward\n'
          '    z = y + 1\n'
          '    return z\n'
          '    # END SOLUTION\n')


def test_blanking_keeps_the_markers_and_raises_the_exercise():
    (region,) = find_regions(SOURCE, "f.py")  # the line in the docstring is not a comment
    assert (region.region_id, region.begin, region.end, region.where) == ("mul_backward", 6, 9, "f.py:6")
    blanked = blank_text(SOURCE, [region], lambda r: 'Exercise mul_backward: a "quote" — see x')
    assert blanked.splitlines()[5:] == [
        "    # BEGIN SOLUTION mul_backward",
        '    raise NotImplementedError("Exercise mul_backward: a \\"quote\\" — see x")',
        "    # END SOLUTION"]
    namespace = {}
    exec(compile(blanked, "f.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match='Exercise mul_backward: a "quote"'):
        namespace["f"](1)


def test_notebook_cells_are_blanked_in_place():
    text = (ROOT / "lectures" / "02_gradient_checking.ipynb").read_text(encoding="utf-8")
    regions = notebook_regions(text, "nb.ipynb")
    assert {r.region_id for r in regions} >= {"softplus", "softplus-minigen", "swish-backward"}
    chosen = [r for r in regions if r.region_id.startswith("softplus")]
    blanked = json.loads(blank_notebook(text, chosen, lambda r: "Exercise softplus: x — see y"))
    cell = "".join(blanked["cells"][chosen[0].cell]["source"])
    assert cell.count('raise NotImplementedError("Exercise softplus: x — see y")') == 2
    assert "mg.sigmoid(x)" not in cell and cell.count("# BEGIN SOLUTION") == 2
    compile(cell, "cell", "exec")
    assert len(blanked["cells"]) == len(json.loads(text)["cells"])


# ---------------------------------------------------------------- bad markers stop the build
def _tree(tmp_path, text, name="minigen/ops/bad.py"):
    src = tmp_path / "src"
    (src / name).parent.mkdir(parents=True)
    (src / "tests").mkdir()
    (src / name).write_text(text, encoding="utf-8")
    return src


@pytest.mark.parametrize("text, match", [
    ("x = 1\n# END SOLUTION\n", r"bad\.py:2: END SOLUTION without a BEGIN"),
    ("def f():\n    # BEGIN SOLUTION mul_backward\n    return 1\n",
     r"bad\.py:2: BEGIN SOLUTION mul_backward is never closed"),
    ("def f():\n    # BEGIN SOLUTION mul_backward\n    # BEGIN SOLUTION sum_backward\n"
     "    return 1\n    # END SOLUTION\n    # END SOLUTION\n",
     r"bad\.py:3: BEGIN SOLUTION sum_backward inside the region mul_backward .*cannot nest"),
    ("def f():\n    # BEGIN SOLUTION no_such_exercise\n    return 1\n    # END SOLUTION\n",
     r"bad\.py:2: BEGIN SOLUTION names the unknown exercise 'no_such_exercise'"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n",
     r"bad\.py:2: '# BEGIN SOLUTION' has no exercise id"),
], ids=["end-without-begin", "never-closed", "nested", "unknown-exercise", "no-id"])
def test_bad_markers_name_the_file_and_line(tmp_path, text, match):
    src = _tree(tmp_path, text)
    with pytest.raises(MarkerError, match=match):
        build(tmp_path / "out", source_dir=src)
    assert not (tmp_path / "out").exists()  # checked before anything is written


def test_bad_marker_in_a_notebook_names_the_cell(tmp_path):
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# T\n"]},
                          {"cell_type": "code", "metadata": {}, "outputs": [],
                           "execution_count": None,
                           "source": ["x = 1\n", "# END SOLUTION\n"]}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    src = _tree(tmp_path, json.dumps(notebook), name="lectures/bad.ipynb")
    with pytest.raises(MarkerError, match=r"lectures/bad\.ipynb: cell 1, line 2: END SOLUTION"):
        build(tmp_path / "out", source_dir=src)


def test_build_refuses_what_it_cannot_do(tmp_path):
    mid_block = ("def f(x):\n    # BEGIN SOLUTION mul_backward\n    if x:\n        return 1\n"
                 "        # END SOLUTION\n        return 2\n")  # ends inside the if
    src = _tree(tmp_path, mid_block)
    with pytest.raises(BuildError, match=r"minigen/ops/bad\.py: blanking a solution region "
                                         r"leaves invalid Python"):
        build(tmp_path / "out", source_dir=src, only="mul_backward")
    with pytest.raises(BuildError, match="no solution region .* for exercise\\(s\\) sum_backward"):
        build(tmp_path / "out", source_dir=src, only="sum_backward")
    with pytest.raises(BuildError, match="unknown exercise\\(s\\) nope"):
        build(tmp_path / "out", source_dir=src, only="nope")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    ok = _tree(tmp_path / "b", "def f():\n    # BEGIN SOLUTION mul_backward\n    return 1\n"
                               "    # END SOLUTION\n")
    with pytest.raises(BuildError, match="already exists and is not an empty folder"):
        build(tmp_path / "full", source_dir=ok, only="mul_backward")
    assert build(tmp_path / "fresh", source_dir=ok, only="mul_backward").files == 1


# ---------------------------------------------------------------- the full student copy
def test_full_copy_blanks_every_region_and_changes_nothing_else(full_copy):
    out, result = full_copy
    assert json.loads((out / MANIFEST).read_text())["exercises"] == [e.id for e in select(None)]
    assert {r.region_id for r in result.regions} == {
        r.region_id for rs in scan(ROOT).values() for r in rs}
    blanked = {r.path for r in result.regions}
    files = list_files(ROOT)
    assert "minigen/assignments/catalog.py" in files  # new files that git does not ignore
    assert result.files == len(files)
    assert result.reference_kernels
    for rel in files:
        original, copy = (ROOT / rel).read_bytes(), (out / rel).read_bytes()
        if rel == SWITCH_FILE:  # one line flipped: the copy runs the reference kernels
            assert copy == original.replace(SWITCH_LINE.encode(), SWITCH_REFERENCE.encode())
            assert copy != original
        elif rel not in blanked:
            assert copy == original, f"{rel} changed but holds no solution"
    for rel in blanked - {r.path for r in result.regions if r.cell is not None}:
        lines = (ROOT / rel).read_text(encoding="utf-8").splitlines()
        inside = {k for r in result.regions if r.path == rel for k in range(r.begin, r.end - 1)}
        kept = [line for k, line in enumerate(lines) if k not in inside]
        copy_text = (out / rel).read_text(encoding="utf-8")
        stubs = {k for r in find_regions(copy_text, rel) for k in range(r.begin, r.end - 1)}
        copied = [line for k, line in enumerate(copy_text.splitlines()) if k not in stubs]
        assert copied == kept, f"{rel}: lines outside the solution regions changed"


def test_full_copy_imports_and_unrelated_tests_pass(full_copy):
    out, _ = full_copy
    done = _run([sys.executable, "-c", "import minigen; print(minigen.__file__)"], cwd=out)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(out)
    done = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                 *UNRELATED_TESTS], cwd=out)
    assert done.returncode == 0, done.stdout[-3000:]


def test_grading_the_full_copy_gives_zero_and_names_each_exercise(full_copy, tmp_path):
    out, _ = full_copy
    report = grade(out, json_path=tmp_path / "grades.json",
                   only=["reparameterize", "kl_divergence", "softplus"])
    assert not report.errors
    assert [s.id for s in report.scores] == ["softplus", "reparameterize", "kl_divergence"]
    for score in report.scores:
        assert score.points == 0 and score.passed == 0 and score.total >= 1, score
        for failure in score.failures:
            assert failure["message"].startswith(f"NotImplementedError: Exercise {score.id}: "), failure
    saved = json.loads((tmp_path / "grades.json").read_text(encoding="utf-8"))
    assert saved["points"] == 0 and saved["max_points"] == report.max_points == 1 + 1 + 2
    assert [e["id"] for e in saved["exercises"]] == ["softplus", "reparameterize", "kl_divergence"]


def test_a_copy_of_one_exercise_grades_only_it(tmp_path):
    result = build(tmp_path / "mul", only="mul_backward", source_dir=ROOT)
    assert {r.path for r in result.regions} == {"minigen/ops/elementwise.py"}
    report = grade(tmp_path / "mul")  # the exercises of its assignment.json
    (score,) = report.scores
    assert (score.id, score.passed, score.points) == ("mul_backward", 0, 0) and score.total >= 3
    if not IS_STUDENT_COPY:  # there, other blanked exercises may fail these tests first
        assert all("Exercise mul_backward: the backward of Mul" in f["message"]
                   for f in score.failures)
    assert "mul_backward" in report.table() and "0/1" in report.table()


@pytest.mark.skipif(IS_STUDENT_COPY, reason="a student copy does not hold the solutions")
def test_the_solution_tree_gets_full_points():
    report = grade(ROOT)
    assert not report.errors, report.errors
    assert [s.id for s in report.scores] == [e.id for e in select(None)]
    for score in report.scores:
        assert score.total >= 1 and score.passed == score.total, score.failures
        assert score.points == score.max_points and score.status == "passed"
    assert report.points == report.max_points == sum(e.max_points for e in select(None))


def test_check_finds_a_test_that_passes_without_the_solution(tmp_path):
    src = _tree(tmp_path, "def double(x):\n    # BEGIN SOLUTION mul_backward\n    return 2 * x\n"
                          "    # END SOLUTION\n", name="minigen/fake.py")
    (src / "minigen" / "__init__.py").write_text("")
    (src / "tests" / "test_fake.py").write_text(
        "import pytest\nfrom minigen.fake import double\n\n\n"
        "@pytest.mark.exercise_mul_backward\ndef test_double():\n    assert double(2) == 4\n\n\n"
        "@pytest.mark.exercise_mul_backward\ndef test_free():\n    assert True\n")
    (problem,) = check(only="mul_backward", source_dir=src)
    assert problem == ("mul_backward: 1 of its tests pass without its solution, so they grade "
                       "nothing: tests/test_fake.py::test_free")


@pytest.mark.skipif(IS_STUDENT_COPY, reason="a student copy does not hold the solutions")
def test_check_passes_for_an_exercise_of_the_catalogue():
    assert check(only="cyclegan_objective", source_dir=ROOT) == []


# ---------------------------------------------------------------- kernel exercises
def test_only_the_kernel_exercises_need_the_reference_kernels():
    assert {e.id for e in CATALOG if e.needs_reference_kernels} == {
        "im2col", "col2im", "conv2d_forward", "max_pool_backward", "bug_col2im_off_by_one"}
    text = (ROOT / SWITCH_FILE).read_text(encoding="utf-8")
    assert text.splitlines().count(SWITCH_LINE) == 1 or IS_STUDENT_COPY


# Two layers whose backward the fast kernels compute without add_windows: conv_transpose
# by one scatter-add (W_out = 5 <= 8, 3 images), and by kn2row (stride 1, 2 <= 8 / 2).
BYPASSED = """
import minigen as mg, minigen.functional as F
for (n, c, size, c_out, stride) in [(3, 4, 9, 3, 2), (2, 8, 10, 2, 1)]:
    x = mg.randn(n, c, size, size, requires_grad=True)
    w = mg.randn(c_out, c, 3, 3, requires_grad=True)
    try:
        F.conv2d(x, w, stride=stride, padding=1).sum().backward()
        print("ran")
    except NotImplementedError as err:
        print("raised:", err)
"""


@pytest.mark.skipif(IS_STUDENT_COPY, reason="a student copy does not hold the solutions")
def test_a_copy_that_blanks_col2im_runs_the_students_col2im_in_every_conv(tmp_path):
    result = build(tmp_path / "col2im", only="col2im", source_dir=ROOT)
    assert result.reference_kernels
    switch = (tmp_path / "col2im" / SWITCH_FILE).read_text(encoding="utf-8")
    assert SWITCH_REFERENCE in switch.splitlines() and SWITCH_LINE not in switch.splitlines()
    done = _run([sys.executable, "-c", BYPASSED], cwd=tmp_path / "col2im")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["raised: " + get_exercise("col2im").message()] * 2
    # The same layers on the fast kernels never reach the blanked region: the switch matters.
    done = _run([sys.executable, "-c", BYPASSED], cwd=tmp_path / "col2im",
                MINIGEN_REFERENCE_KERNELS="0")
    assert done.stdout.splitlines() == ["ran", "ran"], done.stderr
    # Other exercises leave the switch as it is.
    other = build(tmp_path / "mul", only="mul_backward", source_dir=ROOT)
    assert not other.reference_kernels
    assert (tmp_path / "mul" / SWITCH_FILE).read_bytes() == (ROOT / SWITCH_FILE).read_bytes()


@pytest.mark.parametrize("switch", [None, "x = 1\n", f"{SWITCH_LINE}\n{SWITCH_LINE}\n"],
                         ids=["missing", "no-line", "twice"])
def test_a_kernel_exercise_needs_exactly_one_switch_line(tmp_path, switch):
    src = _tree(tmp_path, "def f():\n    # BEGIN SOLUTION col2im\n    return 1\n"
                          "    # END SOLUTION\n")
    if switch is not None:
        (src / SWITCH_FILE).parent.mkdir(parents=True)
        (src / SWITCH_FILE).write_text(switch, encoding="utf-8")
    with pytest.raises(BuildError, match=r"minigen/ops/fast/__init__\.py: expected the line "
                                         r"'REFERENCE_KERNELS_DEFAULT = False' exactly once"):
        build(tmp_path / "out", source_dir=src, only="col2im")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- the command line
def test_cli_list_build_and_grade(tmp_path, capsys):
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert all(e.id in listed for e in CATALOG) and "pytest -m exercise_mul_backward" in listed
    assert "minigen/ops/elementwise.py:" in listed

    copy = tmp_path / "copy"
    assert main(["build", "--out", str(copy), "--only", "lsgan_losses"]) == 0
    assert "minigen/generative/gan.py" in capsys.readouterr().out
    assert main(["build", "--out", str(copy)]) == 1  # not empty any more
    assert "already exists" in capsys.readouterr().err
    assert main(["build", "--out", str(tmp_path / "x"), "--only", "nope"]) == 2  # a usage error
    assert "unknown exercise(s) nope" in capsys.readouterr().err
    assert main(["build"]) == 2
    assert "--out" in capsys.readouterr().err

    grades = tmp_path / "grades.json"
    assert main(["grade", str(copy), "--json", str(grades)]) == 0
    out = capsys.readouterr().out
    assert "lsgan_losses" in out and "0/1" in out and "total" in out
    assert json.loads(grades.read_text(encoding="utf-8"))["exercises"][0]["id"] == "lsgan_losses"

    # The submission's own test files do not matter: the reference tests grade it.
    (copy / "tests" / "test_zz_broken.py").write_text("raise RuntimeError('broken on import')\n")
    assert main(["grade", str(copy), "--json", str(grades)]) == 2  # exists: not overwritten
    assert "exists; choose a new name or add --force" in capsys.readouterr().err
    assert main(["grade", str(copy), "--json", str(grades), "--force"]) == 0
    out = capsys.readouterr().out
    assert "lsgan_losses" in out and "0/2" in out and "broken on import" not in out


def test_python_dash_m_runs_the_command():
    done = _run([sys.executable, "-m", "minigen.assignments", "list"], cwd=ROOT)
    assert done.returncode == 0 and "kl_divergence" in done.stdout, done.stderr
