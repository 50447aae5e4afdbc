"""Word embeddings (book 2, chapters 3-4): the Embedding layer, which picks rows of a weight
matrix by word id instead of multiplying by one-hot vectors (4.1), EmbeddingDot, the dot
product of a hidden vector with the rows of chosen words (4.2.4), and negative sampling (4.2.5-
4.2.7): UnigramSampler draws the negative examples, NegativeSamplingLoss scores the target and
them with a binary classifier each.

Each layer works the book's way (forward and backward on arrays) and as a graph node, where its
gradient is a scatter-add of rows (ScatterAdd), differentiable again.
"""

from __future__ import annotations

import collections

import numpy as np

from tinygrad_ko.engine.autograd import Function
from tinygrad_ko.engine.ops import ScatterAdd, add_at, reshaped
from tinygrad_ko.engine.tensor import Tensor
from tinygrad_ko.layers.basic import SigmoidWithLoss

__all__ = ["Embedding", "EmbeddingDot", "NegativeSamplingLoss", "UnigramSampler"]


def _word_ids(layer, idx, vocab_size):
    """idx as an integer array of word ids in 0..vocab_size-1, or a clear error."""
    idx = np.asarray(idx.data if isinstance(idx, Tensor) else idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{layer}: word ids must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < -vocab_size or idx.max() >= vocab_size):
        bad = idx[(idx < -vocab_size) | (idx >= vocab_size)].flat[0]
        raise IndexError(f"{layer}: word id {bad} is outside the vocabulary 0..{vocab_size - 1}")
    return idx


def _matrix(layer, W):
    W = layer.book_input("W", W)
    if np.ndim(W) != 2:
        raise ValueError(
            f"{type(layer).__name__}: W must be a matrix (vocabulary, dimensions), got shape "
            f"{np.shape(W)}"
        )
    return W


def _scattered(layer, idx, rows, like):
    """dW: rows added at idx (np.add.at, so a word picked twice gets both), in book 2's grads
    array when the layer has one (zeroed first, as the book's Embedding does), else new."""
    grads = layer.book2_grads()
    dW = np.zeros_like(like) if grads is None else grads[0]
    if grads is not None:
        dW[...] = 0
    add_at(dW, idx, rows)
    return dW


class Embedding(Function):
    """Embedding layer (4.1.2): out = W[idx], the rows of the words' ids; dW adds dout's rows
    back at idx (4.1.3), so a word that appears twice in the batch gets both."""

    param_names = ("W",)

    def __init__(self, W):
        self.W = _matrix(self, W)

    def forward(self, idx):
        W = self.W
        self.idx = _word_ids(type(self).__name__, idx, len(W))
        self.out_shape = self.idx.shape + W.shape[1:]
        return W[self.idx]

    def backward(self, dout):
        dout = self.book_dout(dout)
        self.dW = _scattered(self, self.idx, dout, self.W) if self.needs_grad(1) else None
        return None  # word ids get no gradient

    def backward_graph(self, dout, out):
        W = self.inputs[1]
        return None, ScatterAdd(self.idx, W.shape)(dout)


class EmbeddingDot(Function):
    """Embedding dot layer (4.2.4): out[n] = W[idx[n]]·h[n], the score of word idx[n] for the
    hidden vector h[n]; dh = dout·W[idx], and dW adds dout·h back at idx."""

    param_names = ("W",)

    def __init__(self, W):
        self.W = _matrix(self, W)

    def forward(self, h, idx):
        h = self.book_input("h", h)
        self.idx = _word_ids("EmbeddingDot", idx, len(self.W))
        target_W = self.W[self.idx]
        if h.shape != target_W.shape:
            raise ValueError(
                f"EmbeddingDot: h has shape {h.shape}, but the {len(self.idx)} words' rows of W "
                f"{self.W.shape} are {target_W.shape}: one row of {self.W.shape[1]} per word"
            )
        self.h, self.target_W, self.out_shape = h, target_W, self.idx.shape
        return np.sum(target_W * h, axis=1)

    def backward(self, dout):
        dout = self.book_dout(dout).reshape(-1, 1)
        self.dW = _scattered(self, self.idx, dout * self.h, self.W) if self.needs_grad(2) else None
        return dout * self.target_W if self.needs_grad(0) else None  # none for the word ids

    def backward_graph(self, dout, out):
        h, _, W = self.inputs
        dout = reshaped(dout, (len(self.idx), 1))
        return (
            dout * W[self.idx] if self.needs_grad(0) else None,
            None,
            ScatterAdd(self.idx, W.shape)(dout * h) if self.needs_grad(2) else None,
        )


