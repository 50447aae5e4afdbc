"""Book 2's LSTM language model and attention seq2seq written with Tensor ops, step by step: the
LSTM cell on tensors in a Python loop over time, so backward() does backpropagation through
time by itself, deriving what the book's TimeLSTM and TimeAttention derive by hand (the tests
compare the two). Slower than the fused Time layers (a graph node per op and step), and the
place to see BPTT happen: draw_graph(loss) of a few steps shows the chain h1 → h2 → h3.

Weights start as the book's models draw them (np.random, in the same order), so a model made
after np.random.seed(s) has the weights the book's Rnnlm or AttentionSeq2seq has after it.
"""

from __future__ import annotations

import numpy as np

from tinygrad_ko.engine.ops import concatenate
from tinygrad_ko.engine.tensor import Tensor
from tinygrad_ko.layers import SoftmaxWithLoss

__all__ = ["AttentionSeq2seq", "LSTMLanguageModel", "lstm_cell"]


def lstm_cell(x, h, c, Wx, Wh, b):
    """One LSTM step (6.3): A = x·Wx + h·Wh + b split into the gates f, g, i, o (the book's
    order); c' = f·c + g·i, h' = o·tanh(c'). Returns (h', c')."""
    H = Wh.shape[0]
    A = x @ Wx + h @ Wh + b
    f, g = A[:, :H].sigmoid(), A[:, H : 2 * H].tanh()
    i, o = A[:, 2 * H : 3 * H].sigmoid(), A[:, 3 * H :].sigmoid()
    c = f * c + g * i
    return o * c.tanh(), c


def _weight(array, name):
    return Tensor(array, requires_grad=True, name=name)


def _lstm_weights(D, H, prefix=""):
    rn = np.random.randn
    return [
        _weight((rn(D, 4 * H) / np.sqrt(D)).astype("f"), prefix + "Wx"),
        _weight((rn(H, 4 * H) / np.sqrt(H)).astype("f"), prefix + "Wh"),
        _weight(np.zeros(4 * H).astype("f"), prefix + "b"),
    ]


def _stacked(steps):
    """Tensors (N, H), one per step, as (N, T, H)."""
    n, h = steps[0].shape
    return concatenate([s.reshape(n, 1, h) for s in steps], axis=1)


def _mean_cross_entropy(scores, ts):
    """The mean cross-entropy of scores (N, T, V) against labels ts (N, T), exact."""
    n, steps, vocab = scores.shape
    return SoftmaxWithLoss()(scores.reshape(n * steps, vocab), np.asarray(ts).reshape(-1))


class LSTMLanguageModel:
    """The book's Rnnlm (6.4): embedding → LSTM → affine → softmax cross-entropy, the LSTM's
    state carried from one call to the next (truncated BPTT: the graph starts afresh at each
    call, from the state's values), as the book's stateful TimeLSTM does."""

    def __init__(self, vocab_size=10000, wordvec_size=100, hidden_size=100):
        V, D, H = vocab_size, wordvec_size, hidden_size
        rn = np.random.randn
        self.embed_W = _weight((rn(V, D) / 100).astype("f"), "embed_W")
        self.Wx, self.Wh, self.b = _lstm_weights(D, H)
        self.affine_W = _weight((rn(H, V) / np.sqrt(H)).astype("f"), "affine_W")
        self.affine_b = _weight(np.zeros(V).astype("f"), "affine_b")
        self.h = self.c = None

    def parameters(self):
        return [self.embed_W, self.Wx, self.Wh, self.b, self.affine_W, self.affine_b]

    def reset_state(self):
        self.h = self.c = None

    def predict(self, xs, names=False):
        """The scores (N, T, V) of the next word at each step of xs (N, T); names=True names the
        states h1, c1, h2, ... so that a drawing of the graph shows the chain."""
        xs = np.asarray(xs)
        n, steps = xs.shape
        H = self.Wh.shape[0]
        h = Tensor(np.zeros((n, H), "f") if self.h is None else self.h)
        c = Tensor(np.zeros((n, H), "f") if self.c is None else self.c)
        hs = []
        for t in range(steps):
            h, c = lstm_cell(self.embed_W[xs[:, t]], h, c, self.Wx, self.Wh, self.b)
            if names:
                h.name, c.name = f"h{t + 1}", f"c{t + 1}"
            hs.append(h)
        self.h, self.c = h.data, c.data  # the values go on; the graph stops here
        out = _stacked(hs)
        return (out.reshape(n * steps, H) @ self.affine_W + self.affine_b).reshape(n, steps, -1)

    def __call__(self, xs, ts, names=False):
        return _mean_cross_entropy(self.predict(xs, names), ts)

    forward = __call__


class AttentionSeq2seq:
    """The book's AttentionSeq2seq (8.2): the encoder's LSTM over the question, the decoder's
    LSTM started from its last state and fed the answer (teacher forcing), and at each decoder
    step the attention over all the encoder's states; the context and the decoder's state go
    to the affine."""

    def __init__(self, vocab_size, wordvec_size, hidden_size):
        V, D, H = vocab_size, wordvec_size, hidden_size
        rn = np.random.randn
        self.enc_embed = _weight((rn(V, D) / 100).astype("f"), "enc_embed_W")
        self.enc = _lstm_weights(D, H, "enc_")
        self.dec_embed = _weight((rn(V, D) / 100).astype("f"), "dec_embed_W")
        self.dec = _lstm_weights(D, H, "dec_")
        self.affine_W = _weight((rn(2 * H, V) / np.sqrt(2 * H)).astype("f"), "affine_W")
        self.affine_b = _weight(np.zeros(V).astype("f"), "affine_b")

    def parameters(self):
        return [self.enc_embed, *self.enc, self.dec_embed, *self.dec, self.affine_W,
                self.affine_b]  # fmt: skip

    def encode(self, xs):
        xs = np.asarray(xs)
        H = self.enc[1].shape[0]
        h = c = Tensor(np.zeros((len(xs), H), "f"))
        hs = []
        for t in range(xs.shape[1]):
            h, c = lstm_cell(self.enc_embed[xs[:, t]], h, c, *self.enc)
            hs.append(h)
        return _stacked(hs)

    def __call__(self, xs, ts):
        ts = np.asarray(ts)
        enc_hs = self.encode(xs)
        n, _, H = enc_hs.shape
        h, c = enc_hs[:, -1, :], Tensor(np.zeros((n, H), "f"))
        outs = []
        for t in range(ts.shape[1] - 1):
            h, c = lstm_cell(self.dec_embed[ts[:, t]], h, c, *self.dec)
            weights = (enc_hs * h.reshape(n, 1, H)).sum(axis=2).softmax(axis=1)  # (N, T_enc)
            context = (enc_hs * weights.reshape(n, -1, 1)).sum(axis=1)
            outs.append(concatenate([context, h], axis=1))
        out = _stacked(outs)
        steps = out.shape[1]
        scores = (out.reshape(n * steps, 2 * H) @ self.affine_W + self.affine_b).reshape(
            n, steps, -1
        )
        return _mean_cross_entropy(scores, ts[:, 1:])

    forward = __call__
