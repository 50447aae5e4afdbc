"""Writing files so that nothing half-written is ever left under the real name."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path, mode="wb", check=None):
    """Write to a temporary file beside `path`, then rename it to `path` in one step.

    On any error (or an interrupt) the temporary file is removed and `path` is untouched.
    `check(temporary_path)`, if given, runs after writing and before the rename, and may raise.
    """
    path = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".part", dir=path.parent
        )
    except FileNotFoundError:
        raise FileNotFoundError(f"cannot write {path}: there is no folder {path.parent}") from None
    try:
        with os.fdopen(handle, mode) as f:
            yield f
        if check is not None:
            check(Path(temporary))
        os.chmod(temporary, 0o666 & ~_umask())  # as open() would make it, not mkstemp's 0600
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
