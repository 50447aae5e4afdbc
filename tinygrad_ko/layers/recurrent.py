"""Layers over time (book 2, chapters 5-6): the whole sequence (N, T, ...) in one node each.
TimeRNN and TimeLSTM run their cell over the T steps and backpropagate through time (5.3,
6.3); TimeEmbedding, TimeAffine, TimeSoftmaxWithLoss and TimeDropout do at every step what
their one-step layers do. Their arithmetic is the book's, in its order, so with the book's
float32 weights and inputs its numbers come out to the last bit. (With float64 they compute in
float64; the book's store their states in float32 whatever they are given.)

Stateful layers (stateful=True) carry the last hidden state (and memory cell) into the next
call, as truncated BPTT needs: the gradient stops at the call's first step. reset_state()
forgets it; set_state(h[, c]) sets it. In the graph, each layer is one node whose backward is
its hand-written BPTT; backward_graph runs the cell again in Tensor ops, for gradients of
gradients.
"""

from __future__ import annotations

import numbers

import numpy as np

from tinygrad_ko.engine.autograd import Function, backward_through
from tinygrad_ko.engine.functions import sigmoid, softmax
from tinygrad_ko.engine.ops import add_at, concatenate, constant
from tinygrad_ko.engine.tensor import Tensor
from tinygrad_ko.layers.embedding import Embedding

