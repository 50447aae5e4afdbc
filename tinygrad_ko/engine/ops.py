"""The tensor operations, one small class each, forward and backward side by side.

Book 5.4-5.5 derives the add and multiply nodes; the others follow the same pattern. Used the
book's way, + - * / ** take plain numbers too: Mul and Add are the book's MulLayer and
AddLayer (5.4.1-5.4.2). The activation layers ReLU and Sigmoid live in tinygrad_ko.layers with
the other book layers.

Each op also has backward_graph, its rule again in Tensor ops, for gradients of gradients
(create_graph). Ops that route gradients come in pairs, each the other's gradient, so any
order works: broadcast_to and sum_to, indexing and scatter-add (im2col and col2im in
tinygrad_ko.layers.conv).
"""

from __future__ import annotations

import numpy as np

from tinygrad_ko.engine.autograd import Function
from tinygrad_ko.engine.functions import log_softmax, softmax
from tinygrad_ko.engine.tensor import Tensor


def shape_of(x):
    """x's shape: an array's own (the hot path), else np.shape's (numbers, as the book passes)."""
    return x.shape if type(x) is np.ndarray else np.shape(x)


def unbroadcast(grad, shape):
    """Sum a gradient back to the shape of an input that NumPy broadcast in the forward pass.

    Broadcasting copies an input along new leading axes and along its axes of length 1; the
    gradient of a copy is the sum over the copies. This is the one place that sum is done.
    """
    if getattr(grad, "shape", ()) == shape:  # a number's is (): the book's MulLayer's (5.4)
        return grad
    if shape and grad.shape[1:] == shape:  # a bias added to every row: the common case
        return grad.sum(axis=0)
    lead = grad.ndim - len(shape)
    if lead:  # the axes broadcasting added in front (np.asarray: a full sum gives a scalar)
        grad = np.asarray(grad.sum(axis=tuple(range(lead))))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if ones:  # the axes of length 1 it stretched
        grad = grad.sum(axis=ones, keepdims=True)
    return grad


def constant(array, like):
    """A tensor outside the graph holding array in like's dtype: a mask or a count in a rule."""
    return Tensor._from_op(np.asarray(array, dtype=like.dtype), None)


def reshaped(t, shape):
    """t reshaped, without a node when it has the shape already."""
    return t if t.shape == tuple(shape) else t.reshape(shape)


def _broadcast_check(op, a, b):
    shapes = shape_of(a), shape_of(b)
    if shapes[0] == shapes[1]:
        return
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {shapes[0]} and {shapes[1]} cannot be broadcast together (NumPy "
            "rules: compared from the last axis, each pair of lengths must be equal or one of "
            "them 1)"
        ) from None


