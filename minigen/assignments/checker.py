"""Checking the catalogue against the tests: does each exercise's grading mean something?

For every exercise, a grade is honest when

1. the repository itself (the solutions) scores full points: its tests pass; and
2. a copy that blanks only this exercise scores 0, each failure being the
   ``NotImplementedError`` that names it: no test passes without the student's code, and
   none fails for another reason;
3. for a planted bug of the "find the bug" workbook: a copy with only that bug fails some
   of its exercise's tests (the tests catch it).

``check`` builds one such copy per exercise and grades it (about 3 s each), so run it
after adding an exercise or marking tests (``minigen assignment check``).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from minigen.assignments.builder import build, repository_root
from minigen.assignments.catalog import select
from minigen.assignments.grader import DEFAULT_TIMEOUT, Reference, grade


def check(only: str | list[str] | None = None, source_dir: str | os.PathLike | None = None,
          timeout: float = DEFAULT_TIMEOUT) -> list[str]:
    """The problems found, one sentence each (an empty list: every grade is honest).

    Args:
        only: the exercises to check (ids, or one comma-separated string); default: all.
        source_dir: the repository with the solutions; default: this package's own.
        timeout: seconds for each exercise's tests.
    """
    root = Path(source_dir).resolve() if source_dir is not None else repository_root()
    reference = Reference(root)
    exercises = select(only) + (select(None, debugging=True) if only is None else [])
    problems: list[str] = []
    solution = grade(root, only=[e.id for e in exercises], timeout=timeout, reference=reference)
    problems.extend(f"the repository: {error}" for error in solution.errors)
    for score in solution.scores:
        if score.status in ("timed out", "crashed", "invalid"):
            problems.append(f"{score.id}: the solutions {score.status}: {score.reason}")
        elif score.total == 0:
            problems.append(f"{score.id}: no test grades it (mark tests with "
                            f"@pytest.mark.exercise_{score.id})")
        elif score.passed < score.total:
            first = score.failures[0]
            problems.append(f"{score.id}: the solutions fail {score.total - score.passed} of its "
                            f"{score.total} tests, e.g. {first['test']}: {first['message']}")
    with tempfile.TemporaryDirectory(prefix="minigen-check-") as tmp:
        for e in exercises:
            copy = build(Path(tmp) / e.id, only=[e.id], source_dir=root,
                         debugging=bool(e.fixes)).out_dir
            report = grade(copy, only=[e.id], timeout=timeout, reference=reference)
            problems.extend(f"{e.id} blanked: {error}" for error in report.errors)
            score = report.score(e.id)
            if e.bug:
                if score.passed == score.total:
                    problems.append(f"{e.id}: the planted bug passes all {score.total} tests of "
                                    f"{e.fixes}: they do not catch it")
                continue
            if score.passed_tests:
                problems.append(f"{e.id}: {len(score.passed_tests)} of its tests pass without its "
                                f"solution, so they grade nothing: "
                                f"{', '.join(score.passed_tests)}")
            other = [f for f in score.failures
                     if f"NotImplementedError: Exercise {e.id}:" not in f["message"]]
            if other:
                problems.append(f"{e.id}: without its solution, {len(other)} of its tests fail "
                                f"for another reason, e.g. {other[0]['test']}: "
                                f"{other[0]['message']}")
    return problems
