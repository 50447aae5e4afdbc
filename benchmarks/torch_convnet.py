"""The chapter-7 SimpleConvNet in PyTorch, written the usual way (nn.Sequential, CrossEntropyLoss,
torch.optim.Adam), on the same starting weights and batches as tinygrad_ko's, for
benchmarks/convnet_speed.py. Optional: PyTorch is not a dependency of tinygrad_ko."""

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


def stepper(seed=0, lr=0.001):
    """As fused_convnet.stepper: step(x, t) -> loss on a mini-batch of NumPy arrays, and the
    accuracy(x, t) of the network it trains."""
    net = model(seed)
    loss_fn, optimizer = nn.CrossEntropyLoss(), torch.optim.Adam(net.parameters(), lr=lr)

    def step(x, t):
        loss = loss_fn(net(torch.from_numpy(x)), torch.from_numpy(t.astype(np.int64)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    def accuracy(x, t, batch=1000):
        with torch.no_grad():
            scores = [net(torch.from_numpy(x[i : i + batch])) for i in range(0, len(x), batch)]
        return float(np.mean(torch.cat(scores).argmax(dim=1).numpy() == t))

    return step, accuracy
