"""책의 ch08/ 폴더에 있는 deep_convnet.py를 대신하는 모듈입니다. 책의 스크립트에서
`from deep_convnet import DeepConvNet`을 `from tinygrad_ko.book.ch08 import DeepConvNet`으로
바꾸면 됩니다."""

from __future__ import annotations

import numpy as np

from tinygrad_ko.engine.functions import CROSS_ENTROPY_DELTA
from tinygrad_ko.networks import convnets

__all__ = ["DeepConvNet"]

DEEP = convnets.DEEP


class DeepConvNet(convnets.DeepConvNet):
    """8장의 깊은 합성곱 신경망입니다. 책처럼 float64로 계산하고, 책처럼 loss는 드롭아웃을
    켠 학습 모드에서 구합니다. load_params는 책의 deep_convnet_params.pkl을 코드가 실행되지
    않는 방식으로 읽습니다."""

    loss_delta = CROSS_ENTROPY_DELTA  # 책의 SoftmaxWithLoss처럼 log(y + 1e-7)

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
    ):
        convs = (conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5,
                 conv_param_6)  # fmt: skip
        super().__init__(input_dim, *convs, hidden_size, output_size, np.float64)

    def loss(self, x, t):
        """책의 DeepConvNet처럼 학습 모드(드롭아웃 사용)에서 손실을 구합니다."""
        return super().loss(x, t, train_flg=True)
