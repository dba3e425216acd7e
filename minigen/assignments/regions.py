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

import ast
import io
import json
import re
import textwrap
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


def region_code(text: str, region: Region) -> str:
    """The code between ``region``'s two marker lines in ``text`` (newlines kept)."""
    return "".join(text.splitlines(keepends=True)[region.begin:region.end - 1])


def replace_regions(text: str, codes: list[tuple[Region, str]]) -> str:
    """``text`` with the code of each region (found in this text) replaced by its new code;
    the marker lines stay."""
    lines = text.splitlines(keepends=True)
    for region, code in sorted(codes, key=lambda rc: rc[0].begin, reverse=True):
        lines[region.begin:region.end - 1] = code.splitlines(keepends=True)
    return "".join(lines)


def blank_text(text: str, regions: list[Region], message: Callable[[Region], str],
               contract: Callable[[Region], str] | None = None) -> str:
    """``text`` with the code of each of ``regions`` (found in this text) replaced by
    ``raise NotImplementedError(message(region))`` at the region's indentation, after the
    comment ``# Your code: <contract(region)>`` where that is not empty."""
    lines = text.splitlines(keepends=True)
    return replace_regions(text, [(region, stub(lines, region, message(region), contract(region)
                                                if contract is not None else ""))
                                  for region in regions])


def stub(lines: list[str], region: Region, message: str, contract: str = "") -> str:
    """The code that replaces a blanked region (``lines``: its text's lines, newlines
    kept): the comment ``# Your code: <contract>.`` where given, then
    ``raise NotImplementedError(message)``, at the region's indentation."""
    begin_line = lines[region.begin - 1]
    newline = begin_line[len(begin_line.rstrip("\r\n")):] or "\n"
    comment = textwrap.wrap(f"Your code: {contract}.", width=max(40, 92 - len(region.indent)),
                            initial_indent="# ", subsequent_indent="#   ") if contract else []
    return ("".join(f"{region.indent}{line}{newline}" for line in comment)
            + f"{region.indent}raise NotImplementedError({_string(message)}){newline}")


def region_contract(text: str, region: Region) -> str:
    """What the code of ``region`` must do for the code around it, read from the source
    ``text``: return the enclosing function's result (with its annotation), and define the
    names that the lines after the region use. Empty where neither holds or the text is not
    Python."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return ""
    inside = range(region.begin + 1, region.end)
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.lineno < region.begin and n.end_lineno >= region.end - 1]
    scope = min(functions, key=lambda f: f.end_lineno - f.lineno) if functions else tree
    nodes = list(ast.walk(scope))
    defined = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
               and n.lineno in inside}
    used_after = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                  and n.lineno > region.end}
    parts = []
    if any(isinstance(n, ast.Return) and n.lineno in inside for n in nodes) and functions:
        kind = ast.unparse(scope.returns) if scope.returns is not None else "Any"
        parts.append(f"finish {scope.name}: return its result"
                     + (f" ({kind})" if kind != "Any" else ""))
    needed = sorted(defined & used_after)
    if needed:
        them = "it" if len(needed) == 1 else "them"
        parts.append(f"define {', '.join(needed)} (the code after this region uses {them})")
    return "; ".join(parts)


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


def blank_notebook(text: str, regions: list[Region], message: Callable[[Region], str],
                   contract: Callable[[Region, str], str] | None = None) -> str:
    """The notebook JSON ``text`` with ``regions`` blanked inside their cells, written as
    Jupyter writes notebooks (indent 1, unicode kept, a final newline); ``contract(region,
    cell source)`` gives each stub's comment."""
    return edit_notebook(text, regions, lambda cell_text, rs: blank_text(
        cell_text, rs, message,
        None if contract is None else (lambda r: contract(r, cell_text))))


def replace_notebook_regions(text: str, codes: list[tuple[Region, str]]) -> str:
    """The notebook JSON ``text`` with each region's code replaced inside its cell."""
    new_code = {(r.cell, r.begin): code for r, code in codes}
    return edit_notebook(text, [r for r, _ in codes], lambda cell_text, rs: replace_regions(
        cell_text, [(r, new_code[(r.cell, r.begin)]) for r in rs]))


def notebook_cell_code(text: str, region: Region) -> str:
    """The code of a notebook ``region`` (the notebook's JSON ``text``)."""
    return region_code(_cell_text(json.loads(text)["cells"][region.cell]), region)


def edit_notebook(text: str, regions: list[Region],
                  edit: Callable[[str, list[Region]], str]) -> str:
    """The notebook JSON ``text`` with ``edit(cell_source, that cell's regions)`` applied to
    each cell that holds some of ``regions``, written as Jupyter writes notebooks (indent 1,
    unicode kept, a final newline)."""
    notebook = json.loads(text)
    by_cell: dict[int, list[Region]] = {}
    for region in regions:
        by_cell.setdefault(region.cell, []).append(region)
    for k, cell_regions in by_cell.items():
        cell = notebook["cells"][k]
        new = edit(_cell_text(cell), cell_regions)
        cell["source"] = new.splitlines(keepends=True) if isinstance(cell["source"], list) else new
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
