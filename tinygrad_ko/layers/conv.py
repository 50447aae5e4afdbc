"""The layers of chapter 7, Convolution and Pooling, and their bookkeeping (7.4.3): output sizes,
and im2col / col2im, which turn the windows a filter slides over into the rows of a matrix and
back, so a convolution is one matrix product."""

from __future__ import annotations

import numpy as np

from tinygrad_ko.engine.autograd import Function, backward_through

__all__ = ["Col2im", "Convolution", "Im2col", "Pooling", "col2im", "conv_output_size", "im2col"]


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    """(input + 2·pad - filter) / stride + 1 (eq. 7.1), as the book computes it: a float
    that is whole when the stride tiles the padded input. Its floor is how many windows the
    layers, im2col and col2im take (as PyTorch does): the last rows and columns are left out."""
    return (input_size + 2 * pad - filter_size) / stride + 1


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """Images (N, C, H, W) as a matrix with a row per output position of each image and a
    column per (channel, filter row, filter column): (N·out_h·out_w, C·filter_h·filter_w), the
    book's matrix. The dtype is kept (the book's is always float64)."""
    h, w = input_data.shape[2:]
    out_h, out_w = _out_sizes("im2col", (h, w), filter_h, filter_w, stride, pad)
    images = input_data.transpose(1, 0, 2, 3)
    return _windows_t(images, filter_h, filter_w, stride, (pad, pad), (out_h, out_w)).T


