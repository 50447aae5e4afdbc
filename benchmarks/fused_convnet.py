"""The floor for chapter 7: the book's SimpleConvNet (conv 30x5x5 - relu - pool 2x2 - affine 100 -
relu - affine 10) trained with Adam as one hand-fused NumPy step: float32, label indices, the
feature maps kept a channel at a time in memory (filters × windows, so the im2col copy runs
along image rows and the bias and its gradient along whole channels), the ReLU in place, no
gradient for the images, no graph, no checks. tinygrad_ko's SimpleConvNet is measured against
it in the same run (benchmarks/convnet_speed.py)."""

import math
import time

import numpy as np
from fused import softmax_cross_entropy
from numpy.lib.stride_tricks import sliding_window_view

from tinygrad_ko.commands import SCHEDULES

BOOK = SCHEDULES["convnet"]  # 12000 mini-batches, Adam; 1000 images evaluated each epoch


def init(seed=0, std=0.01, dtype=np.float32):
    """The same starting weights as SimpleConvNet(seed=seed)."""
    rng = np.random.default_rng(seed)
    shapes = {"W1": (30, 1, 5, 5), "W2": (4320, 100), "W3": (100, 10)}
    p = {}
    for i, (name, shape) in enumerate(shapes.items(), 1):
        p[name] = (std * rng.standard_normal(shape)).astype(dtype)
        p[f"b{i}"] = np.zeros(shape[0] if name == "W1" else shape[1], dtype)
    return p


def forward(p, x):
    """The scores, and what the backward pass needs."""
    n = len(x)
    windows = sliding_window_view(x[:, 0], (5, 5), axis=(1, 2))  # (N, 24, 24, 5, 5)
    col_t = np.ascontiguousarray(windows.transpose(3, 4, 0, 1, 2)).reshape(25, n * 576)
    conv = p["W1"].reshape(30, 25) @ col_t  # (channel, image·position)
    conv += p["b1"][:, None]
    np.maximum(conv, 0, out=conv)
    maps = conv.reshape(30, n, 24, 24)
    corners = [maps[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]  # 2x2 pooling: 4 views
    pooled = corners[0].copy()
    arg = np.zeros(pooled.shape, np.int8)
    for k, corner in enumerate(corners[1:], 1):  # the first maximum wins ties, as argmax
        np.maximum(arg, (corner > pooled) * np.int8(k), out=arg)
        np.maximum(pooled, corner, out=pooled)
    flat = pooled.transpose(1, 0, 2, 3).reshape(n, 4320)  # W2 reads (channel, row, column)
    h = flat @ p["W2"]
    h += p["b2"]
    np.maximum(h, 0, out=h)
    scores = h @ p["W3"]
    scores += p["b3"]
    return scores, (col_t, conv, arg, flat, h)


def gradient(p, x, t):
    """(loss, {name: gradient}) of the mean cross-entropy, forward and backward fused."""
    n = len(x)
    s, (col_t, conv, arg, flat, h) = forward(p, x)
    loss, s = softmax_cross_entropy(s, t)
    grads = {"W3": h.T @ s, "b3": s.sum(axis=0)}
    dh = s @ p["W3"].T
    dh *= h > 0
    grads["W2"], grads["b2"] = flat.T @ dh, dh.sum(axis=0)
    dpooled = (dh @ p["W2"].T).reshape(n, 30, 12, 12).transpose(1, 0, 2, 3)
    dmaps = np.empty((30, n, 24, 24), np.float32)
    for k, (i, j) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        np.multiply(dpooled, arg == k, out=dmaps[:, :, i::2, j::2])
    dconv = dmaps.reshape(30, -1)
    dconv *= conv > 0
    grads["W1"], grads["b1"] = (dconv @ col_t.T).reshape(30, 1, 5, 5), dconv.sum(axis=1)
    return loss, grads


def adam_state(p):
    """Adam's step count and moments, zero, for parameters p."""
    zeros = lambda: {k: np.zeros_like(v) for k, v in p.items()}  # noqa: E731
    return {"t": 0, "m": zeros(), "v": zeros()}


def adam(p, grads, state, lr=0.001, beta1=0.9, beta2=0.999):
    """The book's Adam, in place, as few passes as NumPy allows."""
    state["t"] += 1
    lr_t = lr * math.sqrt(1.0 - beta2 ** state["t"]) / (1.0 - beta1 ** state["t"])
    for key, g in grads.items():
        m, v = state["m"][key], state["v"][key]
        m += (1 - beta1) * (g - m)
        v += (1 - beta2) * (g * g - v)
        p[key] -= lr_t * m / (np.sqrt(v) + 1e-7)


def accuracy(p, x, t, batch=100, scores=None):
    """The share of x whose highest score is its label t, `batch` images at a time; the scores
    from scores(p, images) (this floor's forward unless given: the chapter-8 floor gives its)."""
    scores = scores or (lambda p, images: forward(p, images)[0])
    hits = sum(
        np.count_nonzero(scores(p, x[i : i + batch]).argmax(axis=1) == t[i : i + batch])
        for i in range(0, len(x), batch)
    )
    return hits / len(x)


def stepper(seed=0):
    """The training step from SimpleConvNet(seed=seed)'s weights: step(x, t) -> loss; and the
    accuracy(x, t) of the weights it trains."""
    p = init(seed)
    state = adam_state(p)

    def step(x, t):
        loss, grads = gradient(p, x, t)
        adam(p, grads, state)
        return float(loss)

    return step, lambda x, t: accuracy(p, x, t)


def schedule(step, accuracy, train_set, test_set, iters=BOOK.iters, batch_size=100, seed=0,
             sample=BOOK.evaluate_sample):  # fmt: skip
    """The book's chapter-7 schedule with the batches and evaluations of tinygrad_ko's fit in
    `tinygrad-ko train --model convnet`: step(x, t) on each mini-batch, accuracy(x, t) on the
    first `sample` images of each set every epoch and on the whole test set at the end. Returns
    (losses, that test accuracy, seconds spent evaluating)."""
    (x_train, t_train), (x_test, t_test) = train_set, test_set
    rng = np.random.default_rng(seed)
    n, epoch, losses, eval_seconds = len(x_train), len(x_train) // batch_size, [], 0.0
    for i in range(iters):
        batch = rng.integers(0, n, batch_size)
        losses.append(step(x_train[batch], t_train[batch]))
        if i % epoch == 0 or i == iters - 1:
            start = time.perf_counter()
            accuracy(x_train[:sample], t_train[:sample])
            accuracy(x_test[:sample], t_test[:sample])
            eval_seconds += time.perf_counter() - start
    start = time.perf_counter()
    test_acc = accuracy(x_test, t_test)
    return losses, test_acc, eval_seconds + time.perf_counter() - start
