"""책 ❷ 7장의 seq2seq.py, peeky_seq2seq.py, rnnlm_gen.py: 인코더와 디코더로 된 seq2seq, 인코더의
출력을 디코더의 모든 시각에 보여 주는 엿보기(Peeky), 그리고 언어 모델로 문장 생성하기."""

from __future__ import annotations

import numpy as np

from tinygrad_ko.book2.base_model import BaseModel
from tinygrad_ko.book2.ch06 import BetterRnnlm, Rnnlm
from tinygrad_ko.book2.functions import softmax
from tinygrad_ko.book2.layers import collect
from tinygrad_ko.book2.time_layers import TimeAffine, TimeEmbedding, TimeLSTM, TimeSoftmaxWithLoss

__all__ = [
    "BetterRnnlmGen",
    "Decoder",
    "Encoder",
    "PeekyDecoder",
    "PeekySeq2seq",
    "RnnlmGen",
    "Seq2seq",
]


def _weights(V, D, H, affine_in=None, lstm_in=None):
    """The book's initial weights of an encoder or decoder, drawn in its order from np.random:
    embedding N(0, 1)/100, the rest Xavier; affine_in: the output Affine's input size, if any."""
    rn = np.random.randn
    lstm_in = D if lstm_in is None else lstm_in
    weights = [
        (rn(V, D) / 100).astype("f"),
        (rn(lstm_in, 4 * H) / np.sqrt(lstm_in)).astype("f"),
        (rn(H, 4 * H) / np.sqrt(H)).astype("f"),
        np.zeros(4 * H).astype("f"),
    ]
    if affine_in is not None:
        weights += [(rn(affine_in, V) / np.sqrt(affine_in)).astype("f"), np.zeros(V).astype("f")]
    return weights


class Encoder:
    """인코더(7.2.1): TimeEmbedding → TimeLSTM. 입력 문장의 마지막 은닉 상태를 돌려줍니다."""

    def __init__(self, vocab_size, wordvec_size, hidden_size):
        embed_W, *lstm = _weights(vocab_size, wordvec_size, hidden_size)
        self.embed, self.lstm = TimeEmbedding(embed_W), TimeLSTM(*lstm, stateful=False)
        collect(self, [self.embed, self.lstm])
        self.hs = None

    def forward(self, xs):
        self.hs = self.lstm.forward(self.embed.forward(xs))
        return self.hs[:, -1, :]

    def backward(self, dh):
        dhs = np.zeros_like(self.hs)
        dhs[:, -1, :] = dh
        return self.embed.backward(self.lstm.backward(dhs))


class Decoder:
    """디코더(7.2.2): 인코더의 h에서 시작하는 TimeLSTM → TimeAffine. generate는 매 시각 점수가
    가장 높은 문자를 다음 입력으로 씁니다."""

    def __init__(self, vocab_size, wordvec_size, hidden_size):
        V, D, H = vocab_size, wordvec_size, hidden_size
        embed_W, Wx, Wh, b, affine_W, affine_b = _weights(V, D, H, affine_in=H)
        self.embed = TimeEmbedding(embed_W)
        self.lstm = TimeLSTM(Wx, Wh, b, stateful=True)
        self.affine = TimeAffine(affine_W, affine_b)
        collect(self, [self.embed, self.lstm, self.affine])

    def forward(self, xs, h):
        self.lstm.set_state(h)
        return self.affine.forward(self.lstm.forward(self.embed.forward(xs)))

    def backward(self, dscore):
        self.embed.backward(self.lstm.backward(self.affine.backward(dscore)))
        return self.lstm.dh

    def generate(self, h, start_id, sample_size):
        sampled, sample_id = [], start_id
        self.lstm.set_state(h)
        for _ in range(sample_size):
            x = np.array(sample_id).reshape((1, 1))
            score = self.affine.forward(self.lstm.forward(self.embed.forward(x)))
            sample_id = np.argmax(score.flatten())
            sampled.append(int(sample_id))
        return sampled


class Seq2seq(BaseModel):
    """seq2seq(7.2.3): 인코더의 마지막 은닉 상태로 디코더를 시작해서, 정답 문장을 한 글자씩
    밀어 넣어(teacher forcing) 다음 글자를 맞힙니다."""

    def __init__(self, vocab_size, wordvec_size, hidden_size):
        self.encoder = Encoder(vocab_size, wordvec_size, hidden_size)
        self.decoder = Decoder(vocab_size, wordvec_size, hidden_size)
        self.softmax = TimeSoftmaxWithLoss()
        self.params = self.encoder.params + self.decoder.params
        self.grads = self.encoder.grads + self.decoder.grads

    def forward(self, xs, ts):
        decoder_xs, decoder_ts = ts[:, :-1], ts[:, 1:]
        score = self.decoder.forward(decoder_xs, self.encoder.forward(xs))
        return self.softmax.forward(score, decoder_ts)

    def backward(self, dout=1):
        dh = self.decoder.backward(self.softmax.backward(dout))
        return self.encoder.backward(dh)

    def generate(self, xs, start_id, sample_size):
        return self.decoder.generate(self.encoder.forward(xs), start_id, sample_size)


