"""Tensor: a NumPy array that remembers the Function that made it (book chapter 5), so that
backward() can send gradients back through the graph (tinygrad_ko.engine.autograd)."""

from __future__ import annotations

import numpy as np

__all__ = ["REPR_ELEMENTS", "Tensor"]

REPR_ELEMENTS = 100  # a repr shows every value up to this many, a summary beyond (10 x 10 fits)


class Tensor:
    """A NumPy array that remembers the Function that made it, so gradients can flow back.

    The array is wrapped without copying: a Tensor made from a NumPy array shares its memory.
    """

    __slots__ = ("_creator", "_requires_grad", "_retains_grad", "data", "grad", "name")
    __array_ufunc__ = None  # `ndarray + tensor` calls Tensor.__radd__ instead of looping in NumPy

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        if isinstance(data, Tensor):
            data = data.data
        try:
            array = np.asarray(data, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"Tensor: cannot make a numeric array from {type(data).__name__}: {error}"
            ) from None
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"Tensor: data must be numbers (bool, int or float), got dtype {array.dtype}"
            )
        self.data = array
        self.grad = None
        self._creator = None
        self._retains_grad = False
        self.requires_grad = requires_grad
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Tensor: name must be a string, got {type(name).__name__}")
        self.name = name  # shown by repr and tinygrad_ko.display.viz, e.g. "W1"

    @classmethod
    def _from_op(cls, data, creator):
        """The output of a Function call: no checks, since the Function made `data` itself."""
        t = object.__new__(cls)
        t.data, t.grad, t._creator, t.name = data, None, creator, None
        t._requires_grad, t._retains_grad = creator is not None, False
        return t

    # --- the array it holds ------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if value and self.data.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating-point tensors can require gradients, this one has dtype "
                f"{self.data.dtype}; make it with float data or dtype=np.float64"
            )
        self._requires_grad = bool(value)

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor; use .item()")
        return (self[i] for i in range(len(self.data)))

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                "use (t.data != 0).any() or .all()"
            )
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __array__(self, dtype=None, copy=None):
        """np.asarray(tensor): the values as an array, outside the graph."""
        if copy:
            return np.array(self.data, dtype=dtype)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def numpy(self):
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: tensor has {self.data.size} elements, item() needs exactly 1")
        return self.data.item()

    def detach(self):
        """The same data, cut off from the graph."""
        return Tensor(self.data)

    def retain_grad(self):
        """Keep .grad on this intermediate tensor after backward (leaves always keep theirs)."""
        self._retains_grad = True
        return self

    def __repr__(self):
        """The values, as NumPy prints them, up to REPR_ELEMENTS of them. A larger tensor shows
        its shape, dtype and corners to 4 digits (as PyTorch summarises): three rows and columns
        at each end of a matrix, one at each end of each axis of a higher rank, so that a batch
        of images fits a screen too. print(t.data) shows every value."""
        summarised = self.data.size > REPR_ELEMENTS
        options = {}
        if summarised:
            corner = 3 if self.ndim <= 2 else 1
            options = {"precision": 4, "max_line_width": 100, "edgeitems": corner}
        body = np.array2string(
            self.data, separator=", ", prefix="Tensor(", threshold=REPR_ELEMENTS, **options
        )
        extra = [f"shape={self.shape}"] if summarised else []
        if summarised or self.data.dtype not in (np.float64, np.int64, np.bool_):
            extra.append(f"dtype={self.dtype}")
        if self._creator is not None:
            extra.append(f"creator={type(self._creator).__name__}")
        elif self._requires_grad:
            extra.append("requires_grad=True")
        if self.name is not None:
            extra.append(f"name={self.name!r}")
        if not extra:
            return f"Tensor({body})"
        details = ", ".join(extra)
        if "\n" in body or len(body) + len(details) > 90:  # on a line of its own, under the values
            return f"Tensor({body},\n       {details})"
        return f"Tensor({body}, {details})"

    # --- backprop ----------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Backpropagate from this tensor (5.3), adding dL/dx into .grad of every leaf x that
        requires a gradient. `grad` (dL/dself) may be left out when the tensor is a scalar.
        The graph is freed afterwards unless retain_graph=True.

        create_graph=True (book 3, step 33): the gradients put into .grad are tensors with a
        graph of their own, so `gx = x.grad; x.grad = None; gx.backward()` gives the second
        derivative. retain_graph then defaults to True, as in PyTorch.
        """
        retain = create_graph if retain_graph is None else retain_graph
        autograd.backprop(self, grad, retain, create_graph=create_graph)

    # --- operators and methods: each is one op of tinygrad_ko.engine.ops or tinygrad_ko.layers --
    def __add__(self, other):
        return ops.Add()(self, _lift(other, self))

    def __radd__(self, other):
        return ops.Add()(_lift(other, self), self)

    def __sub__(self, other):
        return ops.Sub()(self, _lift(other, self))

    def __rsub__(self, other):
        return ops.Sub()(_lift(other, self), self)

    def __mul__(self, other):
        return ops.Mul()(self, _lift(other, self))

    def __rmul__(self, other):
        return ops.Mul()(_lift(other, self), self)

    def __truediv__(self, other):
        return ops.Div()(self, _lift(other, self))

    def __rtruediv__(self, other):
        return ops.Div()(_lift(other, self), self)

    def __pow__(self, other):
        return ops.Pow()(self, _lift(other, self))

    def __rpow__(self, other):
        return ops.Pow()(_lift(other, self), self)

    def __neg__(self):
        return ops.Neg()(self)

    def __matmul__(self, other):
        return ops.MatMul()(self, other)

    def __rmatmul__(self, other):
        return ops.MatMul()(other, self)

    def __getitem__(self, index):
        return ops.GetItem(index)(self)

    def exp(self):
        return ops.Exp()(self)

    def log(self):
        return ops.Log()(self)

    def tanh(self):
        return ops.Tanh()(self)

    def sin(self):
        return ops.Sin()(self)

    def cos(self):
        return ops.Cos()(self)

    def softmax(self, axis=-1):
        return ops.Softmax(axis)(self)

    def log_softmax(self, axis=-1):
        return ops.LogSoftmax(axis)(self)

    def sum(self, axis=None, keepdims=False):
        return ops.Sum(axis, keepdims)(self)

    def mean(self, axis=None, keepdims=False):
        ops.axes_of("mean", axis, self.data.ndim)  # errors name mean, not the sum it is made of
        total = self.sum(axis, keepdims)
        count = self.data.size // max(total.data.size, 1)
        if count == 0:
            raise ValueError(
                f"mean: no elements to average (tensor shape {self.shape}, axis {axis}); the "
                "mean of nothing is undefined"
            )
        return total / count

    def max(self, axis=None, keepdims=False):
        return ops.Max(axis, keepdims)(self)

    def sum_to(self, shape):
        """Sum over the axes that broadcasting to this tensor's shape would copy along."""
        shape = _shape(shape)
        return self if self.data.shape == shape else ops.SumTo(shape)(self)

    def broadcast_to(self, shape):
        shape = _shape(shape)
        return self if self.data.shape == shape else ops.BroadcastTo(shape)(self)

    def reshape(self, *shape):
        return ops.Reshape(_one_or_many(shape))(self)

    def transpose(self, *axes):
        return ops.Transpose(_one_or_many(axes) if axes else None)(self)

    @property
    def T(self):
        return ops.Transpose(None)(self)


def _shape(shape):
    """A shape as NumPy takes it: an int or a sequence of ints."""
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)


def _one_or_many(args):
    """Accept both f(2, 3) and f((2, 3)), as NumPy's reshape and transpose do."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def _lift(value, like):
    """The other operand of an operator: a Python number takes the float tensor's dtype, so that
    `x * 2` stays float32 when x is float32; anything else goes to the op as it is (which
    converts it, or names the op and the argument it cannot use)."""
    if type(value) is Tensor:  # the common case, first
        return value
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and like.data.dtype.kind == "f":
        return Tensor._from_op(np.asarray(value, dtype=like.data.dtype), None)
    return value


from tinygrad_ko.engine import autograd, ops  # noqa: E402  (both build on Tensor, defined above)
