"""책 ❷ 1장의 two_layer_net.py: 스파이럴 데이터를 분류하는 2층 신경망."""

from __future__ import annotations

import itertools

import numpy as np

from tinygrad_ko.book2.layers import Affine, Sigmoid, SoftmaxWithLoss, collect

__all__ = ["TwoLayerNet"]


class TwoLayerNet:
    """Affine → Sigmoid → Affine → SoftmaxWithLoss(1.4.3). 가중치는 책처럼 np.random에서
    0.01·N(0, 1)로 뽑고(float64), 편향은 0입니다."""

    def __init__(self, input_size, hidden_size, output_size):
        sizes = (input_size, hidden_size, output_size)
        W1, W2 = (0.01 * np.random.randn(m, n) for m, n in itertools.pairwise(sizes))
        b1, b2 = np.zeros(hidden_size), np.zeros(output_size)
        self.layers = [Affine(W1, b1), Sigmoid(), Affine(W2, b2)]
        self.loss_layer = SoftmaxWithLoss()
        collect(self, self.layers)

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def forward(self, x, t):
        return self.loss_layer.forward(self.predict(x), t)

    def backward(self, dout=1):
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout
