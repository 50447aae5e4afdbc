"""The same network, schedule and batches in PyTorch, written the usual way (nn.Sequential,
CrossEntropyLoss, torch.optim.SGD), for benchmarks/train_speed.py. Optional: PyTorch is not a
dependency of tinygrad_ko."""

import time

import numpy as np
import torch
from fused import init
from torch import nn


def train(train_set, test_set, iters=10000, batch_size=100, lr=0.1, seed=0):
    """(losses, test accuracy after the last iteration, seconds spent evaluating)."""
    (x_train, t_train), (x_test, t_test) = train_set, test_set
    x_train, t_train = torch.from_numpy(x_train), torch.from_numpy(t_train)
    x_test, t_test = torch.from_numpy(x_test), torch.from_numpy(t_test)
    p = init(seed)  # the same starting weights as TwoLayerNet(seed=seed)
    model = nn.Sequential(nn.Linear(784, 50), nn.ReLU(), nn.Linear(50, 10))
    with torch.no_grad():
        for layer, (w, b) in zip((model[0], model[2]), (("W1", "b1"), ("W2", "b2"))):
            layer.weight.copy_(torch.from_numpy(p[w].T))
            layer.bias.copy_(torch.from_numpy(p[b]))
    loss_fn, optimizer = nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=lr)
    rng, n = np.random.default_rng(seed), len(x_train)
    epoch, losses, eval_seconds, test_acc = n // batch_size, [], 0.0, None

    def accuracy(x, t):
        with torch.no_grad():
            return (model(x).argmax(dim=1) == t).float().mean().item()

    for i in range(iters):
        batch = torch.from_numpy(rng.integers(0, n, batch_size))
        loss = loss_fn(model(x_train[batch]), t_train[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if i % epoch == 0 or i == iters - 1:
            start = time.perf_counter()
            accuracy(x_train, t_train)
            test_acc = accuracy(x_test, t_test)
            eval_seconds += time.perf_counter() - start
    return losses, test_acc, eval_seconds
