"""5장의 모듈을 대신합니다. `from two_layer_net import TwoLayerNet`과
`from layer_naive import *`를 `from tinygrad_ko.book.ch05 import ...`로 바꿉니다."""

from __future__ import annotations

import numpy as np

from tinygrad_ko import models
from tinygrad_ko.functions import CROSS_ENTROPY_DELTA
from tinygrad_ko.ops import Add as AddLayer
from tinygrad_ko.ops import Mul as MulLayer

__all__ = ["AddLayer", "MulLayer", "TwoLayerNet"]


class TwoLayerNet(models.TwoLayerNet):
    """5장의 2층 신경망입니다(ReLU, float64). Affine, Relu, Affine, SoftmaxWithLoss 계층으로
    이루어지고, gradient는 오차역전파법으로 구합니다."""

    loss_delta = CROSS_ENTROPY_DELTA  # 책의 SoftmaxWithLoss처럼 log(y + 1e-7)

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        super().__init__(input_size, hidden_size, output_size, weight_init_std, "relu", np.float64)
