"""The graph and the walk back (book chapter 5): Function, the base of every op and layer; each
call on tensors a node of the computation graph (5.1); backprop, the chain rule from an output
back to the leaves (5.2-5.3); grad(), no_grad, enable_grad and detect_anomaly.

Define-by-run: calling a Function on tensors computes the result at once and, when some input
wants a gradient, records the call as the output's creator. backprop walks the recorded graph
from the output back, applying each node's local backward rule.

Gradients of gradients (book 3, steps 33-36): with create_graph=True the walk applies each
node's second rule, backward_graph, written in Tensor ops, so the gradients it gives are
tensors with a graph of their own, differentiable again. A plain walk never calls it: first
order runs exactly the array rules.
"""

from __future__ import annotations

import contextlib
import operator
import sys
import warnings
from pathlib import Path

import numpy as np

__all__ = [
    "Function",
    "backprop",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "graph_order",
    "no_grad",
    "warnings_at_user_line",
]

_grad_enabled = True
_data_of = operator.attrgetter("data")
_anomaly_mode = False
_PACKAGE = str(Path(__file__).resolve().parents[1])  # tinygrad_ko/, all of its subpackages
_OURS = (_PACKAGE, str(Path(np.__file__).resolve().parent))  # frames a warning skips


@contextlib.contextmanager
def _recording(enabled):
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, enabled
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad():
    """Record no graph inside the block (evaluation, numerical differentiation)."""
    return _recording(False)


def enable_grad():
    """Record the graph inside the block even within no_grad(), as PyTorch's enable_grad."""
    return _recording(True)


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


