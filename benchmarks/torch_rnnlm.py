"""PyTorch's LSTM language model for benchmarks/rnnlm_speed.py, as its users write it: embedding,
nn.LSTM (batch first) with its state carried between batches (detached: truncated BPTT),
linear, cross-entropy; SGD with clip_grad_norm_. Threads: as OPENBLAS_NUM_THREADS says."""

import os

import torch
import torch.nn.functional as F


def stepper(hidden, lr, max_grad, vocab=10_000):
    if os.environ.get("OPENBLAS_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OPENBLAS_NUM_THREADS"]))
    torch.manual_seed(0)
    embed = torch.nn.Embedding(vocab, hidden)
    lstm = torch.nn.LSTM(hidden, hidden, batch_first=True)
    affine = torch.nn.Linear(hidden, vocab)
    params = [*embed.parameters(), *lstm.parameters(), *affine.parameters()]
    optimizer = torch.optim.SGD(params, lr=lr)
    state = None

    def step(xs, ts):
        nonlocal state
        out, state = lstm(embed(torch.from_numpy(xs).long()), state)
        state = tuple(s.detach() for s in state)
        loss = F.cross_entropy(affine(out).reshape(-1, vocab), torch.from_numpy(ts).long().ravel())
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, max_grad)
        optimizer.step()
        return float(loss)

    return step
