"""책 ❷ 5장의 simple_rnnlm.py: Time RNN 계층으로 만든 언어 모델."""

from __future__ import annotations

import numpy as np

from tinygrad_ko.book2.base_model import BaseModel
from tinygrad_ko.book2.layers import collect
from tinygrad_ko.book2.time_layers import TimeAffine, TimeEmbedding, TimeRNN, TimeSoftmaxWithLoss

__all__ = ["LanguageModel", "SimpleRnnlm"]


class LanguageModel(BaseModel):
    """What the language models of chapters 5-7 share: layers, then the loss layer; predict,
    forward and backward through them, and reset_state of every layer that keeps a state."""

    def predict(self, xs):
        for layer in self.layers:
            xs = layer.forward(xs)
        return xs

    def forward(self, xs, ts):
        return self.loss_layer.forward(self.predict(xs), ts)

    def backward(self, dout=1):
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def reset_state(self):
        for layer in self.layers:
            if hasattr(layer, "reset_state"):
                layer.reset_state()


class SimpleRnnlm(LanguageModel):
    """TimeEmbedding → TimeRNN(stateful) → TimeAffine → TimeSoftmaxWithLoss(5.5.1). 가중치는
    책처럼 np.random에서 뽑습니다(임베딩은 N(0, 1)/100, 나머지는 Xavier 초깃값)."""

    def __init__(self, vocab_size, wordvec_size, hidden_size):
        V, D, H = vocab_size, wordvec_size, hidden_size
        rn = np.random.randn
        embed_W = (rn(V, D) / 100).astype("f")
        rnn_Wx = (rn(D, H) / np.sqrt(D)).astype("f")
        rnn_Wh = (rn(H, H) / np.sqrt(H)).astype("f")
        rnn_b = np.zeros(H).astype("f")
        affine_W = (rn(H, V) / np.sqrt(H)).astype("f")
        affine_b = np.zeros(V).astype("f")
        self.layers = [
            TimeEmbedding(embed_W),
            TimeRNN(rnn_Wx, rnn_Wh, rnn_b, stateful=True),
            TimeAffine(affine_W, affine_b),
        ]
        self.loss_layer = TimeSoftmaxWithLoss()
        self.rnn_layer = self.layers[1]
        collect(self, self.layers)
