"""Keep freed memory for reuse: glibc's ``malloc`` settings for training loops.

A training step allocates and frees the same large arrays every time (activations,
im2col columns, gradients: about 100 MB for one step of the digit classifier). By
default glibc hands every block larger than 128 KB straight back to the operating system
when it is freed, and the next step page-faults it in again, zero-filled, 4 KB at a time.
For the digit classifier that was a third of a CPU training step (measured
single-threaded: 68 ms per step, 46 ms with the settings below).

Two ``mallopt`` settings make freed blocks stay in the process for the next step:

* ``M_MMAP_THRESHOLD`` = 32 MB (glibc's largest): blocks up to 32 MB come from the
  reusable heap rather than from a private ``mmap`` each;
* ``M_TRIM_THRESHOLD`` = 512 MB: free memory at the top of the heap goes back to the
  system only beyond 512 MB.

The price: after a peak, the process keeps up to that much memory. ``import minigen``
applies them on Linux with glibc (elsewhere nothing happens; NumPy's arrays then use the
platform's allocator as they are); set the environment variable
``MINIGEN_MALLOC=system`` before the import to leave malloc as it is.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1      # mallopt's parameter numbers, from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 512 * 2**20


def keep_freed_memory() -> bool:
    """Apply the two settings; True if glibc took them, False where they do not apply
    (not Linux, not glibc, or ``MINIGEN_MALLOC=system``)."""
    if os.environ.get("MINIGEN_MALLOC", "") == "system" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):   # no C library to load, or one without mallopt (musl)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
