"""책 ❷의 common/time_layers.py: 시계열 데이터용 계층(5~6장)을 tinygrad_ko의 계층으로 제공합니다.
계층마다 책과 같은 params, grads 리스트와 stateful, set_state, reset_state를 갖고, 값은 책의
코드와 같습니다."""

from __future__ import annotations

from tinygrad_ko import recurrent
from tinygrad_ko.book2.layers import ListParams

__all__ = [
    "TimeAffine",
    "TimeDropout",
    "TimeEmbedding",
    "TimeLSTM",
    "TimeRNN",
    "TimeSoftmaxWithLoss",
]


class TimeRNN(ListParams, recurrent.TimeRNN):
    """Time RNN 계층(5.3.2)입니다. T개의 RNN 계층을 이어 붙인 것처럼 계산합니다."""

    def __init__(self, Wx, Wh, b, stateful=False):
        super().__init__(Wx, Wh, b, stateful)
        self.book2_lists()


class TimeLSTM(ListParams, recurrent.TimeLSTM):
    """Time LSTM 계층(6.3.3)입니다. 가중치에는 게이트 f, g, i, o의 가중치가 이 순서로 담깁니다."""

    def __init__(self, Wx, Wh, b, stateful=False):
        super().__init__(Wx, Wh, b, stateful)
        self.book2_lists()


class TimeEmbedding(ListParams, recurrent.TimeEmbedding):
    """Time Embedding 계층(5.4.2)입니다."""

    def __init__(self, W):
        super().__init__(W)
        self.book2_lists()


class TimeAffine(ListParams, recurrent.TimeAffine):
    """Time Affine 계층(5.4.2)입니다."""

    def __init__(self, W, b):
        super().__init__(W, b)
        self.book2_lists()


class TimeSoftmaxWithLoss(ListParams, recurrent.TimeSoftmaxWithLoss):
    """Time Softmax with Loss 계층(5.4.3)입니다. 정답 레이블이 -1인 곳은 손실에서 뺍니다."""

    def __init__(self):
        self.book2_lists()

    def forward(self, xs, ts):
        super().forward(xs, ts)
        return self.loss  # the book's: float64, a float32 sum divided by the count


class TimeDropout(ListParams, recurrent.TimeDropout):
    """Time Dropout 계층(6.5.2)입니다. 학습 때 남긴 뉴런을 1 / (1 - dropout_ratio)배 합니다."""

    def __init__(self, dropout_ratio=0.5):
        super().__init__(dropout_ratio)
        self.book2_lists()
