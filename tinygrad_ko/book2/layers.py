"""책 ❷의 common/layers.py와 4장의 계층을 tinygrad_ko의 계층으로 제공합니다.

계층마다 책과 같은 인터페이스를 갖습니다. params는 가중치 배열의 리스트(계층이 계산에 쓰는 바로 그
배열이므로, 옵티마이저가 제자리에서 갱신하면 계층의 가중치가 바뀝니다)이고, grads는 같은 모양의
기울기 배열의 리스트로, backward가 제자리에 덮어씁니다. 계산은 tinygrad_ko의 계층이 하므로 같은
계층을 텐서에 호출하면 계산 그래프의 노드가 되고, gradcheck와 check_gradients로 검사할 수
있습니다.
"""

from __future__ import annotations

import numpy as np

from tinygrad_ko import layers
from tinygrad_ko.engine import ops
from tinygrad_ko.layers import embedding, normalization

__all__ = [
    "Affine",
    "Dropout",
    "Embedding",
    "EmbeddingDot",
    "MatMul",
    "NegativeSamplingLoss",
    "Sigmoid",
    "SigmoidWithLoss",
    "Softmax",
    "SoftmaxWithLoss",
    "UnigramSampler",
]

DELTA = 1e-7  # 책 ❷의 cross_entropy_error가 log(y + 1e-7)에 더하는 값


def small_weights(*shape):
    """The book's initial weights: 0.01·N(0, 1) from np.random, as float32 ('f')."""
    return 0.01 * np.random.randn(*shape).astype("f")


def collect(model, layers):
    """model.params and model.grads: the layers' lists joined, as the book's models make them."""
    model.params = [p for layer in layers for p in layer.params]
    model.grads = [g for layer in layers for g in layer.grads]


class ListParams:
    """책 ❷의 params, grads 리스트: param_names의 가중치 배열 그대로, 그리고 같은 모양의 0 배열."""

    def book2_lists(self):
        self.params = [getattr(self, name) for name in self.param_names]
        self.grads = [np.zeros_like(p) for p in self.params]


class MatMul(ListParams, layers.MatMul):
    """MatMul 계층(1.3.4)입니다. out = x·W."""

    def __init__(self, W):
        super().__init__(W)
        self.book2_lists()


class Affine(ListParams, layers.Affine):
    """Affine 계층(1.3.4)입니다. out = x·W + b."""

    def __init__(self, W, b):
        super().__init__(W, b)
        self.book2_lists()


class Embedding(ListParams, embedding.Embedding):
    """Embedding 계층(4.1.2)입니다. W에서 단어 ID의 행을 뽑습니다."""

    def __init__(self, W):
        super().__init__(W)
        self.book2_lists()


class EmbeddingDot(ListParams, embedding.EmbeddingDot):
    """Embedding Dot 계층(4.2.4)입니다. 은닉층 뉴런 h와 단어 ID의 W 행의 내적을 구합니다."""

    def __init__(self, W):
        super().__init__(W)
        self.book2_lists()


class Sigmoid(ListParams, layers.Sigmoid):
    """Sigmoid 계층(1.3.5)입니다."""

    def __init__(self):
        self.book2_lists()


class Softmax(ListParams, ops.Softmax):
    """Softmax 계층(책 ❷의 8장에서 씁니다). 마지막 축으로 softmax를 구합니다."""

    def __init__(self):
        super().__init__(axis=-1)
        self.book2_lists()


class SoftmaxWithLoss(ListParams, layers.SoftmaxWithLoss):
    """Softmax-with-Loss 계층(1.3.5.3)입니다. 손실은 책처럼 log(y + 1e-7)로 구하고, 원-핫
    정답은 책처럼 정답 레이블로 바꿔 씁니다. 역전파는 (y - t)·dout / 배치 크기입니다."""

    def __init__(self):
        super().__init__(delta=DELTA)
        self.book2_lists()

    def forward(self, x, t):
        t = np.asarray(t)
        if t.shape == np.shape(x):  # 원-핫 벡터: 정답 레이블로 (책처럼)
            t = t.argmax(axis=-1)
        return super().forward(x, t)


class SigmoidWithLoss(ListParams, layers.SigmoidWithLoss):
    """Sigmoid-with-Loss 계층(4.2.3)입니다. 손실은 책처럼 log(p + 1e-7)로 구합니다."""

    def __init__(self):
        super().__init__(delta=DELTA)
        self.book2_lists()


class Dropout(ListParams, normalization.Dropout):
    """Dropout 계층입니다. 책처럼 forward의 train_flg 기본값이 True이고, 마스크는
    np.random에서 뽑습니다."""

    def __init__(self, dropout_ratio=0.5):
        super().__init__(dropout_ratio)
        self.book2_lists()

    def forward(self, x, train_flg=True):
        return super().forward(x, train_flg)


class UnigramSampler(embedding.UnigramSampler):
    """네거티브 샘플링에서 부정적 예를 뽑는 샘플러(4.2.6)입니다."""


class NegativeSamplingLoss(embedding.NegativeSamplingLoss):
    """네거티브 샘플링 손실(4.2.7)입니다. 정답 단어 하나와 부정적 예 sample_size개의
    EmbeddingDot과 SigmoidWithLoss로 이루어지고, params와 grads는 책처럼 그 EmbeddingDot
    계층들의 것을 이어 붙인 리스트입니다(같은 W가 sample_size + 1번 들어 있습니다)."""

    dot_layer, sampler_class = EmbeddingDot, UnigramSampler

    def __init__(self, W, corpus, power=0.75, sample_size=5):
        super().__init__(W, corpus, power, sample_size, delta=DELTA)
        self.params, self.grads = [], []
        for layer in self.embed_dot_layers:
            self.params += layer.params
            self.grads += layer.grads
