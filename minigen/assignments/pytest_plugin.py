"""A pytest plugin that records, for the grader, each test's exercise markers and outcome.

``grade`` copies this file into a folder outside the graded tree and loads it with
``-p _minigen_exercise_report --exercise-report FILE`` (so the plugin of the grading
installation runs, not one from the graded tree). At the end of the session it writes FILE:

    {"tests": {nodeid: {"markers": [...], "outcome": "passed" | "failed" | "skipped",
                        "message": the error, capped at MAX_LINES lines}},
     "collection_errors": [{"nodeid": ..., "message": ...}],
     "tampered": [what changed, ...], "exitstatus": int}

**The guard.** The student's code runs inside the tests' process, so it could replace the
checking tools themselves (``minigen.gradient_check.gradcheck = lambda *a, **k: None``).
Once the tests are collected, the plugin records every name of the checking modules
(``minigen`` itself, ``minigen.gradient_check``, ``minigen.testing``, ``numpy.testing``,
pytest's and hypothesis' modules, the test modules) and of the classes defined in them; after each test
it compares them. A test after which any of them changed is failed, and the change is listed
under ``tampered`` (the grader then gives the exercise no points). This is a guard against
students, together with the grader's reading of the code before it runs (``screening``); it
is not a sandbox against an attacker.

It imports only the standard library (and hypothesis, if the tests use it), and it uses
only pytest's hook names.
"""
from __future__ import annotations

import json
import re
import sys

PREFIX = "exercise_"
MAX_LINES, MAX_CHARS = 30, 3000  # a failure's message, as the student reads it
PROTECTED = ("minigen.gradient_check", "minigen.testing", "numpy.testing", "pytest", "_pytest",
             "hypothesis", "minigen.assignments")
PROTECTED_EXACT = ("minigen",)  # its gradcheck, tensor, ... as the tests call them
_state: dict = {"path": None, "tests": {}, "collection_errors": [], "tampered": [],
                "snapshot": None}


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
    test_modules = {getattr(item, "module", None) for item in session.items} - {None}
    _state["snapshot"] = _snapshot(test_modules)


def pytest_runtest_logreport(report) -> None:
    test = _state["tests"].setdefault(report.nodeid, {"markers": [], "outcome": "not run",
                                                      "message": ""})
    changed = _changes() if report.when == "teardown" else []
    if changed:
        _state["tampered"].extend(f"{report.nodeid}: {c}" for c in changed)
        test["outcome"] = "failed"
        test["message"] = ("the code under test changed the checking tools, so this test "
                           "proves nothing: " + "; ".join(changed[:5]))
        return
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
                       "tampered": _state["tampered"], "exitstatus": int(exitstatus)}, f,
                      indent=1)


# ---------------------------------------------------------------- the guard
def _protected_modules(test_modules) -> list:
    names = [n for n in list(sys.modules) if n in PROTECTED_EXACT
             or any(n == p or n.startswith(p + ".") for p in PROTECTED)]
    return [sys.modules[n] for n in sorted(names) if sys.modules.get(n) is not None] + sorted(
        test_modules, key=lambda m: m.__name__)


def _watched(value) -> bool:
    """What a student would replace to fake a pass: functions, classes, modules (not the
    counters and caches that these modules legitimately reassign)."""
    return callable(value) or isinstance(value, type(sys))


def _snapshot(test_modules) -> dict:
    """What every protected name refers to, {(owner, name): value}: the functions, classes
    and modules named in each protected module and in each class defined there, and the
    modules' own entries in ``sys.modules``."""
    modules = _protected_modules(test_modules)
    return {"modules": modules, "values": _values(modules)}


def _values(modules) -> dict:
    seen: dict = {}
    for module in modules:
        owner = module.__name__
        seen[("sys.modules", owner)] = sys.modules.get(owner)
        for name, value in list(vars(module).items()):
            if not _watched(value):
                continue
            seen[(owner, name)] = value
            if isinstance(value, type) and getattr(value, "__module__", None) == owner:
                for attr, member in list(vars(value).items()):
                    if _watched(member):
                        seen[(f"{owner}.{name}", attr)] = member
    return seen


def _changes() -> list[str]:
    """The protected names that no longer refer to what they did after collection."""
    snap = _state["snapshot"]
    if snap is None:
        return []
    missing = object()
    now = _values(snap["modules"])
    return [f"sys.modules[{name!r}]" if owner == "sys.modules" else f"{owner}.{name}"
            for (owner, name), value in snap["values"].items()
            if now.get((owner, name), missing) is not value]


def _message(report) -> str:
    """The error as the student needs it: the exception's whole message (a gradcheck's
    input, element, analytic and numeric values; an assertion's compared values; the
    falsifying example), not the traceback; capped at MAX_LINES lines."""
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        text = crash.message
    elif isinstance(getattr(report, "longrepr", None), tuple):  # a skip: (file, line, reason)
        text = str(report.longrepr[-1])
    else:
        text = str(getattr(report, "longrepr", "") or "")
        lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
        text = "\n".join(lines) if lines else (text.strip().splitlines() or [""])[-1]
    # "minigen.gradient_check.GradcheckError: ..." reads as "GradcheckError: ..."
    return cap(re.sub(r"^(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*: )", r"\1", text.lstrip()))


# Lines of hypothesis' report that say how to replay a failure in the source, not what failed.
_NOISE = ("You can reproduce this example by temporarily adding", "You can add @seed(")


def cap(text: str, lines: int = MAX_LINES, chars: int = MAX_CHARS) -> str:
    """``text`` without trailing blanks, cut to ``lines`` lines and ``chars`` characters
    (saying so where it cuts)."""
    kept = [line.rstrip() for line in text.strip().splitlines()
            if not line.startswith(_NOISE)]
    kept = [line for k, line in enumerate(kept) if line or (0 < k < len(kept) - 1)]
    out = "\n".join(kept[:lines])
    if len(kept) > lines:
        out += f"\n... ({len(kept) - lines} more lines)"
    if len(out) > chars:
        out = out[:chars] + " ... (cut)"
    return out
