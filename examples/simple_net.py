"""The book's simpleNet (4.4.2): one 2x3 weight matrix, softmax and cross-entropy, and the
gradient of the loss by numerical differentiation, then by backprop for comparison.

    python examples/simple_net.py
"""

import numpy as np

from tinygrad_ko import Tensor, numerical_gradient
from tinygrad_ko.engine.functions import cross_entropy_error, softmax
from tinygrad_ko.layers import SoftmaxWithLoss


class SimpleNet:
    def __init__(self, seed=0):
        self.W = np.random.default_rng(seed).standard_normal((2, 3))  # Gaussian weights

    def predict(self, x):
        return x @ self.W

    def loss(self, x, t):
        return cross_entropy_error(softmax(self.predict(x)), t)


net = SimpleNet()
x = np.array([0.6, 0.9])
t = np.array([0, 0, 1])  # the answer is class 2
print("W =\n", net.W)
print("scores:", net.predict(x), "-> predicted class", np.argmax(net.predict(x)))
print("loss:", net.loss(x, t))


def f(W):  # the book's idiom: f ignores W and reads net.W, which numerical_gradient moves
    return net.loss(x, t)


dW = numerical_gradient(f, net.W)
print("dW by numerical differentiation =\n", dW)

W = Tensor(net.W, requires_grad=True)
SoftmaxWithLoss()(Tensor(x) @ W, t).backward()
print("dW by backprop =\n", W.grad)
difference = np.abs(dW - W.grad).max()
print(f"largest difference: {difference:.1e} (h = 1e-4, and the book's delta in the loss)")
