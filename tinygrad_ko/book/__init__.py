"""책의 예제 코드를 import 줄만 바꿔서 tinygrad_ko로 실행하기 위한 호환 모듈입니다.

『밑바닥부터 시작하는 딥러닝』 예제 코드의 `common/` 모듈과 `dataset/mnist.py`에 있는 함수와
클래스를 같은 이름, 같은 인수 이름과 기본값, 같은 속성 이름으로 제공합니다. import 줄은 다음처럼
바꿉니다.

    from common.layers import Affine, Relu       ->  from tinygrad_ko.book import Affine, Relu
    from dataset.mnist import load_mnist         ->  from tinygrad_ko.book import load_mnist
    from two_layer_net import TwoLayerNet (5장)  ->  from tinygrad_ko.book.ch05 import TwoLayerNet

6장의 optimizer_compare_mnist.py는 np를 따로 import하지 않고 `from common.optimizer import *`로
함께 가져오므로, 이 모듈도 np를 제공합니다. 이 모듈에는 따로 구현한 계산이 없습니다. 모든 계산은
tinygrad_ko 본체가 하고, 이 모듈은 인수와 자료형만 책에 맞춥니다. 신경망은 책처럼 float64로
계산하고, 교차 엔트로피 오차를 구할 때도 책처럼 y에 delta(1e-7)를 더해 log(y + delta)를
계산합니다. 가중치 초깃값, 미니배치로 고를 데이터, 드롭아웃 마스크도 책처럼 np.random으로 무작위로
만들므로, np.random.seed를 같게 주면 책의 코드와 같은 결과가 나옵니다.
"""

from __future__ import annotations

import numpy as np

from tinygrad_ko import layers
from tinygrad_ko.checking.numerical import numerical_gradient, numerical_gradient_2d
from tinygrad_ko.data import datasets
from tinygrad_ko.data.datasets import shuffle_dataset
from tinygrad_ko.display.plot import smooth_curve
from tinygrad_ko.engine.functions import (
    CROSS_ENTROPY_DELTA,
    cross_entropy_error,
    identity_function,
    mean_squared_error,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    softmax_loss,
    step_function,
)
from tinygrad_ko.layers import Affine, Relu, Sigmoid, conv
from tinygrad_ko.layers.conv import Convolution, Pooling, conv_output_size
from tinygrad_ko.layers.normalization import BatchNormalization, Dropout
from tinygrad_ko.networks import models
from tinygrad_ko.training import optim, train

__all__ = [
    "SGD",
    "AdaGrad",
    "Adam",
    "Affine",
    "BatchNormalization",
    "Convolution",
    "Dropout",
    "Momentum",
    "MultiLayerNet",
    "MultiLayerNetExtend",
    "Nesterov",
    "Pooling",
    "RMSprop",
    "Relu",
    "Sigmoid",
    "SoftmaxWithLoss",
    "Trainer",
    "col2im",
    "conv_output_size",
    "cross_entropy_error",
    "download_mnist",
    "identity_function",
    "im2col",
    "img_dim",
    "img_size",
    "init_mnist",
    "key_file",
    "load_mnist",
    "mean_squared_error",
    "np",
    "numerical_gradient",
    "numerical_gradient_2d",
    "relu",
    "relu_grad",
    "shuffle_dataset",
    "sigmoid",
    "sigmoid_grad",
    "smooth_curve",
    "softmax",
    "softmax_loss",
    "step_function",
    "test_num",
    "train_num",
]  # fmt: skip


class SoftmaxWithLoss(layers.SoftmaxWithLoss):
    """Softmax-with-Loss 계층입니다. 손실은 책처럼 cross_entropy_error(softmax(x), t)로, 즉
    log(y + 1e-7)을 써서 구합니다. 역전파 때는 (y - t)를 배치 크기로 나눈 값을 앞 계층에
    전달합니다."""

    def __init__(self):
        super().__init__(delta=CROSS_ENTROPY_DELTA)


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """책의 im2col입니다. 책처럼 float64 배열을 돌려줍니다."""
    return conv.im2col(np.asarray(input_data, dtype=np.float64), filter_h, filter_w, stride, pad)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """책의 col2im입니다. 책처럼 float64 배열을 돌려줍니다."""
    return conv.col2im(
        np.asarray(col, dtype=np.float64), input_shape, filter_h, filter_w, stride, pad
    )


# --- dataset/mnist.py ------------------------------------------------------------------------

key_file = {
    "train_img": datasets.FILES["train_images"],
    "train_label": datasets.FILES["train_labels"],
    "test_img": datasets.FILES["test_images"],
    "test_label": datasets.FILES["test_labels"],
}
train_num, test_num = 60000, 10000
img_dim, img_size = (1, 28, 28), 784


