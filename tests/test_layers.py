"""The chapter-5 layers: the book's way and the graph way agree exactly, book code runs as
written, and the losses stay finite at the extremes. Their gradients are checked against
central differences in the gradient table (test_ops.py)."""

import warnings
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_ko import Tensor, check_gradients, numerical_gradient
from tinygrad_ko.layers import Affine, ReLU, Relu, Sigmoid, SoftmaxWithLoss
from tinygrad_ko.testing.strategies import AWAY_FROM_ZERO, arrays, floats, shapes


@st.composite
def batch_and_targets(draw, one_hot=None):
    n, classes = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    x = draw(arrays((n, classes), floats(-10, 10)))
    labels = draw(hnp.arrays(np.int64, n, elements=st.integers(0, classes - 1)))
    one_hot = draw(st.booleans()) if one_hot is None else one_hot
    return x, (np.eye(classes)[labels] if one_hot else labels), labels


# --- the book's way and the graph way agree exactly -----------------------------------------


@st.composite
def affine_inputs(draw):
    n, d, m = draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return draw(arrays((n, d))), draw(arrays((d, m))), draw(arrays(m)), draw(arrays((n, m)))


@given(affine_inputs())
def test_affine_book_and_graph_agree_exactly(inputs):
    x, W, b, dout = inputs
    book = Affine(W, b)
    out_book = book.forward(x)
    dx_book = book.backward(dout)

    xt, Wt, bt = (Tensor(a, requires_grad=True) for a in (x, W, b))
    out = Affine(Wt, bt)(xt)
    out.backward(dout)
    np.testing.assert_array_equal(out.data, out_book)
    np.testing.assert_array_equal(xt.grad, dx_book)
    np.testing.assert_array_equal(Wt.grad, book.dW)
    np.testing.assert_array_equal(bt.grad, book.db)


@pytest.mark.parametrize("layer", [ReLU, Sigmoid])
@given(data=st.data())
def test_activation_book_and_graph_agree_exactly(layer, data):
    x = data.draw(shapes().flatmap(lambda s: arrays(s, AWAY_FROM_ZERO)))
    dout = data.draw(arrays(x.shape))
    book = layer()
    out_book, dx_book = book.forward(x), book.backward(dout)
    xt = Tensor(x, requires_grad=True)
    out = layer()(xt)
    out.backward(dout)
    np.testing.assert_array_equal(out.data, out_book)
    np.testing.assert_array_equal(xt.grad, dx_book)


@given(batch_and_targets())
def test_softmax_with_loss_book_and_graph_agree_exactly(example):
    x, t, _ = example
    book = SoftmaxWithLoss()
    loss_book, dx_book = book.forward(x, t), book.backward()
    xt = Tensor(x, requires_grad=True)
    loss = SoftmaxWithLoss()(xt, t)
    loss.backward()
    assert loss.item() == loss_book
    assert type(loss_book) is x.dtype.type  # a NumPy scalar, as the book's: round() works
    assert loss.shape == () and loss.dtype == x.dtype
    np.testing.assert_array_equal(xt.grad, dx_book)


@given(batch_and_targets(one_hot=True))
def test_softmax_with_loss_backward_is_y_minus_t_over_batch_size(example):
    x, t, labels = example
    layer = SoftmaxWithLoss()
    layer.forward(x, t)
    y = np.exp(x - np.logaddexp.reduce(x, axis=1, keepdims=True))
    np.testing.assert_allclose(layer.backward(), (y - t) / len(x), atol=1e-15)
    layer.forward(x, labels)  # labels give the same gradient as one-hot rows
    np.testing.assert_allclose(layer.backward(dout=2.0), 2 * (y - t) / len(x), atol=1e-15)


