"""Numerical differentiation and gradient descent (book 4.3-4.4).

Slow but simple, and independent of backprop: that is what makes it the reference that
backprop is checked against (5.7.3, tinygrad_ko.checking.gradient_check).
"""

from __future__ import annotations

import numpy as np

from tinygrad_ko.engine.autograd import no_grad
from tinygrad_ko.engine.tensor import Tensor

__all__ = ["gradient_descent", "numerical_diff", "numerical_gradient", "numerical_gradient_2d"]


def numerical_diff(f, x, h=1e-4):
    """df/dx at x by the central difference (f(x+h) - f(x-h)) / 2h (4.3.1)."""
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f, x, h=1e-4, sample=None, seed=None):
    """The gradient of a scalar function f at x by central differences (4.4).

    x is a float array (or Tensor) of any shape, and f(x) returns a scalar. Each element of x
    is moved to x+h and x-h in place, so f may ignore its argument and read x itself (the
    book's `f = lambda W: net.loss(x, t)`). Every element is restored exactly afterwards, also
    when f raises. No graph is recorded while f runs.

    sample=k differentiates only k elements drawn at random (from `seed`) and returns a masked
    array in which the others are masked out: a per-element check of a large network at a
    fraction of the cost.
    """
    array = x.data if isinstance(x, Tensor) else x
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"numerical_gradient: x must be a NumPy array (it is changed in place, element by "
            f"element), got {type(x).__name__}; pass np.array(x, dtype=float)"
        )
    if array.dtype.kind != "f":
        raise TypeError(
            f"numerical_gradient: x has dtype {array.dtype}, which cannot hold x + h, so every "
            "difference would be 0; pass x.astype(np.float64)"
        )
    if not array.flags.writeable:
        raise ValueError("numerical_gradient: x is read-only, but it must be changed in place")
    grad = np.zeros_like(array)
    if sample is None:
        indices = np.ndindex(array.shape)
    else:
        if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or sample < 1:
            raise ValueError(
                f"numerical_gradient: sample must be a whole number >= 1, got {sample!r}"
            )
        chosen = np.sort(np.random.default_rng(seed).permutation(array.size)[:sample])
        taken = np.zeros(array.size, dtype=bool)
        taken[chosen] = True
        grad = np.ma.masked_array(grad, mask=~taken.reshape(array.shape))
        indices = zip(*np.unravel_index(chosen, array.shape))
    with no_grad():
        for index in indices:
            original = array[index]
            try:
                array[index] = original + h
                plus = _scalar(f(x))
                array[index] = original - h
                minus = _scalar(f(x))
            finally:
                array[index] = original
            grad.data[index] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_2d(f, x, h=1e-4):
    """The gradient of f at each row of a 2-D x (points, one per row), as the book's
    ch04/gradient_2d.py and common/gradient.py's numerical_gradient_2d take it: f receives one
    row and returns a scalar. A 1-D x is a single point."""
    array = x.data if isinstance(x, Tensor) else x
    if getattr(array, "ndim", None) != 2:
        return numerical_gradient(f, x, h)
    grad = np.zeros_like(array)
    for i, row in enumerate(array):  # each row is a view of x, moved in place
        grad[i] = numerical_gradient(f, row, h)
    return grad


def _scalar(value):
    value = value.data if isinstance(value, Tensor) else np.asarray(value)
    if value.size != 1:
        raise ValueError(
            f"numerical_gradient: f must return a scalar, it returned shape {value.shape}; "
            "to differentiate f at each row of a 2-D array of points, as the book's "
            "ch04/gradient_2d.py does, use numerical_gradient_2d(f, x)"
        )
    return value.item()


def gradient_descent(f, init_x, lr=0.01, step_num=100, return_path=False):
    """Gradient descent x ← x - lr·∇f(x) for step_num steps (4.4.1, eq. 4.7), with the
    gradient taken numerically. init_x is not modified; x keeps its float dtype (float64 for
    integer starting points).

    Returns the final x, or (x, path) with return_path=True, where path holds the
    step_num + 1 points visited, starting point included.
    """
    x = np.array(init_x)
    x = x if x.dtype.kind == "f" else x.astype(np.float64)
    path = [x.copy()]
    for _ in range(step_num):
        x -= lr * numerical_gradient(f, x)
        path.append(x.copy())
    return (x, np.array(path)) if return_path else x
