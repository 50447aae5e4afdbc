"""Layers over time (book 2, chapters 5-6): the whole sequence (N, T, ...) in one node each.
TimeRNN and TimeLSTM run their cell over the T steps and backpropagate through time (5.3,
6.3); TimeEmbedding, TimeAffine, TimeSoftmaxWithLoss and TimeDropout do at every step what
their one-step layers do. Their arithmetic is the book's, in its order, so the book's numbers
come out to the last bit.

Stateful layers (stateful=True) carry the last hidden state (and memory cell) into the next
call, as truncated BPTT needs: the gradient stops at the call's first step. reset_state()
forgets it; set_state(h[, c]) sets it. In the graph, each layer is one node whose backward is
its hand-written BPTT; backward_graph runs the cell again in Tensor ops, for gradients of
gradients.
"""

from __future__ import annotations

import numpy as np

from tinygrad_ko.autograd import Function, backward_through
from tinygrad_ko.embedding import Embedding
from tinygrad_ko.functions import sigmoid, softmax
from tinygrad_ko.ops import add_at, concatenate, constant

__all__ = [
    "TimeAffine",
    "TimeDropout",
    "TimeEmbedding",
    "TimeLSTM",
    "TimeRNN",
    "TimeSoftmaxWithLoss",
]


NAMES = ("Wx", "Wh", "b")


def _sequence(layer, xs, features):
    """xs as (N, T, features), or a clear error naming the layer."""
    if xs.ndim != 3 or xs.shape[2] != features:
        raise ValueError(
            f"{type(layer).__name__}: xs must be a batch of sequences (N, T, {features}), got "
            f"shape {xs.shape}"
        )
    return xs.shape[:2]


def _dtype(layer, xs):
    """What the layer computes in: float32 for the book's float32 weights and inputs (its 'f'
    arrays), float64 when any is float64."""
    return np.result_type(xs.dtype, layer.Wx.dtype, layer.Wh.dtype, np.float32)


def _state(layer, name, n, hidden, dtype):
    """The hidden state (or memory cell) a stateful layer carries into this call: zeros when it
    is not stateful or has none, else the one it kept, which must be for n sequences."""
    kept = getattr(layer, name)
    if not layer.stateful or kept is None:
        return np.zeros((n, hidden), dtype=dtype)
    if kept.shape != (n, hidden):
        raise ValueError(
            f"{type(layer).__name__}: the state it keeps is for {len(kept)} sequences, but this "
            f"batch has {n}; call reset_state() when the batch size changes"
        )
    return kept


def _stacked(steps):
    """Tensors (N, H), one per step, as (N, T, H)."""
    n, h = steps[0].shape
    return concatenate([s.reshape(n, 1, h) for s in steps], axis=1)


