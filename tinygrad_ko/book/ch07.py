"""책의 ch07/ 폴더에 있는 simple_convnet.py를 대신하는 모듈입니다. 책의 스크립트에서
`from simple_convnet import SimpleConvNet`을 `from tinygrad_ko.book.ch07 import SimpleConvNet`으로
바꾸면 됩니다."""

from __future__ import annotations

import numpy as np

from tinygrad_ko.engine.functions import CROSS_ENTROPY_DELTA
from tinygrad_ko.networks import convnets

__all__ = ["SimpleConvNet"]


class SimpleConvNet(convnets.SimpleConvNet):
    """7장의 단순한 합성곱 신경망(conv - relu - pool - affine - relu - affine - softmax)입니다.
    책처럼 float64로 계산하고, save_params와 load_params는 책과 같은 pickle 파일을 씁니다.
    load_params는 pickle을 코드가 실행되지 않는 방식으로 읽습니다."""

    loss_delta = CROSS_ENTROPY_DELTA  # 책의 SoftmaxWithLoss처럼 log(y + 1e-7)

    def __init__(
        self,
        input_dim=(1, 28, 28),
        conv_param=convnets.SIMPLE,
        hidden_size=100,
        output_size=10,
        weight_init_std=0.01,
    ):
        super().__init__(
            input_dim, conv_param, hidden_size, output_size, weight_init_std, np.float64
        )
