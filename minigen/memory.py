"""Keep freed memory for reuse: glibc's ``malloc`` settings for training loops.

A training step allocates and frees the same large arrays every time (activations,
im2col columns, gradients: about 100 MB for one step of the digit classifier). By
default glibc hands every block larger than 128 KB straight back to the operating system
when it is freed, and the next step page-faults it in again, zero-filled, 4 KB at a time:
on the CPU that is a large share of a training step (``benchmarks/README.md`` has the
measurement and the command that repeats it).

``tune_allocator()`` makes freed blocks stay in the process for the next step, with two
``mallopt`` settings:

* ``M_MMAP_THRESHOLD`` = 32 MB (glibc's largest): blocks up to 32 MB come from the
  reusable heap rather than from a private ``mmap`` each;
* ``M_TRIM_THRESHOLD`` = 512 MB: free memory at the top of the heap goes back to the
  system only beyond 512 MB.

The price: after a peak, the process keeps up to that much memory. That is a choice for
a program that trains, not for every program that imports minigen, so ``import minigen``
changes nothing: the training commands call ``tune_allocator()`` when they start. Set the
environment variable ``MINIGEN_MALLOC=system`` to leave malloc as it is even then.
"""
from __future__ import annotations

import os
import sys

M_TRIM_THRESHOLD = -1      # mallopt's parameter numbers, from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 512 * 2**20

# Set by tune_allocator() once glibc has taken the settings: the process-wide state this
# module changes, so a second call does nothing and a test can see that an import did not.
_tuned = False


def tune_allocator() -> bool:
    """Make glibc keep freed blocks for reuse (the two ``mallopt`` settings above), for a
    training loop; call it once when training starts. It changes process-wide state, which
    is why ``import minigen`` does not call it.

    Returns True if this call changed the settings; False if they were already applied
    (the call is idempotent), if they do not apply (not Linux with glibc) or if the
    environment variable ``MINIGEN_MALLOC`` is ``system`` (the opt-out). Usage::

        import minigen
        minigen.memory.tune_allocator()
    """
    global _tuned
    if _tuned or os.environ.get("MINIGEN_MALLOC", "") == "system" \
            or not sys.platform.startswith("linux"):
        return False
    import ctypes  # noqa: PLC0415 — only a process that tunes its allocator needs ctypes
    import ctypes.util  # noqa: PLC0415

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):   # no C library to load, or one without mallopt (musl)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _tuned = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                  and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _tuned


def is_tuned() -> bool:
    """True once ``tune_allocator()`` has changed malloc's settings in this process
    (importing minigen never does)."""
    return _tuned