@given(batch_and_targets(one_hot=False))
def test_softmax_with_loss_is_the_exact_cross_entropy_with_labels_or_one_hot(example):
    x, labels, _ = example
    exact = np.mean(np.logaddexp.reduce(x, axis=1) - x[np.arange(len(x)), labels])
    one_hot = np.eye(x.shape[1])[labels]
    # float64 resolution: a loss of 1e-4 is log(1 + 1e-4), known to 1e-16 absolute
    np.testing.assert_allclose(SoftmaxWithLoss().forward(x, labels), exact, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(SoftmaxWithLoss().forward(x, one_hot), exact, rtol=1e-12, atol=1e-15)


def test_relu_matches_the_book_at_zero_nan_and_infinite_gradients():
    x = np.array([-1.0, -0.0, 0.0, np.nan, 2.0, -np.inf])
    dout = np.array([np.inf, np.nan, 5.0, 7.0, 1.0, np.nan])
    book_mask = x <= 0  # the book: dout[mask] = 0, the rest passes
    expected = np.where(book_mask, 0, dout)
    layer = Relu()
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(dout.copy()), expected)
    xt = Tensor(x, requires_grad=True)
    ReLU()(xt).backward(dout)
    np.testing.assert_array_equal(xt.grad, expected)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_passes_huge_finite_gradients_exactly(dtype):
    """Its check for inf and NaN in dout is Σ dout², which overflows for huge finite values:
    those take the exact slow path, with no warning and the book's numbers."""
    x = np.array([-1.0, 2.0, 3.0, -4.0], dtype)
    dout = np.full(4, np.finfo(dtype).max / 2, dtype)
    layer = Relu()
    layer.forward(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dx = layer.backward(dout)
    np.testing.assert_array_equal(dx, np.where(x <= 0, 0, dout))
    assert dx.dtype == dtype


def test_relu_backward_does_not_follow_later_changes_to_its_output():
    layer = Relu()
    y = layer.forward(np.array([-1.0, 1.0, 2.0]))
    y -= 5  # the caller reuses the output array
    np.testing.assert_array_equal(layer.backward(np.ones(3)), [0.0, 1.0, 1.0])


@pytest.mark.parametrize(
    ("dtype", "classes", "label"), [(np.int8, 200, -100), (np.int16, 40000, -30000)]
)
def test_negative_labels_of_small_integer_types_are_refused(dtype, classes, label):
    t = np.array([label, 0], dtype=dtype)
    with pytest.raises(ValueError, match=rf"label {label} is outside the class range"):
        SoftmaxWithLoss().forward(np.zeros((2, classes)), t)


def test_the_float32_loss_agrees_with_float64_to_float32_precision():
    x = np.random.default_rng(0).standard_normal((100, 10)) * 3
    t = np.arange(100) % 10
    exact = SoftmaxWithLoss().forward(x, t)  # float64
    assert SoftmaxWithLoss().forward(x.astype(np.float32), t) == pytest.approx(exact, rel=5e-7)


def test_relu_is_the_books_relu_and_leaves_dout_alone():
    layer, dout = Relu(), np.array([5.0, 5.0])
    layer.forward(np.array([-1.0, 1.0]))
    np.testing.assert_array_equal(layer.backward(dout), [0.0, 5.0])
    np.testing.assert_array_equal(dout, [5.0, 5.0])  # the book's version zeroes dout in place


# --- graph mode: each layer is one node ------------------------------------------------------


def test_a_two_layer_network_is_four_nodes_and_backward_fills_every_parameter():
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((3, 4)), np.array([0, 2, 1])
    W1, b1 = Tensor(rng.standard_normal((4, 5)), True), Tensor(np.zeros(5), True)
    W2, b2 = Tensor(rng.standard_normal((5, 3)), True), Tensor(np.zeros(3), True)
    loss = SoftmaxWithLoss()(Affine(W2, b2)(ReLU()(Affine(W1, b1)(x))), t)
    nodes, tensor = [], loss
    while tensor._creator is not None:
        nodes.append(type(tensor._creator).__name__)
        tensor = tensor._creator.inputs[0]
    assert nodes == ["SoftmaxWithLoss", "Affine", "ReLU", "Affine"]
    loss.backward()

    def f(_):
        return SoftmaxWithLoss().forward(
            Affine(W2.data, b2.data).forward(np.maximum(Affine(W1.data, b1.data).forward(x), 0)), t
        )

    for p in (W1, b1, W2, b2):
        np.testing.assert_allclose(p.grad, numerical_gradient(f, p.data), atol=1e-7)


def test_the_input_batch_gets_no_gradient_computed():
    W, b = Tensor(np.ones((3, 2)), requires_grad=True), Tensor(np.zeros(2), requires_grad=True)
    node = Affine(W, b)(np.ones((4, 3)))._creator
    assert node.needs_input_grad == (False, True, True)
    assert node.backward(np.ones((4, 2))) is None  # no dout·Wᵀ for the data


# --- unchanged book code ---------------------------------------------------------------------


class BookTwoLayerNet:
    """Chapter 5's TwoLayerNet, written the book's way against tinygrad_ko's layers."""

    def __init__(self, input_size, hidden_size, output_size, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {
            "W1": 0.5 * rng.standard_normal((input_size, hidden_size)),
            "b1": 0.1 * rng.standard_normal(hidden_size),
            "W2": 0.5 * rng.standard_normal((hidden_size, output_size)),
            "b2": 0.1 * rng.standard_normal(output_size),
        }
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def numerical_gradient(self, x, t):
        def loss_W(W):
            return self.loss(x, t)

        return {key: numerical_gradient(loss_W, self.params[key]) for key in self.params}

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return {
            "W1": self.layers["Affine1"].dW,
            "b1": self.layers["Affine1"].db,
            "W2": self.layers["Affine2"].dW,
            "b2": self.layers["Affine2"].db,
        }


def test_the_books_two_layer_net_passes_its_gradient_check():
    rng = np.random.default_rng(1)
    net = BookTwoLayerNet(6, 5, 3)
    x, t = rng.standard_normal((4, 6)), np.eye(3)[[0, 2, 1, 2]]
    report = check_gradients(net, x, t)
    assert list(report) == ["W1", "b1", "W2", "b2"]
    for diff in report.values():
        assert diff.mean_abs < 1e-9 and diff.max_abs < 1e-8


def test_the_books_update_in_place_reaches_the_layers():
    net = BookTwoLayerNet(4, 3, 2)
    x, t = np.ones((2, 4)), np.array([0, 1])
    before = net.loss(x, t)
    for _ in range(20):
        grad = net.gradient(x, t)
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= 0.1 * grad[key]
    assert net.loss(x, t) < before


# --- stable at the extremes ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_with_loss_of_huge_logits_is_finite_and_exact(dtype):
    x = Tensor(np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]], dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = SoftmaxWithLoss()(x, np.array([1, 1]))
        loss.backward()
    # sample 0 puts 1e4 on class 0 but the label is 1: its loss is 1e4; sample 1 is right: 0
    assert loss.item() == pytest.approx(0.5e4, rel=1e-6)
    assert np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(x.grad, [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-7)


def test_sigmoid_of_minus_1000_is_zero_without_overflow_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Tensor([-1000.0, 1000.0], requires_grad=True)
        y = Sigmoid()(x)
        y.backward(np.ones(2))
    np.testing.assert_array_equal(y.data, [0.0, 1.0])
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


# --- bad input -------------------------------------------------------------------------------


def test_a_label_outside_the_class_range_is_an_error():
    with pytest.raises(
        ValueError, match=r"SoftmaxWithLoss: label 3 is outside the class range 0..2"
    ):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="label -1 is outside"):
        SoftmaxWithLoss()(Tensor(np.zeros((2, 3)), requires_grad=True), np.array([-1, 0]))


def test_targets_that_fit_neither_labels_nor_one_hot_are_an_error():
    with pytest.raises(
        ValueError, match="SoftmaxWithLoss: the batch sizes differ: 2 scores, 3 targets"
    ):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"targets of shape \(2, 4\) fit neither one-hot \(2, 3\)"):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), np.zeros((2, 4)))


