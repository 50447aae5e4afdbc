"""Numerical gradient against backprop (4.5 against 5.7), and the gradient checks, measured.

    python benchmarks/numeric_vs_backprop.py [--json FILE] [--plot FILE.png] [--smoke]

1. The sweep: TwoLayerNet(784, hidden, 10) in float64 for hidden sizes 1 to 100 (805 to 79,510
   parameters) and batches of 1, 10 and 100: the full numerical gradient's seconds, backprop's
   milliseconds, their ratio, the largest relative difference, and how each cost grows with the
   parameter count (log-log slope). `tinygrad-ko bench` runs a shorter sweep.
2. TwoLayerNet(784, 50, 10) on one batch of 100:
   - backprop (net.gradient, float32 as it trains) against a hand-fused NumPy gradient;
   - the full numerical gradient (float64, h = 1e-4) against the bare forward passes it needs;
   - the sampled check (check_gradients with k elements per parameter);
   - gradcheck(fast_mode=True) of the whole network, and that it catches a wrong rule.
--smoke runs every part with tiny settings, to show the script works. Data: MNIST from
$TINYGRAD_KO_DATA/mnist, else the cache.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import fused

from tinygrad_ko import check_gradients, gradcheck
from tinygrad_ko.bench import (
    FULL,
    as_json,
    machine,
    markdown,
    median_seconds,
    plot_costs,
    slopes,
    sweep,
)
from tinygrad_ko.datasets import load_mnist
from tinygrad_ko.layers import Affine, ReLU, SoftmaxWithLoss
from tinygrad_ko.models import TwoLayerNet

SMOKE = {"hidden_sizes": (1, 2), "batch_sizes": (5,)}


def alternating_medians(runs, blocks=10, number=100):
    """Median seconds per call of each function, timed in alternating blocks."""
    times = {name: [] for name in runs}
    for block in range(blocks):
        order = list(runs.items())
        for name, run in order if block % 2 == 0 else order[::-1]:
            times[name].append(median_seconds(run, repeat=1, number=number))
    return {name: float(np.median(t)) for name, t in times.items()}


class ReLUWrongMask(ReLU):
    """A ReLU whose backward lets the gradient through where x <= 0: a wrong rule to catch."""

    def backward(self, dout):
        return np.where(self.mask, dout, 0)


def headline(x, t, hidden, smoke):
    """The figures for one network and batch; each line printed as it is measured."""
    figures = {}
    net = TwoLayerNet(784, hidden, 10, activation="relu", seed=0)
    p = fused.init(0, sizes=(784, hidden, 10))
    speed = alternating_medians(
        {"backprop": lambda: net.gradient(x, t), "floor": lambda: fused.gradient(p, x, t)},
        blocks=2 if smoke else 20,
    )
    figures["gradient_ms"] = speed["backprop"] * 1e3
    figures["fused_gradient_ms"] = speed["floor"] * 1e3
    figures["gradient_ratio"] = speed["backprop"] / speed["floor"]
    print(
        f"net.gradient: {figures['gradient_ms']:.3f} ms, hand-fused NumPy "
        f"{figures['fused_gradient_ms']:.3f} ms: {figures['gradient_ratio']:.2f} times "
        "(medians of alternating blocks)"
    )

    params, _ = net.float64_loss(x, t)
    count = sum(v.size for v in params.values())
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    x64, rows = x.astype(np.float64), np.arange(len(x))

    def bare_forward():  # the same float64 loss, written out by hand: the cost floor
        s = np.maximum(x64 @ W1 + b1, 0) @ W2 + b2
        s -= s.max(axis=1, keepdims=True)
        return (np.log(np.exp(s).sum(axis=1)).sum() - s[rows, t].sum()) / len(x)

    start = time.perf_counter()
    numerical = net.numerical_gradient(x, t)
    figures["numerical_seconds"] = time.perf_counter() - start
    figures["bare_forwards_seconds"] = 2 * count * median_seconds(bare_forward, number=200)
    print(
        f"full numerical gradient of {count:,} parameters: {figures['numerical_seconds']:.1f} s; "
        f"its {2 * count:,} float64 forward passes alone, written by hand: "
        f"{figures['bare_forwards_seconds']:.1f} s (timed on 5 x 200, scaled); no graph is "
        "recorded: the perturbed passes run the layers the book's way, on arrays"
    )
    backprop = net.gradient(x, t)
    scale = max(np.abs(g).max() for g in numerical.values())
    figures["relative_error"] = float(
        max(np.abs(backprop[k] - numerical[k]).max() for k in numerical) / scale
    )
    print(
        f"largest difference, backprop (float32) against it: {figures['relative_error']:.1e} "
        "of the largest gradient"
    )

    for k in (10, 100):
        start = time.perf_counter()
        report = check_gradients(net, x, t, sample=k, seed=0)
        seconds = time.perf_counter() - start
        worst = max(d.max_abs for d in report.values())
        figures[f"sampled_{k}_ms"] = seconds * 1e3
        print(
            f"check_gradients with {k} elements per parameter: {seconds * 1e3:.0f} ms, "
            f"largest difference {worst:.1e}"
        )

    def network(relu):
        return lambda W1, b1, W2, b2: SoftmaxWithLoss()(
            Affine(W2, b2)(relu()(Affine(W1, b1)(x))), t
        )

    tensors = list(net.parameters())
    figures["gradcheck_fast_ms"] = 1e3 * median_seconds(
        lambda: gradcheck(network(ReLU), tensors, fast_mode=True), repeat=3 if smoke else 7
    )
    correct = gradcheck(network(ReLU), tensors, fast_mode=True, raise_exception=False)
    caught = not gradcheck(network(ReLUWrongMask), tensors, fast_mode=True, raise_exception=False)
    figures["gradcheck_fast_passes_correct"], figures["gradcheck_fast_catches_wrong"] = (
        correct,
        caught,
    )
    print(
        f"gradcheck(fast_mode=True) of the whole network: {figures['gradcheck_fast_ms']:.1f} ms "
        f"(median of {3 if smoke else 7}); passes the correct rules: {correct}; catches a ReLU "
        f"with its mask inverted: {caught}"
    )
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--plot", metavar="FILE.png")
    parser.add_argument("--smoke", action="store_true", help="tiny settings: does it run?")
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    (x, t), _ = load_mnist()
    points = sweep(x, t, **(SMOKE if args.smoke else FULL))
    print(f"\n{markdown(points)}\n")
    for batch, (numerical, backprop) in slopes(points).items():
        print(
            f"batch {batch}: numerical cost grows as parameters^{numerical:.2f}, "
            f"backprop as parameters^{backprop:.2f}"
        )
    print()
    figures = headline(x[:100], t[:100], hidden=2 if args.smoke else 50, smoke=args.smoke)
    if args.json:
        Path(args.json).write_text(json.dumps(as_json(points) | {"headline": figures}, indent=1))
        print(f"\nwrote {args.json}")
    if args.plot:
        plot_costs(points, args.plot)
        print(f"saved the plot to {args.plot}")


if __name__ == "__main__":
    main()
