"""Where a student's code runs when it is graded: a fresh copy of the reference tree, and a
process group that ends with its run.

``pristine_tree`` writes the instructor's files (minigen, its tests, the lectures) to a new
folder, with the given files' texts replaced (the student's regions spliced in). Nothing of
the submission but those texts reaches it.

``run_group`` runs one command there in a process group of its own: when the command
finishes, times out or the grader is interrupted, the whole group is killed, so a student's
endless loop never outlives the grading (killing only the direct child would leave a
grandchild ``pytest`` running). The command's ``HOME`` and temporary folder are inside the
run's scratch folder.
"""
from __future__ import annotations

import os
import signal
import site
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from minigen.assignments.builder import write_tree


def pristine_tree(reference: Path, files: list[str], dest: Path,
                  texts: dict[str, str] | None = None) -> Path:
    """Copy ``files`` (paths relative to ``reference``) to ``dest``, writing ``texts[rel]``
    instead of the file where given (the student's regions spliced in); returns ``dest``."""
    return write_tree(reference, files, dest, texts or {})


@dataclass
class Finished:
    """How a command ended: its exit status (None when it was stopped) and whether it ran
    out of time."""

    returncode: int | None
    timed_out: bool


def run_group(command: list[str], cwd: Path, env: dict, log: Path,
              timeout: float) -> Finished:
    """Run ``command`` in its own process group, output to ``log``; kill the whole group
    when it ends, after ``timeout`` seconds, or when the grader is interrupted."""
    with _LOCK:
        if _STOPPING.is_set():
            raise KeyboardInterrupt("grading was interrupted")
        with open(log, "w", encoding="utf-8") as out:
            process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        _LIVE.add(process)
    try:
        process.wait(timeout=timeout)
        return Finished(process.returncode, False)
    except subprocess.TimeoutExpired:
        return Finished(None, True)
    finally:  # on a timeout, an interrupt, or a normal end with children left behind
        kill_group(process)
        with _LOCK:
            _LIVE.discard(process)


# The groups running now, so that an interrupted grading (in any thread) can end them all.
_LIVE: set = set()
_LOCK = threading.Lock()
_STOPPING = threading.Event()


def stop_all() -> None:
    """Kill every process group started by ``run_group`` that is still running, and start
    no new one (called when the grading is interrupted)."""
    with _LOCK:
        _STOPPING.set()
        live = list(_LIVE)
    for process in live:
        kill_group(process)


def allow_runs() -> None:
    """Let ``run_group`` start commands again (a new grading begins)."""
    _STOPPING.clear()


def kill_group(process: subprocess.Popen) -> None:
    """Kill ``process`` and every process of its group, and reap it."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if process.poll() is None:
        process.kill()
    process.wait()


def environment(tree: Path, scratch: Path, plugin_dir: Path | None = None) -> dict:
    """The environment of a graded run: the tree's minigen first on the path (then the
    plugin's folder), the test suite's fast deterministic profile (``CI=1``), one BLAS
    thread (runs go side by side), and ``HOME``/temporary files in ``scratch``."""
    for sub in ("home", "tmp", "hypothesis", "mpl"):
        (scratch / sub).mkdir(parents=True, exist_ok=True)
    keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "VIRTUAL_ENV", "CONDA_PREFIX")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PYTHONPATH"] = os.pathsep.join([str(tree)] + ([str(plugin_dir)] if plugin_dir else []))
    env["PYTHONUSERBASE"] = site.getuserbase()  # packages installed with --user stay visible
    env.update(CI="1", MINIGEN_FAST="1", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1",
               HOME=str(scratch / "home"), TMPDIR=str(scratch / "tmp"),
               MPLCONFIGDIR=str(scratch / "mpl"),
               HYPOTHESIS_STORAGE_DIRECTORY=str(scratch / "hypothesis"),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env

