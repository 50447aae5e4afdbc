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

from tinygrad_ko.tensor import Tensor

__all__ = ["SGD", "AdaGrad", "Adam", "Momentum", "Optimizer"]


class Optimizer:
    """What the optimizers share: both call forms, and state per parameter."""

    default_lr = 0.01
    buffers = 1  # parameter-sized scratch arrays apply() works in

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
        self.scratch = {}  # per (shape, dtype): buffers shared by all parameters of that kind

    def update(self, params, grads):
        """The book's form: params[key] -= the step for grads[key], for every key. Arrays are
        updated in place; numbers (Python floats, NumPy scalars) are replaced by their new
        value, as `-=` does in the book's optimizers."""
        for key, param in params.items():
            if isinstance(param, np.ndarray):
                self._step(key, param, grads[key])
                continue
            value = self._number(key, param)
            self._step(key, value, grads[key])
            params[key] = value[()] if isinstance(param, np.generic) else value.item()

    def step(self):
        """PyTorch's form: update each parameter tensor with its .grad (those without one are
        left alone)."""
        if self.params is None:
            raise TypeError(
                f"{type(self).__name__}.step: no parameters; make it with "
                f"{type(self).__name__}(net.parameters(), lr=...) or use update(params, grads)"
            )
        for p in self.params:
            if p.grad is not None:
                self._step(p, p.data, p.grad)

    def zero_grad(self):
        for p in self.params or ():
            p.grad = None

    def _number(self, key, value):
        """A parameter that is a number, as a 0-d float array to update in place."""
        array = np.array(value)
        if array.ndim != 0 or array.dtype.kind not in "biuf":
            raise TypeError(
                f"{type(self).__name__}: parameter {_label(key)} must be a NumPy array or a "
                f"number, got {type(value).__name__}"
            )
        return array if array.dtype.kind == "f" else array.astype(np.float64)

    def _step(self, key, param, grad):
        grad = np.asarray(grad)
        if param.dtype.kind != "f" or not param.flags.writeable:
            raise TypeError(
                f"{type(self).__name__}: parameter {_label(key)} must be a writable float array, "
                f"got {'read-only ' * (not param.flags.writeable)}dtype {param.dtype}"
            )
        if grad.shape != param.shape:
            raise ValueError(
                f"{type(self).__name__}: the gradient for parameter {_label(key)} has shape "
                f"{grad.shape}, the parameter {param.shape}"
            )
        state = self.state.get(key)
        if state is None:
            state = self.state[key] = self.new_state(param)
        elif state and state["shape"] != param.shape:
            raise ValueError(
                f"{type(self).__name__}: parameter {_label(key)} has shape {param.shape}, but "
                f"the state this optimizer keeps for it has shape {state['shape']}, from the "
                f"parameter of that name it updated before; a {type(self).__name__} keeps state "
                "per parameter, so give each network its own (SGD keeps none)"
            )
        kind = (param.shape, param.dtype)
        scratch = self.scratch.get(kind)
        if scratch is None:
            scratch = self.scratch[kind] = [np.empty_like(param) for _ in range(self.buffers)]
        self.apply(param, grad, state, *scratch)

    def new_state(self, param):
        """What the optimizer remembers of a parameter between steps (SGD: nothing)."""
        return {}

    def apply(self, param, grad, state, *scratch):
        raise NotImplementedError


def _label(key):
    """How messages name a parameter: its key in params, or its tensor's name."""
    name = key.name if isinstance(key, Tensor) else key
    return repr(name) if name is not None else "<a tensor without a name>"


class SGD(Optimizer):
    """W ← W - lr·∂L/∂W (eq. 6.1). It keeps no state: one SGD can update any params."""

    def apply(self, param, grad, state, scratch):
        np.multiply(grad, self.lr, out=scratch)
        param -= scratch


class Momentum(Optimizer):
    """v ← momentum·v - lr·∂L/∂W; W ← W + v (eqs. 6.3, 6.4)."""

    def __init__(self, params=None, lr=None, momentum=0.9):
        super().__init__(params, lr)
        self.momentum = momentum

    def new_state(self, param):
        return {"shape": param.shape, "v": np.zeros_like(param)}

    def apply(self, param, grad, state, scratch):
        v = state["v"]
        v *= self.momentum
        v -= np.multiply(grad, self.lr, out=scratch)
        param += v


class AdaGrad(Optimizer):
    """h ← h + (∂L/∂W)²; W ← W - lr·∂L/∂W / (√h + 1e-7) (eqs. 6.5, 6.6)."""

    buffers = 2

    def new_state(self, param):
        return {"shape": param.shape, "h": np.zeros_like(param)}

    def apply(self, param, grad, state, scratch, denominator):
        h = state["h"]
        h += np.multiply(grad, grad, out=scratch)
        np.sqrt(h, out=denominator)
        denominator += 1e-7
        np.multiply(grad, self.lr, out=scratch)
        scratch /= denominator
        param -= scratch


class Adam(Optimizer):
    """Adam (6.1.6) as the book writes it: moments m and v, and a bias-corrected step size
    lr·√(1 - β₂ᵗ) / (1 - β₁ᵗ)."""

    default_lr = 0.001
    buffers = 2

    def __init__(self, params=None, lr=None, beta1=0.9, beta2=0.999):
        super().__init__(params, lr)
        self.beta1, self.beta2 = beta1, beta2

    def new_state(self, param):
        return {"shape": param.shape, "m": np.zeros_like(param), "v": np.zeros_like(param), "t": 0}

    def apply(self, param, grad, state, scratch, denominator):
        m, v = state["m"], state["v"]
        state["t"] += 1
        t = state["t"]
        lr_t = self.lr * math.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        np.subtract(grad, m, out=scratch)  # m ← m + (1 - β₁)(g - m)
        scratch *= 1 - self.beta1
        m += scratch
        np.multiply(grad, grad, out=scratch)  # v ← v + (1 - β₂)(g² - v)
        scratch -= v
        scratch *= 1 - self.beta2
        v += scratch
        np.sqrt(v, out=denominator)  # W ← W - lr_t·m / (√v + 1e-7)
        denominator += 1e-7
        np.multiply(m, lr_t, out=scratch)
        scratch /= denominator
        param -= scratch
