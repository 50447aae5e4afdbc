"""Chapter 7's layers and their bookkeeping: im2col and col2im give the book's matrices and
images by strided views; Convolution and Pooling the book's numbers, both ways."""

from unittest import mock

import numpy as np
import pytest
from book import book_module
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_ko import Tensor
from tinygrad_ko.conv import Convolution, Pooling, col2im, conv_output_size, im2col
from tinygrad_ko.testing.strategies import arrays


@st.composite
def windows(draw):
    """Images (N, C, H, W) and a filter size, stride and pad that fit them."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    pad, stride = draw(st.integers(0, 2)), draw(st.integers(1, 3))
    fh, fw = draw(st.integers(1, h + 2 * pad)), draw(st.integers(1, w + 2 * pad))
    return draw(arrays((n, c, h, w))), fh, fw, stride, pad


@pytest.mark.book
@given(windows())
def test_im2col_and_col2im_give_the_books_arrays(case):
    x, fh, fw, stride, pad = case
    book = book_module("common/util.py")
    col = im2col(x, fh, fw, stride, pad)
    np.testing.assert_array_equal(col, book.im2col(x, fh, fw, stride, pad))
    dcol = np.random.default_rng(0).standard_normal(col.shape)
    np.testing.assert_array_equal(
        col2im(dcol, x.shape, fh, fw, stride, pad), book.col2im(dcol, x.shape, fh, fw, stride, pad)
    )
    out_h = conv_output_size(x.shape[2], fh, stride, pad)
    assert out_h == book.conv_output_size(x.shape[2], fh, stride, pad)
    assert len(col) == x.shape[0] * int(out_h) * int(conv_output_size(x.shape[3], fw, stride, pad))


@given(windows())
def test_col2im_is_the_transpose_of_im2col(case):
    # <im2col(x), d> = <x, col2im(d)> for every x and d: the adjoint a gradient needs
    x, fh, fw, stride, pad = case
    d = np.random.default_rng(1).standard_normal(im2col(x, fh, fw, stride, pad).shape)
    lhs = np.sum(im2col(x, fh, fw, stride, pad) * d)
    assert lhs == pytest.approx(np.sum(x * col2im(d, x.shape, fh, fw, stride, pad)), rel=1e-12)


def test_a_window_larger_than_the_images_is_named_by_im2col():
    with pytest.raises(
        ValueError, match="im2col: a 5x5 window does not fit images of 3x3 padded by 0"
    ):
        im2col(np.ones((1, 1, 3, 3)), 5, 5)


def test_im2col_keeps_the_dtype_and_copies_once():
    x = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)
    col = im2col(x, 2, 2, stride=2)
    assert col.dtype == np.float32 and col.shape == (8, 4) and not np.shares_memory(col, x)
    np.testing.assert_array_equal(col[0], [0, 1, 4, 5])  # the first window of the first image


# --- the layers -------------------------------------------------------------------------------


@st.composite
def layer_case(draw):
    """A Convolution (with weights) or a Pooling (pad 0: the book's pools padded inputs wrongly)
    and images it fits, its stride tiling them or leaving their last rows and columns out."""
    x, fh, fw, stride, pad = draw(windows())
    c = x.shape[1]
    if draw(st.booleans()):
        filters = draw(st.integers(1, 3))
        W, b = draw(arrays((filters, c, fh, fw))), draw(arrays(filters))
        return "Convolution", (W, b, stride, pad), x
    return "Pooling", (min(fh, x.shape[2]), min(fw, x.shape[3]), stride, 0), x


@pytest.mark.book
@given(layer_case())
def test_the_layers_give_the_books_numbers_and_the_same_both_ways(case):
    name, args, x = case
    theirs = getattr(book_module("common/layers.py"), name)(*args)
    ours = {"Convolution": Convolution, "Pooling": Pooling}[name](*args)
    out = ours.forward(x)
    dout = np.random.default_rng(0).standard_normal(out.shape)
    dx = ours.backward(dout.copy())
    grads = [ours.dW, ours.db] if name == "Convolution" else []
    # the book's numbers (its matrices are laid out otherwise in memory: BLAS may sum in
    # another order, so the last bit may differ)
    close = {"rtol": 1e-12, "atol": 1e-15}
    np.testing.assert_allclose(out, theirs.forward(x), **close)
    np.testing.assert_allclose(dx, theirs.backward(dout.copy()), **close)
    for ours_grad, book_grad in zip(grads, (getattr(theirs, "dW", 0), getattr(theirs, "db", 0))):
        np.testing.assert_allclose(ours_grad, book_grad, **close)
    # the graph way: one node, the same numbers to the last bit
    weights = [Tensor(a, requires_grad=True) for a in args[:2]] if name == "Convolution" else []
    xt = Tensor(x, requires_grad=True)
    y = type(ours)(*weights, *args[len(weights) :])(xt)
    np.testing.assert_array_equal(y.data, out)
    y.backward(dout)
    np.testing.assert_array_equal(xt.grad, dx)
    for tensor, grad in zip(weights, grads):
        np.testing.assert_array_equal(tensor.grad, grad)


@st.composite
def stride_one_case(draw):
    """Images, weights and a pad for a stride-1 convolution, filters square or not, every pad
    from 0 to the filter's size (the last one takes col2im: the transposed convolution needs
    pad < filter size), in float64 or float32."""
    fh, fw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    pad = draw(st.integers(0, min(fh, fw)))
    n, c, filters = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h = draw(st.integers(max(1, fh - 2 * pad), 6))
    w = draw(st.integers(max(1, fw - 2 * pad), 6))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    x, W = draw(arrays((n, c, h, w))), draw(arrays((filters, c, fh, fw)))
    return x.astype(dtype), W.astype(dtype), pad


@given(stride_one_case())
def test_dx_at_stride_one_is_col2im_of_dout_times_w(case):
    # the book's rule, dx = col2im(dout·W), against the transposed convolution backward takes
    x, W, pad = case
    layer = Convolution(W, np.zeros(len(W), W.dtype), stride=1, pad=pad)
    out = layer.forward(x)
    dout = np.random.default_rng(5).standard_normal(out.shape).astype(W.dtype)
    spy = mock.patch.object(Convolution, "transposed_convolution", autospec=True,
                            side_effect=Convolution.transposed_convolution)  # fmt: skip
    with spy as transposed:
        dx = layer.backward(dout)
    assert transposed.called == (pad < min(W.shape[2:]))  # else col2im
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, len(W))  # the book's (N·OH·OW, FN)
    expected = col2im(dout_rows @ W.reshape(len(W), -1), x.shape, *W.shape[2:], 1, pad)
    assert dx.shape == x.shape and dx.dtype == W.dtype
    # summed in another order: equal to rounding, measured against the terms' size
    scale = np.abs(dout).max() * np.abs(W).max() * W[0].size
    eps = np.finfo(W.dtype).eps
    np.testing.assert_allclose(dx, expected, rtol=1e3 * eps, atol=1e3 * eps * scale)


def test_dx_of_filters_with_inf_is_the_books_col2im():
    W = np.ones((2, 1, 3, 3))
    W[0, 0, 0, 0] = np.inf
    layer = Convolution(W, np.zeros(2), pad=1)
    with np.errstate(invalid="ignore"):  # forward: inf times the padding's zeros, as the book's
        out = layer.forward(np.ones((1, 1, 4, 4)))
    dout = np.ones(out.shape)
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, 2)
    expected = col2im(dout_rows @ W.reshape(2, -1), (1, 1, 4, 4), 3, 3, 1, 1)
    np.testing.assert_array_equal(layer.backward(dout), expected)  # inf, and no NaN from 0·inf


def reached(size, window, stride, pad):
    """PyTorch's floor((size + 2·pad - window) / stride) + 1 windows along an axis of `size`,
    and how far they reach into the padded axis: what comes after is left out."""
    out = (size + 2 * pad - window) // stride + 1
    return out, (out - 1) * stride + window


@pytest.mark.book
@pytest.mark.parametrize(
    ("fh", "fw", "stride", "pad"), [(3, 3, 2, 0), (2, 2, 2, 0), (2, 3, 2, 0), (3, 3, 3, 1)]
)
def test_a_stride_that_does_not_tile_leaves_the_last_rows_out_as_the_book_does(fh, fw, stride, pad):
    rng = np.random.default_rng(2)
    x, W, b = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((4, 3, fh, fw)), rng.random(4)
    (out_h, span_h), (out_w, span_w) = reached(5, fh, stride, pad), reached(6, fw, stride, pad)
    rows, columns = span_h - pad, span_w - pad  # of the images, the windows reach these
    assert (rows, columns) != (5, 6)  # some are left out
    ours = Convolution(W, b, stride, pad)
    theirs = book_module("common/layers.py").Convolution(W, b, stride, pad)
    out = ours.forward(x)
    assert out.shape == (2, 4, out_h, out_w)
    close = {"rtol": 1e-12, "atol": 1e-15}
    np.testing.assert_allclose(out, theirs.forward(x), **close)
    # the same as the padded images cut to what the windows reach, which the stride tiles
    cut = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])[:, :, :span_h, :span_w]
    np.testing.assert_allclose(out, Convolution(W, b, stride).forward(cut), **close)
    dout = rng.standard_normal(out.shape)
    dx = ours.backward(dout.copy())
    np.testing.assert_allclose(dx, theirs.backward(dout.copy()), **close)
    np.testing.assert_allclose(ours.dW, theirs.dW, **close)
    np.testing.assert_allclose(ours.db, theirs.db, **close)
    assert not dx[:, :, rows:].any() and not dx[:, :, :, columns:].any()  # zero where left out
    assert dx[:, :, :rows, :columns].all()  # and only there
    # the graph way, and its second rule (create_graph), give the same
    xt, Wt, bt = (Tensor(a, requires_grad=True) for a in (x, W, b))
    y = Convolution(Wt, bt, stride, pad)(xt)
    np.testing.assert_array_equal(y.data, out)
    y.backward(dout, create_graph=True)
    np.testing.assert_allclose(xt.grad.data, dx, **close)
    np.testing.assert_allclose(Wt.grad.data, ours.dW, **close)


@pytest.mark.book
@pytest.mark.parametrize(
    ("pool_h", "pool_w", "stride", "size"),
    [(2, 2, 2, (5, 7)), (3, 3, 2, (6, 6)), (2, 3, 3, (7, 8)), (2, 2, 2, (4, 6))],
    ids=["2x2 on odd sizes", "overlapping", "2x3 stride 3", "tiled (the fast path)"],
)
def test_max_pooling_with_a_stride_that_does_not_tile_gives_the_books_numbers(
    pool_h, pool_w, stride, size
):
    x = np.random.default_rng(3).standard_normal((2, 3, *size))
    out_h, rows = reached(size[0], pool_h, stride, 0)
    out_w, columns = reached(size[1], pool_w, stride, 0)
    ours = Pooling(pool_h, pool_w, stride)
    theirs = book_module("common/layers.py").Pooling(pool_h, pool_w, stride)
    out = ours.forward(x)
    assert out.shape == (2, 3, out_h, out_w)
    np.testing.assert_array_equal(out, theirs.forward(x))
    cut = Pooling(pool_h, pool_w, stride).forward(x[:, :, :rows, :columns])
    np.testing.assert_array_equal(out, cut)
    dout = np.random.default_rng(4).standard_normal(out.shape)
    dx = ours.backward(dout.copy())
    np.testing.assert_array_equal(dx, theirs.backward(dout.copy()))
    assert not dx[:, :, rows:].any() and not dx[:, :, :, columns:].any()
    xt = Tensor(x, requires_grad=True)
    y = Pooling(pool_h, pool_w, stride)(xt)
    np.testing.assert_array_equal(y.data, out)
    y.backward(dout, create_graph=True)
    np.testing.assert_array_equal(xt.grad.data, dx)


def test_a_convolution_of_images_that_need_no_gradient_makes_no_dx():
    x = Tensor(np.ones((2, 1, 5, 5), np.float32))  # the input images
    W = Tensor(np.ones((3, 1, 2, 2), np.float32), requires_grad=True)
    b = Tensor(np.zeros(3, np.float32), requires_grad=True)
    out = Convolution(W, b)(x)
    node = out._creator
    assert node._input_grads(np.ones(out.shape, np.float32))[0] is None
    out.sum().backward()
    assert W.grad.dtype == np.float32 and np.all(W.grad == 2 * 4 * 4)


@pytest.mark.parametrize(
    ("make", "x_shape", "message"),
    [
        (lambda: Convolution(np.ones((4, 3, 3, 3)), np.zeros(4)), (2, 1, 8, 8),
         r"x has 1 channels \(shape \(2, 1, 8, 8\)\), but the filters W \(4, 3, 3, 3\) expect 3"),
        (lambda: Convolution(np.ones((4, 1, 9, 9)), np.zeros(4), pad=0), (2, 1, 8, 8),
         r"Convolution: a 9x9 window \(W of shape \(4, 1, 9, 9\)\) does not fit images of 8x8 "
         r"padded by 0 \(x shape \(2, 1, 8, 8\)\)"),
        (lambda: Pooling(3, 2), (2, 3, 2, 7),
         r"Pooling: a 3x2 window \(pool_h 3, pool_w 2\) does not fit images of 2x7 padded by 0 "
         r"\(x shape \(2, 3, 2, 7\)\)"),
        (lambda: Pooling(2, 2), (2, 49), r"Pooling: x must be images \(N, C, H, W\), got shape"),
        (lambda: Convolution(np.ones((4, 1, 3, 3)), np.zeros(5)), (2, 1, 8, 8),
         r"Convolution: b has shape \(5,\); W \(4, 1, 3, 3\) needs \(4,\)"),
    ],
)  # fmt: skip
def test_shapes_that_do_not_fit_are_named_both_ways(make, x_shape, message):
    with pytest.raises(ValueError, match=message):
        make().forward(np.ones(x_shape))
    with pytest.raises(ValueError, match=message):
        make()(Tensor(np.ones(x_shape)))


@pytest.mark.book
def test_col2im_reads_the_matrix_in_any_layout_as_the_books_reshape_does():
    x_shape, book = (2, 3, 5, 4), book_module("common/util.py")
    dcol = np.random.default_rng(0).standard_normal((2 * 4 * 3, 3 * 2 * 2))
    expected = book.col2im(dcol, x_shape, 2, 2)
    for layout in (dcol, dcol.ravel(), np.asfortranarray(dcol), dcol.reshape(-1, 4)):
        np.testing.assert_array_equal(col2im(layout, x_shape, 2, 2), expected)


@pytest.mark.book
@pytest.mark.parametrize("case", ["a window of 144 places", "an inf in dout", "a NaN in x"])
def test_max_pooling_gives_the_books_numbers_at_the_edges(case):
    rng = np.random.default_rng(0)
    size = 12 if case == "a window of 144 places" else 2  # more places than int8 counts
    x = rng.standard_normal((2, 3, 24, 24))
    if case == "a NaN in x":
        x[0, 1, 5, 7] = np.nan  # the last place of its window: np.argmax picks it
    ours, theirs = Pooling(size, size, stride=size), book_module("common/layers.py").Pooling
    theirs = theirs(size, size, stride=size)
    out = ours.forward(x)
    np.testing.assert_array_equal(out, theirs.forward(x))
    dout = rng.standard_normal(out.shape)
    if case == "an inf in dout":
        dout[0, 0, 0, 0] = np.inf  # to its window's maximum only; 0, not NaN, to the others
    np.testing.assert_array_equal(ours.backward(dout.copy()), theirs.backward(dout.copy()))
