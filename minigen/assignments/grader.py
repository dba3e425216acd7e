"""Grading a submission in a pristine tree, one exercise at a time.

For each exercise, the grader

1. takes from the submission only the code inside that exercise's regions (the lines
   between ``# BEGIN SOLUTION <id>`` and ``# END SOLUTION``, found by file and id);
2. reads it before running it (``screening``): code that imports ``os``, calls ``exec``,
   exits, or reaches the checking tools is ``invalid``, with the reason;
3. splices it into a fresh copy of the *reference* tree (the instructor's minigen, tests and
   lectures, with the reference solutions in every other region, so a correct KL scores
   full marks whatever the student's Mul does);
4. runs the reference tests that carry the exercise's marker there (or the lecture notebook
   with its check cell), in a process group of its own with a time limit (``sandbox``) and
   a plugin that records every test's outcome and message and fails any test after which
   the checking tools changed (``pytest_plugin``).

Nothing else of the submission is used: its tests, its ``conftest.py``, its other files.
Each exercise ends in one status:

* ``passed``: every test passed; ``failed``: some did not (points ``max · passed/total``),
  or the code changed the checking tools (0 points), with each failure's whole message;
* ``timed out``: stopped after the time limit, its whole process tree ended;
* ``crashed``: the test process ended without a complete report (``os._exit``, a crash);
* ``invalid``: the code could not be graded (markers gone, a syntax error, code that the
  screening refuses): 0 points and the reason.

For a failing exercise whose dependencies (``Exercise.dependencies``) also fail, the report adds
"your <id> also fails: fix it first": in the student's own copy, those failures cascade.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from minigen.assignments import sandbox
from minigen.assignments.builder import (MANIFEST, SWITCH_FILE, _reference_kernels_on,
                                         list_files, repository_root, scan)
from minigen.assignments.catalog import Exercise, get_exercise, select
from minigen.assignments.pytest_plugin import cap
from minigen.assignments.regions import (MarkerError, Region, find_regions,
                                         notebook_cell_code, notebook_regions, read_source,
                                         region_code, replace_notebook_regions, replace_regions)
from minigen.assignments.screening import screen

DEFAULT_TIMEOUT = 300.0  # seconds per exercise
_PLUGIN = "_minigen_exercise_report"
_HERE = Path(__file__).resolve().parent
STATUSES = ("passed", "failed", "timed out", "crashed", "invalid")


@dataclass
class ExerciseScore:
    """The result of one exercise: its status and reason, its tests (or notebook checks)
    passed out of total, the tests that passed, every failure as ``{"test", "message"}``
    (the whole message, capped), and notes (a dependency that also fails)."""

    id: str
    title: str
    lecture: str
    difficulty: int
    graded_by: str
    status: str
    reason: str
    passed: int
    total: int
    skipped: int
    points: float
    max_points: float
    failures: list[dict] = field(default_factory=list)
    passed_tests: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class GradeReport:
    """Every exercise's score, problems with the grading itself (``errors``), and the
    seconds it took."""

    repo_dir: str
    reference: str
    scores: list[ExerciseScore]
    errors: list[str]
    seconds: float

    @property
    def points(self) -> float:
        return round(sum(s.points for s in self.scores), 2)

    @property
    def max_points(self) -> float:
        return round(sum(s.max_points for s in self.scores), 2)

    def score(self, exercise_id: str) -> ExerciseScore:
        """The score of one exercise."""
        for s in self.scores:
            if s.id == exercise_id:
                return s
        raise KeyError(f"exercise {exercise_id!r} was not graded")

    def to_dict(self) -> dict:
        """The report as JSON-ready data (what ``json_path`` receives)."""
        return {"repo_dir": self.repo_dir, "reference": self.reference, "points": self.points,
                "max_points": self.max_points, "seconds": round(self.seconds, 1),
                "errors": self.errors, "exercises": [asdict(s) for s in self.scores]}

    def table(self, failures_shown: int = 1, lines: int = 12) -> str:
        """The score table, then each exercise that did not pass with its reason and its
        first failure's message (``failures_shown`` of them, ``lines`` lines each)."""
        width = max([len("exercise")] + [len(s.id) for s in self.scores])
        rule = "-" * (width + 35)
        rows = [f"{'exercise':<{width}}  {'status':<9}  {'tests':>7}  {'points':>11}", rule]
        for s in self.scores:
            rows.append(f"{s.id:<{width}}  {s.status:<9}  {f'{s.passed}/{s.total}':>7}  "
                        f"{f'{s.points:g}/{s.max_points:g}':>11}")
        rows += [rule, f"{'total':<{width}}  {'':<9}  {'':>7}  "
                       f"{f'{self.points:g}/{self.max_points:g}':>11}"]
        for s in self.scores:
            if s.status != "passed":
                rows.append("")
                rows.extend(_explain(s, failures_shown, lines))
        rows.extend(f"error: {e}" for e in self.errors)
        return "\n".join(rows)

    def feedback(self) -> str:
        """The student's report: the table, then every failure of every exercise in full
        (as capped by the plugin)."""
        return self.table(failures_shown=10 ** 6, lines=10 ** 6) + "\n"