def axes_of(op, axis, ndim):
    """`axis` (None, an int or a tuple, negatives allowed) as a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
    if not isinstance(axes, (tuple, list)) or not all(
        isinstance(a, (int, np.integer)) for a in axes
    ):
        raise TypeError(f"{op}: axis must be None, an int or a tuple of ints, got {axis!r}")
    if any(not -ndim <= a < ndim for a in axes):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions")
    normalized = sorted(a % ndim for a in axes)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: axis {axis} names the same axis twice")
    return tuple(normalized)


# --- elementwise ops of two inputs: + - * / ** ----------------------------------------------


class Add(Function):
    name = "add"

    def forward(self, a, b):
        _broadcast_check(self.name, a, b)
        self.a_shape, self.b_shape = shape_of(a), shape_of(b)
        return a + b

    def backward(self, dout):
        return (
            unbroadcast(dout, self.a_shape) if self.needs_grad(0) else None,
            unbroadcast(dout, self.b_shape) if self.needs_grad(1) else None,
        )

    def backward_graph(self, dout, out):
        return (
            dout.sum_to(self.a_shape) if self.needs_grad(0) else None,
            dout.sum_to(self.b_shape) if self.needs_grad(1) else None,
        )


class Sub(Function):
    name = "sub"

    def forward(self, a, b):
        _broadcast_check(self.name, a, b)
        self.a_shape, self.b_shape = shape_of(a), shape_of(b)
        return a - b

    def backward(self, dout):
        return (
            unbroadcast(dout, self.a_shape) if self.needs_grad(0) else None,
            unbroadcast(-dout, self.b_shape) if self.needs_grad(1) else None,
        )

    def backward_graph(self, dout, out):
        return (
            dout.sum_to(self.a_shape) if self.needs_grad(0) else None,
            (-dout).sum_to(self.b_shape) if self.needs_grad(1) else None,
        )


class Mul(Function):
    name = "mul"

    def forward(self, a, b):
        _broadcast_check(self.name, a, b)
        self.a, self.b = a, b
        return a * b

    def backward(self, dout):
        a, b = self.a, self.b
        return (
            unbroadcast(dout * b, shape_of(a)) if self.needs_grad(0) else None,
            unbroadcast(dout * a, shape_of(b)) if self.needs_grad(1) else None,
        )

    def backward_graph(self, dout, out):
        a, b = self.inputs
        return (
            (dout * b).sum_to(a.shape) if self.needs_grad(0) else None,
            (dout * a).sum_to(b.shape) if self.needs_grad(1) else None,
        )


class Div(Function):
    name = "div"

    def forward(self, a, b):
        _broadcast_check(self.name, a, b)
        self.a, self.b = a, b
        return a / b

    def backward(self, dout):
        a, b = self.a, self.b
        return (
            unbroadcast(dout / b, shape_of(a)) if self.needs_grad(0) else None,
            unbroadcast(-dout * a / (b * b), shape_of(b)) if self.needs_grad(1) else None,
        )

    def backward_graph(self, dout, out):
        a, b = self.inputs
        return (
            (dout / b).sum_to(a.shape) if self.needs_grad(0) else None,
            (-dout * a / (b * b)).sum_to(b.shape) if self.needs_grad(1) else None,
        )


class Pow(Function):
    """a ** b: d/da = b·a^(b-1), d/db = a^b·log a, each taken as 0 where it is 0·∞ and the
    limit is 0 (b = 0 for the first; a = 0 with b >= 0 for the second), as PyTorch does."""

    name = "pow"

    def forward(self, a, b):
        _broadcast_check(self.name, a, b)
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, dout):
        a, b = self.a, self.b
        da = db = None
        if self.needs_grad(0):
            da = unbroadcast(
                dout * np.where(b == 0, 0, b * a ** np.where(b == 0, 1, b - 1)), np.shape(a)
            )
        if self.needs_grad(1):
            zero_base = (a == 0) & (b >= 0)
            log_a = np.log(np.where(zero_base, 1, a))
            db = unbroadcast(dout * np.where(zero_base, 0, self.out * log_a), np.shape(b))
        return da, db

    def backward_graph(self, dout, out):
        a, b = self.inputs
        da = db = None
        if self.needs_grad(0):  # where a = b = 0, b·a^(b-1) is taken as 0: no 0·∞ there
            both_zero = (b.data == 0) & (a.data == 0)
            exponent = b - 1 + constant(both_zero, b) if both_zero.any() else b - 1
            da = (dout * (b * a**exponent)).sum_to(a.shape)
        if self.needs_grad(1):  # where a = 0 and b >= 0, a^b·log a is taken as 0
            zero_base = (a.data == 0) & (b.data >= 0)
            if zero_base.any():
                log_a = (a + constant(zero_base, a)).log() * constant(~zero_base, a)
            else:
                log_a = a.log()
            db = (dout * out * log_a).sum_to(b.shape)
        return da, db


class MatMul(Function):
    """a @ b, 2-D or batched (leading axes broadcast); 1-D operands as in np.matmul.

    backward (5.6.1): da = dout @ bᵀ, db = aᵀ @ dout, with 1-D operands treated as a row
    (left) or a column (right) and batch axes summed back by unbroadcast.
    """

    name = "matmul"

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(
                f"{self.name}: operands need at least 1 dimension, got shapes {a.shape} and "
                f"{b.shape}"
            )
        inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if a.shape[-1] != inner_b:
            raise ValueError(
                f"{self.name}: shapes {a.shape} and {b.shape} do not align: the last axis of the "
                f"left ({a.shape[-1]}) must equal the {'second-to-last' if b.ndim > 1 else 'only'}"
                f" axis of the right ({inner_b})"
            )
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(
                f"{self.name}: the batch axes of shapes {a.shape} and {b.shape} cannot be broadcast"
            ) from None
        self.a, self.b = a, b
        return a @ b

    def backward(self, dout):
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        d2 = dout.reshape(dout.shape + (1,) * (b.ndim == 1))
        if a.ndim == 1:
            d2 = d2[..., None, :]
        da = db = None
        if self.needs_grad(0):
            da = unbroadcast(d2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if self.needs_grad(1):
            db = unbroadcast(a2.swapaxes(-1, -2) @ d2, b2.shape).reshape(b.shape)
        return da, db

    def backward_graph(self, dout, out):
        a, b = self.inputs
        a2 = reshaped(a, (1, -1)) if a.ndim == 1 else a
        b2 = reshaped(b, (-1, 1)) if b.ndim == 1 else b
        d2 = reshaped(dout, dout.shape + (1,) * (b.ndim == 1))
        if a.ndim == 1:
            d2 = reshaped(d2, (*d2.shape[:-1], 1, d2.shape[-1]))
        da = db = None
        if self.needs_grad(0):
            da = reshaped((d2 @ _swap_last(b2)).sum_to(a2.shape), a.shape)
        if self.needs_grad(1):
            db = reshaped((_swap_last(a2) @ d2).sum_to(b2.shape), b.shape)
        return da, db


def _swap_last(t):
    """t with its last two axes swapped (a matrix transposed, batch axes kept)."""
    return t.transpose(*range(t.ndim - 2), t.ndim - 1, t.ndim - 2)


# --- elementwise ops of one input ----------------------------------------------------------


class Neg(Function):
    name = "neg"

    def forward(self, x):
        return -x

    def backward(self, dout):
        return -dout

    def backward_graph(self, dout, out):
        return -dout


class Exp(Function):
    name = "exp"

    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def backward(self, dout):
        return dout * self.out

    def backward_graph(self, dout, out):
        return dout * out


class Log(Function):
    """Natural log; log(0) = -inf, as NumPy gives, only where the user takes it."""

    name = "log"

    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, dout):
        return dout / self.x

    def backward_graph(self, dout, out):
        return dout / self.inputs[0]


class Tanh(Function):
    name = "tanh"

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out * self.out)

    def backward_graph(self, dout, out):
        return dout * (1 - out * out)


class Sin(Function):
    """sin x; d/dx = cos x (book 3, step 27: its derivatives of every order are ±sin, ±cos)."""

    name = "sin"

    def forward(self, x):
        self.x = x
        return np.sin(x)

    def backward(self, dout):
        return dout * np.cos(self.x)

    def backward_graph(self, dout, out):
        return dout * self.inputs[0].cos()


class Cos(Function):
    """cos x; d/dx = -sin x."""

    name = "cos"

    def forward(self, x):
        self.x = x
        return np.cos(x)

    def backward(self, dout):
        return -dout * np.sin(self.x)

    def backward_graph(self, dout, out):
        return -dout * self.inputs[0].sin()


# --- reductions and softmax ------------------------------------------------------------------


def _expand(dout, axes, keepdims):
    """A reduced gradient with the reduced axes put back (length 1), ready to broadcast."""
    return dout if keepdims else np.expand_dims(dout, axes)


class Sum(Function):
    name = "sum"

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = axes_of(self.name, self.axis, x.ndim)
        self.shape = x.shape
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, dout):
        return np.broadcast_to(_expand(dout, self.axes, self.keepdims), self.shape)

    def backward_graph(self, dout, out):
        return _expand_tensor(dout, self.axes, self.keepdims).broadcast_to(self.shape)


def _expand_tensor(dout, axes, keepdims):
    """_expand for a tensor: the reduced axes put back with length 1."""
    return dout if keepdims else reshaped(dout, np.expand_dims(dout.data, axes).shape)


class Max(Function):
    """Maximum; the gradient goes to the maximal elements, split evenly among ties."""

    name = "max"

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = axes_of(self.name, self.axis, x.ndim)
        if x.size == 0:
            raise ValueError(
                f"{self.name}: the tensor is empty (shape {x.shape}), it has no maximum"
            )
        out = x.max(axis=self.axes, keepdims=True)
        self.mask = x == out
        return out if self.keepdims else np.squeeze(out, self.axes)

    def backward(self, dout):
        share = _expand(dout, self.axes, self.keepdims) / self.mask.sum(self.axes, keepdims=True)
        return self.mask * share

    def backward_graph(self, dout, out):  # the maximal elements stay where they are near x
        x = self.inputs[0]
        share = constant(self.mask / self.mask.sum(self.axes, keepdims=True), x)
        return _expand_tensor(dout, self.axes, self.keepdims).broadcast_to(x.shape) * share


class Softmax(Function):
    """y = softmax(x) along `axis`; dx = y·dout - y·Σ y·dout."""

    name = "softmax"

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        axes_of(self.name, self.axis, x.ndim)
        self.out = softmax(x, self.axis)
        return self.out

    def backward(self, dout):
        dx = self.out * dout  # y·dout - y·Σ y·dout, in book 2's order of operations
        dx -= self.out * dx.sum(axis=self.axis, keepdims=True)
        return dx

    def backward_graph(self, dout, out):
        return out * (dout - (dout * out).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y = log softmax(x) along `axis`, computed stably; dx = dout - softmax(x)·Σ dout."""

    name = "log_softmax"

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        axes_of(self.name, self.axis, x.ndim)
        self.out = log_softmax(x, self.axis)
        return self.out

    def backward(self, dout):
        return dout - np.exp(self.out) * dout.sum(axis=self.axis, keepdims=True)

    def backward_graph(self, dout, out):
        return dout - out.exp() * dout.sum(axis=self.axis, keepdims=True)


