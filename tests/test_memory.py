"""``minigen.memory``: freed arrays are reused instead of page-faulted back in."""
import os
import platform
import subprocess
import sys

import pytest

from minigen import memory

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# A training step in miniature: allocate arrays of 1.6 to 14 MB, free them, again and
# again; count the page faults of five steps after two warm-up steps.
SCRIPT = """
import resource
import minigen, numpy as np
def step():
    arrays = [np.ones(n, dtype=np.float32)
              for n in (1_600_000, 3_600_000, 800_000, 400_000, 1_600_000)]
step(); step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(malloc: str) -> int:
    env = dict(os.environ, MINIGEN_MALLOC=malloc)
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, check=True).stdout
    return int(out.split()[-1])


@pytest.mark.skipif(not GLIBC, reason="the settings are glibc's")
def test_a_freed_array_is_reused_without_page_faults():
    assert memory.keep_freed_memory() is True
    ours, default = _faults("minigen"), _faults("system")
    # glibc's default returns the blocks and faults them in again each step (~13 000 faults
    # here with 4 KB pages; fewer where huge pages are on), ours keeps them.
    assert ours < 500 and 10 * ours < default, (ours, default)


def test_the_settings_can_be_left_off(monkeypatch):
    monkeypatch.setenv("MINIGEN_MALLOC", "system")
    assert memory.keep_freed_memory() is False