def _explain(s: ExerciseScore, failures_shown: int, lines: int) -> list[str]:
    out = [f"{s.id} — {s.status}: {s.reason}"]
    out += [f"  note: {note}" for note in s.notes]
    shown = [f for f in s.failures if f["message"] != s.reason]  # not the reason twice
    for failure in shown[:failures_shown]:
        out.append(f"  {failure['test']}")
        message = cap(failure["message"], lines=lines)
        out.extend("      " + line for line in message.splitlines())
    if len(shown) > failures_shown:
        rest = len(shown) - failures_shown
        out.append(f"  (+{rest} more failing test{'s' * (rest > 1)}: the full report lists them)")
    out.append(f"  see {get_exercise(s.id).where_taught}")
    return out


# ---------------------------------------------------------------- the reference tree
class Reference:
    """The instructor's tree, read once for a whole grading: its files, its solution
    regions, and which test files carry each exercise's marker."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root).resolve() if root is not None else repository_root()
        if not (self.root / "minigen").is_dir() or not (self.root / "tests").is_dir():
            raise ValueError(f"{self.root} is not a minigen source tree (no minigen/ and "
                             "tests/): give the reference repository")
        self.files = list_files(self.root)
        self.regions = scan(self.root, self.files)
        self._texts: dict[str, str] = {}

    def text(self, rel: str) -> str:
        if rel not in self._texts:
            self._texts[rel] = read_source(self.root / rel)
        return self._texts[rel]

    def regions_of(self, exercise: Exercise) -> dict[str, list[Region]]:
        """The exercise's regions, by file."""
        found = {rel: [r for r in rs if r.region_id in exercise.region_ids]
                 for rel, rs in self.regions.items()}
        return {rel: rs for rel, rs in found.items() if rs}

    def test_files(self, marker: str) -> list[str]:
        """The test files that mention ``marker``."""
        return [rel for rel in self.files if rel.startswith("tests/") and rel.endswith(".py")
                and marker in (self.text(rel) or "")]


class Invalid(Exception):
    """The submission's code for an exercise cannot be graded; the message says why."""


