"""Files read and written safely: nothing half-written is ever left under the real name, and a
pickle of weights is read without running code."""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
from numpy._core import multiarray, numeric

__all__ = ["atomic_write", "load_pickled_weights", "read_arrays"]


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


def read_arrays(path, caller):
    """The arrays of an .npz archive, read without pickle; anything else (a damaged archive, a
    single .npy array, object arrays only pickle could read) is refused with a ValueError that
    starts with `caller` and names the file or the array."""
    try:
        with open(path, "rb") as file:  # ours to close: np.load leaks its own when damaged
            return _npz_arrays(path, file, caller)
    except FileNotFoundError:
        raise
    except OSError as error:  # a folder, no permission
        raise _unreadable(path, error, caller) from None


def _npz_arrays(path, file, caller):
    try:
        archive = np.load(file, allow_pickle=False)
    except Exception as error:  # a damaged archive can fail in many ways inside zipfile
        raise _unreadable(path, error, caller) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{caller}: {path} holds a single array, not an .npz archive")
    with archive:
        arrays = {}
        for name in archive.files:
            try:
                arrays[name] = archive[name]
            except Exception as error:
                raise _unreadable(path, error, caller, name) from None
    return arrays


def _unreadable(path, error, caller, name=None):
    """The error for what np.load cannot read as arrays: pickled data, or a damaged archive."""
    pickled = "pickle" in str(error)  # NumPy's own words when only pickle could read it
    if name:
        what = f"array {name} in {path} is {'an object array' if pickled else 'damaged'}"
    else:
        what = f"{path} is not {'an' if pickled else 'a complete'} .npz archive"
    if pickled:
        return ValueError(
            f"{caller}: {what}; data only pickle could read is refused, since unpickling can "
            "run code"
        )
    return ValueError(f"{caller}: {what} ({type(error).__name__}: {error})")


def load_pickled_weights(path):
    """Read a pickle of NumPy arrays in plain containers, such as the book's sample_weight.pkl
    (3.6.2) and params.pkl (7.5), without letting it run code. path: a file's path, or a file
    opened for reading in binary, as pickle.load takes it.

    A pickle can name any function to call while it loads; this reader allows only NumPy's own
    array-building ones, and the result must be numeric arrays, numbers and strings in dicts,
    lists and tuples. Anything else is refused with pickle.UnpicklingError, before it runs.
    """
    opened = hasattr(path, "read")
    if opened:
        f, path = path, getattr(path, "name", "the file")
    try:
        with contextlib.nullcontext(f) if opened else open(path, "rb") as f:
            data = _ArraysOnly(f, encoding="latin1").load()  # latin1: Python 2 pickles too
    except pickle.UnpicklingError as error:
        raise pickle.UnpicklingError(f"load_pickled_weights: {path}: {error}") from None
    except (EOFError, ValueError, TypeError, IndexError, KeyError) as error:
        raise pickle.UnpicklingError(
            f"load_pickled_weights: {path} is not a complete pickle of arrays ({error})"
        ) from None
    _only_plain_data(path, data)
    return data


def _latin1_encode(text, encoding="latin1"):
    """_codecs.encode as pickles of bytes use it (protocols 0-2), and only that way."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode is allowed only to make bytes from latin1")
    return text.encode("latin1")


_ALLOWED = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}
for _module in ("numpy.core", "numpy._core"):  # pickles from NumPy 1 and 2
    _ALLOWED[(f"{_module}.multiarray", "_reconstruct")] = multiarray._reconstruct
    _ALLOWED[(f"{_module}.multiarray", "scalar")] = multiarray.scalar
    _ALLOWED[(f"{_module}.numeric", "_frombuffer")] = numeric._frombuffer


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module, name):
        allowed = _ALLOWED.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f"it names {module}.{name}, which could run code; only NumPy arrays in dicts, "
                "lists and tuples are read"
            )
        return allowed


def _only_plain_data(path, data):
    """Walk the loaded value: numeric arrays, numbers, strings, and containers of them."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, (list, tuple)):
            pending.extend(value)
        elif isinstance(value, np.ndarray):
            if value.dtype.kind not in "biuf":
                raise pickle.UnpicklingError(
                    f"load_pickled_weights: {path} holds an array of dtype {value.dtype}; only "
                    "numeric arrays are read"
                )
        elif not isinstance(value, (str, bytes, int, float, complex, type(None), np.generic)):
            raise pickle.UnpicklingError(
                f"load_pickled_weights: {path} holds a {type(value).__name__}; only arrays, "
                "numbers and strings in dicts, lists and tuples are read"
            )
