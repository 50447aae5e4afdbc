"""Writing files so that nothing half-written is ever left under the real name."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


@contextlib.contextmanager
def atomic_write(path, mode="wb", check=None):
    """Write to a temporary file beside `path`, then rename it to `path` in one step.

    On any error (or an interrupt) the temporary file is removed and `path` is untouched.
    `check(temporary_path)`, if given, runs after writing and before the rename, and may raise.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, mode) as f:
            yield f
        if check is not None:
            check(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
