"""BatchNormalization and Dropout (chapter 6): the book's numbers on the same inputs and masks,
the same both ways, running statistics kept in training only, and clear errors."""

import numpy as np
import pytest
from book import book_module
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_ko import Tensor
from tinygrad_ko.normalization import BatchNormalization, Dropout
from tinygrad_ko.testing.strategies import GRID, arrays


@st.composite
def batches(draw):
    """x of shape (N, D) or (N, C, H, W), and gamma and beta for its features."""
    shape = draw(st.sampled_from([(3, 4), (1, 2), (5, 1), (2, 2, 2, 3), (4, 1, 3, 1)]))
    features = int(np.prod(shape[1:]))
    x = draw(arrays(shape, GRID, unique=True))  # distinct values: no column has variance 0
    return x, draw(arrays(features)), draw(arrays(features))


@pytest.mark.book
@given(batches(), st.booleans())
def test_batch_normalization_gives_the_books_numbers_both_ways(case, train_flg):
    x, gamma, beta = case
    book = book_module("common/layers.py").BatchNormalization(gamma.copy(), beta.copy())
    ours = BatchNormalization(gamma, beta)
    for _ in range(2):  # the second time, eval mode reads the running averages of the first
        expected = book.forward(x, train_flg=True)
        np.testing.assert_array_equal(ours.forward(x, train_flg=True), expected)
    np.testing.assert_array_equal(ours.running_mean, book.running_mean)
    np.testing.assert_array_equal(ours.running_var, book.running_var)
    out = book.forward(x, train_flg)
    np.testing.assert_array_equal(ours.forward(x, train_flg), out)
    dout = np.random.default_rng(0).standard_normal(x.shape)
    if train_flg:  # the book's backward follows the training graph only
        np.testing.assert_array_equal(ours.backward(dout.copy()), book.backward(dout.copy()))
        np.testing.assert_array_equal(ours.dgamma, book.dgamma)
        np.testing.assert_array_equal(ours.dbeta, book.dbeta)
    # the graph way: one node, the same numbers, the gradients of gamma and beta in .grad
    ours_graph = BatchNormalization(*(Tensor(a, requires_grad=True) for a in (gamma, beta)))
    ours_graph.running_mean[...], ours_graph.running_var[...] = book.running_mean, book.running_var
    xt = Tensor(x, requires_grad=True)
    y = ours_graph(xt, train_flg=train_flg)
    np.testing.assert_array_equal(y.data, out)
    y.backward(dout)
    np.testing.assert_array_equal(xt.grad, ours.backward(dout.copy()))
    np.testing.assert_array_equal(ours_graph.gamma.grad, ours.dgamma)
    np.testing.assert_array_equal(ours_graph.beta.grad, ours.dbeta)


def test_running_averages_move_in_training_only_and_belong_to_the_layer():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((8, 3)) + 5)
    layer = BatchNormalization(np.ones(3), np.zeros(3))
    layer(x)  # a node of the graph, a copy of the layer: the averages are still the layer's
    np.testing.assert_allclose(layer.running_mean, 0.1 * x.data.mean(axis=0))
    before = layer.running_mean.copy()
    layer.training = False  # what a network's eval() does
    out = layer(x)
    np.testing.assert_array_equal(layer.running_mean, before)
    expected = (x.data - before) / np.sqrt(layer.running_var + 1e-6)
    np.testing.assert_allclose(out.data, expected)
    layer.forward(x.data, train_flg=True)  # the book's flag wins over the mode
    assert not np.array_equal(layer.running_mean, before)


@pytest.mark.book
@given(st.sampled_from([(4, 3), (2, 2, 3, 3), (5,)]), st.floats(0.0, 0.9), st.integers(0, 99))
def test_dropout_draws_the_books_masks_from_numpys_random_state(shape, ratio, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    book = book_module("common/layers.py").Dropout(ratio)
    ours = Dropout(ratio)
    np.random.seed(seed)
    expected = book.forward(x)
    np.random.seed(seed)
    np.testing.assert_array_equal(ours.forward(x), expected)
    dout = np.ones(shape)
    np.testing.assert_array_equal(ours.backward(dout), book.backward(dout))
    np.testing.assert_array_equal(ours.forward(x, train_flg=False), book.forward(x, False))
    np.testing.assert_array_equal(ours.backward(dout), np.full(shape, 1.0 - ratio))


def test_dropout_in_the_graph_follows_its_mode_and_its_own_generator():
    x = Tensor(np.ones((2, 1000)), requires_grad=True)
    layer = Dropout(0.3, rng=np.random.default_rng(1))
    y = layer(x)
    kept = y.data != 0
    assert 0.65 < kept.mean() < 0.75
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, kept.astype(float))
    layer.training = False
    np.testing.assert_array_equal(layer(x).data, np.full((2, 1000), 0.7))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Dropout(1.0), "Dropout: dropout_ratio is the fraction of units dropped"),
        (lambda: BatchNormalization(np.ones(3), np.zeros(2)), r"shapes \(3,\) and \(2,\)"),
        (
            lambda: BatchNormalization(np.ones(3), np.zeros(3)).forward(np.ones((2, 4))),
            r"C·H·W = 3 features, as gamma has; got shape \(2, 4\)",
        ),
        (
            lambda: BatchNormalization(np.ones(3), np.zeros(3)).forward(np.ones((2, 1, 3))),
            r"\(N, D\) or \(N, C, H, W\)",
        ),
    ],
)
def test_bad_settings_and_shapes_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()