def _user_stacklevel():
    """The stacklevel for warnings.warn, called from the error handler below, that names the
    innermost frame outside tinygrad_ko and NumPy."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_code.co_filename.startswith(_OURS):
        frame, level = frame.f_back, level + 1
    return level


def _where_in_ours():
    """' in Op.method' for the Function of tinygrad_ko whose method made the warning, ' in
    tinygrad_ko' for other code of ours, '' when the user's own NumPy call made it."""
    frame, where = sys._getframe(2), ""
    while frame is not None and frame.f_code.co_filename.startswith(_OURS):
        op = frame.f_locals.get("self")
        if isinstance(op, Function):
            return f" in {type(op).__name__}.{frame.f_code.co_name}"
        if frame.f_code.co_filename.startswith(_PACKAGE):
            where = " in tinygrad_ko"
        frame = frame.f_back
    return where


def _warn(error, _flag):
    warnings.warn(f"{error} encountered{_where_in_ours()}", RuntimeWarning, _user_stacklevel())


@contextlib.contextmanager
def warnings_at_user_line():
    """NumPy's floating-point warnings (overflow, invalid value, divide by zero) raised inside
    the block by tinygrad_ko's code are shown at the user's line that called into it, naming the
    op, instead of at a line of ours. Settings the user chose (np.seterr 'raise', 'ignore', a
    handler of their own through np.seterrcall) are kept: only 'warn' is redirected."""
    kept = np.geterr()
    redirect = {kind: "call" for kind in ("over", "invalid", "divide") if kept[kind] == "warn"}
    if not redirect or np.geterrcall() not in (None, _warn):  # the user's own handler stays
        yield
        return
    with np.errstate(call=_warn, **redirect):
        yield


def _check_finite(array, what, node):
    """In anomaly mode: raise if a float result holds NaN or inf."""
    if array is None or array.dtype.kind != "f" or np.isfinite(array).all():
        return
    bad = "NaN" if np.isnan(array).any() else "inf"
    where = getattr(
        node, "called_at", "a place not recorded (its forward ran outside detect_anomaly)"
    )
    raise FloatingPointError(f"{what.format(bad)}; it was called at {where}")


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

    Gradients of gradients: backward_graph(self, dout, out) is the same rule written in Tensor
    ops (dout and out, the node's output, are tensors; the inputs are self.inputs, weights
    last), returning one gradient per input, weights included (None where none is needed).
    Only backward(create_graph=True) and grad(..., create_graph=True) call it, so its result
    can be differentiated again, to any order. A Function without one still gives the right
    gradient there, but differentiating that gradient again is an error naming it.
    """

    name = None  # how messages name it; the class name unless the class says otherwise
    param_names = ()
    _builtin = False
    # set on each node before forward: which inputs want a gradient (all False when nothing is
    # recorded, under no_grad or when no input requires one; None the book's way: all of them)
    needs_input_grad = None
    inputs = ()  # set on each node: the input tensors; None once the graph is freed
    backward_graph = None  # the rule in Tensor ops, for create_graph (see above)

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

    def __repr__(self):  # Affine(W (784, 50), b (50,)): what a list of layers shows
        weights = [(name, getattr(self, name, None)) for name in self.param_names]
        return f"{self.name}({', '.join(f'{n} {np.shape(w)}' for n, w in weights)})"

    def needs_grad(self, i):
        """Whether input i wants a gradient; always true when used the book's way."""
        return self.needs_input_grad is None or self.needs_input_grad[i]

    def book2_grads(self):
        """Book 2's `grads` list when this layer has one (tinygrad_ko.book2 gives it) and runs
        the book's way: backward then writes its weights' gradients into those arrays, in
        place, as the book's layers do. None otherwise: in the graph each call gets new arrays."""
        return self.__dict__.get("grads") if self.needs_input_grad is None else None

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
        if self.__dict__:  # an op made for this one call holds nothing yet
            node.__dict__.update(self.__dict__)
        inputs = list(args)
        for i, a in enumerate(args):
            if type(a) is not Tensor:
                inputs[i] = a if isinstance(a, Tensor) else _constant(a, self, i)
        arrays = list(map(_data_of, inputs))
        for name in self.param_names:  # the node computes with the weights' arrays
            w = getattr(self, name)
            w = w if isinstance(w, Tensor) else Tensor(w)
            setattr(node, name, w.data)
            inputs.append(w)
        needs = tuple([x._requires_grad for x in inputs])
        record = _grad_enabled and True in needs
        node.needs_input_grad = needs if record else (False,) * len(needs)  # forward may look
        try:
            out = node.forward(*arrays, **options) if options else node.forward(*arrays)
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
            named = ", ".join(x.name for x in inputs if x.name is not None)
            over = f" (on {named})" if named else ""
            _check_finite(out, f"{self.name}{over} produced {{}} in its forward pass", node)
        if not record:
            return Tensor._from_op(out, None)
        node.inputs = tuple(inputs)
        return Tensor._from_op(out, node)

    def _input_grads(self, dout):
        """backward's result as one gradient per node input, weights' gradients included."""
        grads = self.backward(dout if self._builtin else np.array(dout))
        if self.param_names:
            n = len(self.inputs) - len(self.param_names)
        else:
            n = len(self.inputs)
            if n == 1 and type(grads) is np.ndarray:  # a unary op's one gradient (most ops)
                return (grads,)
        if type(grads) is not tuple or len(grads) != n:  # one array, a list, or too few
            grads = self._one_per_input(grads, n, "backward")
        if self.param_names:
            grads += tuple([getattr(self, "d" + name) for name in self.param_names])
        return grads

    def _input_grads_graph(self, dout, out):
        """backward_graph's result (create_graph): one tensor or None per node input, weights
        included; through the array rule when the Function has no backward_graph."""
        if self.backward_graph is None:
            return _once_differentiable(self, dout)
        grads = self.backward_graph(dout, out)
        grads = self._one_per_input(grads, len(self.inputs), "backward_graph")
        return [g if g is None or isinstance(g, Tensor) else Tensor(g) for g in grads]

    def _one_per_input(self, grads, n, rule):
        """A rule's result as a tuple of n gradients: None added for trailing inputs that need
        none (labels), or a clear error."""
        if not isinstance(grads, tuple):
            grads = tuple(grads) if isinstance(grads, list) else (grads,)
        if len(grads) != n:
            left_out = self.inputs[len(grads) : n]
            if len(grads) > n or any(x._requires_grad for x in left_out):
                raise ValueError(
                    f"{type(self).__name__}.{rule} returned {len(grads)} gradient(s), but the "
                    f"call had {n} input(s) and each input that requires a gradient needs one"
                )
            grads += (None,) * len(left_out)
        return grads

    def _release(self):
        """Free what the node saved for backward; backprop through it again is an error."""
        self.__dict__.clear()
        self.inputs = None


def graph_order(*roots, stop=()):
    """The non-leaf tensors behind the roots, each before the tensors it was computed from: a
    depth-first walk that lists a tensor once all its inputs are listed, reversed. Tensors in
    `stop` count as leaves: the walk does not go past them."""
    order, visited = [], set(stop)
    stack = [(root, False) for root in reversed(roots) if root._creator is not None]
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


def _leading_to(order, wanted):
    """The tensors of order whose creators have an input in wanted or leading to it: the part
    of the graph a gradient with respect to wanted needs (grad() walks only that; a wanted
    tensor's gradient is complete without running its own creator)."""
    leads = set()
    for t in reversed(order):  # inputs before the tensors made from them
        if any(x in leads or x in wanted for x in t._creator.inputs):
            leads.add(t)
    return [t for t in order if t in leads]


