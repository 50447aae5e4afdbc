"""The book's activation and loss functions on NumPy arrays (chapters 3 and 4).

Plain functions, no graph: the layers and ops of tinygrad_ko build on them.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "CROSS_ENTROPY_DELTA",
    "cross_entropy_error",
    "identity_function",
    "log_softmax",
    "mean_squared_error",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_loss",
    "step_function",
    "sum_squares_error",
]

CROSS_ENTROPY_DELTA = 1e-7  # the book's guard against log(0) in cross_entropy_error (4.2.2)


def identity_function(x):
    """The output layer's activation for regression (3.5): x itself."""
    return x


def step_function(x):
    """1 where x > 0, else 0, as integers (eq. 3.3)."""
    return (np.asarray(x) > 0).astype(np.int64)


def sigmoid(x):
    """1 / (1 + exp(-x)) (eq. 3.6). For x below about -709 (-88 in float32), exp(-x) overflows
    to inf and the result is exactly its limit 0: that overflow is expected, so not warned."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-np.asarray(x)))


def sigmoid_grad(x):
    """The sigmoid's derivative at x: (1 - y)·y with y = sigmoid(x) (eq. 5.12)."""
    y = sigmoid(x)
    return (1.0 - y) * y


def relu(x):
    """max(0, x) (eq. 3.7)."""
    return np.maximum(x, 0)


def relu_grad(x):
    """The ReLU's derivative at x: 1 where x >= 0, else 0, as the book takes it at 0."""
    x = np.asarray(x)
    return (x >= 0).astype(x.dtype if x.dtype.kind == "f" else np.float64)


def softmax(x, axis=-1):
    """exp(x_k) / Σ exp(x_i) along `axis` (eq. 3.10), shifted by the max so exp never overflows
    (3.5.2)."""
    x = np.asarray(x)
    e = x - x.max(axis=axis, keepdims=True)  # one new array, exponentiated and divided in place
    if e.dtype.kind != "f":
        e = e.astype(np.float64)
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(x, axis=-1):
    """log softmax(x), exact and stable: (x - max) - log Σ exp(x - max)."""
    x = np.asarray(x)
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def sum_squares_error(y, t):
    """E = ½ Σ (y_k - t_k)² (eq. 4.1; 오차제곱합): 0.0975 for the book's "2" example."""
    y, t = np.asarray(y), np.asarray(t)
    if y.shape != t.shape:
        raise ValueError(f"sum_squares_error: y has shape {y.shape} but t has shape {t.shape}")
    return 0.5 * np.sum((y - t) ** 2)


mean_squared_error = sum_squares_error
"""The same E = ½ Σ (y - t)², under the name the book's code uses (not PyTorch's mean)."""


def cross_entropy_error(y, t):
    """E = -1/N Σ_n Σ_k t_nk log(y_nk + delta) (eq. 4.3) for probabilities y.

    t is one-hot (same shape as y) or integer class labels; a single sample (1-D y) is a batch
    of one. delta = 1e-7 is the book's guard against log(0). For logits, use the exact
    SoftmaxWithLoss instead.
    """
    y, t = as_batch("cross_entropy_error", y, t)
    n = y.shape[0]
    if t.shape == y.shape:
        return -np.sum(t * np.log(y + CROSS_ENTROPY_DELTA)) / n
    return -np.sum(np.log(pick("cross_entropy_error", y, t) + CROSS_ENTROPY_DELTA)) / n


def softmax_loss(x, t):
    """cross_entropy_error(softmax(x), t): the book's loss of scores x against targets t."""
    return cross_entropy_error(softmax(x), t)


def as_batch(op, y, t):
    """Scores y as a (batch, classes) float array, with targets t that are either one-hot rows of
    the same shape or integer labels in 0..classes-1, in a row or a column (the book's ch07
    gradient_check.py passes [[1]]; a 1-D y is a batch of one); else an error."""
    y, t = np.asarray(y), np.asarray(t)
    labels = y.ndim == 2 and t.dtype.kind in "iu" and t.shape == (len(y),)
    if labels and len(y) and y.dtype.kind == "f":
        return y, t  # labels: the common case (pick checks their range)
    if y.dtype.kind != "f":
        y = y.astype(np.float64)
    if y.ndim == 1:
        y, t = y[None], (t[None] if t.shape == y.shape else t.reshape(-1))
    if y.ndim != 2:
        raise ValueError(f"{op}: scores must be (batch, classes), got shape {y.shape}")
    n = len(y)
    if n == 0:
        raise ValueError(f"{op}: the batch is empty; a mean over no samples is undefined")
    if y.shape[1] == 0:
        raise ValueError(f"{op}: scores of shape {y.shape} have no classes to choose from")
    if t.ndim in (1, 2) and len(t) != n:
        raise ValueError(f"{op}: the batch sizes differ: {n} scores, {len(t)} targets")
    if t.shape == (n, 1) != y.shape and t.dtype.kind in "iu":  # a column of labels
        t = t[:, 0]
    if t.shape == y.shape:
        return y, _distributions(op, t)
    if t.shape != (n,):
        raise ValueError(
            f"{op}: targets of shape {t.shape} fit neither one-hot {y.shape} nor labels ({n},)"
        )
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: class labels must be integers, got dtype {t.dtype}")
    return y, t


def _distributions(op, t):
    """Targets of the scores' shape: rows of probabilities (one-hot rows are), each >= 0 and
    summing to 1, or a clear error naming the first row that is not."""
    if t.dtype.kind not in "biuf":
        raise TypeError(f"{op}: targets must be numbers, got dtype {t.dtype}")
    sums = t.sum(axis=1)
    bad = np.flatnonzero((np.abs(sums - 1) > 1e-4) | (t < 0).any(axis=1))
    if bad.size:
        row = int(bad[0])
        raise ValueError(
            f"{op}: target row {row} of shape {t.shape} is not a probability distribution "
            f"(one-hot row): it sums to {sums[row]:.6g}"
            f"{' and has negative entries' if (t[row] < 0).any() else ''}"
        )
    return t


def pick(op, y, t):
    """y[n, t[n]] for every row n: each sample's score for its label, every label checked to be
    in 0..classes-1 in one pass (seen as unsigned, a negative label is huge)."""
    classes = y.shape[1]
    # one pass: as 64-bit unsigned, a negative label is at least 2**63, beyond any class count
    if t.astype(np.intp, copy=False).view(np.uintp).max() >= classes:
        bad = t[(t < 0) | (t >= classes)][0]
        raise ValueError(f"{op}: label {bad} is outside the class range 0..{classes - 1}")
    return y[np.arange(len(y)), t]
