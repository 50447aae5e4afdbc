"""Every op and layer of the graph, driven by one table: each row draws inputs with hypothesis
(broadcasting, batches of 1 included), checks the forward against NumPy and the backward
against central differences in float64 (gradcheck, full and fast mode). A new op is one row."""

import re
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import Phase, event, find, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_ko import (
    Function,
    Tensor,
    attention,
    conv,
    embedding,
    gradcheck,
    gradgradcheck,
    layers,
    normalization,
    ops,
    recurrent,
)
from tinygrad_ko.autograd import graph_order
from tinygrad_ko.conv import Convolution, Pooling
from tinygrad_ko.embedding import Embedding, EmbeddingDot
from tinygrad_ko.layers import Affine, MatMul, ReLU, Sigmoid, SigmoidWithLoss, SoftmaxWithLoss
from tinygrad_ko.normalization import BatchNormalization, Dropout
from tinygrad_ko.ops import unbroadcast
from tinygrad_ko.testing.strategies import (
    AWAY_FROM_ZERO,
    GRID,
    POSITIVE,
    arrays,
    axis_for,
    broadcastable,
    floats,
    shapes,
)


class Example(NamedTuple):
    fn: Callable  # tensors -> Tensor
    ref: Callable  # the same on NumPy arrays
    arrays: tuple  # float64 inputs


def row(fn, ref, inputs):
    return inputs.map(lambda xs: Example(fn, ref, xs))


@st.composite
def reduction(draw, method, ref, max_dims, elements=None, unique=False):
    x = draw(shapes(0, max_dims).flatmap(lambda s: arrays(s, elements, unique)))
    axis, keepdims = draw(axis_for(x.ndim)), draw(st.booleans())
    return Example(
        lambda t: getattr(t, method)(axis=axis, keepdims=keepdims),
        lambda a: ref(a, axis=axis, keepdims=keepdims),
        (x,),
    )


@st.composite
def along_axis(draw, method, ref):
    x = draw(shapes(min_dims=1).flatmap(arrays))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    return Example(lambda t: getattr(t, method)(axis=axis), lambda a: ref(a, axis), (x,))


def np_softmax(a, axis):
    return np.exp(a - np.logaddexp.reduce(a, axis=axis, keepdims=True))


def np_log_softmax(a, axis):
    return a - np.logaddexp.reduce(a, axis=axis, keepdims=True)


@st.composite
def matmul(draw):
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["matrix", "batched", "vector-matrix", "matrix-vector", "dot"]))
    batch_a = batch_b = ()
    if kind == "batched":
        batch_a, batch_b = draw(
            hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3)
        ).input_shapes
    a_shape = (k,) if kind in ("vector-matrix", "dot") else (*batch_a, n, k)
    b_shape = (k,) if kind in ("matrix-vector", "dot") else (*batch_b, k, m)
    a, b = draw(arrays(a_shape)), draw(arrays(b_shape))
    return Example(lambda x, y: x @ y, np.matmul, (a, b))


@st.composite
def getitem(draw, max_dims):
    x = draw(shapes(0, max_dims).flatmap(arrays))
    kind = draw(st.sampled_from(["basic", "integers", "mask"] if x.ndim else ["basic", "mask"]))
    if kind == "basic":
        index = draw(hnp.basic_indices(x.shape, min_dims=0, allow_ellipsis=True))
    elif kind == "integers":  # repeats allowed: their gradients must add up
        index = np.array(
            draw(st.lists(st.integers(-x.shape[0], x.shape[0] - 1), max_size=6)), dtype=np.intp
        )
    else:
        index = draw(hnp.arrays(np.bool_, x.shape))
    return Example(lambda t: t[index], lambda a: a[index], (x,))


@st.composite
def transpose(draw, max_dims):
    x = draw(shapes(0, max_dims).flatmap(arrays))
    axes = draw(st.permutations(range(x.ndim)).map(tuple))
    return Example(lambda t: t.transpose(*axes), lambda a: a.transpose(axes), (x,))


@st.composite
def reshape(draw, max_dims):
    x = draw(shapes(0, max_dims).flatmap(arrays))
    shape = draw(st.sampled_from([(-1,), (x.size, 1), (1, -1), (1,) * 3 + (x.size,)]))
    return Example(lambda t: t.reshape(shape), lambda a: a.reshape(shape), (x,))


@st.composite
def affine(draw):
    n, d, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    # a batch of flat samples, a batch of samples to flatten, or one sample without a batch
    x_shape = draw(st.sampled_from([(n, d), (n, 2, d), (d,)]))
    x, W = draw(arrays(x_shape)), draw(arrays((int(np.prod(x_shape[1:] or x_shape)), m)))
    b = draw(arrays(m))
    return Example(
        lambda x, W, b: Affine(W, b)(x),
        lambda x, W, b: (x.reshape(n, -1) if x.ndim > 1 else x) @ W + b,
        (x, W, b),
    )


@st.composite
def softmax_with_loss(draw):
    n, classes = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    x = draw(arrays((n, classes), floats(-5, 5)))
    labels = draw(hnp.arrays(np.int64, n, elements=st.integers(0, classes - 1)))
    kind = draw(st.sampled_from(["labels", "one-hot", "probabilities"]))
    t = {"labels": labels, "one-hot": np.eye(classes)[labels]}.get(kind)
    if kind == "probabilities":
        t = np_softmax(draw(arrays((n, classes))), 1)
    one_hot = np.eye(classes)[labels] if t is labels else t
    return Example(
        lambda x: SoftmaxWithLoss()(x, t),
        lambda x: -np.sum(one_hot * np_log_softmax(x, 1)) / n,
        (x,),
    )