def _seed(root, grad, as_tensor):
    """dL/droot to start the walk: ones for a scalar, else `grad` checked against root. For
    create_graph a tensor; one that requires a gradient is used as it is (the double-vjp)."""
    if as_tensor and isinstance(grad, Tensor) and grad._requires_grad:
        if grad.shape != root.shape or grad.dtype != root.dtype:
            raise ValueError(
                f"backward: grad has shape {grad.shape} and dtype {grad.dtype}, but the tensor "
                f"has shape {root.shape} and dtype {root.dtype}"
            )
        return grad
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: a gradient can be left out only for a scalar output, this tensor has "
                f"shape {root.shape}; call backward(grad) with dL/dtensor of that shape"
            )
        seed = np.ones(root.data.shape, root.data.dtype)
    else:
        seed = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=root.dtype)
    if seed.shape != root.shape:
        raise ValueError(
            f"backward: grad has shape {seed.shape}, but the tensor has shape {root.shape}"
        )
    return Tensor._from_op(seed, None) if as_tensor else seed


def _checked(node, i, x, g):
    """A gradient from a backward rule, checked against its input: same shape, same dtype.
    Never reshaped or summed here: undoing broadcasting is the job of the op that broadcast."""
    if isinstance(g, Tensor):  # from backward_graph
        if g.shape != x.data.shape:
            raise ValueError(
                f"{type(node).__name__}.backward_graph: the gradient for input {i} has shape "
                f"{g.shape}, but input {i} has shape {x.data.shape}"
            )
        return g if g.dtype == x.data.dtype else AsType(x.data.dtype)(g)
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


def backprop(root, grad=None, retain_graph=False, wrt=None, create_graph=False):
    """Backpropagation (5.3): visit nodes from root back to the leaves, each after all nodes
    that use its output, so its gradient is complete when its backward rule runs.

    Without `wrt`, leaf gradients are added to .grad. With `wrt` (a sequence of tensors), their
    gradients are returned instead and no .grad anywhere is touched. With create_graph, the
    gradients are tensors made by the nodes' backward_graph rules, recorded in a graph.
    """
    return _walk((root,), (grad,), retain_graph, wrt, create_graph)


def _walk(roots, seeds, retain_graph, wrt, create_graph, stop=()):
    """backprop from several roots at once, each seeded with its own gradient."""
    for root in roots:
        if not root._requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require a gradient (it was computed under "
                "no_grad(), or from inputs none of which requires one)"
            )
    wanted = None if wrt is None else set(wrt)
    add = (lambda a, b: a + b) if create_graph else _sum
    grads, kept = {}, {}
    for root, seed in zip(roots, seeds):
        g = _seed(root, seed, create_graph)
        grads[root] = g if root not in grads else add(grads[root], g)
    order = graph_order(*roots, stop=stop)
    if wanted is not None:
        order = _leading_to(order, wanted)
    with warnings_at_user_line(), _recording(True) if create_graph else contextlib.nullcontext():
        # with create_graph the rules' tensor ops are recorded, even inside no_grad()
        _through(order, grads, kept, wanted, retain_graph, create_graph, add)
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
            if create_graph:  # a .grad that is a tensor keeps its graph
                x.grad = (x.grad if isinstance(x.grad, Tensor) else Tensor(x.grad, x.dtype)) + g
                continue
            total = _sum(x.grad.data if isinstance(x.grad, Tensor) else x.grad, g)
            x.grad = total if total.dtype == x.data.dtype else total.astype(x.data.dtype)
            continue
        # .grad must own its memory: an op may pass one array on to several inputs
        data = g.data if create_graph else g
        if data.base is not None or not data.flags.writeable or id(g) in handed_out:
            g = g + 0 if create_graph else g.copy()  # in the graph, a copy is a node
        handed_out.add(id(g))
        x.grad = g
    return None