# ---------------------------------------------------------------- grading
def grade(repo_dir: str | os.PathLike = ".", json_path: str | os.PathLike | None = None,
          only: str | list[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
          reference: str | os.PathLike | Reference | None = None, jobs: int | None = None,
          report_path: str | os.PathLike | None = None, verbose: bool = False,
          cache: dict | None = None) -> GradeReport:
    """Grade the submission ``repo_dir`` exercise by exercise in pristine copies of the
    reference tree; returns the report (``report.table()`` is what ``minigen assignment
    grade`` prints).

    Args:
        repo_dir: the submission (a student's copy).
        json_path: also write the report there as JSON, for a course's grading system.
        only: the exercises to grade (ids, or one comma-separated string); default: those
            listed in the submission's ``assignment.json``, else the whole catalogue.
        timeout: seconds for each exercise before it counts as timed out.
        reference: the instructor's tree (default: the repository minigen is imported
            from), or a ``Reference`` already read.
        jobs: exercises graded side by side (default: the number of CPUs).
        report_path: also write the student's full report (``report.feedback()``) there.
        verbose: print each run's own output too.
        cache: a dict shared between gradings (a class): an exercise whose spliced code is
            the same as one already graded gets the same result without running again.
    """
    submission = Path(repo_dir).resolve()
    if not submission.is_dir():
        raise ValueError(f"{submission} is not a folder: give the root of a copy to grade")
    ref = reference if isinstance(reference, Reference) else Reference(reference)
    exercises = select(only if only is not None else _manifest_exercises(submission))
    start = time.perf_counter()
    cache = {} if cache is None else cache
    scores = _run_all(exercises, submission, ref, timeout, jobs, verbose, cache)
    _add_dependency_notes(scores)
    report = GradeReport(str(submission), str(ref.root), scores, [], time.perf_counter() - start)
    if json_path is not None:
        Path(json_path).write_text(json.dumps(report.to_dict(), indent=1, ensure_ascii=False)
                                   + "\n", encoding="utf-8")
    if report_path is not None:
        Path(report_path).write_text(report.feedback(), encoding="utf-8")
    return report


def _manifest_exercises(repo: Path) -> list[str] | None:
    path = repo / MANIFEST
    if not path.exists():
        return None
    try:
        ids = json.loads(path.read_text(encoding="utf-8"))["exercises"]
        return [str(i) for i in ids]
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path} is not a valid assignment manifest ({err}); give --only") from None


def _run_all(exercises: list[Exercise], submission: Path, ref: Reference, timeout: float,
             jobs: int | None, verbose: bool, cache: dict) -> list[ExerciseScore]:
    """Grade every exercise (``jobs`` at a time); an interrupt ends every running group."""
    sandbox.allow_runs()
    restore = _signals_interrupt()
    try:
        with tempfile.TemporaryDirectory(prefix="minigen-grade-") as tmp:
            tmp_path = Path(tmp)
            plugin_dir = tmp_path / "plugin"
            plugin_dir.mkdir()
            (plugin_dir / f"{_PLUGIN}.py").write_text(
                (_HERE / "pytest_plugin.py").read_text(encoding="utf-8"), encoding="utf-8")
            (plugin_dir / "notebook_runner.py").write_text(
                (_HERE / "notebook_runner.py").read_text(encoding="utf-8"), encoding="utf-8")

            def one(k_e: tuple[int, Exercise]) -> ExerciseScore:
                k, e = k_e
                return _grade_one(e, submission, ref, timeout, tmp_path / f"run{k}",
                                  plugin_dir, verbose, cache)

            workers = max(1, min(len(exercises), jobs or os.cpu_count() or 1))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                try:
                    return list(pool.map(one, enumerate(exercises)))
                except BaseException:
                    sandbox.stop_all()
                    raise
    finally:
        restore()


