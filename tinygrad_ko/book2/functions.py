"""책 ❷의 common/functions.py: sigmoid, relu, softmax, cross_entropy_error."""

from __future__ import annotations

import numpy as np

from tinygrad_ko.engine.functions import relu, sigmoid, softmax

__all__ = ["cross_entropy_error", "relu", "sigmoid", "softmax"]


def cross_entropy_error(y, t):
    """교차 엔트로피 오차: -Σ log(y[n, t_n] + 1e-7) / N. t가 원-핫이면 책 ❷처럼 정답 레이블로
    바꿔서 정답의 확률만 골라 씁니다(책 ❶의 같은 이름의 함수는 Σ t·log y로 구합니다)."""
    y, t = np.asarray(y), np.asarray(t)
    if y.ndim == 1:
        t, y = t.reshape(1, t.size), y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size
