"""Grading a class: many submissions, one gradebook.

``grade_class(["submissions/ana", "submissions/luis.zip", ...], "grades.csv")`` grades every
submission (a student's folder, or a zip of it) against one reference tree, one exercise at
a time (``grader.grade``), and writes one CSV row per student and exercise:

    student,exercise,status,points,max_points,passed,total,reason

A submission that cannot be read (a broken zip, no ``minigen/`` folder inside) gets 0 in
every exercise with the reason; it never stops the others. Identical code is graded once for
the whole class (a blank stub, a common solution): the result is the same by construction,
since every run starts from the same pristine tree with the same deterministic tests.
"""
from __future__ import annotations

import csv
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from minigen.assignments.catalog import select
from minigen.assignments.grader import (DEFAULT_TIMEOUT, GradeReport, Reference, _manifest_exercises,
                                        _score, grade)

MAX_UNZIPPED = 500 * 2 ** 20  # bytes: a submission is a copy of the repository, a few MB
COLUMNS = ("student", "exercise", "status", "points", "max_points", "passed", "total", "reason")


class SubmissionError(Exception):
    """A submission that cannot be graded at all; the message says why."""


@dataclass
class ClassResult:
    """One student's result: the report, or the reason nothing could be graded."""

    student: str
    source: str
    report: GradeReport | None
    error: str = ""


def student_names(paths: list[Path]) -> list[str]:
    """A name per submission: its file or folder name without ``.zip``, made unique."""
    names, seen = [], {}
    for path in paths:
        base = path.name[:-4] if path.name.lower().endswith(".zip") else path.name
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return names


def unpack(path: Path, into: Path) -> Path:
    """The root of a submission: the folder itself, or the zip extracted into ``into``
    (members with absolute paths, ``..`` or links are refused; at most MAX_UNZIPPED bytes).
    The root is the folder that holds ``minigen/``: the top, or the one folder inside."""
    if path.is_dir():
        root = path
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > MAX_UNZIPPED:
                raise SubmissionError(f"{path.name}: more than {MAX_UNZIPPED >> 20} MB unzipped")
            for m in members:
                name = PurePosixPath(m.filename)
                if name.is_absolute() or ".." in name.parts or (m.external_attr >> 16) & 0o170000 == 0o120000:
                    raise SubmissionError(f"{path.name}: refuses the member {m.filename!r} "
                                          "(an absolute path, '..' or a link)")
            try:
                archive.extractall(into)
            except (OSError, zipfile.BadZipFile, RuntimeError) as err:
                raise SubmissionError(f"{path.name}: cannot unzip ({err})") from None
        root = into
    elif path.exists():
        raise SubmissionError(f"{path.name}: not a folder nor a zip file")
    else:
        raise SubmissionError(f"{path}: no such file or folder")
    if (root / "minigen").is_dir():
        return root
    inner = [p for p in root.iterdir() if p.is_dir() and (p / "minigen").is_dir()]
    if len(inner) == 1:
        return inner[0]
    raise SubmissionError(f"{path.name}: no minigen/ folder at its top or one level down")


def grade_class(submissions: list[str | os.PathLike], gradebook: str | os.PathLike | None = None,
                reports_dir: str | os.PathLike | None = None,
                reference: str | os.PathLike | Reference | None = None,
                only: str | list[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
                jobs: int | None = None, progress=None) -> list[ClassResult]:
    """Grade every submission; write the gradebook CSV and, in ``reports_dir``, one report
    per student (``<student>.txt``, what ``GradeReport.feedback`` says). ``progress(result)``
    is called after each student."""
    ref = reference if isinstance(reference, Reference) else Reference(reference)
    paths = [Path(p) for p in submissions]
    cache: dict = {}
    results = []
    for name, path in zip(student_names(paths), paths):
        with tempfile.TemporaryDirectory(prefix="minigen-submission-") as tmp:
            try:
                root = unpack(path, Path(tmp))
                ids = only if only is not None else _manifest_exercises(root)
                report = grade(root, only=ids, timeout=timeout, reference=ref, jobs=jobs,
                               cache=cache)
                result = ClassResult(name, str(path), report)
            except (SubmissionError, ValueError, OSError) as err:
                result = ClassResult(name, str(path), None, str(err))
        results.append(result)
        if reports_dir is not None:
            folder = Path(reports_dir)
            folder.mkdir(parents=True, exist_ok=True)
            text = (result.report.feedback() if result.report is not None
                    else f"{name}: not graded: {result.error}\n")
            (folder / f"{name}.txt").write_text(text, encoding="utf-8")
        if progress is not None:
            progress(result)
    if gradebook is not None:
        write_gradebook(results, gradebook, only)
    return results


def write_gradebook(results: list[ClassResult], path: str | os.PathLike,
                    only: str | list[str] | None = None) -> None:
    """One CSV row per student and exercise (``COLUMNS``)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        for r in results:
            scores = (r.report.scores if r.report is not None else
                      [_score(e, "invalid", f"not graded: {r.error}") for e in select(only)])
            for s in scores:
                out.writerow([r.student, s.id, s.status, f"{s.points:g}", f"{s.max_points:g}",
                              s.passed, s.total, " ".join(s.reason.split())[:300]])