# --- shape ops -----------------------------------------------------------------------------------


class Reshape(Function):
    name = "reshape"

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.x_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"{self.name}: cannot reshape shape {x.shape} ({x.size} elements) into {self.shape}"
            ) from None

    def backward(self, dout):
        return dout.reshape(self.x_shape)

    def backward_graph(self, dout, out):
        return dout.reshape(self.x_shape)


class Transpose(Function):
    """Permute axes as NumPy's transpose; None reverses them."""

    name = "transpose"

    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        if self.axes is None:
            self.perm = tuple(reversed(range(x.ndim)))
        elif len(self.axes) != x.ndim:
            raise ValueError(
                f"{self.name}: axes {self.axes} are not a permutation of the {x.ndim} axes of a "
                f"tensor of shape {x.shape}"
            )
        else:
            self.perm = tuple(a % x.ndim for a in self.axes)
            axes_of(self.name, self.axes, x.ndim)  # in range, ints, no repeats
        return x.transpose(self.perm)

    def backward(self, dout):
        return dout.transpose(np.argsort(self.perm))

    def backward_graph(self, dout, out):
        return dout.transpose(*np.argsort(self.perm).tolist())


class GetItem(Function):
    """x[index] for basic slices, integer arrays and boolean masks; the gradient is scattered
    back with np.add.at, so an element picked twice gets both contributions."""

    name = "getitem"

    def __init__(self, index):
        self.index = _index_arrays(index)

    def forward(self, x):
        self.x_shape = x.shape
        return x[self.index]

    def backward(self, dout):
        return scatter_add(self.index, self.x_shape, dout)

    def backward_graph(self, dout, out):
        return ScatterAdd(self.index, self.x_shape)(dout)


