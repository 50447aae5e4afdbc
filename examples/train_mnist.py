"""The chapter-4 network retrained on MNIST with backprop, with both activations (4.5, 5.7.4).

    python examples/train_mnist.py [--iters 10000] [--plot curves.png]

Chapter 4 trains TwoLayerNet with sigmoid and numerical gradients, which the notes found took
a minute per step; with backprop the book's whole schedule (10000 mini-batches of 100) takes
seconds. Chapter 5 swaps sigmoid for ReLU.
"""

import argparse
import time
from pathlib import Path

from tinygrad_ko.data import load_mnist
from tinygrad_ko.networks import TwoLayerNet
from tinygrad_ko.training import fit

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--iters", type=int, default=10000)
parser.add_argument("--plot", metavar="FILE.png", help="curves of both runs (needs matplotlib)")
args = parser.parse_args()

(x_train, t_train), (x_test, t_test) = load_mnist()  # normalized, flattened, integer labels
print(f"MNIST: {len(x_train)} training and {len(x_test)} test images of {x_train.shape[1]} pixels")

histories = {}
for activation in ("sigmoid", "relu"):
    network = TwoLayerNet(
        input_size=784, hidden_size=50, output_size=10, activation=activation, seed=0
    )
    start = time.perf_counter()
    history = fit(network, (x_train, t_train), (x_test, t_test), iters=args.iters)
    seconds = time.perf_counter() - start
    histories[activation] = history
    epochs = ", ".join(f"{acc:.3f}" for acc in history.test_acc)
    print(f"\n{activation}: test accuracy per epoch {epochs}")
    final = history.test_acc[-1]
    print(
        f"{activation}: {args.iters} iterations in {seconds:.1f} s, final test accuracy {final:.2%}"
    )

if args.plot:
    from tinygrad_ko.display import plot_history

    for activation, history in histories.items():
        path = Path(args.plot).with_name(f"{Path(args.plot).stem}-{activation}.png")
        plot_history(history, path, title=f"TwoLayerNet 784-50-10 ({activation})")
        print(f"saved {path}")
