"""The layers of chapter 6 that train deep networks well: BatchNormalization (6.3) and Dropout
(6.4.3), each with the book's backward rule, used the book's way (forward(x, train_flg),
backward(dout), dgamma, dbeta) or as one node of the graph.

Both behave differently in training and in evaluation. The book passes train_flg to forward;
left out, the layer follows its `training` attribute (True unless set), which a network's
train() and eval() set on all its layers, as PyTorch's do.
"""

from __future__ import annotations

import numbers

import numpy as np

from tinygrad_ko.engine.autograd import Function, backward_through
from tinygrad_ko.engine.ops import constant

__all__ = ["BatchNormalization", "Dropout"]

EPSILON = 10e-7  # the book's guard in √(σ² + ε), 1e-6


def training(layer, train_flg):
    """train_flg when given (the book's way), else the layer's own mode."""
    return layer.training if train_flg is None else bool(train_flg)


class Dropout(Function):
    """Dropout (6.4.3): in training, each unit is kept where a uniform draw exceeds
    dropout_ratio and zeroed elsewhere, dx = dout·mask; in evaluation every unit is kept and
    scaled by 1 - dropout_ratio, as the book does (PyTorch scales in training instead). Masks
    are drawn from rng (a NumPy Generator), else from NumPy's global random state, as the book
    draws them."""

    training = True

    def __init__(self, dropout_ratio=0.5, rng=None):
        if not isinstance(dropout_ratio, numbers.Real) or not 0 <= dropout_ratio < 1:
            raise ValueError(
                f"Dropout: dropout_ratio is the fraction of units dropped, from 0 up to but not "
                f"including 1; got {dropout_ratio!r}"
            )
        self.dropout_ratio, self.rng = dropout_ratio, rng

    def forward(self, x, train_flg=None):
        x = self.book_input("x", x)
        self.out_shape = x.shape
        if not training(self, train_flg):
            self.mask = None
            return x * (1.0 - self.dropout_ratio)
        draw = np.random.random if self.rng is None else self.rng.random  # np.random.rand's
        self.mask = draw(x.shape) > self.dropout_ratio
        return x * self.mask

    def backward(self, dout):
        dout = self.book_dout(dout)
        return dout * (1.0 - self.dropout_ratio) if self.mask is None else dout * self.mask

    def backward_graph(self, dout, out):
        if self.mask is None:
            return dout * (1.0 - self.dropout_ratio)
        return dout * constant(self.mask, dout)


class BatchNormalization(Function):
    """Batch normalization (6.3.1): in training, each feature is normalized over the batch,
    xn = (x - μ) / √(σ² + ε), then y = γ·xn + β, and running averages of μ and σ² are kept
    (running = momentum·running + (1 - momentum)·batch's); in evaluation the running averages
    stand in for the batch's. The backward rule is the book's computational graph (6.3.2).
    x is (N, D), or (N, C, H, W) normalized per each of the C·H·W features, as the book does.
    """

    param_names = ("gamma", "beta")
    training = True

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma, self.beta = self.book_input("gamma", gamma), self.book_input("beta", beta)
        if np.ndim(self.gamma) != 1 or np.shape(self.beta) != np.shape(self.gamma):
            raise ValueError(
                f"BatchNormalization: gamma and beta must be vectors of one length (a scale and "
                f"a shift per feature), got shapes {np.shape(self.gamma)} and "
                f"{np.shape(self.beta)}"
            )
        self.momentum = momentum
        # updated in place, so they are the layer's whichever node of the graph trains them
        dtype, size = self.gamma.dtype, np.shape(self.gamma)
        self.running_mean = (
            np.zeros(size, dtype) if running_mean is None else np.array(running_mean, dtype)
        )
        self.running_var = (
            np.zeros(size, dtype) if running_var is None else np.array(running_var, dtype)
        )

    def forward(self, x, train_flg=None):
        x = self.book_input("x", x)
        self.input_shape = self.out_shape = x.shape
        features = np.shape(self.gamma)[0]
        if x.ndim not in (2, 4) or len(x) == 0 or x[0].size != features:
            raise ValueError(
                f"BatchNormalization: x must be a batch (N, D) or (N, C, H, W) of at least one "
                f"sample with D or C·H·W = {features} features, as gamma has; got shape "
                f"{x.shape}"
            )
        x = x.reshape(len(x), -1) if x.ndim != 2 else x
        self.train_flg = training(self, train_flg)
        if self.train_flg:
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc**2, axis=0)
            std = np.sqrt(var + EPSILON)
            self.running_mean *= self.momentum
            self.running_mean += (1 - self.momentum) * mu
            self.running_var *= self.momentum
            self.running_var += (1 - self.momentum) * var
        else:
            mu = self.running_mean.copy()  # kept for backward_graph: training moves the running
            xc = x - mu
            std = np.sqrt(self.running_var + EPSILON)
        self.batch_size, self.mu, self.xc, self.std = len(x), mu, xc, std
        self.xn = xc / std
        out = self.gamma * self.xn + self.beta
        return out.reshape(self.input_shape)

    def backward(self, dout):
        dout = self.book_dout(dout)
        dout = dout.reshape(len(dout), -1) if dout.ndim != 2 else dout
        self.dbeta = dout.sum(axis=0) if self.needs_grad(2) else None
        self.dgamma = np.sum(self.xn * dout, axis=0) if self.needs_grad(1) else None
        if not self.needs_grad(0):
            return None
        dxn = self.gamma * dout
        dxc = dxn / self.std
        if self.train_flg:  # μ and σ² depend on x too (6.3.2)
            dstd = -np.sum((dxn * self.xc) / (self.std * self.std), axis=0)
            dvar = 0.5 * dstd / self.std
            dxc += (2.0 / self.batch_size) * self.xc * dvar
            dmu = np.sum(dxc, axis=0)
            dxc = dxc - dmu / self.batch_size
        return dxc.reshape(self.input_shape)

    def backward_graph(self, dout, out):
        """The forward again in Tensor ops, differentiated: in training μ and σ² are functions
        of x, so the second derivative is the true one (not that of a constant 1/σ)."""
        return backward_through(self.normalize, self, dout)

    def normalize(self, x, gamma, beta):
        """forward's y = γ·(x - μ)/√(σ² + ε) + β in Tensor ops, with this call's statistics."""
        flat = x.reshape(len(x), -1)
        if self.train_flg:
            xc = flat - flat.mean(axis=0)
            std = ((xc * xc).mean(axis=0) + EPSILON) ** 0.5
        else:
            xc, std = flat - constant(self.mu, x), constant(self.std, x)
        return (gamma * (xc / std) + beta).reshape(self.input_shape)
