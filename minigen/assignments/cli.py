"""The ``minigen assignment`` command: list, build and grade homework assignments.

    minigen assignment list
    minigen assignment build --out DIR [--only ID1,ID2] [--source REPO] [--debugging]
    minigen assignment grade [SUBMISSION] [--reference REPO] [--json FILE] [--report FILE]
                             [--only ID1,ID2] [--timeout SECONDS] [--jobs N] [-v]
    minigen assignment grade submissions/* --gradebook grades.csv [--reports DIR]
    minigen assignment check [--only ID1,ID2] [--source REPO]

(``python -m minigen.assignments ...`` is the same.) ``build`` writes a student copy with
the chosen exercises blanked (all of them by default); ``grade`` grades a submission (a
copy, or a zip of it; default: the current folder) exercise by exercise in pristine copies
of the reference tree (``grader``) and prints the score table with each failure's message,
or grades a class into a gradebook (``gradebook``); ``check`` makes sure that each
exercise's tests pass with its solution and fail without it (for instructors, after adding
an exercise). Exit status: 0, or 1 when the copy cannot be built or graded or ``check``
found a problem (the error is printed), or 2 for a bad command line.

>>> main(["list"])  # doctest: +ELLIPSIS
id ...
mul_backward ...
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import NoReturn, Sequence

from minigen.assignments.builder import BuildError, build, repository_root, scan
from minigen.assignments.catalog import list_exercises, select
from minigen.assignments.checker import check
from minigen.assignments.gradebook import SubmissionError, grade_class, unpack
from minigen.assignments.grader import DEFAULT_TIMEOUT, STATUSES, Reference, grade
from minigen.assignments.regions import MarkerError

PROG = "minigen assignment"


class UsageError(Exception):
    """A bad command line: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``minigen assignment`` and its subcommands."""
    parser = _Parser(prog=PROG, description="Homework assignments: blank the marked solutions "
                                            "of minigen, and grade a copy with the test suite.")
    commands = parser.add_subparsers(dest="command", required=True,
                                     metavar="{list,build,grade,check}")
    commands.add_parser("list", help="list the exercises of the catalogue",
                        description="List every exercise: id, difficulty, how it is graded, "
                                    "title, lecture and where its solution is.")
    b = commands.add_parser("build", help="write a student copy with exercises blanked",
                            description="Copy the repository to DIR, replacing the solution of "
                                        "each chosen exercise by raise NotImplementedError.")
    b.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="the folder to write (new or empty)")
    b.add_argument("--only", metavar="ID1,ID2", default=None,
                   help="blank only these exercises (default: all)")
    b.add_argument("--source", type=Path, default=None, metavar="REPO",
                   help="the repository to copy (default: the one minigen is imported from)")
    b.add_argument("--debugging", action="store_true",
                   help="the 'find the bug' workbook: plant subtly wrong lines (default: every "
                        "bug of the catalogue) instead of blanking solutions")
    g = commands.add_parser(
        "grade", help="grade submissions, one exercise at a time, in pristine trees",
        description="Take from each submission only the code inside its exercise regions, "
                    "splice it into a fresh copy of the reference tree (the instructor's "
                    "minigen and tests) and run that exercise's tests there, with the "
                    "reference solutions in every other region.")
    g.add_argument("dirs", nargs="*", type=Path, default=[Path(".")], metavar="SUBMISSION",
                   help="a student's copy (a folder or a zip of it); several grade a class "
                        "(default: the current folder)")
    g.add_argument("--reference", type=Path, default=None, metavar="REPO",
                   help="the instructor's tree (default: the repository minigen is imported "
                        "from)")
    g.add_argument("--json", type=Path, default=None, metavar="FILE",
                   help="also write the scores as JSON to FILE (one submission)")
    g.add_argument("--report", type=Path, default=None, metavar="FILE",
                   help="also write the student's full report to FILE (one submission)")
    g.add_argument("--gradebook", type=Path, default=None, metavar="CSV",
                   help="write one row per student and exercise to CSV")
    g.add_argument("--reports", type=Path, default=None, metavar="DIR",
                   help="write each student's full report to DIR/<student>.txt")
    g.add_argument("--only", metavar="ID1,ID2", default=None,
                   help="grade only these exercises (default: those of each submission's "
                        "assignment.json, else all)")
    g.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"stop an exercise's tests after this long (default {DEFAULT_TIMEOUT:g})")
    g.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="exercises graded side by side (default: the number of CPUs)")
    g.add_argument("--force", action="store_true",
                   help="overwrite the --json/--report/--gradebook files if they exist")
    g.add_argument("-v", "--verbose", action="store_true", help="print pytest's output too")
    c = commands.add_parser("check", help="check that each exercise's tests grade it",
                            description="For each exercise: its tests must pass in the "
                                        "repository and fail, naming it, in a copy that blanks "
                                        "only it (about 3 s per exercise).")
    c.add_argument("--only", metavar="ID1,ID2", default=None,
                   help="check only these exercises (default: all)")
    c.add_argument("--source", type=Path, default=None, metavar="REPO",
                   help="the repository with the solutions (default: the one minigen is "
                        "imported from)")
    return parser


def _list() -> int:
    try:
        found = scan(repository_root())
    except (BuildError, MarkerError):
        found = {}  # not a source checkout: no locations to show
    where: dict[str, list[str]] = {}
    for regions in found.values():
        for r in regions:
            where.setdefault(r.region_id, []).append(r.where)
    exercises = list_exercises()
    width = max(len(e.id) for e in exercises)
    print(f"{'id':<{width}}  difficulty  graded by")
    for e in exercises:
        places = [w for rid in e.region_ids for w in where.get(rid, [])]
        print(f"{e.id:<{width}}  {e.difficulty:^10}  {e.graded_by}")
        print(f"    {e.title} — {e.where_taught}")
        if places:
            print(f"    in {places[0]}" + (f" (+{len(places) - 1} more)" if len(places) > 1 else ""))
    return 0


def _build(args: argparse.Namespace) -> int:
    result = build(args.out, only=args.only, source_dir=args.source, debugging=args.debugging)
    done = "with a bug planted" if args.debugging else "blanked"
    print(f"Wrote a student copy to {result.out_dir}: {result.files} files, "
          f"{len(result.regions)} regions {done} for {len(result.exercises)} exercises.")
    for r in result.regions:
        print(f"  {r.region_id:<22} {r.where}")
    if result.reference_kernels:
        print("It runs every op on its reference kernels (REFERENCE_KERNELS_DEFAULT = True in "
              "minigen/ops/fast/__init__.py), so the student's im2col/col2im run in every model.")
    print(f"Grade it with: minigen assignment grade {result.out_dir}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout:g}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    several = len(args.dirs) > 1 or args.gradebook is not None or args.reports is not None
    if several and (args.json is not None or args.report is not None):
        raise UsageError("--json and --report are for one submission; for a class give "
                         "--gradebook CSV and --reports DIR")
    for option in ("json", "report", "gradebook"):  # checked before anything runs
        path = getattr(args, option)
        if path is None:
            continue
        folder = path.absolute().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise UsageError(f"cannot write --{option} {path}: {folder} is not a writable folder")
        if path.exists() and not args.force:
            raise UsageError(f"--{option} {path} exists; choose a new name or add --force")
    missing = [str(d) for d in args.dirs if not d.exists()]
    if missing:
        raise UsageError(f"no such submission: {', '.join(missing)}")
    reference = Reference(args.reference)
    if not several:
        submission = args.dirs[0]
        with tempfile.TemporaryDirectory(prefix="minigen-submission-") as tmp:
            root = unpack(submission, Path(tmp))
            report = grade(root, json_path=args.json, only=args.only, timeout=args.timeout,
                           reference=reference, jobs=args.jobs, report_path=args.report,
                           verbose=args.verbose)
        print(report.table())
        for option, path in (("JSON", args.json), ("report", args.report)):
            if path is not None:
                print(f"Wrote the {option} to {path}")
        return 0

    def progress(result) -> None:
        if result.report is None:
            print(f"{result.student}: not graded: {result.error}")
        else:
            r = result.report
            statuses = ", ".join(f"{n} {s}" for s, n in _counts(r).items())
            print(f"{result.student}: {r.points:g}/{r.max_points:g} ({statuses}) "
                  f"in {r.seconds:.0f} s", flush=True)

    grade_class(args.dirs, args.gradebook, args.reports, reference=reference, only=args.only,
                timeout=args.timeout, jobs=args.jobs, progress=progress)
    if args.gradebook is not None:
        print(f"Wrote the gradebook to {args.gradebook}")
    if args.reports is not None:
        print(f"Wrote each student's report to {args.reports}/")
    return 0


def _counts(report) -> dict[str, int]:
    """How many exercises ended in each status, in the order of ``STATUSES``."""
    found = [s.status for s in report.scores]
    return {status: found.count(status) for status in STATUSES if status in found}


def _check(args: argparse.Namespace) -> int:
    problems = check(only=args.only, source_dir=args.source)
    for problem in problems:
        print(f"problem: {problem}")
    if not problems:
        print("Every exercise's tests pass with its solution and fail, naming it, without.")
    return 1 if problems else 0


def quiet_exit() -> int:
    """After a broken pipe, point stdout at /dev/null so Python's exit flush is silent."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``minigen assignment`` with ``argv`` (default: the command line's arguments);
    returns the exit status."""
    try:
        args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
        if getattr(args, "only", None) is not None:
            try:
                select(args.only)            # an unknown id is a bad command line: exit 2
            except ValueError as err:
                raise UsageError(str(err)) from None
        if args.command == "list":
            return _list()
        if args.command == "build":
            return _build(args)
        if args.command == "check":
            return _check(args)
        return _grade(args)
    except UsageError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except SystemExit as done:  # --help has printed the help
        return done.code if isinstance(done.code, int) else 0
    except BrokenPipeError:      # `minigen assignment list | head -1`: the reader left
        return quiet_exit()
    except KeyboardInterrupt:    # Ctrl-C, or SIGTERM/SIGHUP while grading
        print(f"{PROG}: interrupted; every grading process was ended", file=sys.stderr)
        return 130
    except (BuildError, MarkerError, SubmissionError, ValueError, OSError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
