"""im2col and col2im (7.4.3): the book's matrices and images, by strided views."""

import numpy as np
import pytest
from book import book_module
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_ko.conv import col2im, conv_output_size, im2col
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


def test_im2col_keeps_the_dtype_and_copies_once():
    x = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)
    col = im2col(x, 2, 2, stride=2)
    assert col.dtype == np.float32 and col.shape == (8, 4) and not np.shares_memory(col, x)
    np.testing.assert_array_equal(col[0], [0, 1, 4, 5])  # the first window of the first image
