"""Attention (book 2, chapter 8): the decoder looks at every hidden state of the encoder. For
each decoder state h, AttentionWeight scores the encoder's states hs by their dot products with
h and turns the scores into weights a with softmax (8.1); WeightSum adds the states up by
those weights into the context vector c (8.1). Attention does both; TimeAttention does it at
every decoder step. Each is one node of the graph, with the book's backward rule and order of
operations; the second rule runs the forward again in Tensor ops.
"""

from __future__ import annotations

import numpy as np

from tinygrad_ko.engine.autograd import Function, backward_through
from tinygrad_ko.engine.ops import Softmax, concatenate

__all__ = ["Attention", "AttentionWeight", "TimeAttention", "WeightSum"]


def _states(layer, hs, h, h_axes):
    """hs (N, T, H) and h of h_axes axes (N, H) or (N, T', H) fit, or a clear error."""
    if hs.ndim != 3 or h.ndim != h_axes or h.shape[0] != hs.shape[0] or h.shape[-1] != hs.shape[2]:
        want = "(N, H)" if h_axes == 2 else "(N, T', H)"
        raise ValueError(
            f"{type(layer).__name__}: hs must be (N, T, H) and h {want} of the same N and H, "
            f"got shapes {hs.shape} and {h.shape}"
        )


def _wanted(layer, *grads):
    """The gradients of the inputs that want one (all, the book's way); None for the others."""
    return tuple(g if layer.needs_grad(i) else None for i, g in enumerate(grads))


class WeightSum(Function):
    """c = Σ_t a[:, t]·hs[:, t] (8.1): the states hs (N, T, H) added up by weights a (N, T)."""

    def forward(self, hs, a):
        n, steps, hidden = hs.shape
        if a.shape != (n, steps):
            raise ValueError(
                f"WeightSum: a must hold a weight per state, (N, T) = {(n, steps)}; got {a.shape}"
            )
        ar = a.reshape(n, steps, 1)
        self.cache, self.out_shape = (hs, ar), (n, hidden)
        return np.sum(hs * ar, axis=1)

    def backward(self, dc):
        hs, ar = self.cache
        n, _, hidden = hs.shape
        dt = self.book_dout(dc).reshape(n, 1, hidden)  # the book's repeat, broadcast instead
        return _wanted(self, dt * ar, np.sum(dt * hs, axis=2))

    def backward_graph(self, dout, out):
        return backward_through(weight_sum, self, dout)


def weight_sum(hs, a):
    """WeightSum in Tensor ops."""
    n, steps, _ = hs.shape
    return (hs * a.reshape(n, steps, 1)).sum(axis=1)


class AttentionWeight(Function):
    """a = softmax(Σ_h hs·h) (8.1): a weight per encoder state, by its dot product with h."""

    def forward(self, hs, h):
        _states(self, hs, h, 2)
        n, steps, hidden = hs.shape
        hr = h.reshape(n, 1, hidden)
        self.softmax = Softmax(axis=-1)
        a = self.softmax.forward(np.sum(hs * hr, axis=2))
        self.cache, self.out_shape = (hs, hr), (n, steps)
        return a

    def backward(self, da):
        hs, hr = self.cache
        n, steps, _ = hs.shape
        ds = self.softmax.backward(self.book_dout(da))
        dt = ds.reshape(n, steps, 1)  # the book's repeat, broadcast instead: the same products
        return _wanted(self, dt * hr, np.sum(dt * hs, axis=1))

    def backward_graph(self, dout, out):
        return backward_through(attention_weight, self, dout)


def attention_weight(hs, h):
    """AttentionWeight in Tensor ops."""
    n, _, hidden = hs.shape
    return (hs * h.reshape(n, 1, hidden)).sum(axis=2).softmax(axis=1)


class Attention(Function):
    """AttentionWeight then WeightSum (8.1): the context vector for one decoder state h. The
    weights stay in attention_weight, for pictures (8.4)."""

    def forward(self, hs, h):
        self.attention_weight_layer, self.weight_sum_layer = AttentionWeight(), WeightSum()
        self.attention_weight = a = self.attention_weight_layer.forward(hs, h)
        out = self.weight_sum_layer.forward(hs, a)
        self.out_shape = out.shape
        return out

    def backward(self, dout):
        dhs0, da = self.weight_sum_layer.backward(self.book_dout(dout))
        dhs1, dh = self.attention_weight_layer.backward(da)
        return _wanted(self, dhs0 + dhs1, dh)

    def backward_graph(self, dout, out):
        return backward_through(attention, self, dout)


def attention(hs, h):
    """Attention in Tensor ops."""
    return weight_sum(hs, attention_weight(hs, h))


class TimeAttention(Function):
    """Attention at every decoder step (8.2): out[:, t] = the context vector of hs_dec[:, t]
    over the encoder's states hs_enc; attention_weights keeps each step's weights."""

    def forward(self, hs_enc, hs_dec):
        _states(self, hs_enc, hs_dec, 3)
        out = np.empty_like(hs_dec)
        self.layers, self.attention_weights = [], []
        for t in range(hs_dec.shape[1]):
            layer = Attention()
            out[:, t, :] = layer.forward(hs_enc, hs_dec[:, t, :])
            self.layers.append(layer)
            self.attention_weights.append(layer.attention_weight)
        self.out_shape = out.shape
        return out

    def backward(self, dout):
        dout = self.book_dout(dout)
        dhs_enc, dhs_dec = 0, np.empty_like(dout)
        for t, layer in enumerate(self.layers):
            dhs, dh = layer.backward(dout[:, t, :])
            dhs_enc += dhs
            dhs_dec[:, t, :] = dh
        return _wanted(self, dhs_enc, dhs_dec)

    def backward_graph(self, dout, out):
        return backward_through(time_attention, self, dout)


def time_attention(hs_enc, hs_dec):
    """TimeAttention in Tensor ops: a context vector per decoder step, stacked."""
    n, steps, hidden = hs_dec.shape
    contexts = [attention(hs_enc, hs_dec[:, t, :]).reshape(n, 1, hidden) for t in range(steps)]
    return concatenate(contexts, axis=1)
