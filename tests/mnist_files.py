"""Small MNIST-format files for tests that need only a little data."""

import gzip
import hashlib

import numpy as np

from tinygrad_ko import datasets


def idx_bytes(array, magic):
    """An IDX payload: magic number, the sizes, then the unsigned bytes."""
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def small_mnist(rng, train=20, test=10):
    """{file name: IDX payload} for a tiny MNIST of random 28x28 images and labels."""
    images = {
        n: rng.integers(0, 256, (count, 28, 28)) for n, count in (("train", train), ("t10k", test))
    }
    labels = {n: rng.integers(0, 10, len(x)) for n, x in images.items()}
    files = {}
    for split in ("train", "t10k"):
        files[f"{split}-images-idx3-ubyte.gz"] = idx_bytes(images[split], datasets.IMAGES_MAGIC)
        files[f"{split}-labels-idx1-ubyte.gz"] = idx_bytes(labels[split], datasets.LABELS_MAGIC)
    return files, images, labels


def expect(files, monkeypatch):
    """Make the loader expect these payloads: their sizes and checksums instead of MNIST's."""
    for name, payload in files.items():
        monkeypatch.setitem(datasets.SHA256, name, hashlib.sha256(payload).hexdigest())
        monkeypatch.setitem(datasets.PAYLOAD_BYTES, name, len(payload))


def write(folder, files, monkeypatch):
    """Write the payloads gzipped into folder, and make the loader expect them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, payload in files.items():
        (folder / name).write_bytes(gzip.compress(payload))
    expect(files, monkeypatch)
