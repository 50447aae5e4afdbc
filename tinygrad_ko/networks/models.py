"""The book's fully connected networks: TwoLayerNet (4.5.1 with sigmoid, 5.7.2 with ReLU) and
MultiLayerNet (chapter 6: He or Xavier initial weights, weight decay, Dropout and
BatchNormalization), with the interface of tinygrad_ko.networks.network.Network."""

from __future__ import annotations

import itertools
import math
import numbers

import numpy as np

from tinygrad_ko.layers import Affine, ReLU, Sigmoid
from tinygrad_ko.layers.normalization import BatchNormalization, Dropout
from tinygrad_ko.networks.network import Network

__all__ = ["ACTIVATIONS", "MultiLayerNet", "MultiLayerNetExtend", "TwoLayerNet"]

ACTIVATIONS = {"sigmoid": Sigmoid, "relu": ReLU}  # chapter 4 / chapter 5
FAN_IN_SCALES = {"relu": 2.0, "he": 2.0, "sigmoid": 1.0, "xavier": 1.0}  # std = √(k / fan-in)


class MultiLayerNet(Network):
    """Affine → [BatchNormalization →] activation → [Dropout →] … → Affine → SoftmaxWithLoss, a
    block per hidden size: the book's MultiLayerNet and MultiLayerNetExtend (6.2-6.4) in one.

    weight_init_std is a number or a name: 'relu' or 'he' for He's √(2/n), 'sigmoid' or
    'xavier' for Xavier's √(1/n), n being the layer's input size (6.2.2-6.2.3). Weight decay
    adds ½λΣ‖W‖² to the loss, and so λW to each gradient (6.4.2). use_dropout drops
    dropout_ratio of each hidden layer's units in training (6.4.3); use_batchnorm normalizes
    each hidden Affine's output (6.3). Weights are drawn from NumPy's global random state, as
    the book's, or from `seed`.
    """

    def __init__(
        self,
        input_size,
        hidden_size_list,
        output_size,
        activation="relu",
        weight_init_std="relu",
        weight_decay_lambda=0,
        use_dropout=False,
        dropout_ratio=0.5,
        use_batchnorm=False,
        dtype=np.float32,
        seed=None,
    ):
        name = type(self).__name__
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"{name}: activation must be one of {list(ACTIVATIONS)}, got {activation!r}"
            )
        lam = weight_decay_lambda
        if not isinstance(lam, numbers.Real) or not math.isfinite(lam) or lam < 0:
            raise ValueError(f"{name}: weight_decay_lambda must be a number >= 0, got {lam!r}")
        self.sizes = _sizes(type(self), input_size, hidden_size_list, output_size)
        # the book's attribute names
        self.input_size, *self.hidden_size_list, self.output_size = self.sizes
        self.hidden_layer_num = len(self.hidden_size_list)
        self.activation, self.weight_decay_lambda = activation, float(weight_decay_lambda)
        self.use_dropout, self.dropout_ratio = bool(use_dropout), float(dropout_ratio)
        self.use_batchnorm = bool(use_batchnorm)
        if self.use_dropout:
            Dropout(dropout_ratio)  # refuses a ratio outside [0, 1) now, not at the first step
        self.config = {
            "input_size": self.input_size,
            "hidden_size_list": self.hidden_size_list,
            "output_size": self.output_size,
            "activation": activation,
            "weight_decay_lambda": self.weight_decay_lambda,
            "use_dropout": self.use_dropout,
            "dropout_ratio": self.dropout_ratio,
            "use_batchnorm": self.use_batchnorm,
        }
        shapes = MultiLayerNet.param_shapes(**self.config)
        scales = {
            f"W{i}": _scale(name, weight_init_std, fan_in)
            for i, fan_in in enumerate(self.sizes[:-1], 1)
        }
        super().__init__(shapes, scales, dtype, seed)

    @classmethod
    def param_shapes(cls, input_size, hidden_size_list, output_size, use_batchnorm=False, **_):
        """W1, b1, [gamma1, beta1,] W2, … : the weights of each block, in the book's order."""
        sizes = _sizes(cls, input_size, hidden_size_list, output_size)
        shapes = {}
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes), 1):
            shapes[f"W{i}"], shapes[f"b{i}"] = (fan_in, fan_out), (fan_out,)
            if use_batchnorm and i < len(sizes) - 1:
                shapes[f"gamma{i}"], shapes[f"beta{i}"] = (fan_out,), (fan_out,)
        return shapes

    def summary(self):
        """E.g. MultiLayerNet 784-100-10 (relu, batchnorm, dropout 0.5, weight decay 0.1)."""
        chosen = [self.activation, "batchnorm"] if self.use_batchnorm else [self.activation]
        if self.use_dropout:
            chosen.append(f"dropout {self.dropout_ratio:g}")
        if self.weight_decay_lambda:
            chosen.append(f"weight decay {self.weight_decay_lambda:g}")
        sizes = "-".join(map(str, self.sizes))
        return f"{type(self).__name__} {sizes} ({', '.join(chosen)})"

    def build(self, p):
        """The layers over weights p (tensors for the graph, arrays for the book's way)."""
        layers, blocks = [], self.hidden_layer_num
        for i in range(1, blocks + 1):
            layers.append(Affine(p[f"W{i}"], p[f"b{i}"]))
            if self.use_batchnorm:
                layers.append(BatchNormalization(p[f"gamma{i}"], p[f"beta{i}"]))
            layers.append(ACTIVATIONS[self.activation]())
            if self.use_dropout:
                layers.append(Dropout(self.dropout_ratio, rng=self.rng))
        layers.append(Affine(p[f"W{blocks + 1}"], p[f"b{blocks + 1}"]))
        return layers


