"""책 ❷의 common/optimizer.py: 매개변수와 기울기를 리스트로 받는 옵티마이저입니다.

update(params, grads)는 params[i]를 grads[i]로 제자리에서 갱신합니다. 계산은 tinygrad_ko.optim의
옵티마이저가 책과 같은 연산 순서로 합니다. Adam은 책처럼 학습률 보정값 lr_t를 float64로 구해
마지막 갱신을 float64로 계산하므로, float32 가중치도 책과 같은 값이 됩니다.
"""

from __future__ import annotations

from tinygrad_ko.training import optim

__all__ = ["SGD", "AdaGrad", "Adam", "Momentum", "Nesterov", "RMSprop"]


class ListUpdate:
    """update(params, grads)를 리스트로 받습니다. 상태는 책처럼 리스트의 위치마다 둡니다."""

    def update(self, params, grads):
        super().update(dict(enumerate(params)), dict(enumerate(grads)))


class SGD(ListUpdate, optim.SGD):
    """확률적 경사 하강법(SGD)입니다."""

    def __init__(self, lr=0.01):
        super().__init__(lr=lr)


class Momentum(ListUpdate, optim.Momentum):
    """모멘텀 SGD입니다."""

    def __init__(self, lr=0.01, momentum=0.9):
        super().__init__(lr=lr, momentum=momentum)


class Nesterov(ListUpdate, optim.Nesterov):
    """Nesterov 가속 경사(NAG)입니다."""

    def __init__(self, lr=0.01, momentum=0.9):
        super().__init__(lr=lr, momentum=momentum)


class AdaGrad(ListUpdate, optim.AdaGrad):
    """AdaGrad입니다."""

    def __init__(self, lr=0.01):
        super().__init__(lr=lr)


class RMSprop(ListUpdate, optim.RMSprop):
    """RMSprop입니다."""

    def __init__(self, lr=0.01, decay_rate=0.99):
        super().__init__(lr=lr, decay_rate=decay_rate)


class Adam(ListUpdate, optim.Adam):
    """Adam입니다. 책처럼 lr_t와 마지막 갱신을 float64로 계산합니다."""

    float64_step = True

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2)