class UnigramSampler:
    """Negative examples drawn by the unigram distribution raised to `power` (4.2.6: 0.75 gives
    rare words a little more chance), sample_size per target, never the target itself and never
    one word twice in a row, from NumPy's global random state as the book draws them."""

    def __init__(self, corpus, power, sample_size):
        corpus = np.asarray(corpus)
        if corpus.ndim != 1 or corpus.dtype.kind not in "iu" or corpus.size == 0:
            raise ValueError(
                f"UnigramSampler: corpus must be a non-empty 1-D array of word ids, got "
                f"{corpus.dtype} {corpus.shape}"
            )
        counts = collections.Counter(corpus.tolist())
        self.vocab_size = len(counts)
        if sample_size >= self.vocab_size:
            raise ValueError(
                f"UnigramSampler: {sample_size} negative examples other than the target need "
                f"more than {self.vocab_size} words in the corpus"
            )
        self.sample_size = sample_size
        word_p = np.array([counts[i] for i in range(self.vocab_size)], dtype=np.float64)
        self.word_p = np.power(word_p, power)
        self.word_p /= np.sum(self.word_p)

    def draw(self, target, rng):
        """(batch, sample_size) negative examples like get_negative_sample's (never the target,
        never one word twice in a row), drawn for the whole batch at once from rng, a NumPy
        Generator: word_p's draws, each row drawn again until it has neither. Much faster;
        not the book's draws (see get_negative_sample for those)."""
        target = np.asarray(target)
        if not hasattr(self, "cdf"):
            self.cdf = np.cumsum(self.word_p)
            self.cdf /= self.cdf[-1]
        sample = np.empty((len(target), self.sample_size), np.int64)
        redo = np.arange(len(target))
        while redo.size:
            drawn = self.cdf.searchsorted(rng.random((redo.size, self.sample_size)), "right")
            ordered = np.sort(drawn, axis=1)
            bad = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
            bad |= (drawn == target[redo, None]).any(axis=1)
            sample[redo[~bad]] = drawn[~bad]
            redo = redo[bad]
        return sample

    def get_negative_sample(self, target):
        """(batch, sample_size) word ids, the book's draws exactly: for row i, np.random.choice(
        vocab_size, sample_size, replace=False, p) with p word_p without target[i], renormalized,
        from NumPy's global random state, which ends where the book's code leaves it. Faster:
        every row's distribution is built at once, and the draws are made as choice makes them
        (uniforms against p's cumulative sum; a row that drew a word twice draws again)."""
        target = np.asarray(target)
        n, k = len(target), self.sample_size
        p = np.broadcast_to(self.word_p, (n, self.vocab_size)).copy()
        p[np.arange(n), target] = 0
        p /= p.sum(axis=1, keepdims=True)  # row sums: the same pairwise sums as p.sum() per row
        cdf = np.cumsum(p, axis=1)
        cdf /= cdf[:, -1:]
        negative_sample = np.zeros((n, k), dtype=np.int32)
        row = 0
        while row < n:
            state = np.random.get_state()
            uniforms = np.random.random_sample((n - row) * k).reshape(-1, k)
            for i in range(row, n):
                drawn = cdf[i].searchsorted(uniforms[i - row], side="right")
                if len(set(drawn.tolist())) < k:  # a word twice: choice draws again for it
                    break
                negative_sample[i] = drawn
            else:
                return negative_sample
            np.random.set_state(state)  # back to row i's draws, and on as choice goes
            np.random.random_sample((i - row) * k)
            negative_sample[i] = _choice_without_replacement(cdf[i], p[i], k)
            row = i + 1
        return negative_sample


def _choice_without_replacement(cdf, p, k):
    """np.random.choice(len(p), k, replace=False, p=p), given p's normalized cumulative sum:
    uniforms against the cumulative sum, the words drawn once kept in order, the rest drawn
    again with the words already found at probability 0."""
    found = []
    while True:
        drawn = cdf.searchsorted(np.random.random_sample(k - len(found)), side="right")
        _, first = np.unique(drawn, return_index=True)
        found += drawn[np.sort(first)].tolist()
        if len(found) == k:
            return found
        p = p.copy()
        p[found] = 0
        cdf = np.cumsum(p)
        cdf /= cdf[-1]


class NegativeSamplingLoss:
    """Negative sampling (4.2.7): the target word scored against h as a positive example
    (label 1) and sample_size words drawn by UnigramSampler as negative ones (label 0), each an
    EmbeddingDot over W and a SigmoidWithLoss; the loss is their sum. forward/backward the
    book's way, or called on tensors, a graph of those nodes. delta as SigmoidWithLoss's."""

    dot_layer = EmbeddingDot  # the layers it is made of (tinygrad_ko.book2 gives book 2's)
    sampler_class = UnigramSampler

    def __init__(self, W, corpus, power=0.75, sample_size=5, delta=None):
        self.sample_size = sample_size
        self.sampler = self.sampler_class(corpus, power, sample_size)
        self.loss_layers = [SigmoidWithLoss(delta) for _ in range(sample_size + 1)]
        self.embed_dot_layers = [self.dot_layer(W) for _ in range(sample_size + 1)]

    def examples(self, target):
        """(the words, the labels) of each of the sample_size + 1 classifiers."""
        negative = self.sampler.get_negative_sample(target)
        words = [np.asarray(target), *negative.T]
        ones, zeros = np.ones(len(target), np.int32), np.zeros(len(target), np.int32)
        return words, [ones] + [zeros] * self.sample_size

    def forward(self, h, target):
        words, labels = self.examples(target)
        loss = 0
        for dot, last, w, t in zip(self.embed_dot_layers, self.loss_layers, words, labels):
            loss += last.forward(dot.forward(h, w), t)
        return loss

    def backward(self, dout=1):
        dh = 0
        for last, dot in zip(self.loss_layers, self.embed_dot_layers):
            dh += dot.backward(last.backward(dout))
        return dh

    def __call__(self, h, target):
        words, labels = self.examples(target)
        losses = [last(dot(h, w), t) for dot, last, w, t in zip(
            self.embed_dot_layers, self.loss_layers, words, labels)]  # fmt: skip
        total = losses[0]
        for loss in losses[1:]:
            total = total + loss
        return total
