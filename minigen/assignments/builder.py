"""Building a student copy: the repository with the chosen exercises' regions blanked.

The copy holds the repository's files (in a git checkout: the files git tracks plus the new
ones it does not ignore, ``git ls-files --cached --others --exclude-standard``; elsewhere a
walk that skips caches, build folders and ``.git``). Every region of a chosen exercise is
replaced by a ``raise NotImplementedError("Exercise <id>: <title> — see <lecture>")`` (see
``regions``), in ``.py`` files and inside notebook cells; every other file, the tests
included, is copied byte for byte, but one: when a blanked exercise sits inside a kernel that
the fast kernels may bypass (``needs_reference_kernels`` in the catalogue: im2col, col2im),
the line ``REFERENCE_KERNELS_DEFAULT = False`` of ``minigen/ops/fast/__init__.py`` becomes
``... = True`` in the copy, so that the student's code runs in every op. The copy also gets
``assignment.json``, which lists the
exercises it blanks, so that ``grade`` knows what to grade in it.

Before anything is written, every marker of the repository is checked: unbalanced or
nested markers, and a marker naming no exercise of the catalogue, stop the build with an
error naming the file and line.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from minigen.assignments.catalog import Exercise, exercise_of_region, select
from minigen.assignments.regions import (MarkerError, Region, blank_notebook, find_regions,
                                         notebook_regions, read_source, region_code,
                                         region_contract, replace_regions, stub)

MANIFEST = "assignment.json"  # written at the root of a student copy
# Skipped by the walk used outside a git checkout (what .gitignore ignores).
_SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints",
              ".venv", "build", "dist", ".mypy_cache", ".ruff_cache"}
_SKIP_SUFFIXES = (".pyc", ".pyo", ".egg-info")


# The switch a copy flips when it blanks a kernel exercise (see minigen/ops/fast/__init__.py).
SWITCH_FILE = "minigen/ops/fast/__init__.py"
SWITCH_LINE = "REFERENCE_KERNELS_DEFAULT = False"
SWITCH_REFERENCE = "REFERENCE_KERNELS_DEFAULT = True"


class BuildError(Exception):
    """The copy cannot be built as asked (the message says why and what to do)."""


@dataclass
class BuildResult:
    """What ``build`` wrote: the folder, the exercises blanked, the files copied, every
    region blanked (with its place in the source repository), and whether the copy runs
    every op on its reference kernels (it blanks a kernel exercise)."""

    out_dir: Path
    exercises: list[str]
    files: int
    regions: list[Region] = field(default_factory=list)
    reference_kernels: bool = False


def repository_root() -> Path:
    """The repository this ``minigen`` package was imported from (a source checkout)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "minigen").is_dir() or not (root / "tests").is_dir():
        raise BuildError(f"{root} is not a minigen source checkout (no tests/ next to minigen/); "
                         "give the repository folder explicitly")
    return root


def list_files(root: Path) -> list[str]:
    """The repository's files, as sorted POSIX paths relative to ``root``."""
    root = Path(root)
    paths = _git_files(root) if (root / ".git").exists() else None
    if paths is None:
        paths = _walk_files(root)
    paths = [p for p in paths if (root / p).is_file() or (root / p).is_symlink()]
    # Leave out earlier student copies built inside the repository, and its own manifest.
    copies = {p[:-len(MANIFEST)] for p in paths if p.endswith("/" + MANIFEST)}
    return sorted(p for p in set(paths)
                  if p != MANIFEST and not any(p.startswith(c) for c in copies))


def _git_files(root: Path) -> list[str] | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None  # no git, or not really a repository: walk instead
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def _walk_files(root: Path) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.endswith(_SKIP_SUFFIXES))
        for name in files:
            if not name.endswith(_SKIP_SUFFIXES):
                found.append(Path(folder, name).relative_to(root).as_posix())
    return found


