"""Gradient tests for your own ops in a few lines: a pytest assertion, and hypothesis strategies
in tinygrad_ko.testing.strategies (arrays whose shapes broadcast together).

    from hypothesis import given
    from tinygrad_ko.testing import assert_gradients_close
    from tinygrad_ko.testing.strategies import broadcastable

    @given(broadcastable(2))
    def test_hypot(arrays):
        assert_gradients_close(lambda a, b: Hypot()(a, b), arrays)
"""

from __future__ import annotations

from tinygrad_ko.checking.gradient_check import gradcheck
from tinygrad_ko.engine.tensor import Tensor

__all__ = ["assert_gradients_close"]


def assert_gradients_close(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False):
    """Assert that backprop through fn agrees with central differences for every input.

    inputs: an array or tensor, or a list or tuple of them (one per argument of fn: to pass
    one array written as a list, wrap it in np.array). Float arrays are checked as tensors
    that require a gradient; tensors keep their requires_grad, so pass Tensor(a) to hold one
    fixed. The check is gradcheck's, in float64; a disagreement fails the test with a
    GradcheckError (an AssertionError) naming the input, the element and both values.
    """
    if isinstance(inputs, Tensor) or not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    tensors = [_checked_input(x) for x in inputs]
    if not any(x.requires_grad for x in tensors):
        raise ValueError(
            "assert_gradients_close: nothing to check: inputs are checked when they are float "
            "arrays or tensors with requires_grad=True; integer arrays and other tensors are "
            f"held fixed (got {', '.join(f'{x.dtype} {x.shape}' for x in tensors)})"
        )
    gradcheck(fn, tensors, eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode)


def _checked_input(x):
    """A tensor to check: tensors as given, float arrays requiring a gradient, others fixed."""
    if isinstance(x, Tensor):
        return x
    tensor = Tensor(x)
    tensor.requires_grad = tensor.dtype.kind == "f"
    return tensor