def scatter_add(index, shape, values):
    """Zeros of shape with values added at index (np.add.at: an element indexed twice gets both)."""
    total = np.zeros(shape, dtype=values.dtype)
    add_at(total, index, values)
    return total


SMALL = 4096  # values add_at leaves to np.add.at: below this, its own setup costs more


def add_at(target, index, values):
    """np.add.at(target, index, values), to the last bit. Rows picked by an integer array (an
    embedding's word ids) go a faster way: each row picked once is added in one step, the
    rows picked more than once one value at a time, in the index's order, as np.add.at adds."""
    n = len(target) if target.ndim else 0
    rows = type(index) is np.ndarray and index.dtype.kind in "iu" and index.size and n
    if not rows or values.shape != index.shape + target.shape[1:] or values.size <= SMALL:
        return np.add.at(target, index, values)
    flat = index.reshape(-1)
    if flat.min() < -n or flat.max() >= n:
        return np.add.at(target, index, values)  # its IndexError
    flat = flat % n
    values = values.reshape(len(flat), *target.shape[1:])
    picked, first, count = np.unique(flat, return_index=True, return_counts=True)
    once = count == 1
    target[picked[once]] += values[first[once]]
    for row in picked[~once]:
        for i in np.flatnonzero(flat == row):
            target[row] += values[i]
    return None