MultiLayerNetExtend = MultiLayerNet  # the book's name for the one with Dropout and BatchNorm


class TwoLayerNet(MultiLayerNet):
    """Affine → activation → Affine → SoftmaxWithLoss (4.5.1 with sigmoid, 5.7.2 with ReLU).

    Weights start as weight_init_std · N(0, 1) and biases at 0. Without `seed` the weights are
    drawn from NumPy's global random state, as the book's are (np.random.seed(0) before it gives
    the book's network); with `seed`, from a generator of their own.
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        output_size,
        weight_init_std=0.01,
        activation="sigmoid",
        dtype=np.float32,
        seed=None,
    ):
        super().__init__(
            input_size,
            [hidden_size],
            output_size,
            activation=activation,
            weight_init_std=weight_init_std,
            dtype=dtype,
            seed=seed,
        )
        self.config = {
            "input_size": self.sizes[0],
            "hidden_size": self.sizes[1],
            "output_size": self.sizes[2],
            "activation": activation,
        }

    @classmethod
    def param_shapes(cls, input_size, hidden_size, output_size, **_):
        return super().param_shapes(input_size, [hidden_size], output_size)

    @classmethod
    def upgrade_record(cls, meta):
        """Files of version 0.1.0 recorded {"sizes": [in, hidden, out], "activation", "dtype"}."""
        if "model" in meta or "sizes" not in meta:
            return meta
        sizes = meta["sizes"]
        if not isinstance(sizes, list) or len(sizes) != 3:
            raise ValueError("sizes must be three sizes")
        keys = ("input_size", "hidden_size", "output_size")
        return {"model": cls.__name__, "dtype": meta["dtype"], "activation": meta["activation"]} | (
            dict(zip(keys, sizes))
        )


def _sizes(cls, input_size, hidden_size_list, output_size):
    """(input, hidden…, output) as ints, or a clear error."""
    if not isinstance(hidden_size_list, (list, tuple)):
        raise TypeError(
            f"{cls.__name__}: hidden_size_list must be a list of sizes, e.g. [100, 100], got "
            f"{hidden_size_list!r}"
        )
    sizes = (input_size, *hidden_size_list, output_size)
    for n in sizes:
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise ValueError(f"{cls.__name__}: layer sizes must be positive integers, got {n!r}")
    return tuple(int(n) for n in sizes)


def _scale(name, weight_init_std, fan_in):
    """The standard deviation of a layer's initial weights (6.2)."""
    if not isinstance(weight_init_std, (str, numbers.Real)) or isinstance(weight_init_std, bool):
        raise ValueError(
            f"{name}: weight_init_std must be a number or one of {list(FAN_IN_SCALES)}, got "
            f"{weight_init_std!r}"
        )
    if isinstance(weight_init_std, str):
        if weight_init_std.lower() not in FAN_IN_SCALES:
            raise ValueError(
                f"{name}: weight_init_std must be a number or one of {list(FAN_IN_SCALES)}, got "
                f"{weight_init_std!r}"
            )
        return np.sqrt(FAN_IN_SCALES[weight_init_std.lower()] / fan_in)
    return weight_init_std