@st.composite
def batch_normalization(draw):
    shape = draw(st.sampled_from([(1, 2), (3, 4), (5, 1), (2, 2, 2, 3), (4, 1, 3, 1)]))
    x = draw(arrays(shape, GRID, unique=True))  # distinct values: no feature has variance 0
    features = x[0].size
    gamma, beta = draw(arrays(features)), draw(arrays(features))
    train = draw(st.booleans())
    mean, var = draw(arrays(features)), draw(arrays(features, POSITIVE))  # for evaluation

    def ref(x, gamma, beta):
        flat = x.reshape(len(x), -1)
        mu, sigma2 = (flat.mean(axis=0), flat.var(axis=0)) if train else (mean, var)
        return (gamma * (flat - mu) / np.sqrt(sigma2 + 1e-6) + beta).reshape(x.shape)

    return Example(
        lambda x, g, b: BatchNormalization(g, b, running_mean=mean, running_var=var)(
            x, train_flg=train
        ),
        ref,
        (x, gamma, beta),
    )


@st.composite
def dropout(draw, max_dims):
    x = draw(shapes(0, max_dims).flatmap(arrays))
    ratio, train, seed = draw(st.floats(0, 0.9)), draw(st.booleans()), draw(st.integers(0, 9))
    kept = np.random.default_rng(seed).random(x.shape) > ratio
    return Example(
        lambda x: Dropout(ratio, rng=np.random.default_rng(seed))(x, train_flg=train),
        lambda x: x * kept if train else x * (1 - ratio),
        (x,),
    )


@st.composite
def window_geometry(draw):
    """Images, windows, a stride and a pad that fit them: ((h, w), (window_h, window_w), stride,
    pad). The sizes are drawn freely, so the stride often leaves the last rows and columns out,
    as the book's layers and PyTorch do."""
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 1))
    windows = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    sizes = tuple(draw(st.integers(max(1, window - 2 * pad), 6)) for window in windows)
    return sizes, windows, stride, pad


def np_windows(x, fh, fw, stride, pad):
    """The windows of images x, (N, C, out_h, out_w, fh, fw), the plain way, for the references."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out_h, out_w = (xp.shape[2] - fh) // stride + 1, (xp.shape[3] - fw) // stride + 1
    return np.array([[[[xp[n, c, i * stride : i * stride + fh, j * stride : j * stride + fw]
                        for j in range(out_w)] for i in range(out_h)]
                      for c in range(x.shape[1])] for n in range(len(x))])  # fmt: skip


@st.composite
def convolution(draw):
    n, c, filters = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    (h, w), (fh, fw), stride, pad = draw(window_geometry())
    x, W, b = draw(arrays((n, c, h, w))), draw(arrays((filters, c, fh, fw))), draw(arrays(filters))

    def ref(x, W, b):
        windows = np_windows(x, fh, fw, stride, pad)
        return np.einsum("ncijyx,fcyx->nfij", windows, W) + b[:, None, None]

    return Example(lambda x, W, b: Convolution(W, b, stride, pad)(x), ref, (x, W, b))


NONZERO_GRID = st.integers(-320, 320).filter(lambda i: i != 0).map(lambda i: i / 64)
"""640 values 1/64 apart, none of them the padding's 0: enough distinct ones for any images."""


@st.composite
def pooling(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    (h, w), (ph, pw), stride, pad = draw(window_geometry())
    x = draw(arrays((n, c, h, w), NONZERO_GRID, unique=True))  # a maximum is never a tie
    return Example(
        lambda x: Pooling(ph, pw, stride, pad)(x),
        lambda x: np_windows(x, ph, pw, stride, pad).max(axis=(4, 5)),
        (x,),
    )


@st.composite
def sum_to(draw, max_dims):
    small, large = draw(hnp.mutually_broadcastable_shapes(num_shapes=1, max_dims=max_dims))
    shape, x = small[0], draw(arrays(large))

    def ref(a):  # every element of a added into the one of `shape` it would be copied from
        out = np.zeros(shape)
        for i in np.ndindex(a.shape):
            out[tuple(0 if n == 1 else k for k, n in zip(i[a.ndim - len(shape) :], shape))] += a[i]
        return out

    return Example(lambda t: ops.SumTo(shape)(t), ref, (x,))


@st.composite
def broadcast_to(draw, max_dims):
    small, large = draw(hnp.mutually_broadcastable_shapes(num_shapes=1, max_dims=max_dims))
    x = draw(arrays(small[0]))
    return Example(lambda t: ops.BroadcastTo(large)(t), lambda a: a * np.ones(large), (x,))


@st.composite
def scatter_add(draw):
    shape = draw(shapes(1, 3))
    index = np.array(  # repeats allowed: they must add up
        draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=6)), np.intp
    )
    values = draw(arrays((len(index), *shape[1:])))

    def ref(v):
        out = np.zeros(shape)
        for k, i in enumerate(index):
            out[i] += v[k]
        return out

    return Example(lambda t: ops.ScatterAdd(index, shape)(t), ref, (values,))


@st.composite
def concatenate(draw):
    shape = draw(shapes(1, 3))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    lengths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    xs = tuple(
        draw(arrays(tuple(n if k == axis % len(shape) else s for k, s in enumerate(shape))))
        for n in lengths
    )
    return Example(lambda *ts: ops.concatenate(ts, axis), lambda *a: np.concatenate(a, axis), xs)


