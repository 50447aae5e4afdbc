"""The book's own SimpleConvNet and DeepConvNet on the weights it ships (ch07/params.pkl,
ch08/deep_convnet_params.pkl), read with tinygrad_ko's safe loader, not pickle.load: the test
accuracies tests/test_convnets.py expects of ours on the same weights.

    python benchmarks/book_weights.py     (about 20 s on a 2-core machine)
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from book import BOOK, book_module

from tinygrad_ko.book import load_mnist
from tinygrad_ko.files import load_pickled_weights

NETWORKS = {  # the book's class, its weights, and where its load_params puts each W and b
    "SimpleConvNet": ("ch07/simple_convnet.py", "ch07/params.pkl", ("Conv1", "Affine1", "Affine2")),
    "DeepConvNet": ("ch08/deep_convnet.py", "ch08/deep_convnet_params.pkl",
                    (0, 2, 5, 7, 10, 12, 15, 18)),
}  # fmt: skip


def main():
    _, (x, t) = load_mnist(flatten=False)
    for name, (module, weights, layers) in NETWORKS.items():
        net = getattr(book_module(module), name)()
        net.params.update(load_pickled_weights(BOOK / weights))
        for i, layer in enumerate(layers, 1):  # what the book's load_params does after loading
            net.layers[layer].W, net.layers[layer].b = net.params[f"W{i}"], net.params[f"b{i}"]
        start = time.perf_counter()
        accuracy = net.accuracy(x, t)
        print(
            f"{name} on {weights}: test accuracy {accuracy} ({time.perf_counter() - start:.0f} s)"
        )


if __name__ == "__main__":
    main()