class TimeRNN(Function):
    """T steps of the RNN cell (5.3.1): h_t = tanh(h_{t-1}·Wh + x_t·Wx + b), and BPTT."""

    param_names = ("Wx", "Wh", "b")

    def __init__(self, Wx, Wh, b, stateful=False):
        self.Wx, self.Wh, self.b = (self.book_input(n, w) for n, w in zip(NAMES, (Wx, Wh, b)))
        self.stateful, self.h, self.dh = stateful, None, None

    def forward(self, xs):
        xs = self.book_input("xs", xs)
        n, steps = _sequence(self, xs, len(self.Wx))
        hidden, dtype = self.Wh.shape[0], _dtype(self, xs)
        self.h0 = h = _state(self, "h", n, hidden, dtype)
        hs = np.empty((n, steps, hidden), dtype=dtype)
        self.cache = []
        for t in range(steps):
            x = xs[:, t, :]
            h_next = np.tanh(np.dot(h, self.Wh) + np.dot(x, self.Wx) + self.b)
            self.cache.append((x, h, h_next))
            hs[:, t, :] = h = h_next
        self.h, self.xs_shape, self.out_shape, self.out_dtype = h, xs.shape, hs.shape, dtype
        return hs

    def backward(self, dhs):
        dhs = self.book_dout(dhs)
        steps = dhs.shape[1]
        dxs = np.empty(self.xs_shape, dtype=self.out_dtype)
        dh, grads = 0, [0, 0, 0]
        for t in reversed(range(steps)):
            x, h_prev, h_next = self.cache[t]
            dt = (dhs[:, t, :] + dh) * (1 - h_next**2)
            step_grads = (np.dot(x.T, dt), np.dot(h_prev.T, dt), np.sum(dt, axis=0))
            dh = np.dot(dt, self.Wh.T)
            dxs[:, t, :] = np.dot(dt, self.Wx.T)
            for i, (g, w) in enumerate(zip(step_grads, (self.Wx, self.Wh, self.b))):
                grads[i] += g.astype(w.dtype, copy=False)  # each step's, as its weight's dtype
        self.dWx, self.dWh, self.db = _store(self, grads)
        self.dh = dh
        return dxs if self.needs_grad(0) else None

    def backward_graph(self, dout, out):
        return backward_through(self.unrolled, self, dout)

    def unrolled(self, xs, Wx, Wh, b):
        """forward in Tensor ops, a cell per step, from the same first state."""
        h, steps = constant(self.h0, Wx), []
        for t in range(xs.shape[1]):
            h = (h @ Wh + xs[:, t, :] @ Wx + b).tanh()
            steps.append(h)
        return _stacked(steps)

    def set_state(self, h):
        self.h = h

    def reset_state(self):
        self.h = None


class TimeLSTM(Function):
    """T steps of the LSTM cell (6.3): A = x_t·Wx + h_{t-1}·Wh + b split into the gates f, g, i,
    o (in that order, as the book packs them); c_t = f·c_{t-1} + g·i, h_t = o·tanh(c_t); and
    BPTT."""

    param_names = ("Wx", "Wh", "b")

    def __init__(self, Wx, Wh, b, stateful=False):
        self.Wx, self.Wh, self.b = (self.book_input(n, w) for n, w in zip(NAMES, (Wx, Wh, b)))
        self.stateful, self.h, self.c, self.dh = stateful, None, None, None

    def forward(self, xs):
        xs = self.book_input("xs", xs)
        n, steps = _sequence(self, xs, len(self.Wx))
        H, dtype = self.Wh.shape[0], _dtype(self, xs)
        self.h0 = h = _state(self, "h", n, H, dtype)
        self.c0 = c = _state(self, "c", n, H, dtype)
        hs = np.empty((n, steps, H), dtype=dtype)
        self.cache = []
        for t in range(steps):
            x = xs[:, t, :]
            A = np.dot(x, self.Wx) + np.dot(h, self.Wh) + self.b
            f, g = sigmoid(A[:, :H]), np.tanh(A[:, H : 2 * H])
            i, o = sigmoid(A[:, 2 * H : 3 * H]), sigmoid(A[:, 3 * H :])
            c_next = f * c + g * i
            h_next = o * np.tanh(c_next)
            self.cache.append((x, h, c, i, f, g, o, c_next))
            h, c = h_next, c_next
            hs[:, t, :] = h
        self.h, self.c, self.xs_shape, self.out_shape = h, c, xs.shape, hs.shape
        self.out_dtype = dtype
        return hs

    def backward(self, dhs):
        dhs = self.book_dout(dhs)
        steps = dhs.shape[1]
        dxs = np.empty(self.xs_shape, dtype=self.out_dtype)
        dh, dc, grads = 0, 0, [0, 0, 0]
        for t in reversed(range(steps)):
            x, h_prev, c_prev, i, f, g, o, c_next = self.cache[t]
            dh_next = dhs[:, t, :] + dh
            tanh_c_next = np.tanh(c_next)
            ds = dc + (dh_next * o) * (1 - tanh_c_next**2)
            dc = ds * f
            di, df, do, dg = ds * g, ds * c_prev, dh_next * tanh_c_next, ds * i
            di *= i * (1 - i)
            df *= f * (1 - f)
            do *= o * (1 - o)
            dg *= 1 - g**2
            dA = np.hstack((df, dg, di, do))
            step_grads = (np.dot(x.T, dA), np.dot(h_prev.T, dA), dA.sum(axis=0))
            dxs[:, t, :] = np.dot(dA, self.Wx.T)
            dh = np.dot(dA, self.Wh.T)
            for k, (gk, w) in enumerate(zip(step_grads, (self.Wx, self.Wh, self.b))):
                grads[k] += gk.astype(w.dtype, copy=False)
        self.dWx, self.dWh, self.db = _store(self, grads)
        self.dh = dh
        return dxs if self.needs_grad(0) else None

    def backward_graph(self, dout, out):
        return backward_through(self.unrolled, self, dout)

    def unrolled(self, xs, Wx, Wh, b):
        """forward in Tensor ops, a cell per step, from the same first state."""
        H = Wh.shape[0]
        h, c, steps = constant(self.h0, Wx), constant(self.c0, Wx), []
        for t in range(xs.shape[1]):
            A = xs[:, t, :] @ Wx + h @ Wh + b
            f, g = A[:, :H].sigmoid(), A[:, H : 2 * H].tanh()
            i, o = A[:, 2 * H : 3 * H].sigmoid(), A[:, 3 * H :].sigmoid()
            c = f * c + g * i
            h = o * c.tanh()
            steps.append(h)
        return _stacked(steps)

    def set_state(self, h, c=None):
        self.h, self.c = h, c

    def reset_state(self):
        self.h, self.c = None, None


