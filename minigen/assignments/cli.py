"""The ``minigen assignment`` command: list, build and grade homework assignments.

    minigen assignment list
    minigen assignment build --out DIR [--only ID1,ID2] [--source REPO]
    minigen assignment grade [DIR] [--json FILE] [--only ID1,ID2] [--tests TESTS]
                             [--timeout SECONDS] [-v]
    minigen assignment check [--only ID1,ID2] [--source REPO]

(``python -m minigen.assignments ...`` is the same.) ``build`` writes a student copy with
the chosen exercises blanked (all of them by default); ``grade`` runs each exercise's tests
in a copy (default: the current folder) and prints the score table; ``check`` makes sure
that each exercise's tests pass with its solution and fail without it (for instructors,
after adding an exercise). Exit status: 0, or 1 when the copy cannot be built, the grading
run itself went wrong or ``check`` found a problem (the error is printed), or 2 for a bad
command line.

>>> main(["list"])  # doctest: +ELLIPSIS
id ...
mul_backward ...
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn, Sequence

from minigen.assignments.builder import BuildError, build, repository_root, scan
from minigen.assignments.catalog import list_exercises, select
from minigen.assignments.checker import check
from minigen.assignments.grader import grade
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
    g = commands.add_parser("grade", help="grade the exercises of a copy",
                            description="Run each exercise's tests in DIR and print the scores.")
    g.add_argument("dir", nargs="?", type=Path, default=Path("."), metavar="DIR",
                   help="the copy to grade (default: the current folder)")
    g.add_argument("--json", type=Path, default=None, metavar="FILE",
                   help="also write the scores as JSON to FILE")
    g.add_argument("--only", metavar="ID1,ID2", default=None,
                   help="grade only these exercises (default: those of DIR/assignment.json, "
                        "else all)")
    g.add_argument("--tests", type=Path, default=None, metavar="TESTS",
                   help="run these tests (e.g. the instructor's tests/ folder) on DIR's code "
                        "instead of DIR's own tests")
    g.add_argument("--timeout", type=float, default=1800, metavar="SECONDS",
                   help="stop the tests after this long (default 1800)")
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
        print(f"    {e.title} — {e.lecture}")
        if places:
            print(f"    in {places[0]}" + (f" (+{len(places) - 1} more)" if len(places) > 1 else ""))
    return 0


def _build(args: argparse.Namespace) -> int:
    result = build(args.out, only=args.only, source_dir=args.source)
    print(f"Wrote a student copy to {result.out_dir}: {result.files} files, "
          f"{len(result.regions)} regions blanked for {len(result.exercises)} exercises.")
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
    if args.tests is not None and not args.tests.is_dir():
        raise UsageError(f"--tests {args.tests} is not a folder")
    if args.json is not None:             # checked before the tests run, not after
        folder = args.json.absolute().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise UsageError(f"cannot write --json {args.json}: {folder} is not a writable "
                             "folder")
    report = grade(args.dir, json_path=args.json, only=args.only, timeout=args.timeout,
                   tests_dir=args.tests, verbose=args.verbose)
    print(report.table())
    if args.json is not None:
        print(f"Wrote {args.json}")
    return 1 if report.errors else 0


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
    except (BuildError, MarkerError, ValueError, OSError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
