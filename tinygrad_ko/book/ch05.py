"""책의 ch05/ 폴더에 있는 two_layer_net.py와 layer_naive.py를 대신하는 모듈입니다. 책의
스크립트에서 `from two_layer_net import TwoLayerNet`과 `from layer_naive import *`를
`from tinygrad_ko.book.ch05 import ...`로 바꾸면 됩니다. MulLayer와 AddLayer는 tinygrad_ko의
곱셈 노드와 덧셈 노드이며, 책처럼 숫자를 넣어 forward와 backward를 호출할 수 있습니다."""

from __future__ import annotations

import numpy as np

from tinygrad_ko.engine.functions import CROSS_ENTROPY_DELTA
from tinygrad_ko.engine.ops import Add as AddLayer
from tinygrad_ko.engine.ops import Mul as MulLayer
from tinygrad_ko.networks import models

__all__ = ["AddLayer", "MulLayer", "TwoLayerNet"]


class TwoLayerNet(models.TwoLayerNet):
    """5장의 2층 신경망입니다. 활성화 함수로 ReLU 함수를 쓰고 float64로 계산합니다. Affine,
    Relu, Affine, SoftmaxWithLoss 계층으로 이루어져 있으며, gradient 메서드는 기울기를
    오차역전파법으로 구합니다."""

    loss_delta = CROSS_ENTROPY_DELTA  # 책의 SoftmaxWithLoss처럼 log(y + 1e-7)

    @property
    def lastLayer(self):
        """5장의 코드가 부르는 이름으로 마지막 계층(SoftmaxWithLoss)을 돌려줍니다."""
        return self.last_layer

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        super().__init__(input_size, hidden_size, output_size, weight_init_std, "relu", np.float64)
