"""The book's convolutional networks: SimpleConvNet (7.5) and DeepConvNet (8.1), with the
interface of tinygrad_ko.networks.network.Network, and the book's save_params/load_params (pickles
written as the book writes them, read with tinygrad_ko.data.files.load_pickled_weights)."""

from __future__ import annotations

import numbers
from types import MappingProxyType

import numpy as np

from tinygrad_ko.layers import Affine, ReLU
from tinygrad_ko.layers.conv import Convolution, Pooling
from tinygrad_ko.layers.normalization import Dropout
from tinygrad_ko.networks.network import Network

__all__ = ["DeepConvNet", "SimpleConvNet"]


def _conv(filter_num, filter_size, pad=0, stride=1):
    return MappingProxyType(
        {"filter_num": filter_num, "filter_size": filter_size, "pad": pad, "stride": stride}
    )


SIMPLE = _conv(30, 5)  # the book's SimpleConvNet: 30 filters of 5x5


class ConvNet(Network):
    """What the two share: images in, the book's conv_param dicts, evaluation 100 at a time
    (a batch of 10,000 images would need gigabytes of im2col windows)."""

    eval_batch_size = 100

    @classmethod
    def checked_conv(cls, conv_param, channels, size, name="conv_param"):
        """(filter_num, filter_size, pad, stride) of a conv_param dict (the argument `name`),
        checked against the (channels, height, width) it gets; and the (height, width) it puts
        out: floor((size + 2·pad - filter_size) / stride) + 1, the last rows and columns left
        out where the stride does not tile them, as the book's layers and PyTorch do."""
        try:
            fn, fs = conv_param["filter_num"], conv_param["filter_size"]
            pad, stride = conv_param["pad"], conv_param["stride"]
        except (KeyError, TypeError):
            raise ValueError(
                f"{cls.__name__}: {name} must be a dict with filter_num, filter_size, pad "
                f"and stride, as the book's; got {conv_param!r}"
            ) from None
        for value in (fn, fs, stride, pad + 1):
            if not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{cls.__name__}: {name} {dict(conv_param)} must be whole")
        if min(size) + 2 * pad < fs:
            raise ValueError(
                f"{cls.__name__}: {name}: {fs}x{fs} filters do not fit inputs of "
                f"{size[0]}x{size[1]} padded by {pad}"
            )
        out = tuple((n + 2 * pad - fs) // stride + 1 for n in size)
        return (int(fn), int(fs), int(pad), int(stride)), out

    @classmethod
    def pooled(cls, size, after="conv_param"):
        """The (height, width) of a 2x2 max pooling with stride 2 (of the output of `after`):
        halves, an odd last row or column left out."""
        if min(size) < 2:
            raise ValueError(
                f"{cls.__name__}: the 2x2 pooling after {after} needs inputs of at least 2x2, "
                f"got {size[0]}x{size[1]}"
            )
        return size[0] // 2, size[1] // 2

    def summary(self):
        return f"{type(self).__name__} {'x'.join(map(str, self.input_dim))} ({self.layout})"


class SimpleConvNet(ConvNet):
    """conv - relu - pool - affine - relu - affine - softmax (7.5), the book's SimpleConvNet:
    filter_num filters of filter_size², 2x2 max pooling, a hidden layer of hidden_size. Weights
    start as weight_init_std · N(0, 1), drawn from NumPy's global random state as the book's
    are, or from `seed`."""

    def __init__(
        self,
        input_dim=(1, 28, 28),
        conv_param=SIMPLE,
        hidden_size=100,
        output_size=10,
        weight_init_std=0.01,
        dtype=np.float32,
        seed=None,
    ):
        self.input_dim = tuple(input_dim)
        self.config = {
            "input_dim": list(self.input_dim),
            "conv_param": dict(conv_param),
            "hidden_size": hidden_size,
            "output_size": output_size,
        }
        shapes = SimpleConvNet.param_shapes(**self.config)
        self.conv_param = self.config["conv_param"]
        self.layout = f"conv {conv_param['filter_num']}x{conv_param['filter_size']}² - pool - "
        self.layout += f"{hidden_size} - {output_size}"
        super().__init__(shapes, dict.fromkeys(("W1", "W2", "W3"), weight_init_std), dtype, seed)

    @classmethod
    def param_shapes(cls, input_dim, conv_param, hidden_size, output_size, **_):
        channels, *size = input_dim
        (fn, fs, _, _), size = cls.checked_conv(conv_param, channels, size)
        h, w = cls.pooled(size)
        return {
            "W1": (fn, channels, fs, fs),
            "b1": (fn,),
            "W2": (fn * h * w, hidden_size),
            "b2": (hidden_size,),
            "W3": (hidden_size, output_size),
            "b3": (output_size,),
        }

    def build(self, p):
        stride, pad = self.conv_param["stride"], self.conv_param["pad"]
        return [
            Convolution(p["W1"], p["b1"], stride, pad),
            ReLU(),
            Pooling(2, 2, stride=2),
            Affine(p["W2"], p["b2"]),
            ReLU(),
            Affine(p["W3"], p["b3"]),
        ]


DEEP = (_conv(16, 3, 1), _conv(16, 3, 1), _conv(32, 3, 1), _conv(32, 3, 2), _conv(64, 3, 1),
        _conv(64, 3, 1))  # fmt: skip


class DeepConvNet(ConvNet):
    """The deep network of chapter 8 (8.1.1), the book's DeepConvNet: three blocks of
    conv - relu - conv - relu - pool with 3x3 filters, then affine - relu - dropout - affine -
    dropout - softmax; He's initial weights (6.2.3), drawn from NumPy's global random state as
    the book's are, or from `seed`. Its Dropout layers follow the network's mode."""

    def __init__(
        self,
        input_dim=(1, 28, 28),
        conv_param_1=DEEP[0],
        conv_param_2=DEEP[1],
        conv_param_3=DEEP[2],
        conv_param_4=DEEP[3],
        conv_param_5=DEEP[4],
        conv_param_6=DEEP[5],
        hidden_size=50,
        output_size=10,
        dtype=np.float32,
        seed=None,
    ):
        self.input_dim = tuple(input_dim)
        convs = (conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5,
                 conv_param_6)  # fmt: skip
        self.config = {
            "input_dim": list(self.input_dim),
            **{f"conv_param_{i}": dict(c) for i, c in enumerate(convs, 1)},
            "hidden_size": hidden_size,
            "output_size": output_size,
        }
        shapes = DeepConvNet.param_shapes(**self.config)
        self.conv_params = [dict(c) for c in convs]
        self.layout = " ".join(str(c["filter_num"]) for c in convs)
        self.layout = f"conv {self.layout} - {hidden_size} - {output_size}"
        # He's scale from each layer's fan-in: the filter's C·size² for a convolution
        scales = {name: np.sqrt(2.0 / np.prod(shape[1:] if len(shape) == 4 else shape[:1]))
                  for name, shape in shapes.items() if name.startswith("W")}  # fmt: skip
        super().__init__(shapes, scales, dtype, seed)

    @classmethod
    def param_shapes(cls, input_dim, hidden_size, output_size, **convs):
        channels, *size = input_dim
        shapes = {}
        for i in range(1, 7):
            name = f"conv_param_{i}"
            (fn, fs, _, _), size = cls.checked_conv(convs[name], channels, size, name)
            shapes[f"W{i}"], shapes[f"b{i}"] = (fn, channels, fs, fs), (fn,)
            channels = fn
            if i % 2 == 0:
                size = cls.pooled(size, name)
        shapes["W7"], shapes["b7"] = (channels * size[0] * size[1], hidden_size), (hidden_size,)
        shapes["W8"], shapes["b8"] = (hidden_size, output_size), (output_size,)
        return shapes

    def build(self, p):
        layers = []
        for i, conv in enumerate(self.conv_params, 1):
            layers += [Convolution(p[f"W{i}"], p[f"b{i}"], conv["stride"], conv["pad"]), ReLU()]
            if i % 2 == 0:
                layers.append(Pooling(2, 2, stride=2))
        return [
            *layers,
            Affine(p["W7"], p["b7"]),
            ReLU(),
            Dropout(0.5, rng=self.rng),
            Affine(p["W8"], p["b8"]),
            Dropout(0.5, rng=self.rng),
        ]
