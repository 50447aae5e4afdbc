"""MNIST, as the book's load_mnist gives it (3.6.1), read and verified from the IDX files.

Where the files are looked for: `data_dir`, else $TINYGRAD_KO_DATA, each either the folder
holding the four files or a folder with mnist/ inside; else the per-user cache
(~/.cache/tinygrad_ko/mnist). Missing files are downloaded there from the public mirrors,
unless $TINYGRAD_KO_OFFLINE is set (see mnist_dir).
Every file is checked each time it is read (IDX magic number, declared sizes against its
length, SHA-256 of its payload); nothing is ever unpickled.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from tinygrad_ko.data.files import atomic_write
from tinygrad_ko.training.progress import progress_bar

__all__ = ["BadFile", "load_mnist", "mnist_dir", "shuffle_dataset"]

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

SHA256 = {  # of each decompressed payload: the same whichever way the file was gzipped
    "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",  # noqa: E501
    "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",  # noqa: E501
    "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

PAYLOAD_BYTES = {  # decompressed: a 16-byte header and 28 x 28 bytes an image, or 8 and 1 a label
    "train-images-idx3-ubyte.gz": 16 + 60000 * 28 * 28,
    "train-labels-idx1-ubyte.gz": 8 + 60000,
    "t10k-images-idx3-ubyte.gz": 16 + 10000 * 28 * 28,
    "t10k-labels-idx1-ubyte.gz": 8 + 10000,
}

MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049  # IDX: unsigned bytes, 3 dimensions / 1 dimension
ROWS = COLS = 28
CLASSES = 10


def mnist_dir(data_dir=None):
    """The folder load_mnist reads: data_dir, else $TINYGRAD_KO_DATA, else the per-user cache
    (~/.cache/tinygrad_ko/mnist). The first two may name the folder holding the four files or
    one with mnist/ inside. Taken first: the folder itself if it holds all four; then its
    mnist/ if there is one (downloads never go beside an mnist/); then the folder itself if it
    holds some. Holding none, downloads go to data_dir itself, or to $TINYGRAD_KO_DATA/mnist."""
    if data_dir is not None:
        given = new = Path(data_dir)
    elif os.environ.get("TINYGRAD_KO_DATA"):
        given = Path(os.environ["TINYGRAD_KO_DATA"])
        new = given / "mnist"
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(cache) / "tinygrad_ko" / "mnist"
    inner = given / "mnist"
    present = [(given / name).is_file() for name in FILES.values()]
    if all(present):
        return given
    if inner.is_dir():
        return inner
    return given if any(present) else new


def load_mnist(normalize=True, flatten=True, one_hot_label=False, data_dir=None, dtype=np.float32):
    """MNIST as ((x_train, t_train), (x_test, t_test)), the book's load_mnist (3.6.1).

    Images are (60000, 784) and (10000, 784), or (N, 1, 28, 28) with flatten=False; values in
    [0, 1] as `dtype` with normalize, else uint8 0..255. Labels are int64 class indices, or
    (N, 10) one-hot rows of `dtype` with one_hot_label.
    """
    folder = mnist_dir(data_dir)
    missing = [name for name in FILES.values() if not (folder / name).is_file()]
    if missing:
        _download(folder, missing, data_dir)
    x_train, x_test = (_images(folder / FILES[k]) for k in ("train_images", "test_images"))
    t_train, t_test = (_labels(folder / FILES[k]) for k in ("train_labels", "test_labels"))
    for images, labels, split in ((x_train, t_train, "train"), (x_test, t_test, "t10k")):
        if len(images) != len(labels):
            raise ValueError(
                f"load_mnist: {folder} holds {len(images)} {split} images but {len(labels)} "
                f"{split} labels; the files do not belong together"
            )

    def images(x):
        if normalize:
            x = x.astype(dtype)
            x /= 255
        return x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, ROWS, COLS)

    def labels(t):
        return np.eye(CLASSES, dtype=dtype)[t] if one_hot_label else t

    return (images(x_train), labels(t_train)), (images(x_test), labels(t_test))


def shuffle_dataset(x, t, rng=None):
    """x and t in the same random order (6.5.2, for splitting off validation data), drawn from
    `rng` (a NumPy Generator), else from NumPy's global random state as the book's does."""
    x, t = np.asarray(x), np.asarray(t)
    if x.ndim == 0 or t.ndim == 0 or len(x) != len(t):
        raise ValueError(
            f"shuffle_dataset: x of shape {x.shape} and t of shape {t.shape} must hold the same "
            "number of samples"
        )
    order = (np.random if rng is None else rng).permutation(len(x))
    return x[order], t[order]


# --- reading and checking one IDX file -------------------------------------------------------


class BadFile(ValueError):
    """A file that does not hold the MNIST data it is named for; `problem` says why."""

    def __init__(self, path, problem, hint=""):
        super().__init__(f"load_mnist: {path} {problem}{hint}")
        self.problem = problem


def _payload(path, name=None):
    """The decompressed contents of a .gz file, checked against the size and SHA-256 of the MNIST
    file called `name` (by default the file's own name). Decompression stops one byte past the
    known size, so a small file that inflates without end costs no memory. The buffer is
    writable, and so are the arrays made from it."""
    name = name or path.name
    size = PAYLOAD_BYTES[name]
    raw = bytearray(size + 1)
    view, filled = memoryview(raw), 0
    try:
        with gzip.open(path, "rb") as f:
            while filled <= size and (got := f.readinto(view[filled:])):
                filled += got
    except (OSError, EOFError, zlib.error) as error:
        raise BadFile(path, f"is not a complete gzip file ({error})") from None
    finally:
        view.release()
    if filled > size:
        raise BadFile(path, f"holds more than the {size} bytes of {name}; stopped reading there")
    del raw[filled:]
    digest = hashlib.sha256(raw).hexdigest()
    if filled != size or digest != SHA256[name]:
        raise BadFile(
            path,
            f"does not hold the data of {name}: {filled} bytes with SHA-256 {digest[:16]}..., "
            f"expected {size} bytes with {SHA256[name][:16]}... (corrupted, truncated or another "
            "file)",
            "; replace it, or delete it to download it again",
        )
    return raw


def _header(path, raw, magic, dims):
    """Check the IDX header: magic number, then declared sizes against the payload length."""
    header = 4 + 4 * dims
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        kind = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}.get(found, "unknown")
        raise BadFile(path, f"has IDX magic number {found} ({kind}), expected {magic}")
    sizes = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    if len(raw) - header != int(np.prod(sizes)):
        raise BadFile(
            path,
            f"declares {' x '.join(map(str, sizes))} = {int(np.prod(sizes))} bytes of data but "
            f"holds {len(raw) - header}",
        )
    return sizes, header


def _images(path):
    raw = _payload(path)
    (count, rows, cols), header = _header(path, raw, IMAGES_MAGIC, 3)
    if (rows, cols) != (ROWS, COLS):
        raise BadFile(path, f"holds {rows} x {cols} images, expected 28 x 28")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(count, rows, cols)


def _labels(path):
    raw = _payload(path)
    _, header = _header(path, raw, LABELS_MAGIC, 1)
    labels = np.frombuffer(raw, np.uint8, offset=header)
    if labels.size and labels.max() >= CLASSES:
        raise BadFile(path, f"holds a label {labels.max()}, beyond 0..9")
    return labels.astype(np.int64)


# --- downloading -----------------------------------------------------------------------------


def _download(folder, names, data_dir):
    """Fetch the missing files into folder, each verified before it takes its real name. Folders
    made for the download are removed again if it fails, so a mistyped path leaves nothing."""
    if os.environ.get("TINYGRAD_KO_OFFLINE"):
        problem = "downloads are switched off (TINYGRAD_KO_OFFLINE is set)"
        raise FileNotFoundError(_where(folder, names, data_dir, problem))
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            _fetch_from_a_mirror(name, folder / name)
    except OSError as error:
        for p in made:  # innermost first; each is empty unless a file arrived
            with contextlib.suppress(OSError):
                p.rmdir()
        raise FileNotFoundError(_where(folder, names, data_dir, str(error))) from None


def _fetch_from_a_mirror(name, target):
    failures = []
    for mirror in MIRRORS:
        try:
            return _fetch(mirror + name, target)
        except BadFile as error:
            failures.append(f"{mirror}: the file it sent {error.problem}")
        except OSError as error:  # URLError, HTTPError and timeouts are OSErrors
            failures.append(f"{mirror}: {getattr(error, 'reason', error)}")
    raise OSError(f"downloading {name} failed:\n  " + "\n  ".join(failures))


def _fetch(url, target):
    """Download url to target, verified before it takes the real name. A compressed file is
    never larger than its contents plus a little, so more than that is refused."""
    limit = PAYLOAD_BYTES[target.name] + (1 << 20)

    def check(temporary):
        _payload(temporary, target.name)

    with atomic_write(target, check=check) as out, urllib.request.urlopen(url, timeout=30) as r:
        total = int(r.headers.get("Content-Length") or 0) or None
        with progress_bar(total=total, desc=target.name, unit="B") as bar:
            received = 0
            while chunk := r.read(1 << 16):
                received += len(chunk)
                if received > limit:
                    raise BadFile(url, f"is over {limit} bytes, too large for {target.name}")
                out.write(chunk)
                bar.update(len(chunk))


def _where(folder, names, data_dir, problem):
    source = (
        "data_dir"
        if data_dir is not None
        else "from $TINYGRAD_KO_DATA"
        if os.environ.get("TINYGRAD_KO_DATA")
        else "the default cache"
    )
    return (
        f"load_mnist: {folder} ({source}) did not hold {', '.join(names)}; {problem}\n"
        "Put the four MNIST files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in a folder and pass that folder "
        "(or the one holding it as mnist/) as load_mnist(data_dir=FOLDER) or --data-dir FOLDER, "
        "or set TINYGRAD_KO_DATA to it."
    )