def scan(root: Path, files: list[str] | None = None) -> dict[str, list[Region]]:
    """The solution regions of every ``.py`` file and notebook of the repository, by path.

    Raises ``MarkerError`` (naming the file and line) for a malformed marker or one whose
    id belongs to no exercise of the catalogue.
    """
    root = Path(root)
    found: dict[str, list[Region]] = {}
    for rel in list_files(root) if files is None else files:
        if not rel.endswith((".py", ".ipynb")):
            continue
        text = read_source(root / rel)
        if text is None or "SOLUTION" not in text:
            continue
        regions = notebook_regions(text, rel) if rel.endswith(".ipynb") else find_regions(text, rel)
        for region in regions:
            if exercise_of_region(region.region_id) is None:
                raise MarkerError(region.where, f"BEGIN SOLUTION names the unknown exercise "
                                                f"{region.region_id!r} (add it to "
                                                "minigen/assignments/catalog.py)")
        if regions:
            found[rel] = regions
    return found


def build(out_dir: str | os.PathLike, only: str | list[str] | None = None,
          source_dir: str | os.PathLike | None = None, debugging: bool = False) -> BuildResult:
    """Write a student copy of the repository to ``out_dir`` (a new or empty folder).

    Args:
        out_dir: where to write the copy.
        only: the exercises to blank, or bugs to plant (ids, or one comma-separated string);
            default: every exercise to write (every bug of the workbook with ``debugging``).
        source_dir: the repository to copy; default: the one this package comes from.
        debugging: the "find the bug" workbook: plant each bug (``Exercise.bug``: one wrong
            line in its exercise's region) instead of blanking.

    Returns a ``BuildResult``. Raises ``MarkerError`` for a bad marker anywhere in the
    repository and ``BuildError`` when the copy cannot be written as asked; in both cases
    nothing is written.
    """
    root = Path(source_dir).resolve() if source_dir is not None else repository_root()
    try:
        chosen = select(only, debugging)
    except ValueError as err:
        raise BuildError(str(err)) from None
    files = list_files(root)
    regions = scan(root, files)
    owner = _owners(chosen)
    blank = {rel: [r for r in rs if r.region_id in owner] for rel, rs in regions.items()}
    blank = {rel: rs for rel, rs in blank.items() if rs}
    _check_every_exercise_found(chosen, blank, root)
    _check_bugs(chosen, blank, root)
    texts = {rel: _blanked(root, rel, rs, owner) for rel, rs in blank.items()}  # checked first
    reference_kernels = any(e.needs_reference_kernels for e in chosen)
    if reference_kernels:
        texts[SWITCH_FILE] = _reference_kernels_on(root, texts.get(SWITCH_FILE))

    out = Path(out_dir).resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BuildError(f"{out} already exists and is not an empty folder; choose a new one")
    write_tree(root, files, out, texts)
    manifest = {"exercises": [e.id for e in chosen],
                "note": "Written by `minigen assignment build`; `minigen assignment grade` "
                        "grades these exercises."}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return BuildResult(out, [e.id for e in chosen], len(files),
                       [r for rs in blank.values() for r in rs], reference_kernels)