@st.composite
def im2col(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    (h, w), (fh, fw), stride, pad = draw(window_geometry())

    def ref(x):  # a row per (image, window place), a column per (channel, row, column)
        windows = np_windows(x, fh, fw, stride, pad)  # (N, C, OH, OW, FH, FW)
        return windows.transpose(0, 2, 3, 1, 4, 5).reshape(-1, c * fh * fw)

    return Example(
        lambda t: conv.Im2col(fh, fw, stride, pad)(t), ref, (draw(arrays((n, c, h, w))),)
    )


@st.composite
def col2im(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    (h, w), (fh, fw), stride, pad = draw(window_geometry())
    out_h, out_w = (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1
    col = draw(arrays((n * out_h * out_w, c * fh * fw)))

    def ref(col):  # each entry added back to the padded image place it came from
        img = np.zeros((n, c, h + 2 * pad, w + 2 * pad))
        rows = col.reshape(n, out_h, out_w, c, fh, fw)
        for i, j, y, x in np.ndindex(out_h, out_w, fh, fw):
            img[:, :, i * stride + y, j * stride + x] += rows[:, i, j, :, y, x]
        return img[:, :, pad : pad + h, pad : pad + w]

    return Example(lambda t: conv.Col2im((n, c, h, w), fh, fw, stride, pad)(t), ref, (col,))


@st.composite
def matmul_layer(draw):
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x, W = draw(arrays((n, k))), draw(arrays((k, m)))
    return Example(lambda x, W: MatMul(W)(x), np.matmul, (x, W))


@st.composite
def sigmoid_with_loss(draw):
    n = draw(st.integers(1, 5))
    x = draw(arrays(n, floats(-5, 5)))
    labels = draw(hnp.arrays(np.int32, n, elements=st.integers(0, 1)))
    t = labels if draw(st.booleans()) else draw(arrays(n, floats(0, 1)))  # or probabilities
    return Example(
        lambda x: SigmoidWithLoss()(x, t),
        lambda x: np.mean(np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0) - t * x),
        (x,),
    )


def word_ids(draw, vocab, size):
    """Word ids with repeats (their gradients must add up), negative ones too."""
    return np.array(draw(st.lists(st.integers(-vocab, vocab - 1), min_size=size, max_size=size)))


@st.composite
def embedding_rows(draw):
    vocab, dims, n = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 6))
    idx = word_ids(draw, vocab, n)
    return Example(lambda W: Embedding(W)(idx), lambda W: W[idx], (draw(arrays((vocab, dims))),))


@st.composite
def embedding_dot(draw):
    vocab, dims, n = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 6))
    idx = word_ids(draw, vocab, n)
    h, W = draw(arrays((n, dims))), draw(arrays((vocab, dims)))
    return Example(
        lambda h, W: EmbeddingDot(W)(h, idx), lambda h, W: np.einsum("nd,nd->n", W[idx], h), (h, W)
    )


def sequences(draw, features):
    n, steps = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    return draw(arrays((n, steps, features), floats(-2, 2)))


@st.composite
def time_rnn(draw, kind):
    d, h = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    gates = 4 if kind == "LSTM" else 1
    xs = sequences(draw, d)
    Wx, Wh, b = (
        draw(arrays(s, floats(-1, 1))) for s in ((d, gates * h), (h, gates * h), gates * h)
    )
    layer = recurrent.TimeLSTM if kind == "LSTM" else recurrent.TimeRNN

    def sig(a):
        return 1 / (1 + np.exp(-a))

    def ref(xs, Wx, Wh, b):  # the cell, written out step by step
        hidden, cell, out = np.zeros((len(xs), h)), np.zeros((len(xs), h)), []
        for t in range(xs.shape[1]):
            a = xs[:, t] @ Wx + hidden @ Wh + b
            if kind == "RNN":
                hidden = np.tanh(a)
            else:
                f, g, i, o = np.split(a, 4, axis=1)
                cell = sig(f) * cell + np.tanh(g) * sig(i)
                hidden = sig(o) * np.tanh(cell)
            out.append(hidden)
        return np.stack(out, axis=1)

    return Example(lambda xs, Wx, Wh, b: layer(Wx, Wh, b)(xs), ref, (xs, Wx, Wh, b))


@st.composite
def cell(draw, kind):
    n, d, h = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x, h_prev = draw(arrays((n, d), floats(-2, 2))), draw(arrays((n, h), floats(-1, 1)))
    if kind == "RNN":
        Wx, Wh, b = (draw(arrays(s, floats(-1, 1))) for s in ((d, h), (h, h), h))
        return Example(lambda x, hp, Wx, Wh, b: recurrent.RNN(Wx, Wh, b)(x, hp),
                       lambda x, hp, Wx, Wh, b: np.tanh(hp @ Wh + x @ Wx + b),
                       (x, h_prev, Wx, Wh, b))  # fmt: skip
    Wx, Wh = draw(arrays((d, 3 * h), floats(-1, 1))), draw(arrays((h, 3 * h), floats(-1, 1)))

    def gru(x, hp, Wx, Wh):
        z = 1 / (1 + np.exp(-(x @ Wx[:, :h] + hp @ Wh[:, :h])))
        r = 1 / (1 + np.exp(-(x @ Wx[:, h : 2 * h] + hp @ Wh[:, h : 2 * h])))
        return (1 - z) * hp + z * np.tanh(x @ Wx[:, 2 * h :] + (r * hp) @ Wh[:, 2 * h :])

    if kind == "GRU":
        return Example(lambda x, hp, Wx, Wh: recurrent.GRU(Wx, Wh)(x, hp), gru,
                       (x, h_prev, Wx, Wh))  # fmt: skip
    xs = sequences(draw, d)

    def time_gru(xs, Wx, Wh):
        hidden, out = np.zeros((len(xs), h)), []
        for t in range(xs.shape[1]):
            hidden = gru(xs[:, t], hidden, Wx, Wh)
            out.append(hidden)
        return np.stack(out, axis=1)

    return Example(lambda xs, Wx, Wh: recurrent.TimeGRU(Wx, Wh)(xs), time_gru, (xs, Wx, Wh))


