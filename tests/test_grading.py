"""The grader against honest and hostile submissions (issue: homework an instructor can trust).

A submission here is a folder holding only the files of the graded exercises' regions (the
grader reads nothing else): the reference file with the region's code replaced. Each
grading runs one or two small exercises (mul_backward: 3 tests; kl_divergence: 4).
"""
import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from minigen.assignments import BuildError, build, grade
from minigen.assignments import grader as grader_module
from minigen.assignments.builder import MANIFEST, scan
from minigen.assignments.catalog import CATALOG, get_exercise
from minigen.assignments.cli import main
from minigen.assignments.gradebook import SubmissionError, unpack
from minigen.assignments.grader import Reference
from minigen.assignments.isolation import foreign_minigen
from minigen.assignments.regions import find_regions, replace_regions
from minigen.assignments.screening import screen

ROOT = Path(__file__).resolve().parent.parent
IS_STUDENT_COPY = (ROOT / MANIFEST).exists()
pytestmark = pytest.mark.skipif(IS_STUDENT_COPY, reason="grading needs the reference solutions")

MUL = "minigen/ops/elementwise.py"
VAE = "minigen/generative/vae.py"
RIGHT_MUL = ("        grad_a = grad * b if ctx.needs_input_grad[0] else None\n"
             "        grad_b = grad * a if ctx.needs_input_grad[1] else None\n"
             "        return grad_a, grad_b\n")
SWAPPED_MUL = "        return grad * a, grad * b\n"  # the product rule with its factors swapped
RIGHT_KL = "    per_sample = sum(1 + logvar - mu * mu - exp(logvar), axis=1) * -0.5\n"
WRONG_KL = "    per_sample = sum(1 + logvar - mu * mu - exp(logvar), axis=1) * 0.5\n"


@pytest.fixture(scope="module")
def reference():
    return Reference(ROOT)


def submission(folder: Path, codes: dict, manifest=None) -> Path:
    """A submission folder: for each (file, region id), the reference file with that
    region's code replaced by ``codes[...]``."""
    for (rel, region_id), code in codes.items():
        target = folder / rel
        text = target.read_text(encoding="utf-8") if target.exists() else (ROOT / rel).read_text(
            encoding="utf-8")
        regions = [r for r in find_regions(text, rel) if r.region_id == region_id]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(replace_regions(text, [(r, code) for r in regions]), encoding="utf-8")
    if manifest is not None:
        (folder / MANIFEST).write_text(json.dumps({"exercises": manifest}), encoding="utf-8")
    return folder


def mul(folder, code, **kw):
    return submission(folder, {(MUL, "mul_backward"): code}, **kw)


def graded(folder, reference, only="mul_backward", **kw):
    return grade(folder, only=only, reference=reference, **kw)


# ---------------------------------------------------------------- honest submissions
def test_a_right_and_a_wrong_mul(tmp_path, reference):
    right = graded(mul(tmp_path / "right", RIGHT_MUL), reference).score("mul_backward")
    assert (right.status, right.points, right.passed) == ("passed", 1.0, right.total)
    wrong = graded(mul(tmp_path / "wrong", SWAPPED_MUL), reference)
    score = wrong.score("mul_backward")
    assert score.status == "failed" and score.points < 1 and score.failures
    # The whole gradcheck message, first order (the inputs keep a != b and no zeros):
    # the input, the element, analytic vs numeric, the op.
    first = score.failures[0]
    assert first["test"].endswith("test_mul_away_from_degenerate_points")
    message = first["message"]
    assert message.startswith("GradcheckError: gradcheck failed for input 0")
    assert "made by Mul" in message and "element" in message
    assert "analytic" in message and "numeric" in message and "Falsifying example" in message
    assert "gradgradcheck" not in message and "reproduce_failure" not in message
    table = wrong.table()
    assert all(line in table for line in message.splitlines()[:6]), table
    assert "section '4. A `Function`: forward and backward of one op'" in table
    report = wrong.feedback()
    assert all(f["test"] in report for f in score.failures)


def test_an_assertion_failure_shows_the_compared_values(tmp_path, reference):
    score = graded(submission(tmp_path / "kl", {(VAE, "kl_divergence"): WRONG_KL}), reference,
                   only="kl_divergence").score("kl_divergence")
    assert score.status == "failed" and score.points < 2
    assert any("Mismatch" in f["message"] or "assert" in f["message"] and "\n" in f["message"]
               for f in score.failures), score.failures
    assert all(len(f["message"].splitlines()) > 1 for f in score.failures), score.failures
    assert "AssertionError: \n" not in score.failures[0]["message"] + "\n"


