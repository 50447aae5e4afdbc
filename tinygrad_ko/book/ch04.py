"""책의 ch04/ 폴더에 있는 two_layer_net.py와 gradient_2d.py를 대신하는 모듈입니다. 책의
스크립트에서 `from two_layer_net import TwoLayerNet`과 `from gradient_2d import
numerical_gradient`를 `from tinygrad_ko.book.ch04 import ...`로 바꾸면 됩니다. 이
numerical_gradient는 gradient_2d.py의 것처럼 2차원 배열의 각 행(점)마다 기울기를 구합니다."""

from __future__ import annotations

import numpy as np

from tinygrad_ko.checking.numerical import numerical_gradient_2d as numerical_gradient
from tinygrad_ko.engine.functions import CROSS_ENTROPY_DELTA, softmax
from tinygrad_ko.networks import models

__all__ = ["TwoLayerNet", "numerical_gradient"]


class TwoLayerNet(models.TwoLayerNet):
    """4장의 2층 신경망입니다. 활성화 함수로 시그모이드 함수를 쓰고 float64로 계산합니다.
    책처럼 predict는 소프트맥스 함수를 거친 확률을 돌려줍니다. gradient 메서드는 기울기를
    오차역전파법으로, numerical_gradient 메서드는 수치 미분으로 구합니다."""

    loss_delta = CROSS_ENTROPY_DELTA  # 책의 cross_entropy_error처럼 log(y + 1e-7)

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        super().__init__(
            input_size, hidden_size, output_size, weight_init_std, "sigmoid", np.float64
        )

    def predict(self, x, train_flg=False):
        return softmax(super().predict(x, train_flg))
