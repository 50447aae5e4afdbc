"""4장의 모듈을 대신합니다. `from two_layer_net import TwoLayerNet`과
`from gradient_2d import numerical_gradient`를 `from tinygrad_ko.book.ch04 import ...`로
바꿉니다."""

from __future__ import annotations

import numpy as np

from tinygrad_ko import models
from tinygrad_ko.functions import CROSS_ENTROPY_DELTA, softmax
from tinygrad_ko.numerical import numerical_gradient_2d as numerical_gradient

__all__ = ["TwoLayerNet", "numerical_gradient"]


class TwoLayerNet(models.TwoLayerNet):
    """4장의 2층 신경망입니다(시그모이드, float64). 책처럼 predict는 소프트맥스를 거친 확률을
    돌려줍니다. gradient는 오차역전파법으로, numerical_gradient는 수치 미분으로 구합니다."""

    loss_delta = CROSS_ENTROPY_DELTA  # 책의 cross_entropy_error처럼 log(y + 1e-7)

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        super().__init__(
            input_size, hidden_size, output_size, weight_init_std, "sigmoid", np.float64
        )

    def predict(self, x, train_flg=False):
        return softmax(super().predict(x, train_flg))
