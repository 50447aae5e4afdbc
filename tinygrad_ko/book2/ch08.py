"""책 ❷ 8장의 attention_layer.py와 attention_seq2seq.py: 어텐션 계층과 어텐션을 쓰는 seq2seq."""

from __future__ import annotations

import numpy as np

from tinygrad_ko.book2.ch07 import Encoder, Seq2seq, _weights
from tinygrad_ko.book2.layers import ListParams, collect
from tinygrad_ko.book2.time_layers import TimeAffine, TimeEmbedding, TimeLSTM, TimeSoftmaxWithLoss
from tinygrad_ko.layers import attention

__all__ = [
    "Attention",
    "AttentionDecoder",
    "AttentionEncoder",
    "AttentionSeq2seq",
    "AttentionWeight",
    "TimeAttention",
    "WeightSum",
]


class WeightSum(ListParams, attention.WeightSum):
    """Weight Sum 계층(8.1): 가중치 a로 은닉 상태들의 가중합을 구합니다."""

    def __init__(self):
        self.book2_lists()


class AttentionWeight(ListParams, attention.AttentionWeight):
    """Attention Weight 계층(8.1): 내적과 softmax로 각 은닉 상태의 가중치를 구합니다."""

    def __init__(self):
        self.book2_lists()


class Attention(ListParams, attention.Attention):
    """Attention 계층(8.1): Attention Weight와 Weight Sum을 이어 붙인 계층입니다."""

    def __init__(self):
        self.book2_lists()
        self.attention_weight = None


class TimeAttention(ListParams, attention.TimeAttention):
    """Time Attention 계층(8.2): 디코더의 시각마다 Attention 계층을 씁니다."""

    def __init__(self):
        self.book2_lists()
        self.attention_weights = None


class AttentionEncoder(Encoder):
    """어텐션용 인코더(8.2): 모든 시각의 은닉 상태 hs를 돌려줍니다."""

    def forward(self, xs):
        return self.lstm.forward(self.embed.forward(xs))

    def backward(self, dhs):
        return self.embed.backward(self.lstm.backward(dhs))


class AttentionDecoder:
    """어텐션용 디코더(8.2): LSTM의 출력과 Time Attention의 맥락 벡터를 이어 붙여 Affine에
    넣습니다."""

    def __init__(self, vocab_size, wordvec_size, hidden_size):
        V, D, H = vocab_size, wordvec_size, hidden_size
        embed_W, Wx, Wh, b, affine_W, affine_b = _weights(V, D, H, affine_in=2 * H)
        self.embed = TimeEmbedding(embed_W)
        self.lstm = TimeLSTM(Wx, Wh, b, stateful=True)
        self.attention = TimeAttention()
        self.affine = TimeAffine(affine_W, affine_b)
        collect(self, [self.embed, self.lstm, self.attention, self.affine])

    def forward(self, xs, enc_hs):
        self.lstm.set_state(enc_hs[:, -1])
        dec_hs = self.lstm.forward(self.embed.forward(xs))
        c = self.attention.forward(enc_hs, dec_hs)
        return self.affine.forward(np.concatenate((c, dec_hs), axis=2))

    def backward(self, dscore):
        dout = self.affine.backward(dscore)
        H = dout.shape[2] // 2
        dc, ddec_hs0 = dout[:, :, :H], dout[:, :, H:]
        denc_hs, ddec_hs1 = self.attention.backward(dc)
        dout = self.lstm.backward(ddec_hs0 + ddec_hs1)
        denc_hs[:, -1] += self.lstm.dh
        self.embed.backward(dout)
        return denc_hs

    def generate(self, enc_hs, start_id, sample_size):
        sampled, sample_id = [], start_id
        self.lstm.set_state(enc_hs[:, -1])
        for _ in range(sample_size):
            x = np.array([sample_id]).reshape((1, 1))
            dec_hs = self.lstm.forward(self.embed.forward(x))
            c = self.attention.forward(enc_hs, dec_hs)
            score = self.affine.forward(np.concatenate((c, dec_hs), axis=2))
            sample_id = np.argmax(score.flatten())
            sampled.append(sample_id)
        return sampled


class AttentionSeq2seq(Seq2seq):
    """어텐션을 쓰는 seq2seq(8.2). 책이 제공하는 AttentionSeq2seq.pkl을 load_params로 읽을 수
    있습니다."""

    def __init__(self, vocab_size, wordvec_size, hidden_size):
        args = vocab_size, wordvec_size, hidden_size
        self.encoder = AttentionEncoder(*args)
        self.decoder = AttentionDecoder(*args)
        self.softmax = TimeSoftmaxWithLoss()
        self.params = self.encoder.params + self.decoder.params
        self.grads = self.encoder.grads + self.decoder.grads