def load_mnist(normalize=True, flatten=True, one_hot_label=False):
    """책의 load_mnist입니다. 돌려주는 배열의 자료형도 책과 같습니다. normalize=True이면
    이미지는 0.0~1.0의 float32, False이면 0~255의 uint8입니다. 정답 레이블은 uint8이고,
    one_hot_label=True이면 원-핫 인코딩된 float64 배열입니다. 파일은 환경 변수
    TINYGRAD_KO_DATA가 가리키는 폴더에서, 이 변수가 없으면 ~/.cache/tinygrad_ko/mnist에서
    찾고, 없으면 내려받습니다."""
    (x_train, t_train), (x_test, t_test) = datasets.load_mnist(normalize, flatten)

    def labels(t):
        return np.eye(10)[t] if one_hot_label else t.astype(np.uint8)

    return (x_train, labels(t_train)), (x_test, labels(t_test))


def init_mnist():
    """MNIST 파일 네 개를 준비합니다. 없는 파일은 내려받고, SHA-256 해시로 모든 파일이
    손상되지 않았는지 검사합니다. 책의 init_mnist와 달리 mnist.pkl은 만들지 않습니다."""
    datasets.load_mnist()


download_mnist = init_mnist


# --- common/optimizer.py: 책과 같은 인수 순서(학습률이 첫 번째 인수) ----------------------------


class SGD(optim.SGD):
    """확률적 경사 하강법(SGD)입니다."""

    def __init__(self, lr=0.01):
        super().__init__(lr=lr)


class Momentum(optim.Momentum):
    """모멘텀 SGD입니다."""

    def __init__(self, lr=0.01, momentum=0.9):
        super().__init__(lr=lr, momentum=momentum)


class Nesterov(optim.Nesterov):
    """Nesterov 가속 경사(NAG)입니다."""

    def __init__(self, lr=0.01, momentum=0.9):
        super().__init__(lr=lr, momentum=momentum)


class AdaGrad(optim.AdaGrad):
    """AdaGrad입니다."""

    def __init__(self, lr=0.01):
        super().__init__(lr=lr)


class RMSprop(optim.RMSprop):
    """RMSprop입니다."""

    def __init__(self, lr=0.01, decay_rate=0.99):
        super().__init__(lr=lr, decay_rate=decay_rate)


class Adam(optim.Adam):
    """Adam입니다."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2)


# --- common/multi_layer_net.py, multi_layer_net_extend.py, trainer.py -------------------------


class MultiLayerNet(models.MultiLayerNet):
    """완전연결 다층 신경망입니다. 책처럼 float64로 계산합니다."""

    loss_delta = CROSS_ENTROPY_DELTA

    def __init__(
        self,
        input_size,
        hidden_size_list,
        output_size,
        activation="relu",
        weight_init_std="relu",
        weight_decay_lambda=0,
    ):
        super().__init__(
            input_size,
            hidden_size_list,
            output_size,
            activation=activation,
            weight_init_std=weight_init_std,
            weight_decay_lambda=weight_decay_lambda,
            dtype=np.float64,
        )


class MultiLayerNetExtend(models.MultiLayerNet):
    """가중치 감소, 드롭아웃, 배치 정규화를 쓸 수 있는 완전연결 다층 신경망(확장판)입니다.
    책의 코드에 있는 인수 이름 dropout_ration(ratio의 오타)을 그대로 씁니다."""

    loss_delta = CROSS_ENTROPY_DELTA

    def __init__(
        self,
        input_size,
        hidden_size_list,
        output_size,
        activation="relu",
        weight_init_std="relu",
        weight_decay_lambda=0,
        use_dropout=False,
        dropout_ration=0.5,
        use_batchnorm=False,
    ):
        super().__init__(
            input_size,
            hidden_size_list,
            output_size,
            activation=activation,
            weight_init_std=weight_init_std,
            weight_decay_lambda=weight_decay_lambda,
            use_dropout=use_dropout,
            dropout_ratio=dropout_ration,
            use_batchnorm=use_batchnorm,
            dtype=np.float64,
        )


class Trainer(train.Trainer):
    """신경망 훈련을 대신 해 주는 책의 Trainer입니다. 책의 Trainer 코드에는 RMSprop을 고르는
    문자열이 'rmsprpo'로 잘못 적혀 있으므로, 이 철자도 받아 줍니다."""

    optimizers = train.OPTIMIZERS | {"rmsprpo": optim.RMSprop}
