"""Optimizers of chapter 6 (6.1), in both forms:

- the book's: `opt = SGD(lr=0.1); opt.update(params, grads)` on dicts of arrays;
- PyTorch's: `opt = SGD(net.parameters(), lr=0.1); opt.zero_grad(); loss.backward(); opt.step()`.

Both update arrays in place, in the order of operations the book's code uses (so the numbers
are the book's), through scratch buffers the optimizer keeps, so a step allocates no memory once
they exist. The book's form also takes numbers (Python floats, NumPy scalars) as parameters, as
the book's chapter-6 scripts pass them.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from tinygrad_ko.engine.tensor import Tensor

__all__ = ["SGD", "AdaGrad", "Adam", "Momentum", "Nesterov", "Optimizer", "RMSprop", "SparseAdam"]


class Optimizer:
    """What the optimizers share: both call forms, and state per parameter."""

    default_lr = 0.01

    def __init__(self, params=None, lr=None):
        if isinstance(params, numbers.Real) and not isinstance(params, bool):
            if lr is not None:  # Momentum(0.01, 0.5): which number is which?
                raise TypeError(
                    f"{type(self).__name__}: the book's form takes the learning rate first and "
                    f"the rest by name, e.g. {type(self).__name__}(lr=0.01, ...); the PyTorch "
                    f"form takes the parameters first: {type(self).__name__}(net.parameters(), "
                    "lr=0.01)"
                )
            params, lr = None, params  # SGD(0.1)
        self.lr = self.default_lr if lr is None else lr
        self.params = None if params is None else list(params)
        if self.params is not None and not all(isinstance(p, Tensor) for p in self.params):
            raise TypeError(f"{type(self).__name__}: params must be tensors, like net.parameters()")
        self.state = {}  # per parameter: its name (book's form) or its tensor (PyTorch's)
        self.buffers = {}  # scratch arrays, per shape, dtype and slot, shared by all parameters

    def __repr__(self):
        hyper = {k: v for k, v in vars(self).items() if k == "lr" or _is_number(v)}
        settings = ", ".join(f"{k}={float(v):g}" for k, v in hyper.items())
        form = "the book's form" if self.params is None else f"{len(self.params)} tensors"
        return f"{type(self).__name__}({settings}; {form})"

    def update(self, params, grads):
        """The book's form: params[key] -= the step for grads[key], for every key. Arrays are
        updated in place; numbers (Python floats, NumPy scalars) are replaced by their new
        value, as `-=` does in the book's optimizers. Every key is checked before any
        parameter changes."""
        for key in params:
            if key not in grads:
                raise KeyError(
                    f"{type(self).__name__}: grads has no gradient for parameter {_label(key)}"
                )
        steps = [self._checked(key, param, grads[key]) for key, param in params.items()]
        for key, param, grad, state in steps:
            self._apply(key, param, grad, state)
            if param is not params[key]:  # a number, worked on as a 0-d array
                number = params[key]
                params[key] = param[()] if isinstance(number, np.generic) else param.item()

    def step(self):
        """PyTorch's form: update each parameter tensor with its .grad (those without one are
        left alone). Every parameter is checked before any changes."""
        if self.params is None:
            raise TypeError(
                f"{type(self).__name__}.step: no parameters; make it with "
                f"{type(self).__name__}(net.parameters(), lr=...) or use update(params, grads)"
            )
        steps = [self._checked(p, p.data, p.grad) for p in self.params if p.grad is not None]
        for key, param, grad, state in steps:
            self._apply(key, param, grad, state)

    def zero_grad(self):
        for p in self.params or ():
            p.grad = None

    def _checked(self, key, param, grad):
        """(key, the parameter as a float array, its gradient as an array, its state or None),
        or a clear error naming the parameter."""
        if type(param) is not np.ndarray:
            param = _number(type(self).__name__, key, param)
        if type(grad) is not np.ndarray:
            grad = np.asarray(grad)
        if param.dtype.kind != "f" or not param.flags.writeable:
            raise TypeError(
                f"{type(self).__name__}: parameter {_label(key)} must be a writable float "
                f"array, got {'read-only ' * (not param.flags.writeable)}dtype {param.dtype}"
            )
        if grad.shape != param.shape or grad.dtype.kind not in "biuf":
            raise ValueError(
                f"{type(self).__name__}: the gradient for parameter {_label(key)} is "
                f"{grad.dtype} {grad.shape}, the parameter {param.dtype} {param.shape}"
            )
        state = self.state.get(key)
        if state and state["shape"] != param.shape:
            name = type(self).__name__
            raise ValueError(
                f"{name}: parameter {_label(key)} has shape {param.shape}, but the state this "
                f"optimizer keeps for it has shape {state['shape']}, from the parameter of that "
                f"name it updated before; a {name} keeps state per parameter, so give each "
                "network its own (SGD keeps none)"
            )
        return key, param, grad, state

    def _apply(self, key, param, grad, state):
        if state is None:
            state = self.state[key] = self.new_state(param, grad)
        self.apply(param, grad, state)

    def scratch(self, like, dtype, slot=0):
        """A reusable array of like's shape and dtype: apply() computes in these, so a step
        allocates nothing. Each holds what the book's expression would make in its place."""
        key = (like.shape, dtype, slot)
        buffer = self.buffers.get(key)
        if buffer is None:
            buffer = self.buffers[key] = np.empty(like.shape, dtype)
        return buffer

    def new_state(self, param, grad):
        """What the optimizer remembers of a parameter between steps (SGD: nothing)."""
        return {}

    def apply(self, param, grad, state):
        raise NotImplementedError