def _store(layer, grads):
    """The weights' gradients summed over the steps: into book 2's grads arrays, in place, when
    the layer has them (as the book's Time layers write them), else as they are."""
    book2 = layer.book2_grads()
    if book2 is None:  # in the graph: only those wanted (weights are the inputs after xs)
        return [g if layer.needs_grad(i) else None for i, g in enumerate(grads, 1)]
    for array, g in zip(book2, grads):
        array[...] = g
    return book2


class TimeEmbedding(Embedding):
    """Embedding at every step (5.4.2): out[n, t] = W[xs[n, t]]. Its dW is the book's: the
    rows of each step added at its ids, then the steps' arrays added in step order."""

    def forward(self, xs):
        self.steps = np.shape(xs)[1] if np.ndim(xs) == 2 else None
        if self.steps is None:
            raise ValueError(f"TimeEmbedding: xs must be word ids (N, T), got shape {np.shape(xs)}")
        return super().forward(xs)

    def backward(self, dout):
        dout = self.book_dout(dout)
        if not self.needs_grad(1):
            self.dW = None
            return None
        # the book's order of sums, on the rows the batch uses only: per step, its rows added in
        # turn (as np.add.at); then step by step into the total (adding zeros changes nothing)
        rows, local = np.unique(self.idx, return_inverse=True)
        local = local.reshape(self.idx.shape)
        total = None
        for t in range(self.steps):
            step = np.zeros((len(rows), dout.shape[2]), dtype=self.W.dtype)
            add_at(step, local[:, t], dout[:, t, :])
            total = step if total is None else total + step
        grads = self.book2_grads()
        dW = np.zeros_like(self.W) if grads is None else grads[0]
        if grads is not None:
            dW[...] = 0
        dW[rows] = total
        self.dW = dW
        return None


class TimeAffine(Function):
    """Affine at every step (5.4.2), as one product: out = xs·W + b over (N·T, D)."""

    param_names = ("W", "b")

    def __init__(self, W, b):
        self.W, self.b = self.book_input("W", W), self.book_input("b", b)

    def forward(self, xs):
        xs = self.book_input("xs", xs)
        n, steps = _sequence(self, xs, len(self.W))
        self.x = xs
        out = np.dot(xs.reshape(n * steps, -1), self.W) + self.b
        self.out_shape = (n, steps, out.shape[1])
        return out.reshape(self.out_shape)

    def backward(self, dout):
        dout = self.book_dout(dout)
        n, steps, _ = self.x.shape
        dout = dout.reshape(n * steps, -1)
        rx = self.x.reshape(n * steps, -1)
        grads = [np.dot(rx.T, dout), np.sum(dout, axis=0)]
        self.dW, self.db = _store(self, grads)
        return np.dot(dout, self.W.T).reshape(*self.x.shape) if self.needs_grad(0) else None

    def backward_graph(self, dout, out):
        xs, W, _ = self.inputs
        n, steps, _ = xs.shape
        d2 = dout.reshape(n * steps, -1)
        return (
            (d2 @ W.T).reshape(xs.shape) if self.needs_grad(0) else None,
            xs.reshape(n * steps, -1).T @ d2 if self.needs_grad(1) else None,
            d2.sum(axis=0) if self.needs_grad(2) else None,
        )