def test_one_exercise_at_a_time_and_fix_first_notes(tmp_path, reference):
    # A correct KL scores full marks whatever the student's Mul does ...
    both = submission(tmp_path / "a", {(MUL, "mul_backward"): SWAPPED_MUL,
                                       (VAE, "kl_divergence"): RIGHT_KL})
    report = graded(both, reference, only="mul_backward,kl_divergence")
    assert report.score("kl_divergence").status == "passed"
    assert report.score("kl_divergence").points == 2 and report.score("mul_backward").points < 1
    assert not report.score("kl_divergence").notes
    # ... and a failing KL whose dependency also fails is told to fix that first.
    worse = submission(tmp_path / "b", {(MUL, "mul_backward"): SWAPPED_MUL,
                                        (VAE, "kl_divergence"): WRONG_KL})
    report = graded(worse, reference, only="mul_backward,kl_divergence")
    (note,) = report.score("kl_divergence").notes
    assert note.startswith("your mul_backward also fails: fix it first")
    assert "your mul_backward also fails" in report.table()


def test_identical_code_is_graded_once_per_class(tmp_path, reference):
    cache = {}
    first = graded(mul(tmp_path / "a", RIGHT_MUL), reference, cache=cache)
    again = graded(mul(tmp_path / "b", RIGHT_MUL), reference, cache=cache)
    assert again.seconds < first.seconds / 5 and len(cache) == 1
    assert again.score("mul_backward").points == first.score("mul_backward").points == 1


# ---------------------------------------------------------------- hostile submissions
MONKEYPATCH = ("        import minigen.gradient_check as g\n"
               "        g.gradcheck = lambda *args, **kwargs: None\n" + SWAPPED_MUL)
MONKEYPATCH_ROOT = ("        import minigen\n"
                    "        minigen.gradcheck = minigen.gradgradcheck = lambda *a, **k: None\n"
                    + SWAPPED_MUL)
