"""The floor: the chapter-5 ReLU network 784-50-10 written as one hand-fused NumPy loop
(float32, label indices, no graph, no checks), the fastest plain NumPy does it. tinygrad_ko's
training and gradient are measured against it in the same run."""

import time

import numpy as np


def init(seed=0, sizes=(784, 50, 10), std=0.01, dtype=np.float32):
    """The same starting weights as TwoLayerNet(*sizes, seed=seed)."""
    rng = np.random.default_rng(seed)
    n_in, hidden, n_out = sizes
    return {
        "W1": (std * rng.standard_normal((n_in, hidden))).astype(dtype),
        "b1": np.zeros(hidden, dtype),
        "W2": (std * rng.standard_normal((hidden, n_out))).astype(dtype),
        "b2": np.zeros(n_out, dtype),
    }


def softmax_cross_entropy(s, t):
    """The mean cross-entropy of scores s (N, classes) against labels t, and its gradient
    (softmax(s) - one-hot(t)) / N written over s: (loss, s)."""
    n, rows = len(s), np.arange(len(s))
    s -= s.max(axis=1, keepdims=True)
    picked = s[rows, t]  # the labels' shifted scores (a copy)
    np.exp(s, out=s)
    total = s.sum(axis=1, keepdims=True)
    s /= total
    loss = (np.log(total).sum() - picked.sum()) / n
    s[rows, t] -= 1
    s /= n
    return loss, s


def gradient(p, x, t):
    """(loss, {name: gradient}) of the mean cross-entropy, forward and backward fused."""
    h = x @ p["W1"]
    h += p["b1"]
    active = h > 0
    h *= active
    s = h @ p["W2"]
    s += p["b2"]
    loss, s = softmax_cross_entropy(s, t)
    dh = s @ p["W2"].T
    dh *= active
    return loss, {"W1": x.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ s, "b2": s.sum(axis=0)}


def accuracy(p, x, t):
    h = x @ p["W1"]
    h += p["b1"]
    np.maximum(h, 0, out=h)
    return float(np.mean((h @ p["W2"] + p["b2"]).argmax(axis=1) == t))


def train(train_set, test_set, iters=10000, batch_size=100, lr=0.1, seed=0):
    """The book's schedule with the same batches and evaluations as tinygrad_ko's fit:
    returns (losses, test accuracy after the last iteration, seconds spent evaluating)."""
    (x_train, t_train), (x_test, t_test) = train_set, test_set
    p, rng = init(seed), np.random.default_rng(seed)
    n, epoch, losses, eval_seconds, test_acc = (
        len(x_train),
        len(x_train) // batch_size,
        [],
        0.0,
        None,
    )
    for i in range(iters):
        batch = rng.integers(0, n, batch_size)
        loss, grads = gradient(p, x_train[batch], t_train[batch])
        losses.append(float(loss))
        for key, g in grads.items():
            g *= lr
            p[key] -= g
        if i % epoch == 0 or i == iters - 1:
            start = time.perf_counter()
            accuracy(p, x_train, t_train)
            test_acc = accuracy(p, x_test, t_test)
            eval_seconds += time.perf_counter() - start
    return losses, test_acc, eval_seconds
