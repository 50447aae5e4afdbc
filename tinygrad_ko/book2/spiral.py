"""책 ❷의 dataset/spiral.py: 1.4.1절(스파이럴 데이터셋)의 나선형 데이터셋입니다."""

from __future__ import annotations

import numpy as np

__all__ = ["load_data"]

N = 100  # 클래스당 샘플 수
DIM = 2  # 입력 데이터의 원소 수
CLS_NUM = 3  # 클래스 수


def load_data(seed=1984):
    """나선형으로 감긴 세 클래스의 점 300개를 (x, t)로 돌려줍니다(1.4.1절).

    x는 (300, 2) float64 좌표, t는 (300, 3) int64 원-핫 레이블입니다. 책처럼
    np.random.seed(seed)로 NumPy의 전역 난수 상태를 정한 다음 점마다 표준정규분포 난수를
    하나씩 뽑으므로, x와 t는 물론 호출한 뒤의 난수 상태까지 책의 코드와 비트 단위로 같습니다
    (책의 np.int는 NumPy 1.24에서 없어졌으므로 int를 씁니다).
    """
    np.random.seed(seed)
    rate = np.tile(np.arange(N) / N, CLS_NUM)  # 클래스마다 0, 0.01, ..., 0.99
    cls = np.repeat(np.arange(CLS_NUM), N)
    # 책과 같은 순서(클래스 j, 그 안의 점 i)로 난수를 뽑고, 같은 순서로 더합니다
    theta = cls * 4.0 + 4.0 * rate + np.random.randn(N * CLS_NUM) * 0.2
    radius = 1.0 * rate
    x = np.stack([radius * np.sin(theta), radius * np.cos(theta)], axis=1)
    t = np.zeros((N * CLS_NUM, CLS_NUM), dtype=int)
    t[np.arange(N * CLS_NUM), cls] = 1
    return x, t
