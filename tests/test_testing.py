"""tinygrad_ko.testing: the README's example test passes, and fails on the bugs it is for."""

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import find, given

from tinygrad_ko import Function, GradcheckError, Tensor
from tinygrad_ko.testing import assert_gradients_close
from tinygrad_ko.testing.strategies import broadcastable

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example(replace=None):
    """The README's test_hypot.py, optionally with one line changed, as a namespace."""
    (code,) = re.findall(r"```python\n(# test_hypot\.py\n.*?)```", README.read_text(), re.S)
    if replace is not None:
        assert replace[0] in code
        code = code.replace(*replace)
    namespace = {}
    exec(compile(code, "test_hypot.py", "exec"), namespace)
    return namespace


def test_the_readme_example_passes():
    readme_example()["test_hypot_gradients"]()


@pytest.mark.parametrize(
    "bug",
    [
        ("db = dout * self.b / self.out", "db = dout * self.a / self.out"),  # wrong derivative
        ("unbroadcast(db, self.b.shape)", "db"),  # forgets to sum a broadcast gradient back
    ],
)
def test_the_readme_example_catches_a_bug(bug):
    with pytest.raises(GradcheckError):
        readme_example(bug)["test_hypot_gradients"]()


class Scale(Function):
    """a·b whose gradient for b is wrong: only input 0 is right."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, dout):
        return dout * self.b, dout * self.a * 2


def test_float_arrays_are_checked_and_tensors_keep_their_requires_grad():
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    with pytest.raises(GradcheckError, match="input 1"):
        assert_gradients_close(lambda x, y: Scale()(x, y), [a, b])
    assert_gradients_close(lambda x, y: Scale()(x, y), [a, Tensor(b)])  # b held fixed
    assert_gradients_close(lambda x: x.exp(), a)  # a single input


def test_inputs_with_nothing_to_check_are_refused():
    with pytest.raises(ValueError, match=r"assert_gradients_close: nothing to check.*int64 \(2,\)"):
        assert_gradients_close(lambda k: k * 2, np.array([1, 2]))


def test_integer_inputs_are_held_fixed():
    with pytest.raises(GradcheckError, match="input 0"):
        assert_gradients_close(lambda x, k: Scale()(k, x), [np.array([1.0, 2.0]), np.array(3)])
    assert_gradients_close(lambda x, k: Scale()(x, k), [np.array([1.0, 2.0]), np.array(3)])


@given(broadcastable(3))
def test_broadcastable_arrays_broadcast_together(arrays):
    assert len(arrays) == 3 and all(a.dtype == np.float64 for a in arrays)
    np.broadcast_shapes(*(a.shape for a in arrays))


def test_broadcastable_draws_shapes_that_differ():
    # find raises NoSuchExample when the strategy never draws such a pair
    a, b = find(broadcastable(2, min_dims=1), lambda ab: ab[0].ndim != ab[1].ndim)
    assert np.broadcast_shapes(a.shape, b.shape) == max(a.shape, b.shape, key=len)
    a, b = find(
        broadcastable(2, min_dims=2), lambda ab: 1 in ab[0].shape and ab[0].shape != ab[1].shape
    )
    assert np.broadcast_shapes(a.shape, b.shape) != a.shape  # a is stretched along an axis
