"""The autograd core: Tensor, Function, no_grad and backward (book chapter 5).

Define-by-run: calling a Function on tensors computes the result at once and, when some input
wants a gradient, records the call as the output's creator: a node of the computation graph
(5.1). backward() walks the recorded graph from the output back to the leaves, applying each
node's local backward rule and the chain rule (5.2-5.3).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import numpy as np

_grad_enabled = True
_anomaly_mode = False
_PACKAGE = str(Path(__file__).resolve().parent)


@contextlib.contextmanager
def no_grad():
    """Record no graph inside the block (evaluation, numerical differentiation)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


@contextlib.contextmanager
def detect_anomaly():
    """Inside the block, the first op whose forward or backward makes NaN or inf raises
    FloatingPointError, naming the op and the line of your code that called it. Each op's
    result is checked, so it is slower: for finding a bug, not for training."""
    global _anomaly_mode
    previous, _anomaly_mode = _anomaly_mode, True
    try:
        yield
    finally:
        _anomaly_mode = previous


def _user_frame():
    """'file:line in function' of the innermost caller outside this package."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return "an unknown place"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


def _check_finite(array, what, node):
    """In anomaly mode: raise if a float result holds NaN or inf."""
    if array is None or array.dtype.kind != "f" or np.isfinite(array).all():
        return
    bad = "NaN" if np.isnan(array).any() else "inf"
    where = getattr(
        node, "called_at", "a place not recorded (its forward ran outside detect_anomaly)"
    )
    raise FloatingPointError(f"{what.format(bad)}; it was called at {where}")


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
        self.name = name  # shown by repr and tinygrad_ko.viz, e.g. "W1"

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
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = (
            "" if self.data.dtype in (np.float64, np.int64, np.bool_) else f", dtype={self.dtype}"
        )
        if self._creator is not None:
            extra += f", creator={type(self._creator).__name__}"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        if self.name is not None:
            extra += f", name={self.name!r}"
        return f"Tensor({body}{extra})"

    # --- backprop ----------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Backpropagate from this tensor (5.3), adding dL/dx into .grad of every leaf x that
        requires a gradient. `grad` (dL/dself) may be left out when the tensor is a scalar.
        The graph is freed afterwards unless retain_graph=True.
        """
        _backprop(self, grad, retain_graph)

    # --- operators and methods: each is one op of tinygrad_ko.ops or tinygrad_ko.layers ------
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

    def reshape(self, *shape):
        return ops.Reshape(_one_or_many(shape))(self)

    def transpose(self, *axes):
        return ops.Transpose(_one_or_many(axes) if axes else None)(self)

    @property
    def T(self):
        return ops.Transpose(None)(self)


def _constant(value, fn, position):
    """A Tensor for a plain argument of a Function call: arrays of numbers are wrapped as they
    are; anything that is not numbers is refused, naming the op and the argument."""
    if type(value) is np.ndarray and value.dtype.kind in "biuf":
        return Tensor._from_op(value, None)
    try:
        return Tensor(value)
    except TypeError:
        raise TypeError(
            f"{fn.name}: argument {position} must be a tensor or numbers, got {_describe(value)}"
        ) from None


def _describe(value):
    """A short description of a value for error messages: its type, and dtype and shape."""
    if isinstance(value, (Tensor, np.ndarray)):
        return f"{type(value).__name__} of dtype {value.dtype} and shape {value.shape}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _one_or_many(args):
    """Accept both f(2, 3) and f((2, 3)), as NumPy's reshape and transpose do."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def _lift(value, like):
    """The other operand of an operator: a Python number takes the float tensor's dtype, so that
    `x * 2` stays float32 when x is float32; anything else goes to the op as it is (which
    converts it, or names the op and the argument it cannot use)."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and like.data.dtype.kind == "f":
        return Tensor._from_op(np.asarray(value, dtype=like.data.dtype), None)
    return value