@st.composite
def time_affine(draw):
    d, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    xs, W, b = sequences(draw, d), draw(arrays((d, m))), draw(arrays(m))
    return Example(lambda xs, W, b: recurrent.TimeAffine(W, b)(xs), lambda x, W, b: x @ W + b,
                   (xs, W, b))  # fmt: skip


@st.composite
def time_embedding(draw):
    vocab, dims = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    n, steps = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ids = np.array(draw(st.lists(st.integers(0, vocab - 1), min_size=n * steps,
                                 max_size=n * steps))).reshape(n, steps)  # fmt: skip
    W = draw(arrays((vocab, dims)))
    return Example(lambda W: recurrent.TimeEmbedding(W)(ids), lambda W: W[ids], (W,))


@st.composite
def time_softmax_with_loss(draw):
    classes = draw(st.integers(2, 4))
    xs = sequences(draw, classes)
    ts = draw(hnp.arrays(np.int64, xs.shape[:2], elements=st.integers(-1, classes - 1)))
    ts.flat[0] = max(ts.flat[0], 0)  # at least one position that counts

    def ref(xs):
        logp = np_log_softmax(xs, 2)
        kept = ts != -1
        picked = np.take_along_axis(logp, np.maximum(ts, 0)[..., None], axis=2)[..., 0]
        return -np.sum(picked * kept) / kept.sum()

    return Example(lambda xs: recurrent.TimeSoftmaxWithLoss()(xs, ts), ref, (xs,))


@st.composite
def time_dropout(draw):
    xs, ratio, seed = (
        sequences(draw, draw(st.integers(1, 3))),
        draw(st.floats(0, 0.8)),
        draw(st.integers(0, 9)),
    )

    def call(xs):
        np.random.seed(seed)  # the book's masks come from NumPy's global random state
        return recurrent.TimeDropout(ratio)(xs)

    def ref(xs):
        np.random.seed(seed)
        return xs * ((np.random.rand(*xs.shape) > ratio) / (1 - ratio))

    return Example(call, ref, (xs,))


@st.composite
def attention_row(draw, kind):
    n, steps, hidden = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    hs = draw(arrays((n, steps, hidden), floats(-2, 2)))

    def softmax_scores(hs, h):  # (N, T): a weight per encoder state
        return np_softmax(np.einsum("nth,nh->nt", hs, h), 1)

    if kind == "WeightSum":
        a = draw(arrays((n, steps)))
        return Example(lambda hs, a: attention.WeightSum()(hs, a),
                       lambda hs, a: np.einsum("nth,nt->nh", hs, a), (hs, a))  # fmt: skip
    if kind == "TimeAttention":
        dec = draw(arrays((n, draw(st.integers(1, 3)), hidden), floats(-2, 2)))

        def ref(hs, dec):
            return np.stack([np.einsum("nth,nt->nh", hs, softmax_scores(hs, dec[:, t]))
                             for t in range(dec.shape[1])], axis=1)  # fmt: skip

        return Example(lambda hs, dec: attention.TimeAttention()(hs, dec), ref, (hs, dec))
    h = draw(arrays((n, hidden), floats(-2, 2)))
    if kind == "AttentionWeight":
        return Example(lambda hs, h: attention.AttentionWeight()(hs, h), softmax_scores, (hs, h))
    return Example(
        lambda hs, h: attention.Attention()(hs, h),
        lambda hs, h: np.einsum("nth,nt->nh", hs, softmax_scores(hs, h)),
        (hs, h),
    )


