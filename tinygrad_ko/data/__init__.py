"""Data and files: MNIST found, downloaded, verified and read (chapter 3); files written whole or
not at all, and the books' pickles read safely.

- datasets: load_mnist, mnist_dir, shuffle_dataset, BadFile
- files: atomic_write, load_pickled_weights, read_arrays
"""

from tinygrad_ko.data.datasets import BadFile, load_mnist, mnist_dir, shuffle_dataset
from tinygrad_ko.data.files import atomic_write, load_pickled_weights, read_arrays

__all__ = [
    "BadFile",
    "atomic_write",
    "load_mnist",
    "load_pickled_weights",
    "mnist_dir",
    "read_arrays",
    "shuffle_dataset",
]
