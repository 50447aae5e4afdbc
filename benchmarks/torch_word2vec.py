"""PyTorch's CBOW with negative sampling for benchmarks/word2vec_speed.py, as its users write it:
nn.Embedding(sparse=True) for W_in and W_out, binary cross-entropy on the logits, SparseAdam.
The negative examples are drawn as tinygrad_ko's CBOW draws them (UnigramSampler.draw), so
both do the same work. Threads: as many as OPENBLAS_NUM_THREADS says (else PyTorch's own)."""

import os

import numpy as np
import torch
import torch.nn.functional as F

from tinygrad_ko.embedding import UnigramSampler


def stepper(corpus, vocab, hidden, window=5, sample_size=5, seed=0):
    if os.environ.get("OPENBLAS_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OPENBLAS_NUM_THREADS"]))
    rng = np.random.default_rng(seed)
    W_in, W_out = (torch.nn.Embedding(vocab, hidden, sparse=True) for _ in range(2))
    with torch.no_grad():
        for layer in (W_in, W_out):
            layer.weight.copy_(torch.from_numpy(0.01 * rng.standard_normal((vocab, hidden))))
    sampler = UnigramSampler(corpus, 0.75, sample_size)
    optimizer = torch.optim.SparseAdam([W_in.weight, W_out.weight], lr=0.001)

    def step(contexts, target):
        words = np.concatenate([target[:, None], sampler.draw(target, rng)], axis=1)
        labels = torch.zeros(words.shape)
        labels[:, 0] = 1
        h = W_in(torch.from_numpy(contexts)).mean(dim=1)
        scores = (W_out(torch.from_numpy(words)) * h[:, None, :]).sum(dim=2)
        loss = F.binary_cross_entropy_with_logits(scores, labels) * (sample_size + 1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return float(loss)

    return step