def table(max_dims=3):
    """The rows, their inputs drawn with up to max_dims axes. With max_dims=0 the ops that need
    an axis (matmul, softmax, Affine, ...) have None: NEEDS_AN_AXIS says how they refuse."""

    def one(elements=None):
        return shapes(0, max_dims).flatmap(lambda s: arrays(s, elements)).map(lambda x: (x,))

    def two(elements=None):
        return broadcastable(elements=elements, max_dims=max_dims)

    def with_an_axis(strategy):
        return strategy if max_dims else None

    return {
        "add": row(lambda a, b: a + b, np.add, two()),
        "sub": row(lambda a, b: a - b, np.subtract, two()),
        "mul": row(lambda a, b: a * b, np.multiply, two()),
        "div": row(lambda a, b: a / b, np.divide, two(POSITIVE)),
        "pow": row(lambda a, b: a**b, np.power, two(POSITIVE)),
        "number - x": row(lambda a: 2.5 - a, lambda a: 2.5 - a, one()),
        "number / x": row(lambda a: 2.0 / a, lambda a: 2.0 / a, one(POSITIVE)),
        "x ** number": row(lambda a: a**3, lambda a: a**3, one()),
        "number ** x": row(lambda a: 2.0**a, lambda a: 2.0**a, one()),
        "neg": row(lambda a: -a, np.negative, one()),
        "matmul": with_an_axis(matmul()),
        "exp": row(lambda a: a.exp(), np.exp, one()),
        "log": row(lambda a: a.log(), np.log, one(POSITIVE)),
        "tanh": row(lambda a: a.tanh(), np.tanh, one()),
        "sin": row(lambda a: a.sin(), np.sin, one()),
        "cos": row(lambda a: a.cos(), np.cos, one()),
        "sum": reduction("sum", np.sum, max_dims),
        "mean": reduction("mean", np.mean, max_dims),
        "max": reduction("max", np.max, max_dims, GRID, unique=True),
        "softmax": with_an_axis(along_axis("softmax", np_softmax)),
        "log_softmax": with_an_axis(along_axis("log_softmax", np_log_softmax)),
        "reshape": reshape(max_dims),
        "transpose": transpose(max_dims),
        ".T": row(lambda a: a.T, np.transpose, one()),
        "getitem": getitem(max_dims),
        "sum_to": sum_to(max_dims),
        "broadcast_to": broadcast_to(max_dims),
        "scatter_add": with_an_axis(scatter_add()),
        "concatenate": with_an_axis(concatenate()),
        "ReLU": row(lambda a: ReLU()(a), lambda a: np.maximum(a, 0), one(AWAY_FROM_ZERO)),
        "Sigmoid": row(lambda a: Sigmoid()(a), lambda a: 1 / (1 + np.exp(-a)), one()),
        "Affine": with_an_axis(affine()),
        "SoftmaxWithLoss": with_an_axis(softmax_with_loss()),
        "BatchNormalization": with_an_axis(batch_normalization()),
        "Dropout": dropout(max_dims),
        "Convolution": with_an_axis(convolution()),
        "Pooling": with_an_axis(pooling()),
        "MatMul": with_an_axis(matmul_layer()),
        "SigmoidWithLoss": with_an_axis(sigmoid_with_loss()),
        "Embedding": with_an_axis(embedding_rows()),
        "EmbeddingDot": with_an_axis(embedding_dot()),
        "TimeRNN": with_an_axis(time_rnn("RNN")),
        "TimeLSTM": with_an_axis(time_rnn("LSTM")),
        "RNN": with_an_axis(cell("RNN")),
        "GRU": with_an_axis(cell("GRU")),
        "TimeGRU": with_an_axis(cell("TimeGRU")),
        "TimeAffine": with_an_axis(time_affine()),
        "TimeEmbedding": with_an_axis(time_embedding()),
        "TimeSoftmaxWithLoss": with_an_axis(time_softmax_with_loss()),
        "TimeDropout": with_an_axis(time_dropout()),
        "WeightSum": with_an_axis(attention_row("WeightSum")),
        "AttentionWeight": with_an_axis(attention_row("AttentionWeight")),
        "Attention": with_an_axis(attention_row("Attention")),
        "TimeAttention": with_an_axis(attention_row("TimeAttention")),
        "im2col": with_an_axis(im2col()),
        "col2im": with_an_axis(col2im()),
    }


TABLE = table()
AT_RANK_0 = table(max_dims=0)
NEEDS_AN_AXIS = {  # each op the table has no 0-d row for, called on a 0-d tensor
    "matmul": lambda x: x @ x,
    "softmax": lambda x: x.softmax(),
    "log_softmax": lambda x: x.log_softmax(),
    "Affine": lambda x: Affine(np.ones((1, 1)), np.zeros(1))(x),
    "SoftmaxWithLoss": lambda x: SoftmaxWithLoss()(x, np.array(0)),
    "BatchNormalization": lambda x: BatchNormalization(np.ones(1), np.zeros(1))(x),
    "Convolution": lambda x: Convolution(np.ones((1, 1, 1, 1)), np.zeros(1))(x),
    "Pooling": lambda x: Pooling(1, 1, stride=1)(x),
    "scatter_add": lambda x: ops.ScatterAdd(np.array([0, 0]), (2,))(x),
    "MatMul": lambda x: MatMul(np.ones((1, 1)))(x),
    "TimeRNN": lambda x: recurrent.TimeRNN(np.ones((1, 1)), np.ones((1, 1)), np.ones(1))(x),
    "TimeLSTM": lambda x: recurrent.TimeLSTM(np.ones((1, 4)), np.ones((1, 4)), np.ones(4))(x),
    "TimeAffine": lambda x: recurrent.TimeAffine(np.ones((1, 1)), np.ones(1))(x),
    "RNN": lambda x: recurrent.RNN(np.ones((1, 1)), np.ones((1, 1)), np.ones(1))(x, x),
    "GRU": lambda x: recurrent.GRU(np.ones((1, 3)), np.ones((1, 3)))(x, x),
    "TimeGRU": lambda x: recurrent.TimeGRU(np.ones((1, 3)), np.ones((1, 3)))(x),
    "TimeEmbedding": lambda x: recurrent.TimeEmbedding(np.ones((2, 1)))(np.array(0)),
    "TimeSoftmaxWithLoss": lambda x: recurrent.TimeSoftmaxWithLoss()(x, np.array(0)),
    "TimeDropout": lambda x: recurrent.TimeDropout()(x),
    "WeightSum": lambda x: attention.WeightSum()(x, x),
    "AttentionWeight": lambda x: attention.AttentionWeight()(x, x),
    "Attention": lambda x: attention.Attention()(x, x),
    "TimeAttention": lambda x: attention.TimeAttention()(x, x),
    "SigmoidWithLoss": lambda x: SigmoidWithLoss()(x, np.array(1)),
    "Embedding": lambda x: Embedding(x)(np.array([0])),
    "EmbeddingDot": lambda x: EmbeddingDot(x)(np.ones((1, 1)), np.array([0])),
    "concatenate": lambda x: ops.concatenate([x, x]),
    "im2col": lambda x: conv.Im2col(1, 1)(x),
    "col2im": lambda x: conv.Col2im((1, 1, 1, 1), 1, 1)(x),
}