def test_affine_with_a_mismatched_weight_names_the_shapes():
    with pytest.raises(
        ValueError, match=r"Affine: input of shape \(2, 3\) has 3 features.*\(4, 5\)"
    ):
        Affine(np.ones((4, 5)), np.zeros(5)).forward(np.ones((2, 3)))


@pytest.mark.parametrize(
    ("layer", "forward_args", "bad_dout", "shape"),
    [
        (ReLU(), (np.ones(3),), np.ones((2, 1)), r"\(3,\)"),
        (Sigmoid(), (np.ones(3),), np.ones((2, 1)), r"\(3,\)"),
        (Affine(np.ones((3, 5)), np.zeros(5)), (np.ones((2, 3)),), np.ones(5), r"\(2, 5\)"),
        (SoftmaxWithLoss(), (np.ones((2, 3)), np.array([0, 1])), np.ones(2), r"\(\)"),
    ],
)
def test_a_book_mode_dout_of_the_wrong_shape_is_an_error(layer, forward_args, bad_dout, shape):
    layer.forward(*forward_args)
    name = type(layer).__name__
    with pytest.raises(ValueError, match=rf"{name}.backward: dout has shape .*had shape {shape}"):
        layer.backward(bad_dout)


@pytest.mark.parametrize("layer", [ReLU(), Sigmoid(), Affine(np.ones((2, 2)), np.zeros(2))])
def test_backward_before_forward_says_so(layer):
    with pytest.raises(RuntimeError, match=r"\.backward: call forward first"):
        layer.backward(np.ones(2))
    with pytest.raises(RuntimeError, match=r"SoftmaxWithLoss\.backward: call forward first"):
        SoftmaxWithLoss().backward()


