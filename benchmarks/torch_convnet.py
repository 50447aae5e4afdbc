"""The chapter-7 SimpleConvNet in PyTorch, written the usual way (nn.Sequential, CrossEntropyLoss,
torch.optim.Adam), on the same starting weights and batches as tinygrad_ko's, for
benchmarks/convnet_speed.py. Optional: PyTorch is not a dependency of tinygrad_ko."""

import time

import numpy as np
import torch
from fused_convnet import init
from torch import nn


def model(seed=0):
    """conv 30x5x5 - relu - pool 2x2 - affine 100 - relu - affine 10, with the weights of
    SimpleConvNet(seed=seed)."""
    p = init(seed)
    net = nn.Sequential(
        nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(4320, 100), nn.ReLU(), nn.Linear(100, 10),
    )  # fmt: skip
    with torch.no_grad():  # nn.Linear keeps its weight as (out, in): the book's W transposed
        for layer, w, b, linear in ((0, "W1", "b1", False), (4, "W2", "b2", True),
                                    (6, "W3", "b3", True)):  # fmt: skip
            net[layer].weight.copy_(torch.from_numpy(p[w].T if linear else p[w]))
            net[layer].bias.copy_(torch.from_numpy(p[b]))
    return net


def stepper(net, lr=0.001):
    """One training step on a batch: the loss as a float."""
    loss_fn, optimizer = nn.CrossEntropyLoss(), torch.optim.Adam(net.parameters(), lr=lr)

    def step(x, t):
        loss = loss_fn(net(x), t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def accuracy(net, x, t, batch=1000):
    with torch.no_grad():
        hits = sum(
            (net(x[i : i + batch]).argmax(dim=1) == t[i : i + batch]).sum().item()
            for i in range(0, len(x), batch)
        )
    return hits / len(x)


def tensors(data):
    x, t = data
    return torch.from_numpy(x), torch.from_numpy(t.astype(np.int64))


def train(train_set, test_set, iters=12000, batch_size=100, seed=0, sample=1000):
    """As fused_convnet.train: (losses, test accuracy on the whole test set after the last
    iteration, seconds spent evaluating)."""
    (x_train, t_train), (x_test, t_test) = tensors(train_set), tensors(test_set)
    net = model(seed)
    step, rng = stepper(net), np.random.default_rng(seed)
    n, epoch, losses, eval_seconds = len(x_train), len(x_train) // batch_size, [], 0.0
    for i in range(iters):
        batch = torch.from_numpy(rng.integers(0, n, batch_size))
        losses.append(step(x_train[batch], t_train[batch]))
        if i % epoch == 0 or i == iters - 1:
            start = time.perf_counter()
            accuracy(net, x_train[:sample], t_train[:sample])
            accuracy(net, x_test[:sample], t_test[:sample])
            eval_seconds += time.perf_counter() - start
    start = time.perf_counter()
    test_acc = accuracy(net, x_test, t_test)
    return losses, test_acc, eval_seconds + time.perf_counter() - start