BLOCK = 1 << 15
"""Elements of a large parameter Adam updates at a time: a block, its moments and the scratch
arrays fit in the L2 cache, so its eight passes read memory once (2x1M float32: 9 -> 6 ms)."""


def _blocks(array):
    """Slices along the first axis covering array in blocks of about BLOCK elements; one slice
    for the whole of a small array."""
    if array.ndim == 0 or array.size <= 2 * BLOCK:
        return [...]
    rows = max(1, BLOCK * len(array) // array.size)
    return [slice(start, start + rows) for start in range(0, len(array), rows)]


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _number(name, key, value):
    """A parameter that is a number, as a 0-d float array to update in place."""
    array = np.array(value)
    if array.ndim != 0 or array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name}: parameter {_label(key)} must be a NumPy array or a number, got "
            f"{type(value).__name__}"
        )
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def _label(key):
    """How messages name a parameter: its key in params, or its tensor's name."""
    name = key.name if isinstance(key, Tensor) else key
    return repr(name) if name is not None else "<a tensor without a name>"


def _work(param, grad):
    """The dtype the book's expressions of param and grad compute in (NumPy's promotion)."""
    return param.dtype if grad.dtype == param.dtype else np.result_type(param, grad)


class SGD(Optimizer):
    """W ← W - lr·∂L/∂W (eq. 6.1). It keeps no state: one SGD can update any params."""

    def apply(self, param, grad, state):
        param -= np.multiply(grad, self.lr, out=self.scratch(param, _work(param, grad)))


class Momentum(Optimizer):
    """v ← momentum·v - lr·∂L/∂W; W ← W + v (eqs. 6.3, 6.4)."""

    def __init__(self, params=None, lr=None, momentum=0.9):
        super().__init__(params, lr)
        self.momentum = momentum

    def new_state(self, param, grad):  # the book's v takes the dtype of its expression
        return {"shape": param.shape, "v": np.zeros(param.shape, _work(param, grad))}

    def apply(self, param, grad, state):
        v = state["v"]
        v *= self.momentum
        v -= np.multiply(grad, self.lr, out=self.scratch(v, v.dtype))
        param += v


class Nesterov(Optimizer):
    """Nesterov's accelerated gradient as the book's code writes it (6.1, after Bengio et al.,
    arXiv:1212.0901): v ← momentum·v - lr·∂L/∂W; W ← W + momentum²·v - (1 + momentum)·lr·∂L/∂W."""

    def __init__(self, params=None, lr=None, momentum=0.9):
        super().__init__(params, lr)
        self.momentum = momentum

    def new_state(self, param, grad):
        return {"shape": param.shape, "v": np.zeros_like(param)}

    def apply(self, param, grad, state):
        v, m, work = state["v"], self.momentum, _work(param, grad)
        v *= m
        v -= np.multiply(grad, self.lr, out=self.scratch(v, work))
        param += np.multiply(v, m * m, out=self.scratch(v, v.dtype, slot=1))
        param -= np.multiply(grad, (1 + m) * self.lr, out=self.scratch(v, work))


class AdaGrad(Optimizer):
    """h ← h + (∂L/∂W)²; W ← W - lr·∂L/∂W / (√h + 1e-7) (eqs. 6.5, 6.6)."""

    def new_state(self, param, grad):
        return {"shape": param.shape, "h": np.zeros_like(param)}

    def apply(self, param, grad, state):
        h, work = state["h"], _work(param, grad)
        h += np.multiply(grad, grad, out=self.scratch(h, work))
        param -= _scaled(self, grad, self.lr, h, work)


