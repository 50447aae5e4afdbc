"""The book's convolutional networks in PyTorch, written the usual way (nn.Sequential,
CrossEntropyLoss, torch.optim.Adam), on the same starting weights and batches as tinygrad_ko's,
for benchmarks/convnet_speed.py. Optional: PyTorch is not a dependency of tinygrad_ko."""

import numpy as np
import torch
from torch import nn

from tinygrad_ko.networks.convnets import DEEP, DeepConvNet, SimpleConvNet


def simple():
    """Chapter 7's SimpleConvNet: conv 30x5x5 - relu - pool 2x2 - affine 100 - relu -
    affine 10."""
    return nn.Sequential(
        nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(4320, 100), nn.ReLU(), nn.Linear(100, 10),
    )  # fmt: skip


def deep():
    """Chapter 8's DeepConvNet: three blocks of conv 3x3 - relu - conv 3x3 - relu - pool 2x2,
    then affine 50 - relu - dropout - affine 10 - dropout (PyTorch's dropout scales what it
    keeps by 2 while training, the book's leaves it and halves at test: the same cost)."""
    layers, channels = [], 1
    for i, conv in enumerate(DEEP, 1):
        layers += [nn.Conv2d(channels, conv["filter_num"], 3, padding=conv["pad"]), nn.ReLU()]
        channels = conv["filter_num"]
        if i % 2 == 0:
            layers.append(nn.MaxPool2d(2))
    return nn.Sequential(
        *layers, nn.Flatten(), nn.Linear(1024, 50), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(50, 10), nn.Dropout(0.5),
    )  # fmt: skip


NETWORKS = {"simple": (simple, SimpleConvNet), "deep": (deep, DeepConvNet)}


def model(seed=0, network="simple"):
    """The network with the weights of tinygrad_ko's SimpleConvNet or DeepConvNet(seed=seed)."""
    build, ours = NETWORKS[network]
    net, params = build(), ours(seed=seed).params
    weighted = [layer for layer in net if isinstance(layer, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():  # nn.Linear keeps its weight as (out, in): the book's W transposed
        for i, layer in enumerate(weighted, 1):
            W = params[f"W{i}"]
            layer.weight.copy_(torch.from_numpy(W.T.copy() if W.ndim == 2 else W))
            layer.bias.copy_(torch.from_numpy(params[f"b{i}"]))
    return net


def stepper(seed=0, network="simple", lr=0.001):
    """As the floors' stepper: step(x, t) -> loss on a mini-batch of NumPy arrays, and the
    accuracy(x, t) of the network it trains."""
    net = model(seed, network)
    loss_fn, optimizer = nn.CrossEntropyLoss(), torch.optim.Adam(net.parameters(), lr=lr)

    def step(x, t):
        loss = loss_fn(net(torch.from_numpy(x)), torch.from_numpy(t.astype(np.int64)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    def accuracy(x, t, batch=1000):
        net.eval()
        with torch.no_grad():
            scores = [net(torch.from_numpy(x[i : i + batch])) for i in range(0, len(x), batch)]
        net.train()
        return float(np.mean(torch.cat(scores).argmax(dim=1).numpy() == t))

    return step, accuracy