class Function:
    """One operation of the graph, its backward rule right beside its forward (5.4).

    Subclass it: write forward(self, *arrays) returning an array, and backward(self, dout)
    returning dL/d(input) for each input, a tuple when there are several (None for an input that
    needs none). Keep in self what backward needs, as the book's layers do.

    - Book way: call forward and backward yourself on NumPy arrays.
    - Graph way: call the instance on tensors, y = Square()(x); each call becomes its own node
      (a copy of the instance), so one instance may be used any number of times. Keyword
      arguments go to forward as they are (BatchNormalization()(x, train_flg=False)).

    A layer of the book checks what it is given the book's way, where no graph has checked it:
    x = self.book_input("x", x) at the start of forward, dout = self.book_dout(dout) at the
    start of backward (which compares it with self.out_shape, set by forward).

    Layers holding weights list them in `param_names` (Affine: "W", "b"); the weights become
    extra inputs of the node and their gradients are read from "d" + name (dW, db) after
    backward, as in the book. Trailing inputs that never need a gradient (labels) may be left
    out of backward's result. backward may write into dout (the book's Relu does): a rule
    defined outside this library gets its own copy, as one array may feed several nodes.
    """

    name = None  # how messages name it; the class name unless the class says otherwise
    param_names = ()
    _builtin = False
    # set on each node before forward: which inputs want a gradient (all False when nothing is
    # recorded, under no_grad or when no input requires one; None the book's way: all of them)
    needs_input_grad = None
    inputs = ()  # set on each node: the input tensors; None once the graph is freed

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, *arrays)")

    def backward(self, dout):
        raise NotImplementedError(f"{type(self).__name__} must define backward(self, dout)")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # the library's own rules never write into dout, so they can share it without a copy,
        # and NumPy's errors inside them are reported naming the op
        cls._builtin = cls.__module__.startswith("tinygrad_ko.")
        if "name" not in cls.__dict__:
            cls.name = cls.__name__

    def needs_grad(self, i):
        """Whether input i wants a gradient; always true when used the book's way."""
        return self.needs_input_grad is None or self.needs_input_grad[i]

    def book_input(self, name, value):
        """The book's way, value as an array of numbers, or a TypeError naming this Function and
        the argument; tensors, and anything in the graph (checked by __call__), as they are."""
        if self.needs_input_grad is not None or isinstance(value, Tensor):
            return value
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"{type(self).__name__}: {name} must be numbers, got dtype {array.dtype} "
                f"(shape {array.shape})"
            )
        return array

    def book_dout(self, dout):
        """The book's way, dout as an array of the shape forward's output had (self.out_shape),
        or a clear error; in the graph, backprop has checked it already."""
        if self.needs_input_grad is not None:
            return dout
        shape = getattr(self, "out_shape", None)
        if shape is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward: call forward first; backward uses what it saved"
            )
        dout = np.asarray(dout)
        if dout.shape != shape:
            raise ValueError(
                f"{type(self).__name__}.backward: dout has shape {dout.shape}, but forward's "
                f"output had shape {shape}"
            )
        return dout

    def __call__(self, *args, **options):
        node = object.__new__(type(self))
        node.__dict__.update(self.__dict__)
        inputs = [a if isinstance(a, Tensor) else _constant(a, self, i) for i, a in enumerate(args)]
        arrays = [x.data for x in inputs]
        for name in self.param_names:  # the node computes with the weights' arrays
            w = getattr(self, name)
            w = w if isinstance(w, Tensor) else Tensor(w)
            setattr(node, name, w.data)
            inputs.append(w)
        needs = tuple([x._requires_grad for x in inputs])
        record = _grad_enabled and True in needs
        node.needs_input_grad = needs if record else (False,) * len(needs)  # forward may look
        try:
            out = node.forward(*arrays, **options)
        except (ValueError, TypeError, IndexError) as error:
            if not self._builtin or str(error).startswith(f"{self.name}:"):
                raise  # the op's own message, or a user's Function: theirs to read
            kind = next(k for k in (IndexError, TypeError, ValueError) if isinstance(error, k))
            shapes = ", ".join(f"{x.data.dtype} {x.data.shape}" for x in inputs)
            raise kind(f"{self.name}: {error} (inputs: {shapes})") from None
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        if out.dtype.kind not in "biuf":
            raise TypeError(
                f"{type(self).__name__}.forward returned dtype {out.dtype}; it must return "
                "a numeric NumPy array"
            )
        if _anomaly_mode:
            node.called_at = _user_frame()
            _check_finite(out, f"{self.name} produced {{}} in its forward pass", node)
        if not record:
            return Tensor._from_op(out, None)
        node.inputs = tuple(inputs)
        return Tensor._from_op(out, node)

    def _input_grads(self, dout):
        """backward's result as one gradient per node input, weights' gradients included."""
        grads = self.backward(dout if self._builtin else np.array(dout))
        if not isinstance(grads, tuple):
            grads = tuple(grads) if isinstance(grads, list) else (grads,)
        n_args = len(self.inputs) - len(self.param_names)
        if len(grads) != n_args:
            left_out = self.inputs[len(grads) : n_args]
            if len(grads) > n_args or any(x._requires_grad for x in left_out):
                raise ValueError(
                    f"{type(self).__name__}.backward returned {len(grads)} gradient(s), but the "
                    f"call had {n_args} input(s) and each input that requires a gradient needs one"
                )
            grads += (None,) * len(left_out)
        if self.param_names:
            grads += tuple([getattr(self, "d" + name) for name in self.param_names])
        return grads

    def _release(self):
        """Free what the node saved for backward; backprop through it again is an error."""
        self.__dict__.clear()
        self.inputs = None


