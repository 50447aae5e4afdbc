"""Backprop checked against numerical differentiation, on a small two-layer network (book 5.7.3).

    python examples/check_backprop.py

Builds Affine → ReLU → Affine → SoftmaxWithLoss as a graph, takes the gradient of every
parameter both ways, prints how far apart they are and how long each took, then shows the
gradient checker catching a backward rule with a deliberate bug.
"""

import time

import numpy as np

from tinygrad_ko import GradcheckError, Tensor, gradcheck, numerical_gradient
from tinygrad_ko.layers import Affine, ReLU, SoftmaxWithLoss

rng = np.random.default_rng(0)
x = rng.standard_normal((10, 20))  # 10 samples of 20 features
t = rng.integers(0, 3, size=10)  # their classes, 0..2
params = {
    "W1": Tensor(0.5 * rng.standard_normal((20, 8)), requires_grad=True),
    "b1": Tensor(np.zeros(8), requires_grad=True),
    "W2": Tensor(0.5 * rng.standard_normal((8, 3)), requires_grad=True),
    "b2": Tensor(np.zeros(3), requires_grad=True),
}


def loss_of(W1, b1, W2, b2, relu=ReLU):
    return SoftmaxWithLoss()(Affine(W2, b2)(relu()(Affine(W1, b1)(x))), t)


start = time.perf_counter()
loss = loss_of(**params)
loss.backward()
backprop_seconds = time.perf_counter() - start

start = time.perf_counter()
numerical = {name: numerical_gradient(lambda _: loss_of(**params), p) for name, p in params.items()}
numerical_seconds = time.perf_counter() - start

print(f"loss {loss.item():.6f}, {sum(p.size for p in params.values())} parameters\n")
print("| parameter | shape | max abs(backprop - numerical) |")
print("|---|---|---|")
for name, p in params.items():
    print(f"| {name} | {p.shape} | {np.abs(p.grad - numerical[name]).max():.2e} |")
print(
    f"\nbackprop {backprop_seconds * 1e3:.2f} ms, numerical {numerical_seconds * 1e3:.1f} ms "
    f"({numerical_seconds / backprop_seconds:.0f} times slower)\n"
)

inputs = list(params.values())
print("gradcheck, every Jacobian entry:", gradcheck(loss_of, inputs))
print("gradcheck, fast mode:           ", gradcheck(loss_of, inputs, fast_mode=True))


class ReLUWithInvertedMask(ReLU):
    """A ReLU whose backward lets the gradient through where x <= 0: a typical slip."""

    def backward(self, dout):
        return np.where(self.mask, dout, 0)


try:
    gradcheck(lambda *ps: loss_of(*ps, relu=ReLUWithInvertedMask), inputs)
except GradcheckError as error:
    print(f"\nA buggy ReLU backward is caught:\n{error}")