def _through(order, grads, kept, wanted, retain_graph, create_graph, add):
    """The walk itself: each node's rule applied to its complete gradient, in order."""
    for t in order:
        g = grads.pop(t, None)  # complete: every user of t came before it
        node = t._creator
        if g is not None:
            if t._retains_grad if wanted is None else t in wanted:
                kept[t] = g
            inputs = node.inputs
            rule = node._input_grads_graph(g, t) if create_graph else node._input_grads(g)
            for i, gx in enumerate(rule):
                x = inputs[i]
                if gx is None or not x._requires_grad:
                    continue
                data = x.data
                if type(gx) is not np.ndarray or gx.shape != data.shape or gx.dtype != data.dtype:
                    gx = _checked(node, i, x, gx)
                if _anomaly_mode:
                    what = f"{node.name}.backward produced {{}} in the gradient for input {i}"
                    _check_finite(gx.data if create_graph else gx, what, node)
                previous = grads.get(x)
                grads[x] = gx if previous is None else add(previous, gx)
        if not retain_graph:
            node._release()


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):  # fmt: skip
    """The gradients of outputs with respect to inputs, as tensors, leaving every .grad alone
    (PyTorch's torch.autograd.grad). Only the part of the graph that leads to inputs is walked.

    outputs: a tensor or a sequence of them (their gradients add up); grad_outputs: dL/doutput
    for each (may be left out for scalars; tensors that require a gradient are kept in the
    graph). create_graph=True records the walk, so the gradients can be differentiated again;
    retain_graph (default: create_graph) keeps the graph for another walk. An input the outputs
    do not depend on is an error, or None with allow_unused=True.
    """
    outputs, inputs = _tensors("outputs", outputs), _tensors("inputs", inputs)
    if grad_outputs is None:
        seeds = (None,) * len(outputs)
    else:
        seeds = tuple(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else (grad_outputs,)
    if len(seeds) != len(outputs):
        raise ValueError(
            f"grad: {len(seeds)} grad_outputs for {len(outputs)} outputs; give one per output"
        )
    for k, y in enumerate(outputs):
        if not y._requires_grad:
            raise RuntimeError(
                f"grad: output {k} (shape {y.shape}) does not require a gradient (it was "
                "computed under no_grad(), or from inputs none of which requires one)"
            )
    for k, x in enumerate(inputs):
        if not x._requires_grad:
            raise RuntimeError(
                f"grad: input {k} (shape {x.shape}) does not require a gradient; make it with "
                "requires_grad=True"
            )
    retain = create_graph if retain_graph is None else retain_graph
    grads = _walk(outputs, seeds, retain, inputs, create_graph)
    result, handed_out = [], set()
    for k, (x, g) in enumerate(zip(inputs, grads)):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {k} (shape {x.shape}) was not used to compute the outputs; pass "
                "allow_unused=True to get None for it"
            )
        if g is not None and not isinstance(g, Tensor):  # each its own writable array
            if g.base is not None or not g.flags.writeable or id(g) in handed_out:
                g = g.copy()
            handed_out.add(id(g))
            g = Tensor._from_op(g, None)
        result.append(g)
    return tuple(result)


def _tensors(what, value):
    values = (value,) if isinstance(value, Tensor) else tuple(value)
    for v in values:
        if not isinstance(v, Tensor):
            raise TypeError(f"grad: {what} must be tensors, got {_describe(v)}")
    if not values:
        raise ValueError(f"grad: no {what} given")
    return values


def backward_through(forward, node, dout):
    """backward_graph for a layer whose second rule is its forward written again in primitive
    Tensor ops, forward(*node.inputs) -> output: dout is backpropagated through that, recorded,
    so the gradients are exact to any order (batch norm's mean and variance depend on x too).
    Runs only under create_graph; the walk stops at the node's inputs."""
    inputs = list(node.inputs)
    for i, x in enumerate(inputs):  # an input used twice gets a stand-in: a partial derivative each
        if any(x is y for y in inputs[:i]):
            inputs[i] = x.reshape(x.shape)
    wanted = [x for i, x in enumerate(inputs) if node.needs_grad(i)]
    grads = iter(_walk((forward(*inputs),), (dout,), True, wanted, True, stop=set(inputs)))
    return tuple(next(grads) if node.needs_grad(i) else None for i in range(len(inputs)))


class AsType(Function):
    """A tensor in another dtype, its gradient cast back: what the create_graph walk does where
    the array walk casts (float32 weights given float64 data)."""

    name = "astype"

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        self.x_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, dout):
        return dout.astype(self.x_dtype)

    def backward_graph(self, dout, out):
        return AsType(self.x_dtype)(dout)


class OnceDifferentiable(Function):
    """A gradient that a Function's array rule gave under create_graph: the right values, but
    no rule to differentiate them again (PyTorch's once_differentiable)."""

    def __init__(self, of, value):
        self.of, self.value = of, value

    def forward(self, *tensors):
        return self.value

    def backward(self, dout):
        raise RuntimeError(
            f"{self.of}.backward works on arrays, so the gradient it gave cannot be "
            f"differentiated again. Give {self.of} a rule in tensors: define "
            "backward_graph(self, dout, out) returning the gradients computed with Tensor ops "
            "from dout, out and self.inputs (see help(tinygrad_ko.Function))"
        )

    def backward_graph(self, dout, out):
        return self.backward(dout)


def _once_differentiable(node, dout):
    """create_graph through a Function without backward_graph: its array rule's gradients as
    OnceDifferentiable tensors, so a further derivative names the Function."""
    grads = []
    for i, (x, g) in enumerate(zip(node.inputs, node._input_grads(dout.data))):
        if g is not None and x._requires_grad:
            g = OnceDifferentiable(node.name, _checked(node, i, x, g))(dout, *node.inputs)
        grads.append(g)
    return grads


from tinygrad_ko.engine.tensor import Tensor  # noqa: E402  (Tensor's methods call back into this module)
