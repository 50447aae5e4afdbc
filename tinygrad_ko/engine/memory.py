"""Keeping freed memory for the next training step (Linux).

A training step allocates its arrays and frees them all when its graph goes: about 40 MB a step
for SimpleConvNet at a batch of 100. glibc's malloc hands such a freed top of its heap back to
the system every step and the next step takes it back page by page: measured on the 2-core
machine, 4,700 page faults and 9 ms of system time in a 20 ms step. Importing tinygrad_ko
raises glibc's thresholds once, so that up to TRIM_THRESHOLD of freed memory is kept for reuse:
it changes no result, only what the process holds after it has freed its arrays. Set the
environment variable TINYGRAD_KO_KEEP_FREED_MEMORY=0 to leave malloc as it was.

Blocks above 32 MB (glibc's largest threshold), such as DeepConvNet's 45 MB im2col matrices, get
a mapping of their own all the same, whose pages the kernel zeroes anew at every step: 3 ms for
each such copy, 300 page faults a DeepConvNet step. While training, fit takes every block from
the heap instead (heap_only), and afterwards gives what the heap holds free back to the system
(malloc_trim): kept for good, a freed hole below arrays still in use would stay resident.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform

__all__ = ["MMAP_THRESHOLD", "OPT_OUT", "TRIM_THRESHOLD", "heap_only", "keep_freed_memory"]

OPT_OUT = "TINYGRAD_KO_KEEP_FREED_MEMORY"  # "0": importing tinygrad_ko leaves malloc alone

# glibc's mallopt parameters (malloc.h): M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
_MMAP_MAX_DEFAULT = 65536  # glibc's own M_MMAP_MAX
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest: blocks above it get their own mapping
TRIM_THRESHOLD = 256 * 2**20  # free memory kept at the top of the heap


def keep_freed_memory():
    """Set glibc's thresholds so freed arrays up to MMAP_THRESHOLD come from a heap that keeps
    TRIM_THRESHOLD of free memory; True if they were set (False off glibc, e.g. macOS)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    return bool(
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


def _glibc():
    """The C library when it is glibc (Linux) and importing tinygrad_ko set it, else None."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    return None if os.environ.get(OPT_OUT) == "0" else ctypes.CDLL(None)


@contextlib.contextmanager
def heap_only():
    """Within: every block comes from glibc's heap, so a training step's large arrays are
    reused from the step before (no mapping of their own). After: glibc's default again, and
    the heap's free pages given back to the system. Nothing changes off glibc or with
    TINYGRAD_KO_KEEP_FREED_MEMORY=0."""
    libc = _glibc()
    if libc is None or not libc.mallopt(_M_MMAP_MAX, 0):
        yield
        return
    try:
        yield
    finally:
        libc.mallopt(_M_MMAP_MAX, _MMAP_MAX_DEFAULT)
        libc.malloc_trim(0)
