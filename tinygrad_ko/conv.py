"""The layers of chapter 7, Convolution and Pooling, and their bookkeeping (7.4.3): output sizes,
and im2col / col2im, which turn the windows a filter slides over into the rows of a matrix and
back, so a convolution is one matrix product."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinygrad_ko.tensor import Function

__all__ = ["Convolution", "Pooling", "col2im", "conv_output_size", "im2col"]


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    """(input + 2·pad - filter) / stride + 1 (eq. 7.1), as the book computes it: a float
    that is whole when the stride tiles the padded input."""
    return (input_size + 2 * pad - filter_size) / stride + 1


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """Images (N, C, H, W) as a matrix with a row per output position of each image and a
    column per (channel, filter row, filter column): (N·out_h·out_w, C·filter_h·filter_w), in
    the book's order. The windows are a strided view of the (padded) images; the one copy is
    the matrix itself. The dtype is kept (the book's is always float64)."""
    n, _, h, w = input_data.shape
    out_h, out_w = _out_sizes("im2col", (h, w), filter_h, filter_w, stride, pad)
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
    out_h, out_w = _out_sizes("col2im", (h, w), filter_h, filter_w, stride, pad)
    col = col.reshape(n, out_h, out_w, c, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1), col.dtype)
    for y in range(filter_h):
        for x in range(filter_w):
            img[:, :, y : y + stride * out_h : stride, x : x + stride * out_w : stride] += col[
                :, :, y, x
            ]
    return img[:, :, pad : h + pad, pad : w + pad]


def _out_sizes(caller, size, filter_h, filter_w, stride, pad, detail=""):
    """(out_h, out_w): how many windows fit along each axis (a stride that does not tile the
    padded image leaves its last rows out, as the book's im2col does), or a clear error."""
    h, w = size[0] + 2 * pad, size[1] + 2 * pad
    if filter_h > h or filter_w > w:
        raise ValueError(
            f"{caller}: a {filter_h}x{filter_w} window does not fit images of {size[0]}x"
            f"{size[1]} padded by {pad}{detail}"
        )
    return (h - filter_h) // stride + 1, (w - filter_w) // stride + 1


def _windows(layer, x_shape, filter_h, filter_w, stride, pad):
    """(out_h, out_w) of filter windows over images of x_shape, or a clear error naming the
    layer and the shapes: a window larger than the padded image, or a stride that does not tile
    it (the book's layers would silently drop the last rows and columns)."""
    name = type(layer).__name__
    if len(x_shape) != 4:
        raise ValueError(f"{name}: x must be images (N, C, H, W), got shape {x_shape}")
    h, w = x_shape[2] + 2 * pad, x_shape[3] + 2 * pad
    detail = f" (x shape {x_shape})"
    out = _out_sizes(name, x_shape[2:], filter_h, filter_w, stride, pad, detail)
    if (h - filter_h) % stride or (w - filter_w) % stride:
        raise ValueError(
            f"{name}: stride {stride} does not tile images of {x_shape[2]}x{x_shape[3]} padded "
            f"by {pad} with {filter_h}x{filter_w} windows ((size + 2·pad - window) / stride "
            "must be whole)"
        )
    return out


class Convolution(Function):
    """Convolution layer (7.4.3): each filter's dot product with every window of the images,
    plus its bias, as one matrix product of im2col(x) with the filters (FN, C, FH, FW).
    backward: dW = colᵀ·dout, db = Σ dout, dx = col2im(dout·W); no dx for the input images."""

    param_names = ("W", "b")

    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b = self.book_input("W", W), self.book_input("b", b)
        if np.ndim(self.W) != 4:
            raise ValueError(
                f"Convolution: W must be filters (FN, C, FH, FW), got shape {np.shape(self.W)}"
            )
        self.stride, self.pad = stride, pad

    def forward(self, x):
        x = self.book_input("x", x)
        W, b = self.W, self.b
        filters, channels, fh, fw = W.shape
        out_h, out_w = _windows(self, x.shape, fh, fw, self.stride, self.pad)
        if x.shape[1] != channels:
            raise ValueError(
                f"Convolution: x has {x.shape[1]} channels (shape {x.shape}), but the filters W "
                f"{W.shape} expect {channels}"
            )
        if np.size(b) not in (1, filters):
            raise ValueError(
                f"Convolution: b has shape {np.shape(b)}; W {W.shape} needs ({filters},)"
            )
        col = im2col(x, fh, fw, self.stride, self.pad)
        self.x_shape, self.col_W = x.shape, W.reshape(filters, -1).T
        self.col = col if self.needs_grad(1) else None  # only dW needs the windows again
        out = np.dot(col, self.col_W)
        out += b
        self.out_shape = (len(x), filters, out_h, out_w)
        # rows are (image, position): the channels end up last in memory, a view puts them 2nd
        return out.reshape(len(x), out_h, out_w, filters).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = self.book_dout(dout)
        filters, _, fh, fw = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, filters)  # a view of what forward made
        self.db = dout.sum(axis=0) if self.needs_grad(2) else None
        self.dW = np.dot(self.col.T, dout).T.reshape(self.W.shape) if self.needs_grad(1) else None
        if np.ndim(self.b) == 0 and self.db is not None:  # a scalar bias, as apply_filter.py's
            self.db = self.db.sum()
        if not self.needs_grad(0):
            return None  # the input images: no col2im at all
        return col2im(np.dot(dout, self.col_W.T), self.x_shape, fh, fw, self.stride, self.pad)


class Pooling(Function):
    """Max pooling layer (7.5): the maximum of each pool_h x pool_w window; the gradient goes to
    that maximum (the first of equal ones, as the book's argmax). Windows that tile the images
    without overlap or padding, as 2x2 with stride 2, are read by reshaping: no copy of x."""

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

    def forward(self, x):
        x = self.book_input("x", x)
        ph, pw = self.pool_h, self.pool_w
        out_h, out_w = _windows(self, x.shape, ph, pw, self.stride, self.pad)
        n, c = x.shape[:2]
        self.x_shape = x.shape
        self.out_shape = (n, c, out_h, out_w)
        if self.pad == 0 and self.stride == ph == pw:  # tiles: (N, C, out_h, ph, out_w, pw)
            windows = x.reshape(n, c, out_h, ph, out_w, pw).transpose(0, 1, 2, 4, 3, 5)
            windows = windows.reshape(n, c, out_h, out_w, ph * pw)
        else:  # overlapping or padded windows, the book's way: (N, out_h, out_w, C, ph·pw)
            windows = im2col(x, ph, pw, self.stride, self.pad).reshape(n, out_h, out_w, c, -1)
            windows = windows.transpose(0, 3, 1, 2, 4)
        self.argmax = windows.argmax(axis=-1)[..., None]
        return np.take_along_axis(windows, self.argmax, axis=-1)[..., 0]

    def backward(self, dout):
        dout = self.book_dout(dout)
        if not self.needs_grad(0):
            return None
        n, c, out_h, out_w = self.out_shape
        ph, pw = self.pool_h, self.pool_w
        dwindows = np.zeros((n, c, out_h, out_w, ph * pw), dout.dtype)
        np.put_along_axis(dwindows, self.argmax, dout[..., None], axis=-1)
        if self.pad == 0 and self.stride == ph == pw:
            dx = dwindows.reshape(n, c, out_h, out_w, ph, pw).transpose(0, 1, 2, 4, 3, 5)
            return dx.reshape(self.x_shape)
        dcol = dwindows.transpose(0, 2, 3, 1, 4).reshape(n * out_h * out_w, -1)
        return col2im(dcol, self.x_shape, ph, pw, self.stride, self.pad)
