"""Checking backprop against numerical differentiation (chapter 4's central differences, 5.7.3's
gradient check): for single ops, user-defined layers and whole networks.

- numerical: numerical_diff, numerical_gradient, numerical_gradient_2d, gradient_descent
- gradient_check: gradcheck, gradgradcheck, check_gradients and its GradientReport
"""

from tinygrad_ko.checking.gradient_check import (
    GradcheckError,
    GradientDifference,
    GradientReport,
    check_gradients,
    gradcheck,
    gradgradcheck,
)
from tinygrad_ko.checking.numerical import (
    gradient_descent,
    numerical_diff,
    numerical_gradient,
    numerical_gradient_2d,
)

__all__ = [
    "GradcheckError",
    "GradientDifference",
    "GradientReport",
    "check_gradients",
    "gradcheck",
    "gradgradcheck",
    "gradient_descent",
    "numerical_diff",
    "numerical_gradient",
    "numerical_gradient_2d",
]
