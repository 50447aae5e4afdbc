"""책 ❷ 6장의 rnnlm.py와 better_rnnlm.py: LSTM 언어 모델과, LSTM 두 층에 드롭아웃과 가중치 묶기를
더한 개선판."""

from __future__ import annotations

import numpy as np

from tinygrad_ko.book2.ch05 import LanguageModel
from tinygrad_ko.book2.layers import collect
from tinygrad_ko.book2.time_layers import (
    TimeAffine,
    TimeDropout,
    TimeEmbedding,
    TimeLSTM,
    TimeSoftmaxWithLoss,
)

__all__ = ["BetterRnnlm", "Rnnlm"]


def _xavier(rows, columns):
    return (np.random.randn(rows, columns) / np.sqrt(rows)).astype("f")


class Rnnlm(LanguageModel):
    """TimeEmbedding → TimeLSTM(stateful) → TimeAffine → TimeSoftmaxWithLoss(6.4). 책이
    제공하는 Rnnlm.pkl을 load_params로 읽을 수 있습니다."""

    def __init__(self, vocab_size=10000, wordvec_size=100, hidden_size=100):
        V, D, H = vocab_size, wordvec_size, hidden_size
        embed_W = (np.random.randn(V, D) / 100).astype("f")
        lstm_Wx, lstm_Wh = _xavier(D, 4 * H), _xavier(H, 4 * H)
        lstm_b = np.zeros(4 * H).astype("f")
        affine_W, affine_b = _xavier(H, V), np.zeros(V).astype("f")
        self.layers = [
            TimeEmbedding(embed_W),
            TimeLSTM(lstm_Wx, lstm_Wh, lstm_b, stateful=True),
            TimeAffine(affine_W, affine_b),
        ]
        self.loss_layer = TimeSoftmaxWithLoss()
        self.lstm_layers = [self.layers[1]]
        self.lstm_layer = self.layers[1]
        collect(self, self.layers)


class BetterRnnlm(LanguageModel):
    """LSTM 두 층, 층마다 드롭아웃, 임베딩과 출력 Affine의 가중치 묶기(6.5): 출력 Affine의 W는
    임베딩 W를 전치한 뷰이므로 같은 배열입니다(remove_duplicate가 기울기를 더해 한 번 갱신)."""

    def __init__(self, vocab_size=10000, wordvec_size=650, hidden_size=650, dropout_ratio=0.5):
        V, D, H = vocab_size, wordvec_size, hidden_size
        embed_W = (np.random.randn(V, D) / 100).astype("f")
        lstm_Wx1, lstm_Wh1 = _xavier(D, 4 * H), _xavier(H, 4 * H)
        lstm_b1 = np.zeros(4 * H).astype("f")
        lstm_Wx2, lstm_Wh2 = _xavier(H, 4 * H), _xavier(H, 4 * H)
        lstm_b2 = np.zeros(4 * H).astype("f")
        affine_b = np.zeros(V).astype("f")
        self.layers = [
            TimeEmbedding(embed_W),
            TimeDropout(dropout_ratio),
            TimeLSTM(lstm_Wx1, lstm_Wh1, lstm_b1, stateful=True),
            TimeDropout(dropout_ratio),
            TimeLSTM(lstm_Wx2, lstm_Wh2, lstm_b2, stateful=True),
            TimeDropout(dropout_ratio),
            TimeAffine(embed_W.T, affine_b),  # 가중치 묶기
        ]
        self.loss_layer = TimeSoftmaxWithLoss()
        self.lstm_layers = [self.layers[2], self.layers[4]]
        self.drop_layers = [self.layers[1], self.layers[3], self.layers[5]]
        collect(self, self.layers)

    def predict(self, xs, train_flg=False):
        for layer in self.drop_layers:
            layer.train_flg = train_flg
        return super().predict(xs)

    def forward(self, xs, ts, train_flg=True):
        return self.loss_layer.forward(self.predict(xs, train_flg), ts)
