"""The chapter 3-4 array functions, with the values from the users' notes (../shared/seeds)."""

import warnings

import numpy as np
import pytest
from book import book_module
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_ko.functions import (
    cross_entropy_error,
    identity_function,
    log_softmax,
    mean_squared_error,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    softmax_loss,
    step_function,
    sum_squares_error,
)
from tinygrad_ko.testing.strategies import arrays, floats, shapes

T_TWO = np.eye(10)[2]  # the notes' one-hot "2"
Y_SAYS_TWO = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
Y_SAYS_SEVEN = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])


@pytest.mark.parametrize("loss", [sum_squares_error, mean_squared_error])
def test_sum_of_squares_error_gives_the_notes_values(loss):
    assert loss(Y_SAYS_TWO, T_TWO) == pytest.approx(0.0975, abs=1e-12)
    assert loss(Y_SAYS_SEVEN, T_TWO) == pytest.approx(0.5975, abs=1e-12)


@pytest.mark.parametrize("t", [T_TWO, 2, np.array([2])])
def test_cross_entropy_error_gives_the_notes_values_for_one_hot_and_labels(t):
    assert cross_entropy_error(Y_SAYS_TWO, t) == pytest.approx(0.510825457099338, abs=1e-12)
    assert cross_entropy_error(Y_SAYS_SEVEN, t) == pytest.approx(2.302584092994546, abs=1e-12)


def test_cross_entropy_error_averages_over_the_batch():
    y = np.stack([Y_SAYS_TWO, Y_SAYS_SEVEN])
    expected = (0.510825457099338 + 2.302584092994546) / 2
    assert cross_entropy_error(y, np.array([2, 2])) == pytest.approx(expected, abs=1e-12)
    assert cross_entropy_error(y, np.stack([T_TWO, T_TWO])) == pytest.approx(expected, abs=1e-12)


def test_cross_entropy_error_keeps_the_books_delta_for_a_zero_probability():
    assert cross_entropy_error(Y_SAYS_TWO, 3) == pytest.approx(-np.log(1e-7))


def test_cross_entropy_error_with_a_label_out_of_range_is_an_error():
    with pytest.raises(ValueError, match=r"cross_entropy_error: label 10 is outside .*0\.\.9"):
        cross_entropy_error(Y_SAYS_TWO, 10)


@given(shapes().flatmap(lambda s: arrays(s, floats(-30, 30))))
def test_sigmoid_is_the_logistic_function(x):
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(sigmoid(-x), 1 - sigmoid(x), atol=1e-15)


def test_sigmoid_at_plus_minus_1000_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0])
        assert sigmoid(np.float32(-1000)).dtype == np.float32


@given(shapes(min_dims=1).flatmap(lambda s: arrays(s, floats(-1e4, 1e4))), st.booleans())
def test_softmax_is_a_distribution_even_for_huge_logits(x, shifted):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = softmax(x + 1e3 if shifted else x)
    assert np.all((y >= 0) & (y <= 1))
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(y, softmax(x), atol=1e-12)  # shifting the logits changes nothing


@given(shapes(min_dims=1).flatmap(lambda s: arrays(s, floats(-20, 20))))
def test_log_softmax_is_the_log_of_softmax(x):
    np.testing.assert_allclose(log_softmax(x), np.log(softmax(x)), rtol=1e-10, atol=1e-12)


def test_relu():
    np.testing.assert_array_equal(relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])


@pytest.mark.parametrize(
    ("y", "t", "message"),
    [
        (np.zeros((0, 3)), np.zeros(0, dtype=int), "the batch is empty"),
        (
            np.full((2, 3), 1 / 3),
            np.array([0, 1, 2]),
            "the batch sizes differ: 2 scores, 3 targets",
        ),
        (np.full((2, 3), 1 / 3), np.array([[1, 0, 0], [0, 0, 0]]), r"target row 1 .* sums to 0"),
        (np.full((2, 3), 1 / 3), np.array([0, -1]), "label -1 is outside the class range 0..2"),
        (np.full((2, 3), 1 / 3), np.array([0.0, 1.0]), "class labels must be integers"),
    ],
)
def test_cross_entropy_error_refuses_what_is_not_a_batch_of_targets(y, t, message):
    with pytest.raises((ValueError, TypeError), match=message):
        cross_entropy_error(y, t)


def test_softmax_of_huge_logits_takes_no_log_of_zero_and_overflows_nothing():
    x = np.array([[1e4, -1e4, 0.0]], dtype=np.float32)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        np.testing.assert_allclose(softmax(x), [[1.0, 0.0, 0.0]])
        assert np.isfinite(log_softmax(x)).all()


# --- the rest of the book's common/functions.py -----------------------------------------------


@given(shapes().flatmap(lambda s: arrays(s, floats(-8, 8))))
def test_the_activation_derivatives_are_the_slopes_of_the_activations(x):
    h = 1e-6
    slope = (sigmoid(x + h) - sigmoid(x - h)) / (2 * h)
    np.testing.assert_allclose(sigmoid_grad(x), slope, atol=1e-8)
    away = np.where(np.abs(x) < 1e-3, 1.0, x)  # ReLU's slope is the book's 1 at 0, else exact
    np.testing.assert_allclose(
        relu_grad(away), (relu(away + h) - relu(away - h)) / (2 * h), atol=1e-9
    )
    np.testing.assert_array_equal(relu_grad(np.zeros(2)), [1.0, 1.0])
    np.testing.assert_array_equal(step_function(x), (x > 0).astype(int))
    assert identity_function(x) is x


@pytest.mark.book
@given(
    st.tuples(st.integers(1, 4), st.integers(2, 5)).flatmap(lambda s: arrays(s, floats(-5, 5))),
    st.data(),
)
def test_softmax_loss_is_the_books(x, data):
    book = book_module("common/functions.py")
    labels = data.draw(st.lists(st.integers(0, x.shape[1] - 1), min_size=len(x), max_size=len(x)))
    t = np.array(labels)
    assert softmax_loss(x, t) == pytest.approx(book.softmax_loss(x, t), rel=1e-12)
    assert softmax_loss(x, np.eye(x.shape[1])[t]) == pytest.approx(softmax_loss(x, t), rel=1e-12)