class ScatterAdd(Function):
    """Zeros of a shape, with the input added at an index: indexing's gradient, whose own
    gradient is indexing again."""

    name = "scatter_add"

    def __init__(self, index, shape):
        self.index, self.shape = _index_arrays(index), tuple(shape)
        self.picked = np.empty(self.shape, np.bool_)[self.index].shape  # what index selects

    def forward(self, values):
        if values.shape != self.picked:
            raise ValueError(
                f"{self.name}: values have shape {values.shape}, but the index picks "
                f"{self.picked} from shape {self.shape}"
            )
        return scatter_add(self.index, self.shape, values)

    def backward(self, dout):
        return dout[self.index]

    def backward_graph(self, dout, out):
        return GetItem(self.index)(dout)


class SumTo(Function):
    """Sum over the axes broadcasting would copy along, to `shape`: unbroadcast as an op, the
    gradient of broadcast_to (and the other way round)."""

    name = "sum_to"

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        try:
            if np.broadcast_shapes(self.shape, x.shape) != x.shape:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"{self.name}: shape {x.shape} is not a broadcast of shape {self.shape}"
            ) from None
        self.x_shape = x.shape
        return unbroadcast(x, self.shape)

    def backward(self, dout):
        return np.broadcast_to(dout, self.x_shape)

    def backward_graph(self, dout, out):
        return dout.broadcast_to(self.x_shape)


class BroadcastTo(Function):
    """x copied along new leading axes and its axes of length 1, as NumPy broadcasts it."""

    name = "broadcast_to"

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        try:
            out = np.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(
                f"{self.name}: shape {x.shape} cannot be broadcast to {self.shape}"
            ) from None
        self.x_shape = x.shape
        return out

    def backward(self, dout):
        return unbroadcast(dout, self.x_shape)

    def backward_graph(self, dout, out):
        return dout.sum_to(self.x_shape)


class Concatenate(Function):
    """Tensors joined along an existing axis (np.concatenate); each gets its slice back."""

    name = "concatenate"

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        if not xs:
            raise ValueError(f"{self.name}: no tensors to join")
        out = np.concatenate(xs, axis=self.axis)
        axis = self.axis % out.ndim
        ends = np.cumsum([x.shape[axis] for x in xs]).tolist()
        before = (slice(None),) * axis
        self.slices = [(*before, slice(end - x.shape[axis], end)) for x, end in zip(xs, ends)]
        return out

    def backward(self, dout):
        return tuple(dout[s] if self.needs_grad(i) else None for i, s in enumerate(self.slices))

    def backward_graph(self, dout, out):
        return tuple(dout[s] if self.needs_grad(i) else None for i, s in enumerate(self.slices))


def concatenate(tensors, axis=0):
    """np.concatenate for tensors: the gradient of each is its slice of the output's."""
    return Concatenate(axis)(*tensors)


def _index_arrays(index):
    """Tensors and lists inside an index become arrays, as NumPy would read them."""
    if isinstance(index, tuple):
        return tuple(_index_arrays(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index
