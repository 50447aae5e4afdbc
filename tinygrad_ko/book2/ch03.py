"""책 ❷ 3장의 simple_cbow.py와 simple_skip_gram.py: 원-핫 벡터와 MatMul 계층으로 만든
word2vec(CBOW, skip-gram)."""

from __future__ import annotations

from tinygrad_ko.book2.layers import MatMul, SoftmaxWithLoss, collect, small_weights

__all__ = ["SimpleCBOW", "SimpleSkipGram"]


class SimpleCBOW:
    """CBOW(3.2.1): 맥락 두 단어의 원-핫 벡터를 W_in으로 곱해 평균한 h로 가운데 단어를
    맞힙니다(SoftmaxWithLoss). 입력 측 MatMul 두 개가 W_in을 공유합니다."""

    def __init__(self, vocab_size, hidden_size):
        W_in = small_weights(vocab_size, hidden_size)
        W_out = small_weights(hidden_size, vocab_size)
        self.in_layer0, self.in_layer1 = MatMul(W_in), MatMul(W_in)
        self.out_layer = MatMul(W_out)
        self.loss_layer = SoftmaxWithLoss()
        collect(self, [self.in_layer0, self.in_layer1, self.out_layer])
        self.word_vecs = W_in

    def forward(self, contexts, target):
        h0 = self.in_layer0.forward(contexts[:, 0])
        h1 = self.in_layer1.forward(contexts[:, 1])
        score = self.out_layer.forward((h0 + h1) * 0.5)
        return self.loss_layer.forward(score, target)

    def backward(self, dout=1):
        da = self.out_layer.backward(self.loss_layer.backward(dout))
        da *= 0.5
        self.in_layer1.backward(da)
        self.in_layer0.backward(da)


class SimpleSkipGram:
    """skip-gram(3.5.2): 가운데 단어 하나로 맥락의 두 단어를 맞힙니다. 손실은 두 단어의
    SoftmaxWithLoss의 합입니다."""

    def __init__(self, vocab_size, hidden_size):
        W_in = small_weights(vocab_size, hidden_size)
        W_out = small_weights(hidden_size, vocab_size)
        self.in_layer, self.out_layer = MatMul(W_in), MatMul(W_out)
        self.loss_layer1, self.loss_layer2 = SoftmaxWithLoss(), SoftmaxWithLoss()
        collect(self, [self.in_layer, self.out_layer])
        self.word_vecs = W_in

    def forward(self, contexts, target):
        s = self.out_layer.forward(self.in_layer.forward(target))
        return self.loss_layer1.forward(s, contexts[:, 0]) + self.loss_layer2.forward(
            s, contexts[:, 1]
        )

    def backward(self, dout=1):
        ds = self.loss_layer1.backward(dout) + self.loss_layer2.backward(dout)
        self.in_layer.backward(self.out_layer.backward(ds))
