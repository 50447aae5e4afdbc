"""tinygrad_ko: a small, fast and honest autograd framework on NumPy, for "Deep Learning from
Scratch" (밑바닥부터 시작하는 딥러닝) 1, chapters 4 to 8, and 2 (tinygrad_ko.book2)."""

import os

from tinygrad_ko import layers, memory  # noqa: F401  (layers gives tensors relu() and sigmoid())
from tinygrad_ko.autograd import Function, detect_anomaly, enable_grad, grad, no_grad
from tinygrad_ko.divergence import TrainingDiverged
from tinygrad_ko.gradcheck import GradcheckError, check_gradients, gradcheck, gradgradcheck
from tinygrad_ko.numerical import gradient_descent, numerical_diff, numerical_gradient
from tinygrad_ko.tensor import Tensor

__all__ = [
    "Function",
    "GradcheckError",
    "Tensor",
    "TrainingDiverged",
    "check_gradients",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "gradient_descent",
    "no_grad",
    "numerical_diff",
    "numerical_gradient",
]

__version__ = "0.1.0"

if os.environ.get(memory.OPT_OUT) != "0":  # a training step's freed arrays stay for the next
    memory.keep_freed_memory()
