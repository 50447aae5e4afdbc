"""The engine (book chapter 5; book 3's gradients of gradients): the Tensor that records the
graph, Function (each call a node, its backward rule beside its forward), the walk back, and the
ops, one class each.

- tensor: Tensor, its operators and methods, backward()
- autograd: Function, backprop, grad, graph_order, no_grad, enable_grad, detect_anomaly
- ops: the tensor ops (Add, Mul, MatMul, Exp, Sum, GetItem, ...), unbroadcast, concatenate
- functions: the book's activation and loss functions on arrays (sigmoid, softmax, ...)
- memory: keeping a training step's freed memory for the next (glibc)
"""

from tinygrad_ko.engine.autograd import (
    Function,
    detect_anomaly,
    enable_grad,
    grad,
    graph_order,
    no_grad,
)
from tinygrad_ko.engine.tensor import Tensor

__all__ = ["Function", "Tensor", "detect_anomaly", "enable_grad", "grad", "graph_order", "no_grad"]