__all__ = [
    "GRU",
    "RNN",
    "TimeAffine",
    "TimeDropout",
    "TimeEmbedding",
    "TimeGRU",
    "TimeLSTM",
    "TimeRNN",
    "TimeSoftmaxWithLoss",
    "gru_step",
    "gru_step_backward",
    "lstm_step",
    "lstm_step_backward",
    "rnn_step",
    "rnn_step_backward",
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


def _weights(layer, gates):
    """Wx (D, gates·H), Wh (H, gates·H) and b (gates·H,), or a clear error naming the layer."""
    Wx, Wh = np.shape(layer.Wx), np.shape(layer.Wh)
    b = np.shape(layer.b) if hasattr(layer, "b") else None
    H = Wh[0] if len(Wh) == 2 else None
    fits = len(Wx) == 2 and H is not None and Wh[1] == gates * H and Wx[1] == gates * H
    if not fits or b not in (None, (gates * H,)):
        raise ValueError(
            f"{type(layer).__name__}: the weights must be Wx (D, {gates}·H), Wh (H, {gates}·H)"
            f"{f' and b ({gates}·H,)' if b is not None else ''}; got Wx {Wx}, Wh {Wh}"
            f"{f', b {b}' if b is not None else ''}"
        )


def _dtype(layer, xs):
    """What the layer computes in: float32 for the book's float32 weights and inputs (its 'f'
    arrays), float64 when any is float64."""
    return np.result_type(xs.dtype, layer.Wx.dtype, layer.Wh.dtype, np.float32)


def _state(layer, name, n, hidden, dtype):
    """The hidden state (or memory cell) a stateful layer carries into this call: zeros when it
    is not stateful or has none, else the one it kept, which must be (n, hidden)."""
    kept = getattr(layer, name)
    if not layer.stateful or kept is None:
        return np.zeros((n, hidden), dtype=dtype)
    if np.shape(kept) != (n, hidden):
        raise ValueError(
            f"{type(layer).__name__}: its state {name} has shape {np.shape(kept)}, but this batch "
            f"of {n} sequences needs ({n}, {hidden}); call reset_state() when the batch size "
            "changes, or set_state() with a state of that shape"
        )
    return kept


class Stateful:
    """The state a recurrent layer carries from one call to the next (h, and c for an LSTM),
    and dh, the gradient of the first state: kept in one dictionary that every node of the
    layer shares (a graph node is a copy of the layer), so calling the layer on tensors carries
    the state on as calling forward does."""

    def _memory(self):
        memory = self.__dict__.get("memory")
        if memory is None:
            memory = self.__dict__["memory"] = {"h": None, "c": None, "dh": None}
        return memory

    h = property(lambda self: self._memory()["h"], lambda self, v: self._set("h", v))
    c = property(lambda self: self._memory()["c"], lambda self, v: self._set("c", v))
    dh = property(lambda self: self._memory()["dh"], lambda self, v: self._set("dh", v))

    def _set(self, name, value):
        if isinstance(value, Tensor):
            raise TypeError(
                f"{type(self).__name__}: the state {name} must be an array (its values); a "
                "Tensor's graph would not be followed through a Time layer. For a state in the "
                "graph, write the steps with tinygrad_ko.networks.rnn.lstm_cell"
            )
        self._memory()[name] = value


def rnn_step(x, h_prev, Wx, Wh, b):
    """One RNN step (5.3.1) as the book computes it: h = tanh(h_prev·Wh + x·Wx + b). Returns
    (h, what rnn_step_backward needs)."""
    h = np.tanh(np.dot(h_prev, Wh) + np.dot(x, Wx) + b)
    return h, (x, h_prev, h)


def rnn_step_backward(cache, dh_next, Wx, Wh):
    """(dx, dh_prev, (dWx, dWh, db)) of one RNN step (5.3.2), the book's arithmetic."""
    x, h_prev, h_next = cache
    dt = dh_next * (1 - h_next**2)
    grads = (np.dot(x.T, dt), np.dot(h_prev.T, dt), np.sum(dt, axis=0))
    return np.dot(dt, Wx.T), np.dot(dt, Wh.T), grads


def lstm_step(x, h_prev, c_prev, Wx, Wh, b):
    """One LSTM step (6.3) as the book computes it: A = x·Wx + h_prev·Wh + b split into the
    gates f, g, i, o (the book's order); c = f·c_prev + g·i, h = o·tanh(c). Returns (h, c,
    what lstm_step_backward needs)."""
    H = Wh.shape[0]
    A = np.dot(x, Wx) + np.dot(h_prev, Wh) + b
    f, g = sigmoid(A[:, :H]), np.tanh(A[:, H : 2 * H])
    i, o = sigmoid(A[:, 2 * H : 3 * H]), sigmoid(A[:, 3 * H :])
    c = f * c_prev + g * i
    h = o * np.tanh(c)
    return h, c, (x, h_prev, c_prev, i, f, g, o, c)


def lstm_step_backward(cache, dh_next, dc_next, Wx, Wh):
    """(dx, dh_prev, dc_prev, (dWx, dWh, db)) of one LSTM step (6.3), the book's arithmetic."""
    x, h_prev, c_prev, i, f, g, o, c_next = cache
    tanh_c_next = np.tanh(c_next)
    ds = dc_next + (dh_next * o) * (1 - tanh_c_next**2)
    dc_prev = ds * f
    di, df, do, dg = ds * g, ds * c_prev, dh_next * tanh_c_next, ds * i
    di *= i * (1 - i)
    df *= f * (1 - f)
    do *= o * (1 - o)
    dg *= 1 - g**2
    dA = np.hstack((df, dg, di, do))
    grads = (np.dot(x.T, dA), np.dot(h_prev.T, dA), dA.sum(axis=0))
    return np.dot(dA, Wx.T), np.dot(dA, Wh.T), dc_prev, grads


def gru_step(x, h_prev, Wx, Wh):
    """One GRU step (book 2's appendix C) as the book computes it: z and r gates, h_hat =
    tanh(x·Wx + (r·h_prev)·Wh), h = (1 - z)·h_prev + z·h_hat. Wx and Wh pack z, r and the
    candidate's weights, in that order; no bias. Returns (h, what gru_step_backward needs)."""
    H = Wh.shape[0]
    Wxz, Wxr, Wxh = Wx[:, :H], Wx[:, H : 2 * H], Wx[:, 2 * H :]
    Whz, Whr, Whh = Wh[:, :H], Wh[:, H : 2 * H], Wh[:, 2 * H :]
    z = sigmoid(np.dot(x, Wxz) + np.dot(h_prev, Whz))
    r = sigmoid(np.dot(x, Wxr) + np.dot(h_prev, Whr))
    h_hat = np.tanh(np.dot(x, Wxh) + np.dot(r * h_prev, Whh))
    return (1 - z) * h_prev + z * h_hat, (x, h_prev, z, r, h_hat)


def gru_step_backward(cache, dh_next, Wx, Wh):
    """(dx, dh_prev, (dWx, dWh)) of one GRU step, the book's arithmetic."""
    H = Wh.shape[0]
    Wxz, Wxr, Wxh = Wx[:, :H], Wx[:, H : 2 * H], Wx[:, 2 * H :]
    Whz, Whr, Whh = Wh[:, :H], Wh[:, H : 2 * H], Wh[:, 2 * H :]
    x, h_prev, z, r, h_hat = cache
    dh_hat, dh_prev = dh_next * z, dh_next * (1 - z)
    dt = dh_hat * (1 - h_hat**2)  # the candidate's tanh
    dWhh, dhr, dWxh = np.dot((r * h_prev).T, dt), np.dot(dt, Whh.T), np.dot(x.T, dt)
    dx = np.dot(dt, Wxh.T)
    dh_prev += r * dhr
    dz = dh_next * h_hat - dh_next * h_prev  # the update gate
    dt = dz * z * (1 - z)
    dWhz = np.dot(h_prev.T, dt)
    dh_prev += np.dot(dt, Whz.T)
    dWxz = np.dot(x.T, dt)
    dx += np.dot(dt, Wxz.T)
    dr = dhr * h_prev  # the reset gate
    dt = dr * r * (1 - r)
    dWhr = np.dot(h_prev.T, dt)
    dh_prev += np.dot(dt, Whr.T)
    dWxr = np.dot(x.T, dt)
    dx += np.dot(dt, Wxr.T)
    return dx, dh_prev, (np.hstack((dWxz, dWxr, dWxh)), np.hstack((dWhz, dWhr, dWhh)))


def _stacked(steps):
    """Tensors (N, H), one per step, as (N, T, H)."""
    n, h = steps[0].shape
    return concatenate([s.reshape(n, 1, h) for s in steps], axis=1)


class TimeCells(Stateful, Function):
    """T steps of a cell whose state is one h (RNN, GRU), and BPTT: a subclass names its step
    (array arithmetic, the book's), the step's backward, and its cell in Tensor ops."""

    def forward(self, xs):
        xs = self.book_input("xs", xs)
        n, steps = _sequence(self, xs, len(self.Wx))
        hidden, dtype = self.Wh.shape[0], _dtype(self, xs)
        self.h0 = h = _state(self, "h", n, hidden, dtype)
        hs = np.empty((n, steps, hidden), dtype=dtype)
        self.cache = []
        weights = self.weights()
        for t in range(steps):
            h, cache = self.step(xs[:, t, :], h, *weights)
            self.cache.append(cache)
            hs[:, t, :] = h
        self.h, self.xs_shape, self.out_shape, self.out_dtype = h, xs.shape, hs.shape, dtype
        return hs

    def backward(self, dhs):
        dhs = self.book_dout(dhs)
        dxs = np.empty(self.xs_shape, dtype=self.out_dtype)
        weights = self.weights()
        dh, grads = 0, [0] * len(weights)
        for t in reversed(range(dhs.shape[1])):
            dx, dh, step_grads = self.step_backward(
                self.cache[t], dhs[:, t, :] + dh, self.Wx, self.Wh
            )
            dxs[:, t, :] = dx
            _add_step(grads, step_grads, weights)
        for name, g in zip(self.param_names, _store(self, grads)):
            setattr(self, "d" + name, g)
        self.dh = dh
        return dxs if self.needs_grad(0) else None

    def weights(self):
        return [getattr(self, name) for name in self.param_names]

    def backward_graph(self, dout, out):
        return backward_through(self.unrolled, self, dout)

    def unrolled(self, xs, *weights):
        """forward in Tensor ops, a cell per step, from the same first state."""
        h, steps = constant(self.h0, weights[0]), []
        for t in range(xs.shape[1]):
            h = self.cell(xs[:, t, :], h, *weights)
            steps.append(h)
        return _stacked(steps)

    def set_state(self, h):
        self.h = h

    def reset_state(self):
        self.h = None


class TimeRNN(TimeCells):
    """T steps of the RNN cell (5.3.1): h_t = tanh(h_{t-1}·Wh + x_t·Wx + b), and BPTT."""

    param_names = NAMES
    step, step_backward = staticmethod(rnn_step), staticmethod(rnn_step_backward)

    def __init__(self, Wx, Wh, b, stateful=False):
        self.Wx, self.Wh, self.b = (self.book_input(n, w) for n, w in zip(NAMES, (Wx, Wh, b)))
        self.stateful, self.h, self.dh = stateful, None, None
        _weights(self, 1)

    @staticmethod
    def cell(x, h, Wx, Wh, b):
        return rnn_cell(x, h, Wx, Wh, b)


class TimeLSTM(Stateful, Function):
    """T steps of the LSTM cell (6.3): A = x_t·Wx + h_{t-1}·Wh + b split into the gates f, g, i,
    o (in that order, as the book packs them); c_t = f·c_{t-1} + g·i, h_t = o·tanh(c_t); and
    BPTT."""

    param_names = ("Wx", "Wh", "b")

    def __init__(self, Wx, Wh, b, stateful=False):
        self.Wx, self.Wh, self.b = (self.book_input(n, w) for n, w in zip(NAMES, (Wx, Wh, b)))
        self.stateful, self.h, self.c, self.dh = stateful, None, None, None
        _weights(self, 4)

    def forward(self, xs):
        xs = self.book_input("xs", xs)
        n, steps = _sequence(self, xs, len(self.Wx))
        H, dtype = self.Wh.shape[0], _dtype(self, xs)
        self.h0 = h = _state(self, "h", n, H, dtype)
        self.c0 = c = _state(self, "c", n, H, dtype)
        hs = np.empty((n, steps, H), dtype=dtype)
        self.cache = []
        for t in range(steps):
            h, c, cache = lstm_step(xs[:, t, :], h, c, self.Wx, self.Wh, self.b)
            self.cache.append(cache)
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
            dx, dh, dc, step_grads = lstm_step_backward(
                self.cache[t], dhs[:, t, :] + dh, dc, self.Wx, self.Wh
            )
            dxs[:, t, :] = dx
            _add_step(grads, step_grads, (self.Wx, self.Wh, self.b))
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


def _cell_inputs(layer, x, h_prev):
    """x (N, D) and h_prev (N, H) for a cell with weights Wx (D, ...) and Wh (H, ...), or a
    clear error naming the layer."""
    x, h_prev = layer.book_input("x", x), layer.book_input("h_prev", h_prev)
    D, H = len(layer.Wx), len(layer.Wh)
    if x.ndim != 2 or h_prev.shape != (len(x), H) or x.shape[1] != D:
        raise ValueError(
            f"{type(layer).__name__}: x must be (N, {D}) and h_prev (N, {H}), got shapes "
            f"{x.shape} and {h_prev.shape}"
        )
    return x, h_prev


def _inputs(layer, *grads):
    """The gradients of the inputs that want one; None for the others."""
    return tuple(g if layer.needs_grad(i) else None for i, g in enumerate(grads))


def _add_step(grads, step_grads, weights):
    """Add a step's weight gradients into the running sums, each in its weight's dtype first
    (as the book's per-step layers keep them in grads arrays of that dtype)."""
    for i, (g, w) in enumerate(zip(step_grads, weights)):
        grads[i] += g.astype(w.dtype, copy=False)


def _store(layer, grads, first=1):
    """The weights' gradients summed over the steps: into book 2's grads arrays, in place, when
    the layer has them (as the book's Time layers write them), else as they are."""
    book2 = layer.book2_grads()
    if book2 is None:  # in the graph: only those wanted (weights: the inputs from `first` on)
        return [g if layer.needs_grad(i) else None for i, g in enumerate(grads, first)]
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
        # the book's order of sums: per step, its rows added in turn (as np.add.at); then step
        # by step into the total. A large vocabulary: on the rows the batch uses only (adding
        # zeros changes nothing); a small one: on all of them, as the book does
        if len(self.W) <= self.idx.size:
            rows, local = np.arange(len(self.W)), self.idx % len(self.W)
        else:
            rows, local = np.unique(self.idx % len(self.W), return_inverse=True)
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
        out = np.dot(xs.reshape(n * steps, -1), self.W)
        if out.dtype == np.result_type(out, self.b):
            out += self.b  # in place: the book's np.dot(...) + b, without a second array
        else:
            out = out + self.b
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
        checked = self.book_dout(dout)
        dout = dout if isinstance(dout, numbers.Number) else checked  # as layers.SoftmaxWithLoss
        ts, ys, mask, shape = self.cache
        dx = ys if self.needs_input_grad is None else ys.copy()  # the book works in place
        dx[np.arange(len(ts)), ts] -= 1
        if not (isinstance(dout, numbers.Number) and dout == 1):  # x·1 is x: a pass saved
            dx *= dout
        dx /= mask.sum()
        if not mask.all():  # every label counts: the book's x·True is x
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


class RNN(Function):
    """One RNN step (5.3.1), a node of its own: h_next = tanh(h_prev·Wh + x·Wx + b);
    backward gives (dx, dh_prev) and dWx, dWh, db. TimeRNN runs T of them at once."""

    param_names = NAMES

    def __init__(self, Wx, Wh, b):
        self.Wx, self.Wh, self.b = (self.book_input(n, w) for n, w in zip(NAMES, (Wx, Wh, b)))

    def forward(self, x, h_prev):
        x, h_prev = _cell_inputs(self, x, h_prev)
        h_next, self.cache = rnn_step(x, h_prev, self.Wx, self.Wh, self.b)
        self.out_shape = h_next.shape
        return h_next

    def backward(self, dh_next):
        dh_next = self.book_dout(dh_next)
        dx, dh_prev, grads = rnn_step_backward(self.cache, dh_next, self.Wx, self.Wh)
        self.dWx, self.dWh, self.db = _store(self, list(grads), first=2)
        return _inputs(self, dx, dh_prev)

    def backward_graph(self, dout, out):
        return backward_through(rnn_cell, self, dout)


def rnn_cell(x, h_prev, Wx, Wh, b):
    """RNN's step in Tensor ops."""
    return (h_prev @ Wh + x @ Wx + b).tanh()


class GRU(Function):
    """One GRU step (book 2, appendix C), a node of its own; see gru_step. Unlike the book's
    GRU class (which keeps dWx and dWh but no params or grads lists), tinygrad_ko.book2's has
    params [Wx, Wh] and grads, so its optimizers and Trainer can train it."""

    param_names = ("Wx", "Wh")

    def __init__(self, Wx, Wh):
        self.Wx, self.Wh = self.book_input("Wx", Wx), self.book_input("Wh", Wh)

    def forward(self, x, h_prev):
        x, h_prev = _cell_inputs(self, x, h_prev)
        h_next, self.cache = gru_step(x, h_prev, self.Wx, self.Wh)
        self.out_shape = h_next.shape
        return h_next

    def backward(self, dh_next):
        dx, dh_prev, grads = gru_step_backward(
            self.cache, self.book_dout(dh_next), self.Wx, self.Wh
        )
        self.dWx, self.dWh = _store(self, list(grads), first=2)
        return _inputs(self, dx, dh_prev)

    def backward_graph(self, dout, out):
        return backward_through(gru_cell, self, dout)


def gru_cell(x, h_prev, Wx, Wh):
    """GRU's step in Tensor ops."""
    H = Wh.shape[0]
    z = (x @ Wx[:, :H] + h_prev @ Wh[:, :H]).sigmoid()
    r = (x @ Wx[:, H : 2 * H] + h_prev @ Wh[:, H : 2 * H]).sigmoid()
    h_hat = (x @ Wx[:, 2 * H :] + (r * h_prev) @ Wh[:, 2 * H :]).tanh()
    return (1 - z) * h_prev + z * h_hat


class TimeGRU(TimeCells):
    """T steps of the GRU cell, and BPTT, with the book's state rules (stateful, set_state,
    reset_state). The book's TimeGRU cannot be trained by its Trainer (no params or grads) and
    misspells self.dWx in its constructor; this one has both lists."""

    param_names = ("Wx", "Wh")
    step, step_backward = staticmethod(gru_step), staticmethod(gru_step_backward)

    def __init__(self, Wx, Wh, stateful=False):
        self.Wx, self.Wh = self.book_input("Wx", Wx), self.book_input("Wh", Wh)
        self.stateful, self.h, self.dh = stateful, None, None
        _weights(self, 3)

    @staticmethod
    def cell(x, h, Wx, Wh):
        return gru_cell(x, h, Wx, Wh)
