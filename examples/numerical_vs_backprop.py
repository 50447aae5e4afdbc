"""The same small network trained twice on a subset of MNIST: once with numerical gradients
(chapter 4), once with backprop (chapter 5). Both take the same steps; only the cost differs.

    python examples/numerical_vs_backprop.py [--iters 20]
"""

import argparse
import time

import numpy as np

from tinygrad_ko.data import load_mnist
from tinygrad_ko.networks import TwoLayerNet
from tinygrad_ko.training import fit

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--iters", type=int, default=20)
args = parser.parse_args()

(x_train, t_train), (x_test, t_test) = load_mnist()
train, test = (x_train[:1000], t_train[:1000]), (x_test[:1000], t_test[:1000])


def network():
    return TwoLayerNet(784, 10, 10, weight_init_std=0.1, dtype=np.float64, seed=0)


def seconds(gradient, x, t, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        gradient(x, t)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


net, (x, t) = network(), (train[0][:10], train[1][:10])  # one mini-batch of 10
numerical, backprop = seconds(net.numerical_gradient, x, t, 3), seconds(net.gradient, x, t, 50)
params = sum(p.size for p in net.params.values())
print(f"one gradient of {params} parameters on a batch of 10:")
print(f"  numerical {numerical * 1e3:8.1f} ms   (2 x {params} evaluations of the loss)")
print(f"  backprop  {backprop * 1e3:8.3f} ms   ({numerical / backprop:.0f} times faster)")

nets = {way: network() for way in ("numerical", "backprop")}
for way, net in nets.items():
    history = fit(net, train, test, iters=args.iters, batch_size=10, numerical=way == "numerical")
    print(f"{way:9s}: {args.iters} steps, test accuracy {history.test_acc[-1]:.3f}")
difference = max(
    np.abs(nets["numerical"].params[k] - nets["backprop"].params[k]).max() for k in net.params
)
print(f"the two trained networks differ by at most {difference:.1e}")
