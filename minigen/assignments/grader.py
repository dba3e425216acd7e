"""Grading a copy of the repository, exercise by exercise.

One pytest run grades every exercise in minigen's source: it selects the tests that carry
any ``exercise_<id>`` marker (``-m "exercise_a or exercise_b ..."``) and a small plugin
(``pytest_plugin``) records each test's markers and outcome, so a test with two markers
counts for both exercises. Each lecture notebook with exercises is run once, cell by cell
(``notebook_runner``), at the same time as pytest; a notebook exercise scores when its
cells and its check cell (the next code cell) all run without an error.

Both run in subprocesses in the graded folder, with ``CI=1`` (the test suite's fast,
deterministic hypothesis profile) and that folder first on ``PYTHONPATH``, so its own
``minigen`` is the one tested. Scores are proportional: ``points = max_points · passed /
total``; a skipped test counts as not passed. An exercise with no test at all, or a run
that could not collect every test, scores 0, with the reason in ``errors``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from minigen.assignments.builder import MANIFEST
from minigen.assignments.catalog import Exercise, select
from minigen.assignments.regions import MarkerError, notebook_regions, read_source

_PLUGIN = "_minigen_exercise_report"
_HERE = Path(__file__).resolve().parent


@dataclass
class ExerciseScore:
    """The result of one exercise: its tests (or notebook checks) passed out of total, the
    tests that passed, and every failure as ``{"test": ..., "message": ...}``."""

    id: str
    title: str
    lecture: str
    difficulty: int
    graded_by: str
    passed: int
    total: int
    skipped: int
    points: float
    max_points: float
    failures: list[dict] = field(default_factory=list)
    passed_tests: list[str] = field(default_factory=list)


@dataclass
class GradeReport:
    """Every exercise's score, what went wrong with the run itself (``errors``), and the
    seconds it took."""

    repo_dir: str
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
        return {"repo_dir": self.repo_dir, "points": self.points, "max_points": self.max_points,
                "seconds": round(self.seconds, 1), "errors": self.errors,
                "exercises": [asdict(s) for s in self.scores]}

    def table(self) -> str:
        """The score table as text: one row per exercise, then the total."""
        width = max([len("exercise")] + [len(s.id) for s in self.scores])
        rows = [f"{'exercise':<{width}}  {'tests':>7}  {'points':>11}",
                "-" * (width + 22)]
        for s in self.scores:
            rows.append(f"{s.id:<{width}}  {f'{s.passed}/{s.total}':>7}  "
                        f"{f'{s.points:g}/{s.max_points:g}':>11}")
        rows.append("-" * (width + 22))
        rows.append(f"{'total':<{width}}  {'':>7}  {f'{self.points:g}/{self.max_points:g}':>11}")
        for s in self.scores:
            for failure in s.failures[:1]:
                rows.append(f"  {s.id}: {failure['test']}: {failure['message']}")
        rows.extend(f"error: {e}" for e in self.errors)
        return "\n".join(rows)


def grade(repo_dir: str | os.PathLike = ".", json_path: str | os.PathLike | None = None,
          only: str | list[str] | None = None, timeout: float = 1800,
          tests_dir: str | os.PathLike | None = None, verbose: bool = False) -> GradeReport:
    """Grade the exercises in ``repo_dir``; returns the report (``report.table()`` is the
    score table that ``minigen assignment grade`` prints).

    Args:
        repo_dir: the copy to grade (a student's folder, or the repository itself).
        json_path: also write the report there as JSON, for a course's grading system.
        only: the exercises to grade (ids, or one comma-separated string); default: those
            listed in the copy's ``assignment.json``, else the whole catalogue.
        timeout: seconds for the tests (and for each notebook) before they count as failed.
        tests_dir: run these tests (e.g. the instructor's ``tests/``) on the copy's code
            instead of the copy's own tests, which a student may have edited.
        verbose: print pytest's own output too.
    """
    repo = Path(repo_dir).resolve()
    if not (repo / "minigen").is_dir():
        raise ValueError(f"{repo} has no minigen/ folder: give the root of a copy to grade")
    exercises = select(only if only is not None else _manifest_exercises(repo))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="minigen-grade-") as tmp:
        tmp_path = Path(tmp)
        env = _environment(repo, tmp_path)
        tested = [e for e in exercises if e.marker]
        notebooks = sorted({e.notebook for e in exercises if e.notebook})
        runs = []
        tests = Path(tests_dir).resolve() if tests_dir is not None else repo / "tests"
        if tested:
            runs.append(("pytest", _start_pytest(repo, tests, tested, tmp_path, env, verbose)))
        for k, nb in enumerate(notebooks):
            runs.append((nb, _start_notebook(repo, nb, tmp_path / f"notebook{k}", env)))
        outputs, errors = {}, []
        deadline = time.monotonic() + timeout
        for name, (process, report, log) in runs:
            try:
                process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                errors.append(f"{name}: stopped after {timeout:g} s (an endless loop?)")
            out = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
            if verbose and out:
                print(out)
            outputs[name] = (_load(report), out)
        scores = [_score_tests(e, outputs["pytest"], errors) if e.marker
                  else _score_notebook(e, repo, outputs[e.notebook], errors)
                  for e in exercises]
    report = GradeReport(str(repo), scores, errors, time.perf_counter() - start)
    if json_path is not None:
        Path(json_path).write_text(json.dumps(report.to_dict(), indent=1, ensure_ascii=False)
                                   + "\n", encoding="utf-8")
    return report


def _manifest_exercises(repo: Path) -> list[str] | None:
    path = repo / MANIFEST
    if not path.exists():
        return None
    try:
        ids = json.loads(path.read_text(encoding="utf-8"))["exercises"]
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path} is not a valid assignment manifest ({err}); give --only") from None
    return list(ids)


def _environment(repo: Path, tmp: Path) -> dict:
    """The subprocesses' environment: the copy's minigen first, CI=1, no files written into
    the copy (bytecode, hypothesis' folder), a non-interactive matplotlib."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(repo), str(tmp)] + (
        [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.update(CI="1", MINIGEN_FAST="1", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1",
               HYPOTHESIS_STORAGE_DIRECTORY=str(tmp / "hypothesis"))
    env.pop("HYPOTHESIS_PROFILE", None)
    return env


def _start(command: list[str], cwd: Path, env: dict, log: Path) -> subprocess.Popen:
    """Start a command with its output going to ``log`` (a file: no pipe to fill up)."""
    with open(log, "w", encoding="utf-8") as out:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def _start_pytest(repo: Path, tests: Path, exercises: list[Exercise], tmp: Path, env: dict,
                  verbose: bool) -> tuple[subprocess.Popen, Path, Path]:
    (tmp / f"{_PLUGIN}.py").write_text((_HERE / "pytest_plugin.py").read_text(encoding="utf-8"),
                                       encoding="utf-8")
    report, log = tmp / "pytest.json", tmp / "pytest.log"
    command = [sys.executable, "-m", "pytest", str(tests),
               "-m", " or ".join(e.marker for e in exercises),
               "-p", _PLUGIN, "--exercise-report", str(report), "-p", "no:cacheprovider",
               "-o", "addopts=", "-q", "--tb=short" if verbose else "--tb=no"]
    return _start(command, repo, env, log), report, log


def _start_notebook(repo: Path, notebook: str, stem: Path,
                    env: dict) -> tuple[subprocess.Popen, Path, Path]:
    path, report, log = repo / notebook, stem.with_suffix(".json"), stem.with_suffix(".log")
    if not path.exists():  # graded below as missing
        return _start([sys.executable, "-c", "pass"], repo, env, log), report, log
    source = (_HERE / "notebook_runner.py").read_text(encoding="utf-8")
    return _start([sys.executable, "-c", source, str(path), str(report)], path.parent, env,
                  log), report, log


def _load(report: Path) -> dict | None:
    try:
        return json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _tail(output: str, lines: int = 15) -> str:
    return "\n".join(output.strip().splitlines()[-lines:])


def _new_score(e: Exercise, passed: list[str], total: int, skipped: int,
               failures: list[dict], ok: bool = True) -> ExerciseScore:
    points = round(e.max_points * len(passed) / total, 2) if total and ok else 0.0
    return ExerciseScore(e.id, e.title, e.lecture, e.difficulty, e.graded_by, len(passed),
                         total, skipped, points, e.max_points, failures, passed)


def _score_tests(e: Exercise, output: tuple[dict | None, str], errors: list[str]) -> ExerciseScore:
    report, text = output
    if report is None:
        message = f"pytest gave no report (it could not start or import the tests):\n{_tail(text)}"
        if message not in errors:
            errors.append(message)
        return _new_score(e, [], 0, 0, [{"test": "pytest", "message": "no report"}])
    complete = not report["collection_errors"]
    if not complete:
        message = ("some test files could not be collected, so no score can be trusted: "
                   + "; ".join(f"{c['nodeid']}: {c['message']}" for c in report["collection_errors"]))
        if message not in errors:
            errors.append(message)
    tests = {nodeid: t for nodeid, t in report["tests"].items() if e.marker in t["markers"]}
    passed = [nodeid for nodeid, t in tests.items() if t["outcome"] == "passed"]
    skipped = sum(t["outcome"] == "skipped" for t in tests.values())
    failures = [{"test": nodeid, "message": t["message"] or t["outcome"]}
                for nodeid, t in tests.items() if t["outcome"] != "passed"]
    if not tests:
        failures = [{"test": e.marker, "message": "no test carries this marker"}]
    return _new_score(e, passed, len(tests), skipped, failures, ok=complete)


def _score_notebook(e: Exercise, repo: Path, output: tuple[dict | None, str],
                    errors: list[str]) -> ExerciseScore:
    report, text = output
    path = repo / e.notebook
    text_nb = read_source(path) if path.exists() else None
    if text_nb is None:
        return _new_score(e, [], 1, 0, [{"test": e.notebook, "message": "notebook missing"}])
    try:
        regions = [r for r in notebook_regions(text_nb, e.notebook) if r.region_id in e.region_ids]
    except MarkerError as err:
        return _new_score(e, [], 1, 0, [{"test": e.notebook, "message": str(err)}])
    if not regions:
        return _new_score(e, [], 1, 0, [{"test": e.notebook, "message":
                                         "its solution markers are gone; keep them in place"}])
    if report is None:
        message = f"{e.notebook} did not run:\n{_tail(text)}"
        if message not in errors:
            errors.append(message)
        return _new_score(e, [], 1, 0, [{"test": e.notebook, "message": "did not run"}])
    cells = report["cells"]
    code_cells = sorted(int(k) for k in cells)
    last = max(r.cell for r in regions)
    check = next((k for k in code_cells if k > last), None)
    needed = sorted({r.cell for r in regions} | ({check} if check is not None else set()))
    failures = [{"test": f"{e.notebook} cell {k}",
                 "message": cells.get(str(k), {}).get("error") or "not run"}
                for k in needed if not cells.get(str(k), {}).get("ok")]
    return _new_score(e, [] if failures else [f"{e.notebook} cell {needed[-1]}"], 1, 0, failures)
