"""책 ❷ 4장의 cbow.py, skip_gram.py, negative_sampling_layer.py: Embedding 계층과 네거티브
샘플링으로 빠르게 만든 word2vec."""

from __future__ import annotations

from tinygrad_ko.book2.layers import (
    Embedding,
    EmbeddingDot,
    NegativeSamplingLoss,
    SigmoidWithLoss,
    UnigramSampler,
    collect,
    small_weights,
)

__all__ = ["CBOW", "EmbeddingDot", "NegativeSamplingLoss", "SkipGram", "UnigramSampler"]
__all__ += ["Embedding", "SigmoidWithLoss"]  # negative_sampling_layer.py가 가져오는 이름


class CBOW:
    """CBOW(4.3.1): 맥락 2·window_size 단어의 Embedding 평균 h로 가운데 단어를 네거티브
    샘플링 손실로 맞힙니다."""

    def __init__(self, vocab_size, hidden_size, window_size, corpus):
        W_in = small_weights(vocab_size, hidden_size)
        W_out = small_weights(vocab_size, hidden_size)
        self.in_layers = [Embedding(W_in) for _ in range(2 * window_size)]
        self.ns_loss = NegativeSamplingLoss(W_out, corpus, power=0.75, sample_size=5)
        collect(self, [*self.in_layers, self.ns_loss])
        self.word_vecs = W_in

    def forward(self, contexts, target):
        h = 0
        for i, layer in enumerate(self.in_layers):
            h += layer.forward(contexts[:, i])
        h *= 1 / len(self.in_layers)
        return self.ns_loss.forward(h, target)

    def backward(self, dout=1):
        dout = self.ns_loss.backward(dout)
        dout *= 1 / len(self.in_layers)
        for layer in self.in_layers:
            layer.backward(dout)


class SkipGram:
    """skip-gram(4.3.1 끝): 가운데 단어의 Embedding h로 맥락의 단어마다 네거티브 샘플링 손실을
    구해 더합니다."""

    def __init__(self, vocab_size, hidden_size, window_size, corpus):
        W_in = small_weights(vocab_size, hidden_size)
        W_out = small_weights(vocab_size, hidden_size)
        self.in_layer = Embedding(W_in)
        self.loss_layers = [
            NegativeSamplingLoss(W_out, corpus, power=0.75, sample_size=5)
            for _ in range(2 * window_size)
        ]
        collect(self, [self.in_layer, *self.loss_layers])
        self.word_vecs = W_in

    def forward(self, contexts, target):
        h = self.in_layer.forward(target)
        loss = 0
        for i, layer in enumerate(self.loss_layers):
            loss += layer.forward(h, contexts[:, i])
        return loss

    def backward(self, dout=1):
        dh = 0
        for layer in self.loss_layers:
            dh += layer.backward(dout)
        self.in_layer.backward(dh)
