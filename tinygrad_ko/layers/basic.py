"""The layers of chapter 5, each one node of the graph with the book's own backward rule.

Book way: `layer.forward(x)` and `layer.backward(dout)` on NumPy arrays, with the book's
attribute names (Affine sets layer.dW and layer.db). Graph way: call the layer on tensors,
`SoftmaxWithLoss()(Affine(W2, b2)(ReLU()(Affine(W1, b1)(x))), t)`, then loss.backward().
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from tinygrad_ko.engine.autograd import Function
from tinygrad_ko.engine.functions import as_batch, pick, sigmoid
from tinygrad_ko.engine.ops import constant, reshaped, unbroadcast
from tinygrad_ko.engine.tensor import Tensor

__all__ = ["Affine", "MatMul", "ReLU", "Relu", "Sigmoid", "SigmoidWithLoss", "SoftmaxWithLoss"]


class ReLU(Function):
    """ReLU layer (5.5.1): y = x where x > 0, else 0; dx = dout where x > 0, else 0.

    Like the book's, it keeps mask = (x <= 0); in the graph, only when a backward can follow,
    so evaluation does no more than np.maximum.
    """

    def forward(self, x):
        x = self.book_input("x", x)
        if self.needs_grad(0):
            self.mask = x <= 0
        self.out_shape = x.shape
        return np.maximum(x, 0)

    def backward(self, dout):
        dout = self.book_dout(dout)
        # no inf or NaN in dout (Σ dout² is finite; a huge one only takes the slower path):
        # masking by a product is exact, and much faster than np.where in the training loop
        if math.isfinite(np.vdot(dout, dout)):
            return dout * ~self.mask
        return np.where(self.mask, 0, dout)  # 0·inf would be NaN; the book's dx is 0

    def backward_graph(self, dout, out):  # the mask is constant near any x off the kink
        x = self.inputs[0]
        return dout * constant(x.data > 0, x)


Relu = ReLU  # the book's spelling


class Sigmoid(Function):
    """Sigmoid layer (5.5.2): y = 1 / (1 + exp(-x)); dx = dout·y·(1 - y)."""

    def forward(self, x):
        self.out = sigmoid(self.book_input("x", x))
        self.out_shape = self.out.shape
        return self.out

    def backward(self, dout):
        return self.book_dout(dout) * (1.0 - self.out) * self.out

    def backward_graph(self, dout, out):
        return dout * (1.0 - out) * out


class Affine(Function):
    """Affine layer (5.6.2): y = x·W + b; dx = dout·Wᵀ, dW = xᵀ·dout, db = Σ_n dout.

    W and b are NumPy arrays (book way) or tensors (graph way). x may have more than two
    axes; each sample is then flattened, and dx gets x's shape back.
    """

    param_names = ("W", "b")

    def __init__(self, W, b):
        self.W, self.b = self.book_input("W", W), self.book_input("b", b)

    def forward(self, x):
        W, b = self.W, self.b
        x = self.book_input("x", x)
        if x.ndim == 0:
            raise ValueError("Affine: the input is a scalar; it must be a sample or a batch")
        self.x_shape = x.shape
        if x.ndim != 2:  # one sample, or samples to flatten
            x = x.reshape(1 if x.ndim == 1 else x.shape[0], -1)
        if W.ndim != 2 or x.shape[1] != W.shape[0]:
            raise ValueError(
                f"Affine: input of shape {self.x_shape} has {x.shape[1]} features per sample, "
                f"but W has shape {W.shape}; W must be ({x.shape[1]}, outputs)"
            )
        if b.shape not in ((W.shape[1],), (1, W.shape[1])):
            raise ValueError(
                f"Affine: b has shape {b.shape}; with W {W.shape} it must be ({W.shape[1]},)"
            )
        self.x = x
        out = x @ W
        if out.dtype == b.dtype:
            out += b  # in place: one array fewer
        else:
            out = out + b
        out = out[0] if len(self.x_shape) == 1 else out
        self.out_shape = out.shape
        return out

    def backward(self, dout):
        dout = self.book_dout(dout)
        if dout.ndim != 2:
            dout = dout.reshape(self.x.shape[0], -1)
        needs = self.needs_input_grad or (True, True, True)  # x, W, b; all, the book's way
        self.dW = self.x.T @ dout if needs[1] else None
        self.db = unbroadcast(dout, self.b.shape) if needs[2] else None
        grads = self.book2_grads()
        if grads is not None:
            grads[0][...], grads[1][...] = self.dW, self.db
        if not needs[0]:
            return None  # the input batch: no dout·Wᵀ at all
        dx = dout @ self.W.T
        return dx if dx.shape == self.x_shape else dx.reshape(self.x_shape)

    def backward_graph(self, dout, out):
        x, W, b = self.inputs
        x2 = reshaped(x, self.x.shape)
        dout = reshaped(dout, (len(self.x), W.shape[1]))
        return (
            reshaped(dout @ W.T, x.shape) if self.needs_grad(0) else None,
            x2.T @ dout if self.needs_grad(1) else None,
            dout.sum_to(b.shape) if self.needs_grad(2) else None,
        )


class SoftmaxWithLoss(Function):
    """Softmax-with-Loss layer (5.6.3): the mean cross-entropy of softmax(x) against t, and its
    clean gradient dx = (y - t) / N.

    t holds one-hot rows (or any probabilities) or integer labels. The loss is exact, computed
    through a stable log-softmax with no delta, so it equals PyTorch's cross_entropy even for
    logits of size 1e4. A 1-D x is a single sample. With delta (the book's code uses 1e-7), the
    loss is the book's instead, -Σ log(y + delta) / N for each sample's label (4.2.2), which
    differs where a label's probability comes near delta; the gradient is the same.
    """

    def __init__(self, delta=None):
        self.delta = delta

    def forward(self, x, t):
        if self.needs_input_grad is not None and self.needs_input_grad[1]:
            raise ValueError(
                f"SoftmaxWithLoss: the targets t (shape {t.shape}) require a gradient, but the "
                "layer gives one only for the scores x; pass t.detach()"
            )
        self.x_shape, self.out_shape = x.shape if type(x) is np.ndarray else np.shape(x), ()
        x, t = as_batch("SoftmaxWithLoss", x, t)
        n = x.shape[0]
        z = x - x.max(axis=1, keepdims=True)  # log softmax = z - log Σ exp z, exactly
        y = np.exp(z)
        total = y.sum(axis=1, keepdims=True)
        y /= total
        log_total = np.log(total, out=total)
        if self.delta:
            labels = t.argmax(axis=1) if t.shape == x.shape else t
            self.loss = -np.sum(np.log(pick("SoftmaxWithLoss", y, labels) + self.delta)) / n
        elif t.shape == x.shape:
            self.loss = np.sum(t * (log_total - z)) / n
        else:  # the mean of per-sample losses: no cancellation between two large sums
            self.loss = (log_total[:, 0] - pick("SoftmaxWithLoss", z, t)).sum() / n
        self.t, self.y = t, y
        return x.dtype.type(self.loss)  # a NumPy scalar, as the book's forward returns

    def backward(self, dout=1):
        dout = _scale(self, dout)
        if self.t.shape == self.y.shape:
            dx = self.y - self.t
        else:
            dx = self.y.copy()
            dx[np.arange(len(dx)), self.t] -= 1  # labels checked by forward
        if dout != 1:
            dx *= dout
        dx /= len(self.y)  # divided, as the books' code divides: their numbers to the last bit
        return dx if dx.shape == self.x_shape else dx.reshape(self.x_shape)

    def backward_graph(self, dout, out):
        """(softmax(x) - t)·dout / N, with softmax(x) in the graph and t a constant."""
        x = self.inputs[0]
        t = self.t if self.t.shape == self.y.shape else np.eye(self.y.shape[1])[self.t]
        y = reshaped(x, self.y.shape).softmax(axis=1)
        return reshaped((y - constant(t, x)) * (dout / len(self.y)), x.shape)


class SigmoidWithLoss(Function):
    """Sigmoid-with-Loss layer (book 2, 4.2.3): the mean binary cross-entropy of y = sigmoid(x)
    against t, 1 for a positive example and 0 for a negative one (or a probability), and its
    clean gradient dx = (y - t) / N.

    The loss is exact, log(1 + exp(x)) - t·x computed stably; with delta (book 2's code uses
    1e-7) and labels, it is the book's -Σ log(p + delta) / N, p being y for label 1 and 1 - y
    for label 0.
    """

    def __init__(self, delta=None):
        self.delta = delta

    def forward(self, x, t):
        if self.needs_input_grad is not None and self.needs_input_grad[1]:
            raise ValueError(
                f"SigmoidWithLoss: the targets t (shape {t.shape}) require a gradient, but the "
                "layer gives one only for the scores x; pass t.detach()"
            )
        x, t = self.book_input("x", x), np.asarray(t)
        if x.ndim != 1 or x.shape != t.shape or x.size == 0:
            raise ValueError(
                f"SigmoidWithLoss: scores x {x.shape} and targets t {t.shape} must be two "
                "vectors of one length: a score and a label (1 or 0) per example"
            )
        if t.dtype.kind not in "biuf" or ((t < 0) | (t > 1)).any():
            raise ValueError("SigmoidWithLoss: targets must be labels 1 or 0 or probabilities")
        self.t, self.y, self.out_shape = t, sigmoid(x), ()
        if self.delta:
            if t.dtype.kind == "f" and ((t != 0) & (t != 1)).any():
                raise ValueError("SigmoidWithLoss: with delta, targets must be labels 1 or 0")
            picked = np.where(t == 1, self.y, 1 - self.y)
            return -np.sum(np.log(picked + self.delta)) / len(x)
        softplus = np.logaddexp(0, x)  # -log(1 - y), exactly, for any x
        return x.dtype.type(np.sum(softplus - t.astype(x.dtype) * x) / len(x))

    def backward(self, dout=1):
        dout = _scale(self, dout)
        return (self.y - self.t) * dout / len(self.t)  # book 2's order of operations

    def backward_graph(self, dout, out):
        x = self.inputs[0]
        return (x.sigmoid() - constant(self.t, x)) * dout / len(self.t)


def _scale(loss_layer, dout):
    """A loss layer's dout, checked; a number stays the number it is (a Python float scales
    float32 in float32, as in the books' code; a 0-d array would not)."""
    checked = loss_layer.book_dout(dout)
    return dout if isinstance(dout, numbers.Number) else checked


class MatMul(Function):
    """MatMul layer (book 2, 1.3.4): out = x·W, a layer holding its weight W; dx = dout·Wᵀ,
    dW = xᵀ·dout."""

    param_names = ("W",)

    def __init__(self, W):
        self.W = self.book_input("W", W)

    def forward(self, x):
        x = self.book_input("x", x)
        if x.ndim != 2 or x.shape[1] != self.W.shape[0]:
            raise ValueError(
                f"MatMul: x must be a batch (N, {self.W.shape[0]}) for W {self.W.shape}, got "
                f"shape {x.shape}"
            )
        self.x, self.out_shape = x, (len(x), self.W.shape[1])
        return np.dot(x, self.W)

    def backward(self, dout):
        dout = self.book_dout(dout)
        self.dW = np.dot(self.x.T, dout) if self.needs_grad(1) else None
        grads = self.book2_grads()
        if grads is not None:
            grads[0][...] = self.dW
        return np.dot(dout, self.W.T) if self.needs_grad(0) else None

    def backward_graph(self, dout, out):
        x, W = self.inputs
        return (
            dout @ W.T if self.needs_grad(0) else None,
            x.T @ dout if self.needs_grad(1) else None,
        )


# the activations as tensor methods, x.relu() and x.sigmoid(), as PyTorch has them
Tensor.relu = lambda self: ReLU()(self)
Tensor.sigmoid = lambda self: Sigmoid()(self)
