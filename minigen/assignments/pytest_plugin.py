"""A pytest plugin that records, for the grader, each test's exercise markers and outcome.

``grade`` copies this file into a temporary folder and loads it with
``-p _minigen_exercise_report --exercise-report FILE`` (so the plugin of the grading
installation runs, not one from the graded copy). At the end of the session it writes FILE:

    {"tests": {nodeid: {"markers": [...], "outcome": "passed" | "failed" | "skipped",
                        "message": first line of the error}},
     "collection_errors": [{"nodeid": ..., "message": ...}], "exitstatus": int}

It imports only the standard library (and hypothesis, if the tests use it), and it uses
only pytest's hook names.
"""
from __future__ import annotations

import json

PREFIX = "exercise_"
_state: dict = {"path": None, "tests": {}, "collection_errors": []}


def pytest_addoption(parser) -> None:
    parser.addoption("--exercise-report", default=None, metavar="FILE",
                     help="write each test's exercise markers and outcome to FILE (JSON)")


def pytest_configure(config) -> None:
    _state["path"] = config.getoption("--exercise-report")


def pytest_plugin_registered(plugin, manager) -> None:
    """Once a ``conftest.py`` has chosen the test suite's hypothesis profile, keep it but
    skip shrinking: a grade needs to know whether a test fails, not its smallest failing
    example, and shrinking a test that always fails costs seconds each."""
    if not str(getattr(plugin, "__file__", "")).endswith("conftest.py"):
        return
    try:
        from hypothesis import Phase, settings
    except ImportError:  # a test suite without hypothesis: nothing to speed up
        return
    phases = tuple(p for p in settings.default.phases if p not in (Phase.shrink, Phase.explain))
    settings.register_profile("minigen-grading", parent=settings.default, phases=phases)
    settings.load_profile("minigen-grading")


def pytest_collectreport(report) -> None:
    if report.failed:
        _state["collection_errors"].append({"nodeid": report.nodeid,
                                            "message": _message(report)})


def pytest_collection_finish(session) -> None:
    for item in session.items:  # after -m has deselected the others
        markers = sorted({m.name for m in item.iter_markers() if m.name.startswith(PREFIX)})
        _state["tests"][item.nodeid] = {"markers": markers, "outcome": "not run", "message": ""}


def pytest_runtest_logreport(report) -> None:
    test = _state["tests"].setdefault(report.nodeid, {"markers": [], "outcome": "not run",
                                                      "message": ""})
    if test["outcome"] == "failed":
        return  # a failed setup or call stays failed whatever the teardown does
    if report.failed:
        test["outcome"], test["message"] = "failed", _message(report)
    elif report.skipped:
        test["outcome"], test["message"] = "skipped", _message(report)
    elif report.when == "call":
        test["outcome"] = "passed"


def pytest_sessionfinish(session, exitstatus) -> None:
    if _state["path"]:
        with open(_state["path"], "w", encoding="utf-8") as f:
            json.dump({"tests": _state["tests"], "collection_errors": _state["collection_errors"],
                       "exitstatus": int(exitstatus)}, f, indent=1)


def _message(report) -> str:
    """The error's own line (``NotImplementedError: Exercise ...``), not the traceback."""
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        text = crash.message
    elif isinstance(getattr(report, "longrepr", None), tuple):  # a skip: (file, line, reason)
        text = str(report.longrepr[-1])
    else:
        text = str(getattr(report, "longrepr", "") or "")
        lines = [line for line in text.splitlines() if line.startswith("E ")]
        text = lines[0][1:] if lines else (text.strip().splitlines() or [""])[-1]
    text = text.strip()
    return text.splitlines()[0][:500] if text else ""
