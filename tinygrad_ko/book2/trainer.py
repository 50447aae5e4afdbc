"""책 ❷의 common/trainer.py: 모델과 옵티마이저로 학습을 대신 해 주는 Trainer, 그리고 공유된
가중치를 하나로 모으는 remove_duplicate."""

from __future__ import annotations

import time

import numpy as np

from tinygrad_ko.book2.util import clip_grads
from tinygrad_ko.engine.autograd import warnings_at_user_line
from tinygrad_ko.training.divergence import check_loss

__all__ = ["RnnlmTrainer", "Trainer", "remove_duplicate"]


class Trainer:
    """학습 루프(1.4.4): 에폭마다 데이터를 뒤섞고(np.random.permutation) 미니배치마다
    forward, backward, remove_duplicate, (max_grad가 있으면) clip_grads, optimizer.update를
    합니다. eval_interval 반복마다 책과 같은 형식으로 평균 손실을 출력하고 loss_list에
    남깁니다. 손실이 NaN이나 inf가 되면 책의 코드는 그대로 계속하지만, 여기서는 그
    반복에서 TrainingDiverged 오류를 내고 멈춥니다(가중치는 갱신 전 그대로)."""

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.loss_list = []
        self.eval_interval = None
        self.current_epoch = 0

    def fit(self, x, t, max_epoch=10, batch_size=32, max_grad=None, eval_interval=20):
        data_size = len(x)
        max_iters = data_size // batch_size
        self.eval_interval = eval_interval
        model, optimizer = self.model, self.optimizer
        total_loss, loss_count = 0, 0
        start_time = time.time()
        for epoch in range(max_epoch):
            idx = np.random.permutation(np.arange(data_size))
            x, t = x[idx], t[idx]
            for iters in range(max_iters):
                batch = slice(iters * batch_size, (iters + 1) * batch_size)
                with warnings_at_user_line():
                    loss = step(model, optimizer, x[batch], t[batch], max_grad)
                check_loss("Trainer.fit", loss, epoch * max_iters + iters + 1)
                total_loss += loss
                loss_count += 1
                if eval_interval is not None and iters % eval_interval == 0:
                    avg_loss = total_loss / loss_count
                    elapsed_time = time.time() - start_time
                    print(
                        f"| 에폭 {self.current_epoch + 1} |  반복 {iters + 1} / {max_iters} | "
                        f"시간 {int(elapsed_time)}[s] | 손실 {avg_loss:.2f}"
                    )
                    self.loss_list.append(float(avg_loss))
                    total_loss, loss_count = 0, 0
            self.current_epoch += 1

    def plot(self, ylim=None):
        """loss_list를 그립니다(matplotlib의 pyplot으로, 책처럼 plt.show()까지)."""
        import matplotlib.pyplot as plt

        if ylim is not None:
            plt.ylim(*ylim)
        plt.plot(np.arange(len(self.loss_list)), self.loss_list, label="train")
        plt.xlabel("반복 (x" + str(self.eval_interval) + ")")
        plt.ylabel("손실")
        plt.show()