def _graph_order(root):
    """The non-leaf tensors behind root, each before the tensors it was computed from: a
    depth-first walk that lists a tensor once all its inputs are listed, reversed."""
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        t, inputs_listed = stack.pop()
        if inputs_listed:
            order.append(t)
        elif t not in visited:
            visited.add(t)
            stack.append((t, True))
            for x in _node_inputs(t):
                if x._creator is not None:
                    stack.append((x, False))
    order.reverse()
    return order


def _node_inputs(t):
    inputs = t._creator.inputs
    if inputs is None:
        raise RuntimeError(
            f"backward: the graph through {type(t._creator).__name__} was freed by an earlier "
            "backward(); pass retain_graph=True to the first backward to go through it again"
        )
    return inputs


def _seed(root, grad):
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: a gradient can be left out only for a scalar output, this tensor has "
                f"shape {root.shape}; call backward(grad) with dL/dtensor of that shape"
            )
        return np.ones(root.data.shape, root.data.dtype)
    seed = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=root.dtype)
    if seed.shape != root.shape:
        raise ValueError(
            f"backward: grad has shape {seed.shape}, but the tensor has shape {root.shape}"
        )
    return seed


def _checked(node, i, x, g):
    """A gradient from a backward rule, checked against its input: same shape, same dtype.
    Never reshaped or summed here: undoing broadcasting is the job of the op that broadcast."""
    if not isinstance(g, np.ndarray):
        g = np.asarray(g)
    if g.shape != x.data.shape:
        raise ValueError(
            f"{type(node).__name__}.backward: the gradient for input {i} has shape {g.shape}, "
            f"but input {i} has shape {x.data.shape}"
        )
    return g if g.dtype == x.data.dtype else g.astype(x.data.dtype)


def _sum(a, b):
    """a + b as a new array, never a NumPy scalar: NumPy gives a scalar for 0-d + 0-d."""
    total = a + b
    return total if type(total) is np.ndarray else np.asarray(total)


def _backprop(root, grad=None, retain_graph=False, wrt=None):
    """Backpropagation (5.3): visit nodes from root back to the leaves, each after all nodes
    that use its output, so its gradient is complete when its backward rule runs.

    Without `wrt`, leaf gradients are added to .grad. With `wrt` (a sequence of tensors), their
    gradients are returned instead and no .grad anywhere is touched.
    """
    if not root._requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require a gradient (it was computed under "
            "no_grad(), or from inputs none of which requires one)"
        )
    wanted = None if wrt is None else set(wrt)
    grads, kept = {root: _seed(root, grad)}, {}
    for t in _graph_order(root) if root._creator is not None else ():
        g = grads.pop(t, None)  # complete: every user of t came before it
        node = t._creator
        if g is not None:
            if t._retains_grad if wanted is None else t in wanted:
                kept[t] = g
            inputs = node.inputs
            for i, gx in enumerate(node._input_grads(g)):
                x = inputs[i]
                if gx is None or not x._requires_grad:
                    continue
                data = x.data
                if type(gx) is not np.ndarray or gx.shape != data.shape or gx.dtype != data.dtype:
                    gx = _checked(node, i, x, gx)
                if _anomaly_mode:
                    what = f"{node.name}.backward produced {{}} in the gradient for input {i}"
                    _check_finite(gx, what, node)
                previous = grads.get(x)
                grads[x] = gx if previous is None else _sum(previous, gx)
        if not retain_graph:
            node._release()
    kept.update(grads)  # what is left in grads belongs to leaves
    if wanted is not None:
        return [kept.get(x) for x in wrt]
    handed_out = set()
    for x, g in kept.items():
        if x.grad is not None:  # accumulate, keeping x's shape and dtype whatever .grad was set to
            if np.shape(x.grad) != x.data.shape:
                raise ValueError(
                    f"backward: .grad of a tensor of shape {x.data.shape} was set to shape "
                    f"{np.shape(x.grad)}; set it to None or to an array of the tensor's shape"
                )
            total = _sum(x.grad, g)
            x.grad = total if total.dtype == x.data.dtype else total.astype(x.data.dtype)
            continue
        # .grad must own its memory: an op may pass one array on to several inputs
        if g.base is not None or id(g) in handed_out:
            g = g.copy()
        handed_out.add(id(g))
        x.grad = g
    return None


from tinygrad_ko import ops  # noqa: E402  (ops subclass Function, defined above)