def check_forward_and_gradients(example):
    """The forward against NumPy, the backward against central differences (full and fast
    mode), and .grad after real backward passes: each input used twice in the graph and two
    backward() calls, so gradients are summed in backprop and accumulated into .grad. They
    must stay arrays (never NumPy scalars, which 0-d + 0-d gives) of the input's shape and
    dtype."""
    tensors = [Tensor(a, requires_grad=True) for a in example.arrays]
    out = example.fn(*tensors)
    np.testing.assert_allclose(out.data, example.ref(*example.arrays), rtol=1e-12, atol=1e-12)
    assert gradcheck(example.fn, tensors)
    assert gradcheck(example.fn, tensors, fast_mode=True)
    (example.fn(*tensors) + example.fn(*tensors)).sum().backward()
    once = [np.array(t.grad) for t in tensors]
    (example.fn(*tensors) + example.fn(*tensors)).sum().backward()
    for t, g in zip(tensors, once):
        assert type(t.grad) is np.ndarray, type(t.grad)
        assert t.grad.shape == t.shape and t.grad.dtype == t.dtype
        np.testing.assert_array_equal(t.grad, 2 * g)


def check_second_derivatives(example):
    """The second rule (backward_graph, used by create_graph) gives the array rule's gradient,
    which is what catches a wrong second rule that is merely self-consistent; and its own
    derivative agrees with central differences (gradgradcheck, float64)."""
    plain = [Tensor(a, requires_grad=True) for a in example.arrays]
    graph = [Tensor(a, requires_grad=True) for a in example.arrays]
    out = example.fn(*plain)
    seed = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(seed)
    example.fn(*graph).backward(seed, create_graph=True)
    for p, g in zip(plain, graph):
        assert isinstance(g.grad, Tensor)
        np.testing.assert_allclose(g.grad.data, p.grad, rtol=1e-10, atol=1e-12)
    assert gradgradcheck(example.fn, graph)


def check_float32(example):
    tensors = [Tensor(a.astype(np.float32), requires_grad=True) for a in example.arrays]
    out = example.fn(*tensors)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    for t in tensors:
        assert type(t.grad) is np.ndarray
        assert t.grad.dtype == np.float32 and t.grad.shape == t.shape


@pytest.mark.parametrize("name", TABLE)
@given(data=st.data())
def test_forward_matches_numpy_and_backward_matches_central_differences(name, data):
    check_forward_and_gradients(data.draw(TABLE[name]))


@pytest.mark.parametrize("name", TABLE)
@given(data=st.data())
@settings(max_examples=15)
def test_second_rule_gives_the_gradient_and_its_derivative_matches_differences(name, data):
    check_second_derivatives(data.draw(TABLE[name]))


@pytest.mark.parametrize("name", [name for name, row in AT_RANK_0.items() if row is not None])
@given(data=st.data())
@settings(max_examples=10)
def test_every_op_that_takes_0d_inputs_is_right_at_rank_0(name, data):
    example = data.draw(AT_RANK_0[name])
    assert all(a.ndim == 0 for a in example.arrays)
    check_forward_and_gradients(example)
    check_second_derivatives(example)
    check_float32(example)


@pytest.mark.parametrize("name", NEEDS_AN_AXIS)
def test_every_op_that_needs_an_axis_refuses_a_0d_input_by_name(name):
    with pytest.raises(ValueError, match=rf"^{name}: .*(\(\)|0 dimensions|scalar)"):
        NEEDS_AN_AXIS[name](Tensor(np.array(1.5), requires_grad=True))


def test_the_table_has_a_row_for_every_op_and_layer():
    defined = {
        cls
        for module in (ops, layers, normalization, conv, embedding, recurrent, attention)
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, Function) and cls.__module__ == module.__name__
    }
    defined.discard(recurrent.TimeCells)  # the base of TimeRNN and TimeGRU, not an op itself
    covered, first = set(), settings(database=None, phases=[Phase.generate])
    for strategy in TABLE.values():
        example = find(strategy, lambda _: True, settings=first)  # the first draw will do
        out = example.fn(*[Tensor(a, requires_grad=True) for a in example.arrays])
        covered |= {type(t._creator) for t in graph_order(out)}
    assert {cls.__name__ for cls in defined - covered} == set()
    assert {name for name, row in AT_RANK_0.items() if row is None} == set(NEEDS_AN_AXIS)


def test_the_window_rows_draw_strides_that_leave_rows_out():
    def leaves_rows_out(geometry):
        (h, w), (fh, fw), stride, pad = geometry
        return (h + 2 * pad - fh) % stride > 0 and (w + 2 * pad - fw) % stride > 0

    first = settings(database=None, phases=[Phase.generate])
    assert find(window_geometry(), leaves_rows_out, settings=first)


@pytest.mark.parametrize("name", TABLE)
@given(data=st.data())
@settings(max_examples=10)
def test_float32_in_float32_out(name, data):
    check_float32(data.draw(TABLE[name]))


@pytest.mark.parametrize("name", TABLE)
@given(data=st.data())
@settings(max_examples=10)
def test_no_gradient_is_computed_for_an_input_that_needs_none(name, data):
    example = data.draw(TABLE[name])
    for wanted in range(len(example.arrays)):
        tensors = [Tensor(a, requires_grad=i == wanted) for i, a in enumerate(example.arrays)]
        out = example.fn(*tensors)
        for t in graph_order(out):
            node = t._creator
            grads = node._input_grads(np.ones(t.shape))
            assert [g is not None for g in grads] == [x.requires_grad for x in node.inputs]


