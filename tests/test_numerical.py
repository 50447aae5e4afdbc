"""Numerical differentiation and gradient descent, with the values from the users' notes."""

import numpy as np
import pytest
from book import book_module
from hypothesis import given

from tinygrad_ko import Tensor, gradient_descent, numerical_diff, numerical_gradient
from tinygrad_ko.numerical import numerical_gradient_2d
from tinygrad_ko.testing.strategies import arrays, shapes


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    return np.sum(x**2)


def test_numerical_diff_gives_the_notes_values():
    assert numerical_diff(function_1, 5) == pytest.approx(0.2, abs=1e-9)
    assert numerical_diff(function_1, 10) == pytest.approx(0.3, abs=1e-9)
    assert numerical_diff(function_1, 5) < 0.2  # the notes print 0.1999...
    assert numerical_diff(lambda x0: x0 * x0 + 4.0**2.0, 3.0) == pytest.approx(6.0, abs=1e-9)
    assert numerical_diff(lambda x1: 3.0**2.0 + x1 * x1, 4.0) == pytest.approx(8.0, abs=1e-9)


@pytest.mark.parametrize(
    ("point", "gradient"), [((3, 4), (6, 8)), ((0, 2), (0, 4)), ((3, 0), (6, 0))]
)
def test_numerical_gradient_gives_the_notes_values(point, gradient):
    np.testing.assert_allclose(
        numerical_gradient(function_2, np.array(point, dtype=float)), gradient, atol=1e-7
    )


@given(shapes().flatmap(arrays))
def test_numerical_gradient_of_any_shape_matches_the_derivative(x):
    def f(v):
        return np.sum(np.sin(v) * v)

    np.testing.assert_allclose(numerical_gradient(f, x), np.cos(x) * x + np.sin(x), atol=1e-6)


def test_gradient_descent_reaches_the_origin_as_in_the_notes():
    init = np.array([-3.0, 4.0])
    x = gradient_descent(function_2, init, lr=0.1, step_num=100)
    np.testing.assert_allclose(x, [-6.111107e-10, 8.148143e-10], rtol=1e-5)
    np.testing.assert_array_equal(init, [-3.0, 4.0])  # the starting point is not modified


def test_gradient_descent_can_return_the_path():
    x, path = gradient_descent(function_2, [-3.0, 4.0], lr=0.1, step_num=20, return_path=True)
    assert path.shape == (21, 2)
    np.testing.assert_array_equal(path[0], [-3.0, 4.0])
    np.testing.assert_array_equal(path[-1], x)
    np.testing.assert_allclose(path[1], [-3.0 * 0.8, 4.0 * 0.8])  # x - 0.1·2x


def test_gradient_descent_keeps_a_float_dtype():
    assert gradient_descent(function_2, np.float32([1.0, 2.0]), step_num=1).dtype == np.float32
    assert gradient_descent(function_2, [1, 2], step_num=1).dtype == np.float64


def test_numerical_gradient_perturbs_x_in_place_for_the_books_idiom():
    W = np.array([[0.5, -1.0], [2.0, 0.25]])
    x = np.array([0.6, 0.9])

    def loss(_):
        return np.sum((x @ W) ** 2)  # reads W, not its argument

    expected = 2 * np.outer(x, x @ W)
    np.testing.assert_allclose(numerical_gradient(loss, W), expected, atol=1e-7)


def test_every_element_is_restored_exactly_also_when_f_raises():
    x = np.array([0.1, 0.2, 0.3]) / 7  # values whose ±h round-trips are inexact
    before = x.copy()
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("boom")
        return np.sum(v**3)

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)
    numerical_gradient(function_2, x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_of_a_tensor_records_no_graph():
    W = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    seen = []

    def f(_):
        out = (W * W).sum()
        seen.append(out.requires_grad)
        return out

    np.testing.assert_allclose(numerical_gradient(f, W), [2.0, 4.0], atol=1e-7)
    assert seen and not any(seen)


def test_numerical_gradient_of_an_integer_array_is_an_error():
    with pytest.raises(TypeError, match="numerical_gradient: x has dtype int64"):
        numerical_gradient(function_2, np.array([3, 4]))
    with pytest.raises(TypeError, match="must be a NumPy array"):
        numerical_gradient(function_2, [3.0, 4.0])


@given(shapes(min_dims=1).flatmap(arrays))
def test_a_sample_of_elements_gets_the_same_central_differences(x):
    def f(v):
        return np.sum(np.sin(v) * v)

    full = numerical_gradient(f, x)
    k = max(1, x.size // 2)
    sampled = numerical_gradient(f, x, sample=k, seed=3)
    taken = ~np.ma.getmaskarray(sampled)
    assert taken.sum() == k
    np.testing.assert_array_equal(sampled.data[taken], full[taken])
    np.testing.assert_array_equal(numerical_gradient(f, x, sample=k, seed=3).mask, sampled.mask)


@pytest.mark.parametrize("sample", [0, -1, 2.5, True])
def test_a_sample_must_be_a_whole_number_of_elements(sample):
    with pytest.raises(ValueError, match="sample must be a whole number >= 1"):
        numerical_gradient(function_2, np.array([1.0, 2.0]), sample=sample)


def test_numerical_gradient_needs_a_scalar_function():
    with pytest.raises(ValueError, match=r"f must return a scalar, it returned shape \(2,\)"):
        numerical_gradient(lambda v: v * 2, np.array([1.0, 2.0]))


@pytest.mark.book
@given(shapes(min_dims=1, max_dims=2).flatmap(arrays))
def test_numerical_gradient_2d_takes_each_row_as_the_books_gradient_2d_does(x):
    book = book_module("ch04/gradient_2d.py")  # its own numerical_gradient, row by row

    def f(point):
        return np.sum(point**2) + np.prod(point)

    expected = book.numerical_gradient(f, x.copy())
    np.testing.assert_allclose(numerical_gradient_2d(f, x), expected, rtol=1e-9, atol=1e-9)


def test_a_function_of_many_points_is_pointed_to_numerical_gradient_2d():
    points = np.array([[3.0, 4.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match=r"returned shape \(2,\); .* use numerical_gradient_2d"):
        numerical_gradient(lambda x: np.sum(x**2, axis=1), points)
    np.testing.assert_allclose(
        numerical_gradient_2d(lambda x: np.sum(x**2), points), [[6.0, 8.0], [0.0, 4.0]]
    )
