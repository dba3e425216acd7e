"""Solution regions: finding them in Python files and notebooks, and blanking them.

A region is the code between two whole-line comments, the first naming its exercise::

        # BEGIN SOLUTION mul_backward
        grad_a = grad * b if ctx.needs_input_grad[0] else None
        ...
        # END SOLUTION

Blanking keeps both marker lines and replaces the code between them by one line at the
indentation of the BEGIN line, ``raise NotImplementedError("Exercise <id>: ...")``: the
student's code goes there. So a region must be the rest of a block (typically the end of a
function body) for the blanked file to be valid Python without it.

Only comments count: in a ``.py`` file, marker-like lines inside strings are not markers.
Every problem (an END without a BEGIN, a BEGIN never closed, a BEGIN inside an open
region, a BEGIN without an id) is a ``MarkerError`` naming the file and line.
"""
from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import dataclass
from typing import Callable

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION(?P<rest>(?:[ \t].*)?)$")
_END = re.compile(r"^[ \t]*# END SOLUTION(?P<rest>(?:[ \t].*)?)$")


class MarkerError(ValueError):
    """A malformed or unknown solution marker; the message starts with where it is."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


@dataclass(frozen=True)
class Region:
    """One solution region.

    ``begin`` and ``end`` are the 1-based lines of its two markers, in the file, or in the
    source of notebook cell ``cell`` (the index among all the notebook's cells).
    """

    path: str
    region_id: str
    begin: int
    end: int
    indent: str
    cell: int | None = None

    @property
    def where(self) -> str:
        """``path:line`` of its BEGIN marker (with the cell for a notebook)."""
        return _where(self.path, self.begin, self.cell)


def _where(path: str, line: int, cell: int | None) -> str:
    return f"{path}:{line}" if cell is None else f"{path}: cell {cell}, line {line}"


def _comment_lines(text: str) -> set[int] | None:
    """The lines that hold a comment token, or None where the text does not tokenize as
    Python (then every marker-like line counts)."""
    try:
        return {tok.start[0] for tok in tokenize.generate_tokens(io.StringIO(text).readline)
                if tok.type == tokenize.COMMENT}
    except (tokenize.TokenError, SyntaxError):
        return None


def find_regions(text: str, path: str, cell: int | None = None) -> list[Region]:
    """Every solution region in ``text`` (a Python file, or one notebook cell's source).

    Raises ``MarkerError`` for unbalanced or nested markers and for a BEGIN without
    exactly one id.
    """
    if "SOLUTION" not in text:
        return []
    comments = _comment_lines(text)
    regions: list[Region] = []
    open_at: tuple[int, str, str] | None = None  # (line, id, indent) of the open BEGIN
    for number, line in enumerate(text.splitlines(), start=1):
        begin, end = _BEGIN.match(line), _END.match(line)
        if not (begin or end) or (comments is not None and number not in comments):
            continue
        where = _where(path, number, cell)
        if begin:
            words = begin.group("rest").split()
            if len(words) != 1:
                problem = "has no exercise id" if not words else f"has {len(words)} words, not one id"
                raise MarkerError(where, f"'# BEGIN SOLUTION' {problem} "
                                         "(write '# BEGIN SOLUTION <exercise-id>')")
            if open_at is not None:
                raise MarkerError(where, f"BEGIN SOLUTION {words[0]} inside the region "
                                         f"{open_at[1]} opened at line {open_at[0]} "
                                         "(regions cannot nest)")
            open_at = (number, words[0], begin.group("indent"))
        else:
            if end.group("rest").strip():
                raise MarkerError(where, "'# END SOLUTION' takes nothing after it")
            if open_at is None:
                raise MarkerError(where, "END SOLUTION without a BEGIN SOLUTION before it")
            regions.append(Region(path, open_at[1], open_at[0], number, open_at[2], cell))
            open_at = None
    if open_at is not None:
        raise MarkerError(_where(path, open_at[0], cell),
                          f"BEGIN SOLUTION {open_at[1]} is never closed by an END SOLUTION")
    return regions


def blank_text(text: str, regions: list[Region], message: Callable[[Region], str]) -> str:
    """``text`` with the code of each of ``regions`` (found in this text) replaced by
    ``raise NotImplementedError(message(region))`` at the region's indentation."""
    lines = text.splitlines(keepends=True)
    for region in sorted(regions, key=lambda r: r.begin, reverse=True):
        begin_line = lines[region.begin - 1]
        newline = begin_line[len(begin_line.rstrip("\r\n")):] or "\n"
        raise_line = f"{region.indent}raise NotImplementedError({_string(message(region))}){newline}"
        lines[region.begin:region.end - 1] = [raise_line]
    return "".join(lines)


def _string(text: str) -> str:
    """A double-quoted Python string literal of ``text`` (unicode kept as is)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def read_source(path) -> str | None:
    """A file's text with its newlines as they are, or None if it is not UTF-8."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return f.read()
    except UnicodeDecodeError:
        return None


# ---------------------------------------------------------------- notebooks
def _cell_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def notebook_regions(text: str, path: str) -> list[Region]:
    """Every solution region in the code cells of a notebook (its JSON ``text``)."""
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as err:
        raise MarkerError(f"{path}:{err.lineno}", f"not a valid notebook (JSON): {err.msg}") from None
    regions: list[Region] = []
    for k, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") == "code":
            regions.extend(find_regions(_cell_text(cell), path, cell=k))
    return regions


def blank_notebook(text: str, regions: list[Region], message: Callable[[Region], str]) -> str:
    """The notebook JSON ``text`` with ``regions`` blanked inside their cells, written as
    Jupyter writes notebooks (indent 1, unicode kept, a final newline)."""
    notebook = json.loads(text)
    by_cell: dict[int, list[Region]] = {}
    for region in regions:
        by_cell.setdefault(region.cell, []).append(region)
    for k, cell_regions in by_cell.items():
        cell = notebook["cells"][k]
        new = blank_text(_cell_text(cell), cell_regions, message)
        cell["source"] = new.splitlines(keepends=True) if isinstance(cell["source"], list) else new
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