@pytest.mark.parametrize(("method", "layer"), [("relu", ReLU), ("sigmoid", Sigmoid)])
def test_the_tensor_methods_are_the_layers_rows(method, layer):
    a = np.array([[-1.5, 0.5], [2.0, -0.25]])
    x, same = Tensor(a, requires_grad=True), Tensor(a, requires_grad=True)
    y, expected = getattr(x, method)(), layer()(same)
    assert type(y._creator) is layer
    np.testing.assert_array_equal(y.data, expected.data)
    (y * y).sum().backward()
    (expected * expected).sum().backward()
    np.testing.assert_array_equal(x.grad, same.grad)


@given(broadcastable())
def test_unbroadcast_sums_the_copies_of_a_broadcast_input(pair):
    a, b = pair
    out_shape = np.broadcast_shapes(a.shape, b.shape)
    ones = np.ones(out_shape)
    # each element of a is copied prod(out)/prod(a) times, so its gradient is that count
    assert unbroadcast(ones, a.shape).shape == a.shape
    np.testing.assert_array_equal(unbroadcast(ones, a.shape), ones.size / max(a.size, 1))


def test_matmul_of_incompatible_shapes_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not align"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"batch axes of shapes \(2, 1, 3\) and \(3, 3, 4\)"):
        Tensor(np.ones((2, 1, 3))) @ Tensor(np.ones((3, 3, 4)))


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_elementwise_op_on_shapes_that_do_not_broadcast_names_both(op):
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4,)))
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        eval(f"a {op} b", {}, {"a": a, "b": b})


def test_axis_out_of_range_names_the_op():
    with pytest.raises(ValueError, match="sum: axis 2 is out of range"):
        Tensor(np.ones((2, 3))).sum(axis=2)
    with pytest.raises(ValueError, match=r"transpose: axis \(0, 0\) names the same axis twice"):
        Tensor(np.ones((2, 3))).transpose(0, 0)
    with pytest.raises(ValueError, match=r"transpose: axes \(1, 0, 2\) are not a permutation"):
        Tensor(np.ones((2, 3))).transpose(1, 0, 2)
    with pytest.raises(TypeError, match="sum: axis must be None, an int or a tuple of ints"):
        Tensor(np.ones((2, 3))).sum(axis=1.0)


def test_max_splits_the_gradient_evenly_among_ties():
    x = Tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5])


def test_power_at_zero_takes_the_limits_pytorch_takes():
    a, b = Tensor([0.0, 2.0], requires_grad=True), Tensor(2.0, requires_grad=True)
    (a**b).sum().backward()
    assert b.grad == pytest.approx(4 * np.log(2))  # 0² contributes 0·log 0 → 0
    x = Tensor([0.0, 3.0], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])  # 0·0⁻¹ → 0


def test_power_with_a_number_exponent_takes_no_log_of_a_negative_base():
    x = Tensor([-2.0, 3.0], requires_grad=True)
    with np.errstate(all="raise"):
        (x**2).sum().backward()
    np.testing.assert_array_equal(x.grad, [-4.0, 6.0])


# --- bad input, fuzzed: the right result or a clear error, never a wrong number -----------------