class TimeSoftmaxWithLoss(Function):
    """Softmax-with-Loss at every step (5.4.3): the mean cross-entropy over the N·T positions
    whose label is not ignore_label (-1: padding); its gradient is 0 at those."""

    ignore_label = -1

    def forward(self, xs, ts):
        if self.needs_input_grad is not None and self.needs_input_grad[1]:
            raise ValueError(
                "TimeSoftmaxWithLoss: the labels ts require a gradient; pass ts.detach()"
            )
        xs, ts = self.book_input("xs", xs), np.asarray(ts)
        if ts.ndim == 3:  # one-hot
            ts = ts.argmax(axis=2)
        if xs.ndim != 3 or ts.shape != xs.shape[:2]:
            raise ValueError(
                f"TimeSoftmaxWithLoss: scores xs (N, T, V) and labels ts (N, T) do not fit: "
                f"shapes {xs.shape} and {ts.shape}"
            )
        n, steps, classes = xs.shape
        mask = (ts != self.ignore_label).reshape(n * steps)
        ts = ts.reshape(n * steps)
        ys = softmax(xs.reshape(n * steps, classes))
        ls = np.log(ys[np.arange(n * steps), ts])
        ls *= mask
        loss = -np.sum(ls)
        loss /= mask.sum()  # float64, as the book's (book 2's layer returns this)
        self.loss, self.cache, self.out_shape = loss, (ts, ys, mask, xs.shape), ()
        return xs.dtype.type(loss)

    def backward(self, dout=1):
        dout = self.book_dout(dout)
        ts, ys, mask, shape = self.cache
        dx = ys.copy()
        dx[np.arange(len(ts)), ts] -= 1
        dx *= dout
        dx /= mask.sum()
        dx *= mask[:, np.newaxis]
        return dx.reshape(shape)

    def backward_graph(self, dout, out):
        xs = self.inputs[0]
        ts, _, mask, (n, steps, classes) = self.cache
        one_hot = np.eye(classes)[ts] * mask[:, None]
        ys = xs.reshape(n * steps, classes).softmax(axis=1)
        dx = (ys * constant(mask[:, None], xs) - constant(one_hot, xs)) * dout / mask.sum()
        return dx.reshape(xs.shape)


class TimeDropout(Function):
    """Dropout at every step (6.5.2), inverted: in training each unit is kept with probability
    1 - dropout_ratio and scaled by 1 / (1 - dropout_ratio); in evaluation xs passes as it is.
    Masks are drawn from NumPy's global random state, as the book draws them."""

    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio, self.train_flg, self.mask = dropout_ratio, True, None

    def forward(self, xs):
        xs = self.book_input("xs", xs)
        if xs.ndim != 3:
            raise ValueError(f"TimeDropout: xs must be sequences (N, T, D), got shape {xs.shape}")
        self.out_shape = xs.shape
        if not self.train_flg:
            self.mask = None
            return xs
        kept = np.random.rand(*xs.shape) > self.dropout_ratio
        dtype = np.result_type(xs.dtype, np.float32)  # the book's float32 mask, for float32
        self.mask = kept.astype(dtype) * (1 / (1.0 - self.dropout_ratio))
        return xs * self.mask

    def backward(self, dout):
        dout = self.book_dout(dout)
        return dout if self.mask is None else dout * self.mask

    def backward_graph(self, dout, out):
        return dout if self.mask is None else dout * constant(self.mask, dout)