HOSTILE = {
    "exit": "        import sys\n        sys.exit(0)\n",
    "os._exit": "        import os\n        os._exit(0)\n",
    "monkeypatch gradient_check": MONKEYPATCH,
    "monkeypatch pytest": "        import pytest\n        pytest.fail = lambda *a, **k: None\n"
                          + SWAPPED_MUL,
    "write a file": "        open('/tmp/minigen-grading-probe', 'w').write('x')\n" + SWAPPED_MUL,
    "exec": "        exec('import os')\n" + SWAPPED_MUL,
    "frame globals": "        (lambda: 0).__globals__['x'] = 1\n" + SWAPPED_MUL,
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_code_that_reaches_outside_the_exercise_is_invalid(tmp_path, reference, kind):
    score = graded(mul(tmp_path / "s", HOSTILE[kind]), reference).score("mul_backward")
    assert (score.status, score.points) == ("invalid", 0), score
    assert "not allowed" in score.reason or "not the exercise's to use" in score.reason
    assert f"{MUL}:" in score.reason  # where it is
    assert not os.path.exists("/tmp/minigen-grading-probe")


def test_the_guard_fails_tests_after_the_checking_tools_change(tmp_path, reference, monkeypatch):
    """The second guard, with the screening switched off: a region that replaces
    minigen.gradcheck (or gradient_check's) earns nothing."""
    monkeypatch.setattr(grader_module, "screen", lambda code: [])
    for name, code in [("root", MONKEYPATCH_ROOT), ("module", MONKEYPATCH)]:
        score = graded(mul(tmp_path / name, code), reference).score("mul_backward")
        assert (score.status, score.points) == ("failed", 0), score
        assert score.reason.startswith("your code changed the checking tools"), score.reason


def test_exits_and_crashes_without_the_screening(tmp_path, reference, monkeypatch):
    monkeypatch.setattr(grader_module, "screen", lambda code: [])
    exited = graded(mul(tmp_path / "exit", HOSTILE["exit"]), reference).score("mul_backward")
    assert exited.points == 0 and exited.status in ("failed", "crashed"), exited
    crashed = graded(mul(tmp_path / "os", HOSTILE["os._exit"]), reference).score("mul_backward")
    assert (crashed.status, crashed.points) == ("crashed", 0), crashed


def _processes_with(text: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else []:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def test_an_endless_loop_times_out_and_its_whole_process_tree_ends(tmp_path, reference,
                                                                   monkeypatch):
    score = graded(mul(tmp_path / "loop", "        while True:\n            pass\n"),
                   reference, timeout=8).score("mul_backward")
    assert (score.status, score.points) == ("timed out", 0) and "8 s" in score.reason
    # A grandchild (here a sleep the region starts; in real life pytest's own children)
    # ends with the group.
    monkeypatch.setattr(grader_module, "screen", lambda code: [])
    spawn = ("        import subprocess\n"
             "        subprocess.Popen(['sleep', '987.654'])\n"
             "        while True:\n            pass\n")
    score = graded(mul(tmp_path / "spawn", spawn), reference, timeout=8).score("mul_backward")
    assert score.status == "timed out"
    if os.path.isdir("/proc"):
        assert _processes_with("987.654") == []


@pytest.mark.skipif(not os.path.isdir("/proc") or not hasattr(os, "killpg"),
                    reason="needs /proc and process groups")
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_an_interrupted_grading_ends_every_process_it_started(tmp_path, how):
    import signal
    import time
    sub = mul(tmp_path / "loop", "        while True:\n            pass\n")
    scratch = tmp_path / "grader-tmp-7c1f"   # the grader's temporary folder: in every run's paths
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch), PYTHONPATH=str(ROOT), CI="1")
    grader = subprocess.Popen([sys.executable, "-m", "minigen.assignments", "grade", str(sub),
                               "--only", "mul_backward", "--reference", str(ROOT),
                               "--timeout", "300"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not _processes_with("--exercise-report") or not [
            p for p in _processes_with(str(scratch)) if int(p) != grader.pid]:
        assert time.monotonic() < deadline and grader.poll() is None, "the tests never started"
        time.sleep(0.2)
    time.sleep(1.0)  # pytest is inside the endless loop now
    grader.send_signal(getattr(signal, how))
    out, err = grader.communicate(timeout=60)
    assert grader.returncode == 130 and "every grading process was ended" in err, (out, err)
    time.sleep(0.5)
    assert _processes_with(str(scratch)) == []


def test_a_submissions_tests_conftest_and_other_files_do_not_count(tmp_path, reference):
    blank = build(tmp_path / "copy", only="mul_backward", source_dir=ROOT).out_dir
    (blank / "tests" / "conftest.py").write_text(
        "import pytest\n\n@pytest.hookimpl(hookwrapper=True)\n"
        "def pytest_runtest_makereport(item, call):\n    outcome = yield\n"
        "    outcome.get_result().outcome = 'passed'\n", encoding="utf-8")
    (blank / "tests" / "test_gradients.py").write_text(
        "import pytest\n\n@pytest.mark.exercise_mul_backward\ndef test_free():\n    pass\n",
        encoding="utf-8")
    (blank / "minigen" / "gradient_check.py").write_text(
        "def gradcheck(*a, **k):\n    return True\n", encoding="utf-8")
    report = graded(blank, reference)
    score = report.score("mul_backward")
    assert (score.status, score.points, score.passed) == ("failed", 0, 0)
    assert all("NotImplementedError: Exercise mul_backward" in f["message"]
               for f in score.failures)
    assert not (reference.root / "tests" / "test_gradients.py").read_text().startswith(
        "import pytest\n\n@pytest.mark.exercise_mul_backward\ndef test_free")


def test_broken_submissions_are_invalid_with_the_reason(tmp_path, reference):
    gone = mul(tmp_path / "gone", RIGHT_MUL)
    text = (gone / MUL).read_text()
    (gone / MUL).write_text(text.replace("# BEGIN SOLUTION mul_backward", "# begin", 1)
                            .replace("# END SOLUTION", "# end", 1))
    score = graded(gone, reference).score("mul_backward")
    assert score.status == "invalid" and "found 0" in score.reason and "keep the marker" in score.reason
    (gone / MUL).write_text(text.replace("# BEGIN SOLUTION mul_backward", "# begin", 1))
    score = graded(gone, reference).score("mul_backward")
    assert score.status == "invalid" and "END SOLUTION without a BEGIN" in score.reason
    broken = mul(tmp_path / "syntax", "        return grad * b,, grad * a\n")
    score = graded(broken, reference).score("mul_backward")
    assert score.status == "invalid" and "syntax error" in score.reason
    indent = mul(tmp_path / "indent", "return grad * b, grad * a\n")
    score = graded(indent, reference).score("mul_backward")
    assert score.status == "invalid" and "indentation" in score.reason
    empty = tmp_path / "empty"
    empty.mkdir()
    score = graded(empty, reference).score("mul_backward")
    assert score.status == "invalid" and "missing from the submission" in score.reason


# ---------------------------------------------------------------- a class
def test_grading_a_class_into_a_gradebook(tmp_path, reference, capsys):
    subs = tmp_path / "submissions"
    ana = mul(subs / "ana", RIGHT_MUL, manifest=["mul_backward"])
    luis = mul(tmp_path / "luis", SWAPPED_MUL, manifest=["mul_backward"])
    with zipfile.ZipFile(subs / "luis.zip", "w") as z:  # a zip with one folder inside
        for path in luis.rglob("*"):
            z.write(path, Path("luis-copy") / path.relative_to(luis))
    (subs / "eva.zip").write_bytes(b"not a zip at all")
    (subs / "noe").mkdir()  # no minigen/ inside
    with zipfile.ZipFile(subs / "evil.zip", "w") as z:
        z.writestr("../escape.txt", "x")
    paths = sorted(subs.iterdir())
    gradebook, reports = tmp_path / "grades.csv", tmp_path / "reports"
    assert main(["grade", *map(str, paths), "--gradebook", str(gradebook), "--reports",
                 str(reports), "--only", "mul_backward"]) == 0
    out = capsys.readouterr().out
    assert "ana: 1/1" in out and "eva: not graded" in out and "noe: not graded" in out
    rows = list(csv.DictReader(gradebook.open(encoding="utf-8")))
    by_student = {r["student"]: r for r in rows}
    assert sorted(by_student) == ["ana", "eva", "evil", "luis", "noe"]
    assert by_student["ana"]["status"] == "passed" and by_student["ana"]["points"] == "1"
    assert by_student["luis"]["status"] == "failed" and float(by_student["luis"]["points"]) < 1
    for name in ("eva", "evil", "noe"):
        assert by_student[name]["status"] == "invalid" and by_student[name]["points"] == "0"
    assert "no minigen/ folder" in by_student["noe"]["reason"]
    assert "'..'" in by_student["evil"]["reason"] and not (tmp_path / "escape.txt").exists()
    assert "GradcheckError" in (reports / "luis.txt").read_text(encoding="utf-8")
    # An existing gradebook is not overwritten.
    assert main(["grade", str(ana), str(luis), "--gradebook", str(gradebook)]) == 2
    assert "exists" in capsys.readouterr().err


def test_unpack_refuses_what_it_cannot_read(tmp_path):
    with pytest.raises(SubmissionError, match="no such file"):
        unpack(tmp_path / "nope", tmp_path / "x")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(SubmissionError, match="not a folder nor a zip"):
        unpack(tmp_path / "f.txt", tmp_path / "x")


# ---------------------------------------------------------------- the screening itself
def test_the_screening_passes_every_reference_solution():
    for rel, regions in scan(ROOT).items():
        text = (ROOT / rel).read_text(encoding="utf-8")
        for r in regions:
            if r.cell is None:
                code = "".join(text.splitlines(keepends=True)[r.begin:r.end - 1])
                assert screen(code) == [], (rel, r.region_id)


@pytest.mark.parametrize("code, problem", [
    ("from minigen import testing", "imports minigen.testing"),
    ("from ..gradient_check import gradcheck", "imports ..gradient_check.gradcheck"),
    ("import numpy.testing", "imports numpy.testing"),
    ("import subprocess", "imports subprocess"),
    ("global x\nx = 1", "declares global x"),
    ("raise SystemExit", "uses SystemExit"),
    ("getattr(x, 'y')", "uses getattr"),
    ("x.__class__", "uses the attribute __class__"),
])
def test_the_screening_names_each_problem(code, problem):
    assert any(problem in p for p in screen(code)), screen(code)
    assert screen("import numpy as np\nimport math\nreturn np.exp(math.pi)") == []


# ---------------------------------------------------------------- copies and lectures
def test_a_copy_tests_its_own_minigen_or_stops_in_one_line(tmp_path):
    assert foreign_minigen(ROOT / "tests") is None
    other = tmp_path / "copy"
    (other / "minigen").mkdir(parents=True)
    (other / "tests").mkdir()
    message = foreign_minigen(other / "tests")
    assert message == (f"the tests in {other.resolve()} would test another minigen, "
                       f"{(ROOT / 'minigen').resolve()}: run `pip install -e .` in "
                       f"{other.resolve()}, or `python -m pytest` from {other.resolve()}")


def test_plain_pytest_in_a_copy_runs_the_copys_code(tmp_path):
    """A copy graded by hand: ``pytest -m exercise_<id>`` from elsewhere, with another
    minigen first on the path, runs the copy's blanked code (fails), never the installed
    solutions (the false pass); with that minigen imported first, it stops in one line."""
    copy = build(tmp_path / "copy", only="mul_backward", source_dir=ROOT).out_dir
    env = dict(os.environ, PYTHONPATH=str(ROOT), CI="1", PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run([sys.executable, "-m", "pytest", str(copy / "tests" / "test_gradients.py"),
                           "-q", "-p", "no:cacheprovider", "-m", "exercise_mul_backward"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "NotImplementedError" in done.stdout, done.stdout[-2000:]
    script = ("import minigen, pytest, sys\n"
              f"sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', {str(copy / 'tests')!r}]))")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 4, done.stdout[-2000:]
    assert f"would test another minigen, {(ROOT / 'minigen').resolve()}" in done.stdout + done.stderr


def test_lectures_import_the_minigen_of_their_own_tree(tmp_path):
    copy = build(tmp_path / "copy", only="kl_divergence", source_dir=ROOT).out_dir
    for notebook in sorted((copy / "lectures").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        first = "".join(next(c for c in cells if c["cell_type"] == "code")["source"])
        script = first + "\nimport minigen\nprint(minigen.__file__)\n"
        env = dict(os.environ, PYTHONPATH=str(ROOT), MINIGEN_FAST="1")
        done = subprocess.run([sys.executable, "-c", script], cwd=notebook.parent, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert Path(done.stdout.split()[-1]).resolve().is_relative_to(copy.resolve()), notebook


def test_every_stub_says_what_its_code_must_return_or_define(tmp_path):
    copy = build(tmp_path / "copy", source_dir=ROOT)
    for rel in sorted({r.path for r in copy.regions if r.cell is None}):
        text = (copy.out_dir / rel).read_text(encoding="utf-8")
        for stub in find_regions(text, rel):
            code = "".join(text.splitlines(keepends=True)[stub.begin:stub.end - 1])
            assert "# Your code: " in code, (rel, stub.region_id, code)
    kl = (copy.out_dir / VAE).read_text(encoding="utf-8")
    assert "# Your code: define per_sample (the code after this region uses it)." in kl


def test_every_exercise_points_at_an_existing_lecture_section():
    for e in CATALOG:
        cells = json.loads((ROOT / e.lecture).read_text(encoding="utf-8"))["cells"]
        headings = {line[3:].strip() for c in cells if c["cell_type"] == "markdown"
                    for line in "".join(c["source"]).splitlines() if line.startswith("## ")}
        assert e.section in headings, (e.id, e.section)
        assert all(get_exercise(u) for u in e.uses)


# ---------------------------------------------------------------- the "find the bug" workbook
def test_the_debugging_workbook_plants_each_bug_and_grades_the_fix(tmp_path, reference):
    copy = build(tmp_path / "bugs", source_dir=ROOT, debugging=True)
    bugs = [e for e in CATALOG if e.fixes]
    assert copy.exercises == [e.id for e in bugs] and len(bugs) >= 5
    assert json.loads((copy.out_dir / MANIFEST).read_text())["exercises"] == copy.exercises
    for e in bugs:  # each wrong line is in the copy, its right line is not
        rel = next(r.path for r in copy.regions if r.region_id in e.region_ids)
        text = (copy.out_dir / rel).read_text(encoding="utf-8")
        assert e.bug[1] in text and e.bug[0] not in text, e.id
        lines = text.splitlines(keepends=True)
        assert "NotImplementedError" not in "".join(
            "".join(lines[r.begin:r.end - 1])
            for r in find_regions(text, rel) if r.region_id in e.region_ids)
    # Graded like any exercise: the planted KL sign fails, the student's fix passes.
    planted = graded(copy.out_dir, reference, only="bug_kl_sign").score("bug_kl_sign")
    assert planted.status == "failed" and planted.points < planted.max_points
    vae = copy.out_dir / VAE
    bug = get_exercise("bug_kl_sign").bug
    vae.write_text(vae.read_text(encoding="utf-8").replace(bug[1], bug[0]), encoding="utf-8")
    fixed = graded(copy.out_dir, reference, only="bug_kl_sign").score("bug_kl_sign")
    assert (fixed.status, fixed.points) == ("passed", fixed.max_points)


def test_a_bug_and_its_exercise_cannot_share_a_copy(tmp_path):
    with pytest.raises(BuildError, match="kl_divergence and bug_kl_sign both edit the region"):
        build(tmp_path / "x", only="kl_divergence,bug_kl_sign", source_dir=ROOT)