def _scaled(optimizer, grad, lr, h, work):
    """lr·grad / (√h + 1e-7), as the book computes it, in scratch arrays."""
    denominator = np.sqrt(h, out=optimizer.scratch(h, h.dtype, slot=1))
    denominator += 1e-7
    step = np.multiply(grad, lr, out=optimizer.scratch(h, work))
    step /= denominator
    return step


class RMSprop(Optimizer):
    """RMSprop (6.1.5): AdaGrad with a forgetting h, h ← decay·h + (1 - decay)·(∂L/∂W)²;
    W ← W - lr·∂L/∂W / (√h + 1e-7)."""

    def __init__(self, params=None, lr=None, decay_rate=0.99):
        super().__init__(params, lr)
        self.decay_rate = decay_rate

    def new_state(self, param, grad):
        return {"shape": param.shape, "h": np.zeros_like(param)}

    def apply(self, param, grad, state):
        h, work = state["h"], _work(param, grad)
        h *= self.decay_rate
        squared = np.multiply(grad, 1 - self.decay_rate, out=self.scratch(h, grad.dtype, slot=2))
        squared *= grad
        h += squared
        param -= _scaled(self, grad, self.lr, h, work)


class Adam(Optimizer):
    """Adam (6.1.6) as the book writes it: moments m and v, and a bias-corrected step size
    lr·√(1 - β₂ᵗ) / (1 - β₁ᵗ). One difference: the book's np.sqrt makes that step size a
    float64 scalar, which turns the last step of float32 parameters into float64 arithmetic;
    here float32 stays float32, as in PyTorch."""

    default_lr = 0.001
    float64_step = False  # True: the books' float64 step size and last step (tinygrad_ko.book2)

    def __init__(self, params=None, lr=None, beta1=0.9, beta2=0.999):
        super().__init__(params, lr)
        self.beta1, self.beta2 = beta1, beta2

    def new_state(self, param, grad):
        zeros = np.zeros_like
        return {"shape": param.shape, "m": zeros(param), "v": zeros(param), "t": 0}

    def apply(self, param, grad, state):
        state["t"] += 1
        t = state["t"]
        sqrt = np.sqrt if self.float64_step else math.sqrt  # np.sqrt's float64 is not weak
        lr_t = self.lr * sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        m, v = state["m"], state["v"]
        for rows in _blocks(param):  # a large parameter a block at a time, in the cache
            self.step_block(param[rows], grad[rows], m[rows], v[rows], lr_t)

    def step_block(self, param, grad, m, v, lr_t):
        scratch = self.scratch(m, _work(m, grad))
        np.subtract(grad, m, out=scratch)  # m ← m + (1 - β₁)(g - m)
        scratch *= 1 - self.beta1
        m += scratch
        np.multiply(grad, grad, out=scratch)  # v ← v + (1 - β₂)(g² - v)
        scratch -= v
        scratch *= 1 - self.beta2
        v += scratch
        work = np.result_type(m, lr_t)  # float32 m: float32, or float64 with the books' step
        param -= _scaled(self, m, lr_t, v, work)  # W ← W - lr_t·m / (√v + 1e-7)


class SparseAdam(Adam):
    """Adam for embedding matrices (PyTorch's SparseAdam): each step moves only the rows whose
    gradient is not all zero, the words of the batch, and updates only their moments; the other
    rows, and their moments, stay as they are. A batch of 100 contexts touches about a thousand
    of PTB's 10,000 rows, so a step costs a tenth of dense Adam's. The step size is Adam's,
    lr·√(1 - β₂ᵗ) / (1 - β₁ᵗ), t counting the optimizer's steps. Parameters of fewer than two
    axes are updated densely."""

    def apply(self, param, grad, state):
        if param.ndim < 2:
            return super().apply(param, grad, state)
        state["t"] += 1
        t = state["t"]
        lr_t = self.lr * math.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        rows = np.flatnonzero(grad.reshape(len(grad), -1).any(axis=1))
        g, m, v = grad[rows], state["m"][rows], state["v"][rows]
        m += (1 - self.beta1) * (g - m)
        v += (1 - self.beta2) * (g * g - v)
        state["m"][rows], state["v"][rows] = m, v
        param[rows] -= lr_t * m / (np.sqrt(v) + 1e-7)