def _windows_t(images, filter_h, filter_w, stride, pads, out_size):
    """im2col's matrix transposed, (C·filter_h·filter_w, N·out_h·out_w), of images given
    channels first (C, N, H, W) and padded by pads = (rows, columns) on each side. It is
    written as filter_h·filter_w strided slices of the padded images, one per place in the
    filter, each a run of image rows (3.3 ms against 4.4 for copying a transposed view of the
    windows, on DeepConvNet's 45 MB matrix); every column of the book's matrix is contiguous."""
    c, n, h, w = images.shape
    (pad_h, pad_w), (out_h, out_w) = pads, out_size
    if pad_h or pad_w:
        padded = np.zeros((c, n, h + 2 * pad_h, w + 2 * pad_w), images.dtype)
        padded[:, :, pad_h : h + pad_h, pad_w : w + pad_w] = images
        images = padded
    col_t = np.empty((c, filter_h, filter_w, n, out_h, out_w), images.dtype)
    for y in range(filter_h):
        for x in range(filter_w):
            col_t[:, y, x] = images[:, :, y : y + stride * out_h : stride,
                                    x : x + stride * out_w : stride]  # fmt: skip
    return col_t.reshape(c * filter_h * filter_w, n * out_h * out_w)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The inverse bookkeeping of im2col for gradients: each column entry is added back to the
    image position it was taken from, so overlapping windows sum (N, C, H, W). One strided
    slice of the whole batch is added per filter offset (filter_h·filter_w of them, in the
    book's order, so the sums are the book's to the last bit); np.add.at on overlapping
    windows, the loop-free alternative, measured 6 times slower. Laid out as im2col's matrix
    (columns contiguous), col is read without a copy, and the images come back channels
    first in memory (a (C, N, H, W) array seen as (N, C, H, W)), as Convolution puts out."""
    n, c, h, w = input_shape
    out_h, out_w = _out_sizes("col2im", (h, w), filter_h, filter_w, stride, pad)
    # any array of the matrix's size, read in its row order as the book's reshape reads it
    col = np.reshape(col, (n * out_h * out_w, c * filter_h * filter_w))
    col = col.T.reshape(c, filter_h, filter_w, n, out_h, out_w)
    img = np.zeros((c, n, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1), col.dtype)
    for y in range(filter_h):
        for x in range(filter_w):
            img[:, :, y : y + stride * out_h : stride, x : x + stride * out_w : stride] += col[
                :, y, x
            ]
    return img[:, :, pad : h + pad, pad : w + pad].transpose(1, 0, 2, 3)


class Im2col(Function):
    """im2col as an op of the graph; its gradient is col2im, whose gradient is im2col again,
    so convolution and pooling can be differentiated to any order."""

    name = "im2col"

    def __init__(self, filter_h, filter_w, stride=1, pad=0):
        self.window = (filter_h, filter_w, stride, pad)

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"{self.name}: x must be images (N, C, H, W), got shape {x.shape}")
        self.x_shape = x.shape
        return im2col(x, *self.window)

    def backward(self, dout):
        return col2im(dout, self.x_shape, *self.window)

    def backward_graph(self, dout, out):
        return Col2im(self.x_shape, *self.window)(dout)


class Col2im(Function):
    """col2im as an op of the graph: the gradient of im2col, and the other way round."""

    name = "col2im"

    def __init__(self, input_shape, filter_h, filter_w, stride=1, pad=0):
        self.input_shape, self.window = tuple(input_shape), (filter_h, filter_w, stride, pad)

    def forward(self, col):
        n, c, h, w = self.input_shape
        out_h, out_w = _out_sizes(self.name, (h, w), *self.window)
        rows, columns = n * out_h * out_w, c * self.window[0] * self.window[1]
        if col.shape != (rows, columns):
            raise ValueError(
                f"{self.name}: col has shape {col.shape}; images {self.input_shape} with "
                f"{self.window[0]}x{self.window[1]} windows need ({rows}, {columns})"
            )
        return col2im(col, self.input_shape, *self.window)

    def backward(self, dout):
        return im2col(dout, *self.window)

    def backward_graph(self, dout, out):
        return Im2col(*self.window)(dout)


def _out_sizes(caller, size, filter_h, filter_w, stride, pad, argument="", detail=""):
    """(out_h, out_w): how many windows fit along each axis (a stride that does not tile the
    padded image leaves its last rows out, as the book's im2col does), or a clear error."""
    h, w = size[0] + 2 * pad, size[1] + 2 * pad
    if filter_h > h or filter_w > w:
        raise ValueError(
            f"{caller}: a {filter_h}x{filter_w} window{argument and f' ({argument})'} does not "
            f"fit images of {size[0]}x{size[1]} padded by {pad}{detail}"
        )
    return (h - filter_h) // stride + 1, (w - filter_w) // stride + 1


def _windows(layer, x_shape, filter_h, filter_w, stride, pad, argument):
    """(out_h, out_w) of filter windows over images of x_shape, the last rows and columns left
    out where the stride does not tile them (as the book's layers and PyTorch do), or a clear
    error naming the layer, its `argument` and the shapes."""
    name = type(layer).__name__
    if len(x_shape) != 4:
        raise ValueError(f"{name}: x must be images (N, C, H, W), got shape {x_shape}")
    detail = f" (x shape {x_shape})"
    return _out_sizes(name, x_shape[2:], filter_h, filter_w, stride, pad, argument, detail)


class Convolution(Function):
    """Convolution layer (7.4.3): each filter's dot product with every window of the images,
    plus its bias, as one matrix product of im2col(x) with the filters (FN, C, FH, FW).
    backward: dW = colᵀ·dout, db = Σ dout, dx = col2im(dout·W) (at stride 1 taken as a
    transposed convolution); no dx for the input images.

    The products are taken transposed (filters × windows), so the output comes out a filter at
    a time: (FN, N, OH, OW) in memory, seen as the book's (N, FN, OH, OW). The layers after it
    keep that layout, and backward reads the gradient that comes back without a copy."""

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
        argument = f"W of shape {W.shape}"
        out_h, out_w = _windows(self, x.shape, fh, fw, self.stride, self.pad, argument)
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
        out = np.dot(self.col_W.T, col.T)  # (FN, N·OH·OW)
        out += np.reshape(b, (-1, 1))
        self.out_shape = (len(x), filters, out_h, out_w)
        return out.reshape(filters, len(x), out_h, out_w).transpose(1, 0, 2, 3)

    def backward(self, dout):
        dout = self.book_dout(dout)
        filters, _, fh, fw = self.W.shape
        dout = dout.transpose(1, 0, 2, 3).reshape(filters, -1)  # (FN, N·OH·OW), as forward's
        self.db = dout.sum(axis=1) if self.needs_grad(2) else None
        self.dW = np.dot(dout, self.col).reshape(self.W.shape) if self.needs_grad(1) else None
        if np.ndim(self.b) == 0 and self.db is not None:  # a scalar bias, as apply_filter.py's
            self.db = self.db.sum()
        if not self.needs_grad(0):
            return None  # the input images: no col2im at all
        if self.stride == 1 and self.pad < min(fh, fw) and np.isfinite(self.W).all():
            return self.transposed_convolution(dout)
        dcol = np.dot(self.col_W, dout).T  # the book's dout·Wᵀ, laid out as im2col's
        return col2im(dcol, self.x_shape, fh, fw, self.stride, self.pad)

    def transposed_convolution(self, dout):
        """dx at stride 1: col2im(dout·W) is the gradient padded by filter size - 1 - pad and
        convolved with the filters flipped and their channels swapped, the same sums in another
        order: one im2col and one product, no scatter-add (on DeepConvNet's layers 1.4-2x
        faster than the product and col2im). Finite filters only: an inf in W times the
        padding's zeros would be NaN where col2im's dx is 0. dout is (FN, N·OH·OW); dx comes
        out channels first in memory."""
        filters, channels, fh, fw = self.W.shape
        n, _, h, w = self.x_shape
        flipped = self.W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(channels, -1)
        images = dout.reshape(filters, n, *self.out_shape[2:])
        col_t = _windows_t(images, fh, fw, 1, (fh - 1 - self.pad, fw - 1 - self.pad), (h, w))
        return np.dot(flipped, col_t).reshape(channels, n, h, w).transpose(1, 0, 2, 3)

    def backward_graph(self, dout, out):
        return backward_through(self.convolve, self, dout)

    def convolve(self, x, W, b):
        """forward in Tensor ops: im2col(x)·Wᵀ + b, the rows back to (N, FN, OH, OW)."""
        filters, _, fh, fw = W.shape
        n, _, out_h, out_w = self.out_shape
        col = Im2col(fh, fw, self.stride, self.pad)(x)
        out = col @ W.reshape(filters, -1).T + b.reshape(-1)
        return out.reshape(n, out_h, out_w, filters).transpose(0, 3, 1, 2)


class Pooling(Function):
    """Max pooling layer (7.5): the maximum of each pool_h x pool_w window; the gradient goes to
    that maximum (the first of equal ones, as the book's argmax). Windows that tile the images
    (2x2 with stride 2 on even sizes) are compared as pool_h·pool_w strided views of x, one per
    place in the window, so nothing the size of x is copied; overlapping or padded ones, and
    strides that leave the last rows out, through im2col. The output and dx keep Convolution's
    layout (channels first in memory)."""

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

    def places(self):
        """(row, column) of each place in a window, in the book's (row-major) order."""
        return [(i, j) for i in range(self.pool_h) for j in range(self.pool_w)]

    def forward(self, x):
        x = self.book_input("x", x)
        ph, pw = self.pool_h, self.pool_w
        argument = f"pool_h {ph}, pool_w {pw}"
        out_h, out_w = _windows(self, x.shape, ph, pw, self.stride, self.pad, argument)
        n, c = x.shape[:2]
        self.x_shape, self.out_shape = x.shape, (n, c, out_h, out_w)
        tiles = x.shape[2] == out_h * ph and x.shape[3] == out_w * pw  # no rows left out
        self.tiled = self.pad == 0 and self.stride == ph == pw and tiles
        if self.tiled:
            pooled = self.tiles_max(x)
            if self.argmax is None or not np.isnan(pooled).any():
                return pooled
            self.tiled = False  # a NaN: the gradient goes to it, as np.argmax sends it
        windows = im2col(x, ph, pw, self.stride, self.pad).T.reshape(c, ph * pw, n, out_h, -1)
        self.argmax = windows.argmax(axis=1)[:, None]  # im2col's columns: (C, ph·pw, N, OH, OW)
        return np.take_along_axis(windows, self.argmax, axis=1)[:, 0].transpose(1, 0, 2, 3)

    def tiles_max(self, x):
        """The maximum of windows that tile x, over one strided view of x per place in the
        window; and, when a gradient will follow, self.argmax: which place held it."""
        places = [x[:, :, i :: self.pool_h, j :: self.pool_w] for i, j in self.places()]
        pooled = np.copy(places[0])  # keeps x's memory order
        self.argmax = None
        if self.needs_grad(0):
            self.argmax = np.zeros(pooled.shape, np.min_scalar_type(len(places) - 1))
        for k, place in enumerate(places[1:], 1):
            if self.argmax is not None:  # a later place wins where greater: argmax = k there
                k_where_greater = (place > pooled) * self.argmax.dtype.type(k)
                np.maximum(self.argmax, k_where_greater, out=self.argmax)  # (all before are < k)
            np.maximum(pooled, place, out=pooled)
        return pooled

    def backward_graph(self, dout, out):
        return backward_through(self.pool, self, dout)

    def pool(self, x):
        """forward in Tensor ops: each window's maximum picked from im2col(x) by index, so the
        gradient is routed to it by scatter-add, and that gradient's by picking again."""
        n, c, out_h, out_w = self.out_shape
        col = Im2col(self.pool_h, self.pool_w, self.stride, self.pad)(x)
        windows = col.reshape(-1, self.pool_h * self.pool_w)  # a row per (n, oh, ow, c)
        picked = windows[np.arange(len(windows)), windows.data.argmax(axis=1)]
        return picked.reshape(n, out_h, out_w, c).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = self.book_dout(dout)
        if not self.needs_grad(0):
            return None
        n, c, out_h, out_w = self.out_shape
        ph, pw = self.pool_h, self.pool_w
        if not self.tiled:
            dwindows = np.zeros((c, ph * pw, n, out_h, out_w), dout.dtype)
            np.put_along_axis(dwindows, self.argmax, dout.transpose(1, 0, 2, 3)[:, None], axis=1)
            dcol = dwindows.reshape(c * ph * pw, -1).T
            return col2im(dcol, self.x_shape, ph, pw, self.stride, self.pad)
        # channels first in memory, as Convolution's output: its backward reads it as it is
        dx = np.empty((c, n, *self.x_shape[2:]), dout.dtype).transpose(1, 0, 2, 3)
        finite = np.isfinite(dout.sum())  # else 0·inf would be NaN where the book's dx is 0
        for k, (i, j) in enumerate(self.places()):  # the tiles cover dx: each place once
            held = self.argmax == k
            if finite:
                np.multiply(dout, held, out=dx[:, :, i::ph, j::pw])
            else:
                dx[:, :, i::ph, j::pw] = np.where(held, dout, 0)
        return dx