def write_tree(root: Path, files: list[str], out: Path, texts: dict[str, str]) -> Path:
    """Copy ``files`` (paths relative to ``root``) to ``out``, writing ``texts[rel]`` instead
    of the file where given (with the file's mode); returns ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for rel in files:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel in texts:
            with open(target, "w", encoding="utf-8", newline="") as f:
                f.write(texts[rel])
            shutil.copymode(root / rel, target)
        else:
            shutil.copy2(root / rel, target, follow_symlinks=False)
    return out


def _owners(chosen: list[Exercise]) -> dict[str, Exercise]:
    """The chosen exercise of each region id to edit; an error where two chosen exercises
    share a region (a bug and the exercise it is planted in)."""
    owner: dict[str, Exercise] = {}
    for e in chosen:
        for rid in e.region_ids:
            if rid in owner:
                raise BuildError(f"{owner[rid].id} and {e.id} both edit the region {rid}: "
                                 "choose one of them")
            owner[rid] = e
    return owner


def _check_bugs(chosen: list[Exercise], blank: dict[str, list[Region]], root: Path) -> None:
    """Each planted bug's solution line occurs exactly once in its exercise's Python regions."""
    for e in (e for e in chosen if e.bug):
        codes = [region_code(read_source(root / rel), r) for rel, rs in blank.items()
                 for r in rs if r.region_id in e.region_ids and r.cell is None]
        found = sum(code.count(e.bug[0]) for code in codes)
        if found != 1:
            raise BuildError(f"bug {e.id}: its line {e.bug[0]!r} occurs {found} times in the "
                             f"regions of {e.fixes}, not once; update the catalogue")


def _check_every_exercise_found(chosen: list[Exercise], blank: dict[str, list[Region]],
                                root: Path) -> None:
    present = {r.region_id for rs in blank.values() for r in rs}
    missing = [e.id for e in chosen if not present.intersection(e.region_ids)]
    if missing:
        raise BuildError(f"no solution region in {root} for exercise(s) {', '.join(missing)}: "
                         "mark the code with '# BEGIN SOLUTION <id>' / '# END SOLUTION'")


def _reference_kernels_on(root: Path, text: str | None) -> str:
    """The switch file with its default set to the reference kernels: exactly one line
    ``SWITCH_LINE`` replaced (or the file as it is, where it already says
    ``SWITCH_REFERENCE`` once and never ``SWITCH_LINE``), or a ``BuildError``."""
    if text is None:
        text = read_source(root / SWITCH_FILE) if (root / SWITCH_FILE).is_file() else None
    lines = [] if text is None else text.splitlines(keepends=True)
    found = [k for k, line in enumerate(lines) if line.rstrip("\r\n") == SWITCH_LINE]
    on = [k for k, line in enumerate(lines) if line.rstrip("\r\n") == SWITCH_REFERENCE]
    if not found and len(on) == 1:
        return text
    if len(found) != 1:
        raise BuildError(f"{SWITCH_FILE}: expected the line {SWITCH_LINE!r} exactly once, found "
                         f"it {len(found)} times; a copy that blanks im2col or col2im must "
                         "switch to the reference kernels there")
    (k,) = found
    lines[k] = SWITCH_REFERENCE + lines[k][len(SWITCH_LINE):]
    return "".join(lines)


def _message(region: Region) -> str:
    return exercise_of_region(region.region_id).message()


def _contract(region: Region, text: str) -> str:
    """The stub's comment: what the region's code must return or define (read from the
    source around it), and the exercise's own ``contract``."""
    parts = [region_contract(text, region), exercise_of_region(region.region_id).contract]
    return "; ".join(p for p in parts if p)


def _blanked(root: Path, rel: str, regions: list[Region], owner: dict[str, Exercise]) -> str:
    """The text of one file with its regions blanked (or, for a planted bug, with the bug's
    line swapped in), checked to still be valid Python."""
    text = read_source(root / rel)
    if rel.endswith(".ipynb"):
        new = blank_notebook(text, regions, _message, _contract)
        cells = json.loads(new)["cells"]
        checks = [(f"{rel}: cell {k}", "".join(cells[k]["source"]),
                   "".join(json.loads(text)["cells"][k]["source"]))
                  for k in sorted({r.cell for r in regions})]
    else:
        lines = text.splitlines(keepends=True)
        codes = []
        for r in regions:
            bug = owner[r.region_id].bug
            codes.append((r, region_code(text, r).replace(*bug) if bug else
                          stub(lines, r, _message(r), _contract(r, text))))
        new = replace_regions(text, codes)
        checks = [(rel, new, text)]
    for where, blanked, original in checks:
        try:
            compile(blanked, where, "exec")
        except SyntaxError as err:
            if _compiles(original):  # the blanking broke it, not IPython syntax in a cell
                raise BuildError(f"{where}: blanking a solution region leaves invalid Python "
                                 f"(line {err.lineno}: {err.msg}); a region must end its block, "
                                 "e.g. the rest of a function body") from None
    return new


def _compiles(text: str) -> bool:
    try:
        compile(text, "<original>", "exec")
        return True
    except SyntaxError:
        return False