class RnnlmTrainer:
    """언어 모델의 학습 루프(5.5.3): 말뭉치를 batch_size개의 구간으로 나눠 각 구간을 차례로
    time_size 단어씩 읽는 미니배치(get_batch)로 학습하고, eval_interval 반복마다 책과 같은
    형식으로 퍼플렉서티를 출력해 ppl_list에 남깁니다. 손실이 NaN이나 inf가 되면 Trainer처럼
    그 반복에서 TrainingDiverged 오류로 멈춥니다."""

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.time_idx = None
        self.ppl_list = None
        self.eval_interval = None
        self.current_epoch = 0

    def get_batch(self, x, t, batch_size, time_size):
        """(batch_size, time_size)의 입력과 정답: 구간 i는 i·(len(x) // batch_size)에서
        시작하고, 부를 때마다 time_size 단어씩 나아갑니다(int32)."""
        data_size = len(x)
        jump = data_size // batch_size
        positions = np.arange(batch_size)[:, None] * jump + self.time_idx + np.arange(time_size)
        positions %= data_size
        self.time_idx += time_size
        return np.asarray(x)[positions].astype("i"), np.asarray(t)[positions].astype("i")

    def fit(self, xs, ts, max_epoch=10, batch_size=20, time_size=35, max_grad=None,
            eval_interval=20):  # fmt: skip
        data_size = len(xs)
        max_iters = data_size // (batch_size * time_size)
        self.time_idx, self.ppl_list, self.eval_interval = 0, [], eval_interval
        model, optimizer = self.model, self.optimizer
        total_loss, loss_count = 0, 0
        start_time = time.time()
        for epoch in range(max_epoch):
            for iters in range(max_iters):
                batch_x, batch_t = self.get_batch(xs, ts, batch_size, time_size)
                with warnings_at_user_line():
                    loss = step(model, optimizer, batch_x, batch_t, max_grad)
                check_loss("RnnlmTrainer.fit", loss, epoch * max_iters + iters + 1)
                total_loss += loss
                loss_count += 1
                if eval_interval is not None and iters % eval_interval == 0:
                    ppl = np.exp(total_loss / loss_count)
                    elapsed_time = time.time() - start_time
                    print(
                        f"| 에폭 {self.current_epoch + 1} |  반복 {iters + 1} / {max_iters} | "
                        f"시간 {int(elapsed_time)}[s] | 퍼플렉서티 {ppl:.2f}"
                    )
                    self.ppl_list.append(float(ppl))
                    total_loss, loss_count = 0, 0
            self.current_epoch += 1

    def plot(self, ylim=None):
        """ppl_list를 그립니다(matplotlib의 pyplot으로, 책처럼 plt.show()까지)."""
        import matplotlib.pyplot as plt

        if ylim is not None:
            plt.ylim(*ylim)
        plt.plot(np.arange(len(self.ppl_list)), self.ppl_list, label="train")
        plt.xlabel("반복 (x" + str(self.eval_interval) + ")")
        plt.ylabel("퍼플렉서티")
        plt.show()


def step(model, optimizer, x, t, max_grad=None):
    """One of the book's training steps: forward, backward, the shared weights' gradients
    summed (remove_duplicate), clipped when max_grad is given, the update. Returns the loss;
    one that is NaN or inf is returned at once, the weights untouched (the trainer stops on it)."""
    loss = model.forward(x, t)
    if not np.isfinite(loss):
        return loss
    model.backward()
    params, grads = remove_duplicate(model.params, model.grads)
    if max_grad is not None:
        clip_grads(grads, max_grad)
    optimizer.update(params, grads)
    return loss


def remove_duplicate(params, grads):
    """params에 같은 가중치(같은 배열, 또는 전치한 값이 같은 2차원 배열: 가중치 묶기)가 여러
    번 있으면 하나만 남기고, 그 기울기를 남는 것의 기울기에 더합니다(책과 같은 순서로).
    새 리스트를 돌려주고, 남는 기울기 배열은 제자리에서 바뀝니다."""
    params, grads = list(params), list(grads)
    i = 0
    while i < len(params):
        j = i + 1
        while j < len(params):
            if params[i] is params[j]:
                grads[i] += grads[j]
            elif _tied(params[i], params[j]):
                grads[i] += grads[j].T
            else:
                j += 1
                continue
            del params[j], grads[j]
        i += 1
    return params, grads


def _tied(a, b):
    """b가 a를 전치한 값인 2차원 배열인지(가중치 묶기, 6.4.2)."""
    if a.ndim != 2 or b.ndim != 2 or a.T.shape != b.shape:
        return False
    # the first row decides almost always: only a real tie compares the whole matrix
    return bool(np.array_equal(b[:1], a.T[:1]) and np.all(b == a.T))