class PeekyDecoder(Decoder):
    """엿보기 디코더(7.4.2): 인코더의 h를 매 시각 LSTM의 입력과 Affine의 입력 앞에 붙입니다."""

    def __init__(self, vocab_size, wordvec_size, hidden_size):
        V, D, H = vocab_size, wordvec_size, hidden_size
        embed_W, Wx, Wh, b, affine_W, affine_b = _weights(V, D, H, affine_in=2 * H, lstm_in=H + D)
        self.embed = TimeEmbedding(embed_W)
        self.lstm = TimeLSTM(Wx, Wh, b, stateful=True)
        self.affine = TimeAffine(affine_W, affine_b)
        collect(self, [self.embed, self.lstm, self.affine])
        self.cache = None

    def forward(self, xs, h):
        (n, steps), hidden = xs.shape, h.shape[1]
        self.lstm.set_state(h)
        hs = np.repeat(h, steps, axis=0).reshape(n, steps, hidden)
        out = self.lstm.forward(np.concatenate((hs, self.embed.forward(xs)), axis=2))
        self.cache = hidden
        return self.affine.forward(np.concatenate((hs, out), axis=2))

    def backward(self, dscore):
        H = self.cache
        dout = self.affine.backward(dscore)
        dout, dhs0 = dout[:, :, H:], dout[:, :, :H]
        dout = self.lstm.backward(dout)
        dembed, dhs1 = dout[:, :, H:], dout[:, :, :H]
        self.embed.backward(dembed)
        return self.lstm.dh + np.sum(dhs0 + dhs1, axis=1)

    def generate(self, h, start_id, sample_size):
        sampled, char_id = [], start_id
        self.lstm.set_state(h)
        peeky_h = h.reshape(1, 1, h.shape[1])
        for _ in range(sample_size):
            x = np.array([char_id]).reshape((1, 1))
            out = np.concatenate((peeky_h, self.embed.forward(x)), axis=2)
            out = np.concatenate((peeky_h, self.lstm.forward(out)), axis=2)
            char_id = np.argmax(self.affine.forward(out).flatten())
            sampled.append(char_id)
        return sampled


class PeekySeq2seq(Seq2seq):
    """엿보기 디코더를 쓰는 seq2seq(7.4.2)."""

    def __init__(self, vocab_size, wordvec_size, hidden_size):
        self.encoder = Encoder(vocab_size, wordvec_size, hidden_size)
        self.decoder = PeekyDecoder(vocab_size, wordvec_size, hidden_size)
        self.softmax = TimeSoftmaxWithLoss()
        self.params = self.encoder.params + self.decoder.params
        self.grads = self.encoder.grads + self.decoder.grads


def _generate(model, start_id, skip_ids, sample_size):
    """단어 ID를 하나씩 입력해 다음 단어의 확률 분포에서 뽑습니다(np.random.choice, 7.1.2)."""
    word_ids, x = [start_id], start_id
    while len(word_ids) < sample_size:
        score = model.predict(np.array(x).reshape(1, 1))
        p = softmax(score.flatten()).flatten()
        sampled = np.random.choice(len(p), size=1, p=p)
        if skip_ids is None or sampled not in skip_ids:
            x = sampled
            word_ids.append(int(x[0]))
    return word_ids


class RnnlmGen(Rnnlm):
    """문장을 생성하는 Rnnlm(7.1.2)."""

    def generate(self, start_id, skip_ids=None, sample_size=100):
        return _generate(self, start_id, skip_ids, sample_size)

    def get_state(self):
        return self.lstm_layer.h, self.lstm_layer.c

    def set_state(self, state):
        self.lstm_layer.set_state(*state)


class BetterRnnlmGen(BetterRnnlm):
    """문장을 생성하는 BetterRnnlm(7.1.3)."""

    def generate(self, start_id, skip_ids=None, sample_size=100):
        return _generate(self, start_id, skip_ids, sample_size)

    def get_state(self):
        return [(layer.h, layer.c) for layer in self.lstm_layers]

    def set_state(self, states):
        for layer, state in zip(self.lstm_layers, states):
            layer.set_state(*state)
