"""``minigen assignment``'s command line: a closed pipe, unknown ids and an unwritable
--json are handled before any work, with the right exit status (issue 15)."""
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from minigen.assignments import cli

REPO = Path(__file__).parent.parent


def test_a_closed_pipe_ends_quietly():
    """`minigen assignment list | head -1`: the reader leaves before the listing ends."""
    read, write = os.pipe()
    os.close(read)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "minigen", "assignment", "list"], stdout=write,
                          stderr=subprocess.PIPE, env=env, timeout=120)
    os.close(write)
    assert done.returncode == 0 and done.stderr == b""


@pytest.mark.parametrize("command", [["build", "--out", "x"], ["grade", "."], ["check"]])
def test_unknown_exercise_ids_are_a_usage_error(command, capsys, monkeypatch, tmp_path):
    for name in ("build", "grade", "check"):          # nothing may start
        monkeypatch.setattr(cli, name, lambda *a, **k: pytest.fail("started the work"))
    monkeypatch.chdir(tmp_path)
    assert cli.main(command + ["--only", "mul_backward,nosuch"]) == 2
    err = capsys.readouterr().err
    assert "unknown exercise(s) nosuch" in err and len(err.strip().splitlines()) == 1


def test_an_unwritable_json_is_refused_before_grading(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "grade", lambda *a, **k: pytest.fail("graded first"))
    assert cli.main(["grade", str(tmp_path), "--json", str(tmp_path / "nodir" / "s.json")]) == 2
    assert "cannot write --json" in capsys.readouterr().err


def test_build_suggests_the_documented_grade_command(capsys, monkeypatch, tmp_path):
    result = SimpleNamespace(out_dir=tmp_path / "copy", files=3, regions=[], exercises=[],
                             reference_kernels=False)
    monkeypatch.setattr(cli, "build", lambda *a, **k: result)
    assert cli.main(["build", "--out", str(tmp_path / "copy")]) == 0
    out = capsys.readouterr().out
    assert f"Grade it with: minigen assignment grade {tmp_path / 'copy'}" in out
    assert "minigen assignment grade" in (REPO / "README.md").read_text()
