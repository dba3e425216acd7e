"""``minigen.memory``: freed arrays are reused once ``tune_allocator()`` is called, and
``import minigen`` changes no process state (malloc's settings included)."""
import json
import os
import platform
import subprocess
import sys

import pytest

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# A training step in miniature: allocate arrays of 1.6 to 14 MB, free them, again and
# again; count the page faults of five steps after two warm-up steps. With "tune" on the
# command line it calls tune_allocator() first; without, it only imports minigen.
SCRIPT = """
import resource, sys
import minigen, numpy as np
tuned = minigen.memory.tune_allocator() if "tune" in sys.argv else None
def step():
    arrays = [np.ones(n, dtype=np.float32)
              for n in (1_600_000, 3_600_000, 800_000, 400_000, 1_600_000)]
step(); step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print(tuned, minigen.memory.is_tuned(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _python(code: str, *args: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter; its stdout. MINIGEN_MALLOC is unset unless given."""
    environ = {k: v for k, v in os.environ.items() if k != "MINIGEN_MALLOC"}
    return subprocess.run([sys.executable, "-c", code, *args], env=dict(environ, **env),
                          capture_output=True, text=True, check=True).stdout


def _faults(*args: str, **env: str) -> tuple[str, str, int]:
    tuned, is_tuned, faults = _python(SCRIPT, *args, **env).split()[-3:]
    return tuned, is_tuned, int(faults)


@pytest.mark.skipif(not GLIBC, reason="the settings are glibc's")
def test_tune_allocator_makes_freed_arrays_reused_without_page_faults():
    tuned, is_tuned, ours = _faults("tune")
    assert (tuned, is_tuned) == ("True", "True")
    untouched, _, default = _faults()                # import minigen only: glibc's default
    assert untouched == "None"
    # glibc's default returns the blocks and faults them in again each step (~13 000 faults
    # here with 4 KB pages; fewer where huge pages are on), tuned it keeps them.
    assert ours < 500 and 10 * ours < default, (ours, default)


@pytest.mark.skipif(not GLIBC, reason="the settings are glibc's")
def test_tune_allocator_can_be_left_off():
    tuned, is_tuned, faults = _faults("tune", MINIGEN_MALLOC="system")
    assert (tuned, is_tuned) == ("False", "False")
    assert faults > 2000, faults                      # glibc's default behaviour


def test_tune_allocator_is_idempotent():
    code = ("import minigen; m = minigen.memory\n"
            "print(m.is_tuned(), m.tune_allocator(), m.is_tuned(), m.tune_allocator(), m.is_tuned())")
    got = _python(code).split()
    if GLIBC:
        assert got == ["False", "True", "True", "False", "True"]
    else:
        assert got == ["False", "False", "False", "False", "False"]


# Everything about the process that `import minigen` could change cheaply, as JSON.
STATE = """
import gc, json, logging, os, signal, sys, threading, warnings
import numpy as np

def state():
    tasks = sorted(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else None
    return {
        "environ": dict(os.environ), "cwd": os.getcwd(), "umask": os.umask(os.umask(0)),
        "sys.path": list(sys.path), "recursionlimit": sys.getrecursionlimit(),
        "switchinterval": sys.getswitchinterval(),
        "hooks": [repr(sys.excepthook), repr(sys.displayhook), repr(sys.breakpointhook)],
        "streams": [id(sys.stdin), id(sys.stdout), id(sys.stderr)],
        "warnings.filters": [repr(f) for f in warnings.filters],
        "threads": [t.name for t in threading.enumerate()], "os threads": tasks,
        "signals": {s.name: repr(signal.getsignal(s)) for s in (signal.SIGINT, signal.SIGTERM)},
        "gc": [gc.isenabled(), list(gc.get_threshold())],
        "logging": [repr(h) for h in logging.getLogger().handlers],
        "np.geterr": np.geterr(), "np.printoptions": repr(np.get_printoptions()),
        "np.random": repr(np.random.get_state(legacy=False)),
    }

before = state()
import minigen
after = state()
print(json.dumps({"changed": sorted(k for k in before if before[k] != after[k]),
                  "tuned": minigen.memory.is_tuned()}))
"""


def test_import_minigen_changes_no_process_state():
    result = json.loads(_python(STATE).splitlines()[-1])
    assert result == {"changed": [], "tuned": False}, result