def test_book_layers_take_lists_and_refuse_scalars():
    np.testing.assert_array_equal(ReLU().forward([-1.0, 2.0]), [0.0, 2.0])
    np.testing.assert_array_equal(Affine([[1.0], [2.0]], [0.5]).forward([[1.0, 1.0]]), [[3.5]])
    with pytest.raises(ValueError, match="Affine: the input is a scalar"):
        Affine(np.ones((1, 1)), np.zeros(1)).forward(np.array(1.0))


def test_integer_scores_give_the_same_loss_as_float_scores():
    scores, t = np.array([[1, 2, 3]]), np.array([0])
    assert SoftmaxWithLoss().forward(scores, t) == SoftmaxWithLoss().forward(scores * 1.0, t)


def test_targets_that_require_a_gradient_are_refused_at_the_call():
    t = Tensor(np.eye(3)[[0, 1]], requires_grad=True)
    with pytest.raises(ValueError, match=r"the targets t \(shape \(2, 3\)\) require a gradient.*"):
        SoftmaxWithLoss()(Tensor(np.zeros((2, 3)), requires_grad=True), t)


# --- bad input, the book's way ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: Affine(np.array(["a", "b"]), np.zeros(2)),
            r"Affine: W must be numbers, got dtype <U1",
        ),
        (
            lambda: Affine(np.ones((2, 2)), [None, None]),
            r"Affine: b must be numbers, got dtype object",
        ),
        (lambda: Affine(np.ones((2, 2)), np.zeros(2)).forward("ab"), r"Affine: x must be numbers"),
        (lambda: Relu().forward(["x"]), r"ReLU: x must be numbers, got dtype <U1"),
        (lambda: Sigmoid().forward(np.array([object()])), r"Sigmoid: x must be numbers"),
    ],
)
def test_book_mode_layers_refuse_what_is_not_numbers(call, message):
    with pytest.raises(TypeError, match=message):
        call()


@pytest.mark.parametrize(
    ("t", "message"),
    [
        (np.array([[0.5, 0.2, 0.2], [0, 1, 0]]), r"target row 0 .* sums to 0\.9"),
        (np.array([[1.5, -0.5, 0], [0, 1, 0]]), r"target row 0 .* has negative entries"),
        (
            np.array([0.0, 1.0]),
            r"^SoftmaxWithLoss: class labels must be integers, got dtype float64",
        ),
        (np.zeros((2, 3), dtype=object), r"targets must be numbers, got dtype object"),
    ],
)
def test_targets_that_are_not_labels_or_distributions_are_refused(t, message):
    with pytest.raises((ValueError, TypeError), match=message):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), t)


def test_an_empty_batch_is_an_error_not_nan():
    with pytest.raises(
        ValueError,
        match=r"^SoftmaxWithLoss: the batch is empty; a mean over no samples is undefined",
    ):
        SoftmaxWithLoss().forward(np.zeros((0, 3)), np.zeros(0, dtype=int))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_softmax_log_softmax_and_the_loss_stay_finite_at_logits_of_1e4(dtype, data):
    x = data.draw(arrays((3, 4), st.sampled_from([-1e4, -1.0, 0.0, 1.0, 1e4]))).astype(dtype)
    t = data.draw(hnp.arrays(np.int64, 3, elements=st.integers(0, 3)))
    # no overflow, no log(0), no 0/0 anywhere inside (underflow to exactly 0 is the right answer)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        for op in (
            lambda v: v.softmax(),
            lambda v: v.log_softmax(),
            lambda v: SoftmaxWithLoss()(v, t),
        ):
            xt = Tensor(x, requires_grad=True)
            out = op(xt)
            out.backward(np.ones(out.shape, dtype))
            assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(xt.grad))
            assert out.dtype == dtype and xt.grad.dtype == dtype