def _signals_interrupt():
    """While grading, SIGTERM and SIGHUP interrupt like Ctrl-C (so every process group is
    ended); returns the function that puts the old handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    names = [n for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    old = {n: signal.getsignal(getattr(signal, n)) for n in names}

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"grading stopped by signal {signum}")

    for n in names:
        signal.signal(getattr(signal, n), interrupt)
    return lambda: [signal.signal(getattr(signal, n), h) for n, h in old.items()]


def _grade_one(e: Exercise, submission: Path, ref: Reference, timeout: float, workdir: Path,
               plugin_dir: Path, verbose: bool, cache: dict) -> ExerciseScore:
    try:
        texts = _spliced_texts(e, submission, ref)
    except Invalid as err:
        return _score(e, "invalid", str(err))
    key = (str(ref.root), e.id, timeout, hashlib.sha256(json.dumps(
        sorted(texts.items())).encode("utf-8")).hexdigest())
    if key in cache:
        return _copy_score(cache[key])
    try:
        tree = sandbox.pristine_tree(ref.root, ref.files, workdir / "tree", texts)
        env = sandbox.environment(tree, workdir / "scratch", plugin_dir)
        score = (_run_tests(e, tree, ref, env, workdir, timeout, verbose) if e.marker
                 else _run_notebook(e, tree, env, workdir, plugin_dir, timeout, verbose))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    cache[key] = score
    return _copy_score(score)


def _copy_score(score: ExerciseScore) -> ExerciseScore:
    return ExerciseScore(**json.loads(json.dumps(asdict(score))))


# ---------------------------------------------------------------- the submission's code
def _spliced_texts(e: Exercise, submission: Path, ref: Reference) -> dict[str, str]:
    """The reference files that hold ``e``'s regions, with the submission's code of those
    regions spliced in (and the reference-kernel switch for a kernel exercise)."""
    texts: dict[str, str] = {}
    for rel, ours in ref.regions_of(e).items():
        theirs = _submitted_regions(submission, rel)
        codes = []
        for rid in dict.fromkeys(r.region_id for r in ours):
            mine = [r for r in ours if r.region_id == rid]
            found = [r for r in theirs[0] if r.region_id == rid]
            if len(found) != len(mine):
                raise Invalid(f"{rel}: expected {len(mine)} region(s) '# BEGIN SOLUTION {rid}' "
                              f"... '# END SOLUTION', found {len(found)}: keep the marker "
                              "lines as the copy had them and write your code between them")
            for r_ref, r_sub in zip(mine, found):
                code = (region_code(theirs[1], r_sub) if r_sub.cell is None
                        else notebook_cell_code(theirs[1], r_sub))
                problems = screen(code)
                if problems:
                    raise Invalid(f"{r_sub.where}: " + "; ".join(problems))
                codes.append((r_ref, code))
        if rel.endswith(".ipynb"):
            texts[rel] = replace_notebook_regions(ref.text(rel), codes)
        else:
            texts[rel] = replace_regions(ref.text(rel), codes)
            try:
                compile(texts[rel], rel, "exec")
            except SyntaxError as err:
                raise Invalid(f"{rel}: your code does not fit where it goes (line {err.lineno} "
                              f"of the spliced file: {err.msg}); check its indentation") from None
    if e.needs_reference_kernels:
        texts[SWITCH_FILE] = _reference_kernels_on(ref.root, texts.get(SWITCH_FILE))
    return texts


def _submitted_regions(submission: Path, rel: str) -> tuple[list[Region], str]:
    path = submission / rel
    if not path.is_file():
        raise Invalid(f"{rel} is missing from the submission")
    text = read_source(path)
    if text is None:
        raise Invalid(f"{rel} is not a UTF-8 text file")
    try:
        regions = notebook_regions(text, rel) if rel.endswith(".ipynb") else find_regions(text, rel)
    except MarkerError as err:
        raise Invalid(f"its solution markers are broken: {err}") from None
    return regions, text


# ---------------------------------------------------------------- running and scoring
def _run_tests(e: Exercise, tree: Path, ref: Reference, env: dict, workdir: Path,
               timeout: float, verbose: bool) -> ExerciseScore:
    tests = ref.test_files(e.marker)
    if not tests:
        return _score(e, "failed", f"no test carries the marker {e.marker}")
    report, log = workdir / "report.json", workdir / "pytest.log"
    command = [sys.executable, "-m", "pytest", *tests, "-m", e.marker,
               "-p", _PLUGIN, "--exercise-report", str(report), "-p", "no:cacheprovider",
               "-o", "addopts=", "-q", "--tb=short"]
    finished = sandbox.run_group(command, tree, env, log, timeout)
    output = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    if verbose and output:
        print(output)
    if finished.timed_out:
        return _score(e, "timed out", f"stopped after {timeout:g} s (an endless loop, or code "
                                      "much slower than it needs to be?)")
    data = _load(report)
    if data is None or data.get("exitstatus") != finished.returncode or finished.returncode not in (0, 1):
        return _score(e, "crashed", f"the tests' process ended with exit status "
                                    f"{finished.returncode} without a complete report:\n"
                                    f"{_tail(output)}")
    if data["collection_errors"]:
        return _score(e, "crashed", "the tests could not be collected: " + "; ".join(
            f"{c['nodeid']}: {c['message']}" for c in data["collection_errors"]))
    tests_run = {nodeid: t for nodeid, t in data["tests"].items() if e.marker in t["markers"]}
    passed = [nodeid for nodeid, t in tests_run.items() if t["outcome"] == "passed"]
    failures = [{"test": nodeid, "message": t["message"] or t["outcome"]}
                for nodeid, t in tests_run.items() if t["outcome"] != "passed"]
    skipped = sum(t["outcome"] == "skipped" for t in tests_run.values())
    if data.get("tampered"):
        return _score(e, "failed", "your code changed the checking tools, so no test of it "
                                   "counts: " + "; ".join(data["tampered"][:3]),
                      total=len(tests_run), failures=failures)
    if not tests_run:
        return _score(e, "failed", f"no test carries the marker {e.marker}")
    status = "passed" if len(passed) == len(tests_run) else "failed"
    reason = ("all tests passed" if status == "passed" else
              f"{len(failures)} of {len(tests_run)} tests failed")
    return _score(e, status, reason, passed, len(tests_run), skipped, failures)


def _run_notebook(e: Exercise, tree: Path, env: dict, workdir: Path, plugin_dir: Path,
                  timeout: float, verbose: bool) -> ExerciseScore:
    path, report, log = tree / e.notebook, workdir / "notebook.json", workdir / "notebook.log"
    command = [sys.executable, str(plugin_dir / "notebook_runner.py"), str(path),
               str(report)]
    finished = sandbox.run_group(command, path.parent, env, log, timeout)
    output = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    if verbose and output:
        print(output)
    if finished.timed_out:
        return _score(e, "timed out", f"the notebook was stopped after {timeout:g} s")
    data = _load(report)
    if data is None or finished.returncode != 0 or not data.get("complete"):
        return _score(e, "crashed", f"the notebook's process ended with exit status "
                                    f"{finished.returncode} before its last cell:\n{_tail(output)}")
    regions = [r for r in notebook_regions(read_source(path), e.notebook)
               if r.region_id in e.region_ids]
    cells = data["cells"]
    last = max(r.cell for r in regions)
    check = next((k for k in sorted(int(c) for c in cells) if k > last), None)
    needed = sorted({r.cell for r in regions} | ({check} if check is not None else set()))
    failures = [{"test": f"{e.notebook} cell {k}",
                 "message": cells.get(str(k), {}).get("error") or "not run"}
                for k in needed if not cells.get(str(k), {}).get("ok")]
    if failures:
        return _score(e, "failed", "its cells or its check cell raised", total=1,
                      failures=failures)
    return _score(e, "passed", "its cells and its check cell ran",
                  [f"{e.notebook} cell {needed[-1]}"], 1)


def _score(e: Exercise, status: str, reason: str, passed: list[str] | None = None,
           total: int = 0, skipped: int = 0, failures: list[dict] | None = None) -> ExerciseScore:
    passed = passed or []
    points = (round(e.max_points * len(passed) / total, 2)
              if total and status in ("passed", "failed") else 0.0)
    if status not in ("passed", "failed") and not failures:
        failures = [{"test": e.graded_by, "message": reason}]
    return ExerciseScore(e.id, e.title, e.lecture, e.difficulty, e.graded_by, status, reason,
                         len(passed), total, skipped, points, e.max_points, failures or [],
                         passed)


def _add_dependency_notes(scores: list[ExerciseScore]) -> None:
    by_id = {s.id: s for s in scores}
    for s in scores:
        if s.status in ("passed", "invalid"):  # an invalid one is not run: nothing cascades
            continue
        for used in get_exercise(s.id).dependencies:
            if used in by_id and by_id[used].status != "passed":
                s.notes.append(f"your {used} also fails: fix it first (in your own copy, "
                               f"{s.id}'s tests run through it)")


def _load(report: Path) -> dict | None:
    try:
        return json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _tail(output: str, lines: int = 8) -> str:
    return "\n".join(output.strip().splitlines()[-lines:])
