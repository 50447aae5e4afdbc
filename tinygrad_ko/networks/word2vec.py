"""word2vec's CBOW with negative sampling (book 2, 4.3) written with Tensor ops, trained the
PyTorch way: `loss = model(contexts, target); loss.backward(); optimizer.step()`. Autograd
derives what the book's layers derive by hand: the embedding rows' gradients are scatter-adds
(GetItem's rule), the classifiers' the Sigmoid-with-Loss rule.

Faster than the book's CBOW for three reasons, each its own choice: the 2·window context rows
are gathered at once (one node, not an Embedding layer each); the negative examples are drawn
for the whole batch at once (UnigramSampler.draw); and SparseAdam moves only the rows of the
batch's words. Its numbers are not the book's (other random draws, lazy moments); its loss
falls as the book's does.
"""

from __future__ import annotations

import numpy as np

from tinygrad_ko.engine.tensor import Tensor
from tinygrad_ko.layers import SigmoidWithLoss
from tinygrad_ko.layers.embedding import UnigramSampler

__all__ = ["CBOW"]


class CBOW:
    """h = the mean of the context words' rows of W_in; the target word's score h·W_out[target]
    against sample_size negative examples' scores, each a binary classifier (4.2.7). The loss
    is the book's: the sum of the sample_size + 1 classifiers' mean losses (exact, no delta).
    Weights start as 0.01·N(0, 1), as the book's, from `seed`'s generator, which also draws the
    negative examples."""

    def __init__(self, vocab_size, hidden_size, window_size, corpus, sample_size=5, power=0.75,
                 dtype=np.float32, seed=None):  # fmt: skip
        self.rng = np.random.default_rng(seed)
        shape = (vocab_size, hidden_size)
        self.W_in, self.W_out = (
            Tensor((0.01 * self.rng.standard_normal(shape)).astype(dtype), True, name=name)
            for name in ("W_in", "W_out")
        )
        self.window_size = window_size
        self.sampler = UnigramSampler(corpus, power, sample_size)

    def parameters(self):
        return [self.W_in, self.W_out]

    @property
    def word_vecs(self):
        """The words' vectors: W_in's rows, as the book's model.word_vecs."""
        return self.W_in.data

    def __call__(self, contexts, target):
        return self.forward(contexts, target)

    def forward(self, contexts, target):
        """The loss of a batch: contexts (N, 2·window) and target (N,) word ids."""
        contexts, target = np.asarray(contexts), np.asarray(target)
        n, k = len(target), self.sampler.sample_size
        h = self.W_in[contexts].mean(axis=1)  # (N, H)
        words = np.concatenate([target[:, None], self.sampler.draw(target, self.rng)], axis=1)
        scores = (self.W_out[words] * h.reshape(n, 1, -1)).sum(axis=2)  # (N, 1 + k)
        labels = np.zeros(words.shape, np.int32)
        labels[:, 0] = 1
        return SigmoidWithLoss()(scores.reshape(-1), labels.reshape(-1)) * (k + 1)
