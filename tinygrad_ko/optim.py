"""Optimizers of chapter 6 (6.1), in both forms:

- the book's: `opt = SGD(lr=0.1); opt.update(params, grads)` on dicts of arrays;
- PyTorch's: `opt = SGD(net.parameters(), lr=0.1); opt.zero_grad(); loss.backward(); opt.step()`.

Each update works in place through a scratch buffer kept with the optimizer's state, so a step
allocates no memory once the state exists.
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
        self.state = {}

    def update(self, params, grads):
        """The book's form: update each array params[key] in place with grads[key]."""
        for key, param in params.items():
            self._step(key, param, grads[key])

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

    def _step(self, key, param, grad):
        if grad.shape != param.shape:
            raise ValueError(
                f"{type(self).__name__}: the gradient for {key if isinstance(key, str) else 'a'} "
                f"parameter has shape {grad.shape}, the parameter {param.shape}"
            )
        state = self.state.get(key)
        if state is None:
            state = self.state[key] = self.new_state(param)
        self.apply(param, grad, state)

    def new_state(self, param):
        return {"scratch": np.empty_like(param)}

    def apply(self, param, grad, state):
        raise NotImplementedError


class SGD(Optimizer):
    """W ← W - lr·∂L/∂W (eq. 6.1)."""

    def apply(self, param, grad, state):
        scratch = np.multiply(grad, self.lr, out=state["scratch"])
        param -= scratch


class Momentum(Optimizer):
    """v ← momentum·v - lr·∂L/∂W; W ← W + v (eqs. 6.3, 6.4)."""

    def __init__(self, params=None, lr=None, momentum=0.9):
        super().__init__(params, lr)
        self.momentum = momentum

    def new_state(self, param):
        return {"scratch": np.empty_like(param), "v": np.zeros_like(param)}

    def apply(self, param, grad, state):
        v = state["v"]
        v *= self.momentum
        v -= np.multiply(grad, self.lr, out=state["scratch"])
        param += v


class AdaGrad(Optimizer):
    """h ← h + (∂L/∂W)²; W ← W - lr·∂L/∂W / (√h + 1e-7) (eqs. 6.5, 6.6)."""

    def new_state(self, param):
        return {"scratch": np.empty_like(param), "h": np.zeros_like(param)}

    def apply(self, param, grad, state):
        h, scratch = state["h"], state["scratch"]
        h += np.multiply(grad, grad, out=scratch)
        np.sqrt(h, out=scratch)
        scratch += 1e-7
        np.divide(grad, scratch, out=scratch)
        scratch *= self.lr
        param -= scratch


class Adam(Optimizer):
    """Adam (6.1.6) as the book writes it: moments m and v, and a bias-corrected step size
    lr·√(1 - β₂ᵗ) / (1 - β₁ᵗ)."""

    default_lr = 0.001

    def __init__(self, params=None, lr=None, beta1=0.9, beta2=0.999):
        super().__init__(params, lr)
        self.beta1, self.beta2 = beta1, beta2

    def new_state(self, param):
        zeros = np.zeros_like
        return {"scratch": np.empty_like(param), "m": zeros(param), "v": zeros(param), "t": 0}

    def apply(self, param, grad, state):
        m, v, scratch = state["m"], state["v"], state["scratch"]
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
        np.sqrt(v, out=scratch)
        scratch += 1e-7
        np.divide(m, scratch, out=scratch)  # W ← W - lr_t·m / (√v + 1e-7)
        scratch *= lr_t
        param -= scratch
