"""Mini-batch training, the book's train_neuralnet.py (4.5.2, 5.7.4) as one function."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import numpy as np

from tinygrad_ko.optim import SGD, AdaGrad, Adam, Momentum
from tinygrad_ko.progress import progress_bar

__all__ = ["OPTIMIZERS", "History", "fit"]

OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad, "adam": Adam}
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.01, "adagrad": 0.01, "adam": 0.001}  # book ch. 4 / 6


@dataclass
class History:
    """What fit records: the loss of each mini-batch as the network saw it, before the update it
    led to (the book's script evaluates it once more after), and the accuracy on the whole
    training and test sets after iteration 1, every epoch, and the last iteration."""

    loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    eval_iteration: list = field(default_factory=list)  # iterations done at each evaluation
    eval_seconds: float = field(default=0.0, compare=False)  # spent on those evaluations


def fit(
    net,
    train,
    test,
    *,
    iters=10000,
    batch_size=100,
    lr=None,
    optimizer="sgd",
    seed=0,
    numerical=False,
    progress=False,
):
    """Train net on train = (x, t) for `iters` mini-batches of `batch_size` drawn at random with
    replacement (as np.random.choice does in the book), evaluating on train and test once per
    epoch (len(x) / batch_size iterations). The defaults are the book's schedule: 10000
    iterations of 100, SGD with lr 0.1.

    optimizer: a name in OPTIMIZERS (lr defaults to DEFAULT_LR for it) or an optimizer built
    on net.parameters(). numerical=True takes gradients by central differences (4.5, slow).
    The same seed gives the same batches, so the same run. Returns the History.
    """
    (x_train, t_train), (x_test, t_test) = train, test
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"fit: optimizer must be one of {list(OPTIMIZERS)}, got {optimizer!r}")
        lr = DEFAULT_LR[optimizer] if lr is None else lr
        optimizer = OPTIMIZERS[optimizer](net.parameters(), lr=lr)
    n = len(x_train)
    if n == 0 or batch_size < 1 or iters < 1:
        raise ValueError(
            f"fit: needs data, batch_size >= 1 and iters >= 1 (got {n}, {batch_size}, {iters})"
        )
    epoch = max(n // batch_size, 1)
    rng = np.random.default_rng(seed)
    history = History()
    bar = progress_bar(total=iters, desc="train") if progress else contextlib.nullcontext()
    with bar:
        for i in range(iters):
            batch = rng.integers(0, n, batch_size)
            x, t = x_train[batch], t_train[batch]
            if numerical:
                history.loss.append(net.loss(x, t))
                optimizer.update(net.params, net.numerical_gradient(x, t))
            else:
                optimizer.zero_grad()
                loss = net.forward(x, t)
                loss.backward()
                optimizer.step()
                history.loss.append(float(loss.data))
            if i % epoch == 0 or i == iters - 1:
                start = time.perf_counter()
                history.eval_iteration.append(i + 1)
                history.train_acc.append(net.accuracy(x_train, t_train))
                history.test_acc.append(net.accuracy(x_test, t_test))
                history.eval_seconds += time.perf_counter() - start
                if progress:
                    bar.write(
                        f"epoch {i / epoch:5.2f}  iteration {i + 1:6d}  train acc "
                        f"{history.train_acc[-1]:.4f}  test acc {history.test_acc[-1]:.4f}"
                    )
            if progress:
                bar.update()
    return history
