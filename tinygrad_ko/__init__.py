"""tinygrad_ko: a small, fast and honest autograd framework on NumPy, for chapters 4 to 8 of
"Deep Learning from Scratch" (밑바닥부터 시작하는 딥러닝)."""

from tinygrad_ko import layers  # noqa: F401  (gives tensors their relu() and sigmoid())
from tinygrad_ko.gradcheck import GradcheckError, check_gradients, gradcheck
from tinygrad_ko.memory import keep_freed_memory
from tinygrad_ko.numerical import gradient_descent, numerical_diff, numerical_gradient
from tinygrad_ko.tensor import Function, Tensor, detect_anomaly, no_grad

__all__ = [
    "Function",
    "GradcheckError",
    "Tensor",
    "check_gradients",
    "detect_anomaly",
    "gradcheck",
    "gradient_descent",
    "no_grad",
    "numerical_diff",
    "numerical_gradient",
]

__version__ = "0.1.0"

keep_freed_memory()  # a training step's freed arrays stay for the next (tinygrad_ko.memory)
