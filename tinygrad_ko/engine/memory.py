"""Keeping freed memory for the next training step (Linux).

A training step allocates its arrays and frees them all when its graph goes: about 40 MB a step
for SimpleConvNet at a batch of 100. glibc's malloc hands such a freed top of its heap back to
the system every step and the next step takes it back page by page: measured on the 2-core
machine, 4,700 page faults and 9 ms of system time in a 20 ms step. Blocks above 32 MB (glibc's
largest mmap threshold), such as DeepConvNet's 45 MB im2col matrices, get a mapping of their own
whatever the threshold, and the kernel zeroes its pages anew at every step: 3 ms for each such
copy. Importing tinygrad_ko sets glibc once to take every block from its heap (no mappings) and
to keep up to TRIM_THRESHOLD of freed memory there for reuse: it changes no result, only what the
process holds after it has freed its arrays (DeepConvNet's step: 4 % faster, and a lower peak).
Set the environment variable TINYGRAD_KO_KEEP_FREED_MEMORY=0 to leave malloc as it was.
"""

from __future__ import annotations

import ctypes
import platform

__all__ = ["OPT_OUT", "TRIM_THRESHOLD", "keep_freed_memory"]

OPT_OUT = "TINYGRAD_KO_KEEP_FREED_MEMORY"  # "0": importing tinygrad_ko leaves malloc alone

# glibc's mallopt parameters (malloc.h): M_TRIM_THRESHOLD, M_MMAP_MAX
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
TRIM_THRESHOLD = 256 * 2**20  # free memory kept at the top of the heap


def keep_freed_memory():
    """Set glibc to take every array from a heap that keeps TRIM_THRESHOLD of free memory (no
    mapping of its own for any block); True if set (False off glibc, e.g. macOS)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    return bool(libc.mallopt(_M_MMAP_MAX, 0) and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
