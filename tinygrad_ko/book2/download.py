"""Downloading book 2's data files (the Penn Treebank for ptb, addition.txt and date.txt for
sequence) into the data folder tinygrad_ko uses for MNIST: checked before they take their
names, never half-written, with certificate checks left on."""

from __future__ import annotations

import contextlib
import http.client
import os
import urllib.request
from pathlib import Path

from tinygrad_ko.data.files import atomic_write
from tinygrad_ko.training.progress import progress_bar

__all__ = ["Refused", "data_folder", "fetch", "fetch_all", "source"]

TIMEOUT = 30  # seconds


def data_folder(kind, names):
    """The folder for the data files `names` of one kind ('ptb', 'sequence'): with
    $TINYGRAD_KO_DATA, that folder if it holds all of them, else its `kind`/ if there is one,
    else that folder if it holds some, else its `kind`/ (where downloads go); without it, the
    per-user cache (~/.cache/tinygrad_ko/`kind`), as tinygrad_ko.data.datasets.mnist_dir does."""
    data = os.environ.get("TINYGRAD_KO_DATA")
    if not data:
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(cache) / "tinygrad_ko" / kind
    given = Path(data)
    inner = given / kind
    present = [(given / name).is_file() for name in names]
    if all(present):
        return given
    if inner.is_dir():
        return inner
    return given if any(present) else inner


def source():
    """Where the data folder came from, for messages."""
    return "from $TINYGRAD_KO_DATA" if os.environ.get("TINYGRAD_KO_DATA") else "the default cache"


class Refused(ValueError):
    """What a server sent is not the file it was asked for."""


def fetch_all(base, folder, names, limit, check):
    """Fetch base + name into folder for each name, each checked by check(name, data) before it
    takes its name. Raises OSError saying which file failed and why; folders made for the
    download are removed again (each only if empty), so a mistyped path leaves nothing."""
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            try:
                fetch(base + name, folder / name, limit, check)
            except Refused as error:
                raise OSError(f"what {base + name} sent {error}") from None
            except (OSError, http.client.HTTPException) as error:  # URLError, timeouts, cut off
                reason = getattr(error, "reason", None) or str(error) or type(error).__name__
                raise OSError(f"downloading {base + name} failed ({reason})") from None
    except OSError:
        for p in made:  # innermost first
            with contextlib.suppress(OSError):
                p.rmdir()
        raise


def fetch(url, target, limit, check):
    """Download url to target under a temporary name, renamed only once check() accepts it."""

    def accept(temporary):
        check(target.name, temporary.read_bytes())

    with (
        atomic_write(target, check=accept) as out,
        urllib.request.urlopen(url, timeout=TIMEOUT) as r,
    ):
        try:
            declared = int(r.headers.get("Content-Length"))
        except (TypeError, ValueError):
            declared = None
        received = 0
        with progress_bar(total=declared, desc=f"Downloading {target.name}", unit="B") as bar:
            while chunk := r.read(1 << 16):
                received += len(chunk)
                if received > limit:
                    raise Refused(f"is over {limit} bytes, more than {target.name} can be")
                out.write(chunk)
                bar.update(len(chunk))
        if declared is not None and received != declared:
            raise Refused(f"was cut short: {received} of the {declared} bytes announced arrived")