NUMERIC = hnp.arrays(
    st.sampled_from([np.float64, np.float32, np.int64, np.bool_]),
    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
    elements={"allow_nan": False, "allow_infinity": False, "min_value": -3, "max_value": 3},
)
ANYTHING = st.one_of(
    NUMERIC,
    NUMERIC,
    st.lists(st.text(max_size=2), min_size=1, max_size=3).map(np.array),  # strings
    st.integers(0, 3).map(lambda n: np.array([object()] * n, dtype=object)),
    st.none(),
    st.text(max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.integers(-3, 3),
    st.floats(-3, 3),
    st.lists(st.floats(-2, 2), max_size=3),
)
AXIS = st.one_of(st.none(), st.integers(-4, 3), st.tuples(st.integers(-3, 3)), st.just(1.5))


def softmax_ref(a, axis):
    return np.exp(a - np.max(a, axis=axis, keepdims=True)) / np.sum(
        np.exp(a - np.max(a, axis=axis, keepdims=True)), axis=axis, keepdims=True
    )


def log_softmax_ref(a, axis):
    z = a - np.max(a, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


@st.composite
def fuzz_case(draw):
    """(op name, call on the arguments, NumPy reference, arguments) for any op or layer."""
    unary = {
        "neg": (ops.Neg, np.negative),
        "exp": (ops.Exp, np.exp),
        "log": (ops.Log, np.log),
        "tanh": (ops.Tanh, np.tanh),
        "ReLU": (ReLU, lambda a: np.maximum(a, 0)),
        "Sigmoid": (Sigmoid, lambda a: 1 / (1 + np.exp(-a))),
        "Dropout": (lambda: lambda x: Dropout(0.5)(x, train_flg=False), lambda a: a * 0.5),
        "BatchNormalization": (  # evaluation: running mean 0 and variance 0, so x / √ε
            lambda: lambda x: BatchNormalization(np.ones(3), np.zeros(3))(x, train_flg=False),
            lambda a: a / np.sqrt(1e-6) if a.ndim in (2, 4) and a[0].size == 3 else None,
        ),
    }
    binary = {
        "add": (ops.Add, np.add),
        "sub": (ops.Sub, np.subtract),
        "mul": (ops.Mul, np.multiply),
        "div": (ops.Div, np.true_divide),
        "pow": (ops.Pow, np.power),
        "matmul": (ops.MatMul, np.matmul),
    }
    name = draw(st.sampled_from([*unary, *binary, "sum", "max", "mean", "softmax",
                                 "log_softmax", "reshape", "transpose", "getitem", "Affine",
                                 "SoftmaxWithLoss"]))  # fmt: skip
    if name in unary:
        fn, ref = unary[name]
        return name, lambda a: fn()(a), ref, (draw(ANYTHING),)
    if name in binary:
        fn, ref = binary[name]
        return name, lambda a, b: fn()(a, b), ref, (draw(ANYTHING), draw(ANYTHING))
    if name in ("sum", "max", "mean"):
        axis, keepdims = draw(AXIS), draw(st.booleans())
        reductions = {"sum": ops.Sum, "max": ops.Max}
        if name == "mean":
            call = lambda a: (a if isinstance(a, Tensor) else Tensor(a)).mean(axis, keepdims)  # noqa: E731
        else:
            call = lambda a: reductions[name](axis, keepdims)(a)  # noqa: E731
        ref = {"sum": np.sum, "max": np.max, "mean": np.mean}[name]
        return name, call, lambda a: ref(a, axis=axis, keepdims=keepdims), (draw(NUMERIC),)
    if name in ("softmax", "log_softmax"):
        axis = draw(st.integers(-3, 2))
        fn, ref = {
            "softmax": (ops.Softmax, softmax_ref),
            "log_softmax": (ops.LogSoftmax, log_softmax_ref),
        }[name]
        return name, lambda a: fn(axis)(a), lambda a: ref(a, axis), (draw(ANYTHING),)
    if name == "reshape":
        shape = draw(st.lists(st.integers(-1, 4), max_size=3).map(tuple))
        return (
            name,
            lambda a: ops.Reshape(shape)(a),
            lambda a: np.reshape(a, shape),
            (draw(NUMERIC),),
        )
    if name == "transpose":
        axes = draw(st.one_of(st.none(), st.lists(st.integers(-3, 3), max_size=3).map(tuple)))
        return (
            name,
            lambda a: ops.Transpose(axes)(a),
            lambda a: np.transpose(a, axes),
            (draw(NUMERIC),),
        )
    if name == "getitem":
        index = draw(st.one_of(st.integers(-4, 4), st.just(slice(None, 2)), st.just(1.5),
                               st.lists(st.integers(-3, 3), max_size=3).map(np.array)))  # fmt: skip
        return name, lambda a: ops.GetItem(index)(a), lambda a: a[index], (draw(NUMERIC),)
    if name == "Affine":
        args = (draw(ANYTHING), draw(ANYTHING), draw(ANYTHING))
        return name, lambda x, W, b: Affine(W, b)(x), affine_ref, args
    args = (draw(ANYTHING), draw(ANYTHING))
    return name, lambda x, t: SoftmaxWithLoss()(x, t), softmax_with_loss_ref, args


def affine_ref(x, W, b):
    return (x.reshape(len(x), -1) if x.ndim > 1 else x) @ W + b


def softmax_with_loss_ref(x, t):
    if x.ndim == 1:  # one sample: t is its probability row, or its label
        x, t = x[None], (t[None] if t.shape == x.shape else t.reshape(-1))
    logp = log_softmax_ref(x.astype(np.float64), 1)
    if t.shape == x.shape:
        return -np.sum(t * logp) / len(x)
    return -np.mean(logp[np.arange(len(x)), t])


def as_input(value, grad):
    """Numeric arrays become tensors (wanting a gradient if float); the rest stays as it is."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return Tensor(value, requires_grad=grad and value.dtype.kind == "f")
    return value


@given(case=fuzz_case(), grad=st.booleans())
@settings(max_examples=1500)
def test_every_op_gives_the_right_result_or_a_clear_error(case, grad):
    name, call, ref, args = case
    inputs = [as_input(a, grad) for a in args]
    allowed = (ValueError, TypeError, IndexError) if name == "getitem" else (ValueError, TypeError)
    with np.errstate(all="ignore"):
        try:
            out = call(*inputs)
        except allowed as error:
            event(f"{name}: {type(error).__name__}")
            message = str(error)
            assert message.startswith(f"{name}:") or message.startswith(f"{name}.")
            assert re.search(r"\(\d|\(\)|dtype|got |shape|axis|label|batch", message), message
            assert error.__cause__ is None
            return
        event(f"{name}: result")
        expected = ref(*[np.asarray(a) for a in args])  # NumPy must agree it was fine
    assert isinstance(out, Tensor)
    if np.asarray(expected).dtype.kind == "f" or out.dtype.kind == "f":
        np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6, equal_nan=True)
    else:
        np.testing.assert_array_equal(out.data, expected)
    if out.requires_grad:
        with np.errstate(all="ignore"):
            out.backward(np.ones(out.shape, out.dtype))
        for x in inputs:
            if isinstance(x, Tensor) and x.requires_grad:
                assert x.grad is not None and x.grad.shape == x.shape


@given(
    data=st.data(),
    rows=st.integers(1, 6),
    dtypes=st.sampled_from(
        [(np.float32, np.float64), (np.float64, np.float64), (np.float32, np.float32)]
    ),
)
def test_add_at_adds_as_np_add_at_to_the_last_bit(data, rows, dtypes):
    target = data.draw(hnp.arrays(dtypes[0], (rows, 3), elements=floats()))
    index = data.draw(hnp.arrays(np.int64, hnp.array_shapes(max_dims=2, max_side=6),
                                 elements=st.integers(-rows, rows - 1)))  # fmt: skip
    values = data.draw(hnp.arrays(dtypes[1], (*index.shape, 3), elements=floats()))
    expected = target.copy()
    np.add.at(expected, index, values)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ops, "SMALL", 0)  # the fast path, even for these small arrays
        ops.add_at(target, index, values)
    np.testing.assert_array_equal(target, expected)
    with pytest.raises(IndexError):
        ops.add_at(target, np.array([rows]), values.reshape(-1, 3)[:1])
