"""The first layer's filters of SimpleConvNet before and after training (7.6.1), the book's
ch07/visualize_filter.py figure.

    python examples/visualize_filters.py [--weights FILE] [--iters 1000] [--out filters.png]

With --weights (a SimpleConvNet saved by `tinygrad-ko train --model convnet --save FILE.npz`,
or the book's ch07/params.pkl, read safely) it draws those; otherwise it trains --iters
mini-batches first (the book's schedule is 12000, about two minutes). Random filters are noise;
learned ones are edge and blob detectors. Needs matplotlib (the `plot` extra).
"""

import argparse
import time
from pathlib import Path

from tinygrad_ko.data import load_mnist
from tinygrad_ko.display import plot_filters
from tinygrad_ko.networks import SimpleConvNet
from tinygrad_ko.training import fit

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--weights", metavar="FILE", help="a saved SimpleConvNet (.npz or .pkl)")
parser.add_argument("--iters", type=int, default=1000, help="training without --weights")
parser.add_argument("--out", default="filters.png", metavar="FILE.png")
args = parser.parse_args()

network = SimpleConvNet(seed=0)
initial = network.params["W1"].copy()
if args.weights:
    if Path(args.weights).suffix == ".pkl":
        network.load_params(args.weights)  # the book's pickle, through the safe unpickler
    else:
        network = SimpleConvNet.load(args.weights)
    learned = f"weights of {Path(args.weights).name}"
else:
    train, test = load_mnist(flatten=False)
    start = time.perf_counter()
    fit(network, train, test, iters=args.iters, optimizer="adam", lr=0.001, evaluate_sample=1000)
    seconds = time.perf_counter() - start
    learned = f"after {args.iters} mini-batches"
    print(f"trained {args.iters} mini-batches in {seconds:.0f} s; test accuracy "
          f"{network.accuracy(*test):.2%}")  # fmt: skip

W = network.params["W1"]
plot_filters({"random (before training)": initial, f"learned ({learned})": W}, args.out)
print(f"{len(W)} filters of {W.shape[2]}x{W.shape[3]}: saved {args.out}")
