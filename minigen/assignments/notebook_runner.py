"""Run a notebook's code cells in order, recording which ran and which raised.

    python notebook_runner.py NOTEBOOK.ipynb REPORT.json

``grade`` runs a copy of this file (outside the graded tree) in the notebook's folder (as
Jupyter does), with the graded tree first on ``PYTHONPATH``. Unlike Jupyter, a failing cell does
not stop the run: every cell is tried, so each exercise is graded by its own check cell.
Cells run in one namespace with ``exec`` (no IPython: magics are reported as errors) and
matplotlib's non-interactive backend. The report is
``{"cells": {index: {"ok": bool, "error": "Type: message"}}, "complete": bool}`` for the
code cells; ``complete`` is true once the last cell has run.

Only the standard library is imported here; the notebook imports what it needs.
"""
from __future__ import annotations

import json
import sys
import traceback


def run(notebook_path: str, report_path: str) -> None:
    """Execute every code cell of the notebook and write the report."""
    with open(notebook_path, encoding="utf-8") as f:
        cells = json.load(f)["cells"]
    namespace: dict = {"__name__": "__main__"}
    results: dict[str, dict] = {}
    for k, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        try:
            exec(compile(source, f"<cell {k}>", "exec"), namespace)
            results[str(k)] = {"ok": True, "error": ""}
        except BaseException as err:  # noqa: B036 — a cell may even call sys.exit
            if isinstance(err, KeyboardInterrupt):
                raise
            text = "".join(traceback.format_exception_only(type(err), err)).strip()
            results[str(k)] = {"ok": False, "error": text[:3000]}
        with open(report_path, "w", encoding="utf-8") as f:  # after each cell: a timeout
            json.dump({"cells": results, "complete": False}, f)  # still leaves a report
    with open(report_path, "w", encoding="utf-8") as f:
        json.dump({"cells": results, "complete": True}, f)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2])
