"""Hypothesis strategies for gradient tests: float64 arrays, and arrays whose shapes broadcast
together (the inputs where a rule that forgets to sum a broadcast gradient back goes wrong).
Needs hypothesis (`pip install "tinygrad_ko[testing]"`).

    @given(broadcastable(2))
    def test_my_op(arrays):
        assert_gradients_close(lambda a, b: MyOp()(a, b), arrays)
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "AWAY_FROM_ZERO",
    "GRID",
    "POSITIVE",
    "arrays",
    "axis_for",
    "broadcastable",
    "floats",
    "shapes",
]


def floats(low=-3.0, high=3.0):
    """Finite floats in [low, high], no subnormals (their differences are all rounding)."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


POSITIVE = floats(0.5, 3.0)  # for log, division and the base of a power
AWAY_FROM_ZERO = st.one_of(floats(-3.0, -0.05), floats(0.05, 3.0))  # kinks of relu, max at 0
GRID = st.integers(-40, 40).map(lambda i: i / 8)  # distinct values stay 0.125 apart (no ties)


def shapes(min_dims=0, max_dims=3):
    """Array shapes of min_dims to max_dims axes, each of length 1 to 4."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=4)


def arrays(shape, elements=None, unique=False):
    """float64 arrays of the given shape (or shape strategy), elements from floats() by default."""
    return hnp.arrays(
        np.float64, shape, elements=floats() if elements is None else elements, unique=unique
    )


@st.composite
def broadcastable(draw, n=2, elements=None, min_dims=0, max_dims=3):
    """n arrays whose shapes broadcast together (axes of length 1, missing leading axes)."""
    drawn = draw(
        hnp.mutually_broadcastable_shapes(
            num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=4
        )
    )
    return tuple(draw(arrays(shape, elements)) for shape in drawn.input_shapes)


@st.composite
def axis_for(draw, ndim):
    """None, one axis (maybe negative) or a tuple of distinct axes of an ndim-array."""
    if ndim == 0:
        return None
    one = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)
    return draw(st.one_of(st.none(), one, several.map(tuple)))
