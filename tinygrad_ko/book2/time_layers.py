"""책 ❷의 common/time_layers.py: 시계열 데이터용 계층(5~6장)을 tinygrad_ko의 계층으로 제공합니다.
계층마다 책과 같은 params, grads 리스트와 stateful, set_state, reset_state를 갖고, 값은 책의
코드와 같습니다."""

from __future__ import annotations

import numpy as np

from tinygrad_ko.book2.layers import Affine, ListParams, SigmoidWithLoss, SoftmaxWithLoss
from tinygrad_ko.layers import recurrent

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Simple_TimeAffine",
    "Simple_TimeSoftmaxWithLoss",
    "TimeAffine",
    "TimeBiLSTM",
    "TimeDropout",
    "TimeEmbedding",
    "TimeGRU",
    "TimeLSTM",
    "TimeRNN",
    "TimeSigmoidWithLoss",
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


class RNN(ListParams, recurrent.RNN):
    """RNN 계층(5.3.1): 한 시각만 계산합니다."""

    def __init__(self, Wx, Wh, b):
        super().__init__(Wx, Wh, b)
        self.book2_lists()


class GRU(ListParams, recurrent.GRU):
    """GRU 계층(부록 C): 한 시각만 계산합니다. 책의 GRU와 달리 params와 grads 리스트가 있습니다."""

    def __init__(self, Wx, Wh):
        super().__init__(Wx, Wh)
        self.book2_lists()


class TimeGRU(ListParams, recurrent.TimeGRU):
    """Time GRU 계층(부록 C). 책의 TimeGRU와 달리 params와 grads 리스트가 있어서 Trainer로
    학습할 수 있습니다."""

    def __init__(self, Wx, Wh, stateful=False):
        super().__init__(Wx, Wh, stateful)
        self.book2_lists()


class LSTM:
    """LSTM 계층(6.3): 한 시각만 계산합니다. forward(x, h_prev, c_prev)는 (h_next, c_next)를
    돌려주고 backward(dh_next, dc_next)는 (dx, dh_prev, dc_prev)를 돌려줍니다. 출력이 둘이라
    계산 그래프의 노드 하나로는 쓰지 않습니다. 텐서로 계산하려면 tinygrad_ko.networks의 lstm_cell을,
    여러 시각은 TimeLSTM을 쓰세요."""

    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x, h_prev, c_prev):
        h_next, c_next, self.cache = recurrent.lstm_step(x, h_prev, c_prev, *self.params)
        return h_next, c_next

    def backward(self, dh_next, dc_next):
        Wx, Wh, _ = self.params
        dx, dh_prev, dc_prev, grads = recurrent.lstm_step_backward(
            self.cache, dh_next, dc_next, Wx, Wh
        )
        for array, g in zip(self.grads, grads):
            array[...] = g
        return dx, dh_prev, dc_prev


class TimeBiLSTM:
    """양방향 LSTM(8.5.2): 한 TimeLSTM은 앞에서부터, 다른 하나는 뒤에서부터 읽고, 두 은닉 상태를
    이어 붙입니다(N, T, 2H)."""

    def __init__(self, Wx1, Wh1, b1, Wx2, Wh2, b2, stateful=False):
        self.forward_lstm = TimeLSTM(Wx1, Wh1, b1, stateful)
        self.backward_lstm = TimeLSTM(Wx2, Wh2, b2, stateful)
        self.params = self.forward_lstm.params + self.backward_lstm.params
        self.grads = self.forward_lstm.grads + self.backward_lstm.grads

    def forward(self, xs):
        o1 = self.forward_lstm.forward(xs)
        o2 = self.backward_lstm.forward(xs[:, ::-1])[:, ::-1]
        return np.concatenate((o1, o2), axis=2)

    def backward(self, dhs):
        H = dhs.shape[2] // 2
        dxs1 = self.forward_lstm.backward(dhs[:, :, :H])
        dxs2 = self.backward_lstm.backward(dhs[:, :, H:][:, ::-1])[:, ::-1]
        return dxs1 + dxs2


class TimeSigmoidWithLoss:
    """시각마다 Sigmoid-with-Loss를 구해 평균한 손실입니다(시계열의 이진 분류)."""

    def __init__(self):
        self.params, self.grads = [], []
        self.xs_shape, self.layers = None, None

    def forward(self, xs, ts):
        self.xs_shape = xs.shape
        self.layers = [SigmoidWithLoss() for _ in range(xs.shape[1])]
        loss = 0
        for t, layer in enumerate(self.layers):
            loss += layer.forward(xs[:, t], ts[:, t])
        return loss / xs.shape[1]

    def backward(self, dout=1):
        dxs = np.empty(self.xs_shape, dtype="f")
        dout *= 1 / self.xs_shape[1]
        for t, layer in enumerate(self.layers):
            dxs[:, t] = layer.backward(dout)
        return dxs


class Simple_TimeSoftmaxWithLoss:
    """시각마다 SoftmaxWithLoss를 따로 써서 평균한, 이해하기 쉬운 구현입니다(책의 설명용)."""

    def __init__(self):
        self.params, self.grads = [], []
        self.cache = None

    def forward(self, xs, ts):
        layers = [SoftmaxWithLoss() for _ in range(xs.shape[1])]
        loss = 0
        for t, layer in enumerate(layers):
            loss += layer.forward(xs[:, t, :], ts[:, t])
        loss /= xs.shape[1]
        self.cache = (layers, xs)
        return loss

    def backward(self, dout=1):
        layers, xs = self.cache
        dxs = np.empty(xs.shape, dtype="f")
        dout *= 1 / xs.shape[1]
        for t, layer in enumerate(layers):
            dxs[:, t, :] = layer.backward(dout)
        return dxs


class Simple_TimeAffine:
    """시각마다 Affine 계층을 따로 쓰는, 이해하기 쉬운 구현입니다. 책의 것은 Affine 계층에 없는
    dW와 db를 읽어서 backward가 실패합니다. 이 구현은 grads에 기울기를 더해 넣습니다."""

    def __init__(self, W, b):
        self.W, self.b = W, b
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.dW, self.db = None, None
        self.layers = None

    def forward(self, xs):
        self.layers = [Affine(self.W, self.b) for _ in range(xs.shape[1])]
        out = np.empty((*xs.shape[:2], self.W.shape[1]), dtype="f")
        for t, layer in enumerate(self.layers):
            out[:, t, :] = layer.forward(xs[:, t, :])
        return out

    def backward(self, dout):
        dxs = np.empty((*dout.shape[:2], self.W.shape[0]), dtype="f")
        self.dW, self.db = 0, 0
        for t, layer in enumerate(self.layers):
            dxs[:, t, :] = layer.backward(dout[:, t, :])
            self.dW += layer.grads[0]
            self.db += layer.grads[1]
        self.grads[0][...], self.grads[1][...] = self.dW, self.db
        return dxs
