"""Mini-batch training: the book's train_neuralnet.py (4.5.2, 5.7.4) as one function, fit, and
the book's Trainer class (chapter 6) built on it."""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from tinygrad_ko.engine.autograd import warnings_at_user_line
from tinygrad_ko.engine.memory import heap_only
from tinygrad_ko.training.divergence import check_loss
from tinygrad_ko.training.optim import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop
from tinygrad_ko.training.progress import progress_bar, watched, write
from tinygrad_ko.training.threads import training_threads

__all__ = ["DEFAULT_LR", "OPTIMIZERS", "History", "Trainer", "fit"]

OPTIMIZERS = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}
DEFAULT_LR = {  # chapter 4's SGD; the others as the book's classes default
    "sgd": 0.1,
    "momentum": 0.01,
    "nesterov": 0.01,
    "adagrad": 0.01,
    "rmsprop": 0.01,
    "adam": 0.001,
}


@dataclass(repr=False)
class History:
    """What fit records: the loss of each mini-batch (as the network saw it before the update
    it led to, unless fit was told otherwise), and the accuracy on the training and test sets
    after iteration 1, every epoch, and the last iteration."""

    loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    eval_iteration: list = field(default_factory=list)  # iterations done at each evaluation
    eval_seconds: float = field(default=0.0, compare=False)  # spent on those evaluations

    def __repr__(self):
        if not self.loss:
            return "<History: empty>"
        text = f"<History: {len(self.loss):,} losses (last {self.loss[-1]:.4g})"
        if self.eval_iteration and self.train_acc and self.test_acc:
            text += (
                f", evaluated {len(self.eval_iteration)}x (last at iteration "
                f"{self.eval_iteration[-1]:,}: train acc {self.train_acc[-1]:.4f}, "
                f"test acc {self.test_acc[-1]:.4f})"
            )
        return text + ">"


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
    progress=None,
    evaluate_sample=None,
    evaluate_last=True,
    loss_after_update=False,
    callback=None,
    report=None,
    epoch=None,
    start=0,
    threads="auto",
):
    """Train net on train = (x, t) for `iters` mini-batches of `batch_size` drawn at random with
    replacement, evaluating accuracy on train and test after iteration i + 1 where
    i % epoch == 0 (epoch: len(x) // batch_size iterations unless given) and after the last.
    The defaults are the book's schedule: 10000 iterations of 100, SGD with lr 0.1. Returns
    the History.

    - optimizer: a name in OPTIMIZERS (lr defaults to DEFAULT_LR for it) or an optimizer; one
      made on net.parameters() takes PyTorch's steps, one without parameters the book's
      update(net.params, grads).
    - seed: the batches' generator, so the same seed gives the same run (bit for bit at a fixed
      thread count: see threads); None draws them with np.random.choice, as the book's
      scripts do.
    - numerical=True takes gradients by central differences (4.5, slow).
    - progress: a bar with a line per evaluation; None (the default) shows it where a person
      is watching (a notebook or a terminal), not in logs, pipes and tests.
    - evaluate_sample=k evaluates on the first k samples of each set only; evaluate_last=False
      skips the evaluation after the last iteration unless it falls on an epoch.
    - loss_after_update=True records each batch's loss after its update, in evaluation mode,
      as the book's Trainer does (one more forward pass a step).
    - callback(history) runs after every iteration, then report(history) after each
      evaluation (by default a line written through the progress bar when it is on).
    - epoch: the book's Trainer passes len(x) / batch_size, a float, as it counts; start,
      the iterations done before, so a run continues a count (its train_step).
    - threads: BLAS's threads while training. "auto" (the default, with threadpoolctl) times
      a few steps at each count and keeps the faster, measuring again as the machine's load
      changes (tinygrad_ko.training.threads); a number fixes it for the run; None leaves BLAS
      as it is. "auto" leaves a count set through OPENBLAS_NUM_THREADS (or OMP_...) alone.
      BLAS adds in another order on two threads, so runs repeat bit for bit only at a fixed
      count (threads=1, say); "auto" may choose differently from run to run.

    A loss that is NaN or inf stops training there with TrainingDiverged, naming the iteration
    and the first op that made NaN or inf (or the weights that already hold it); a loss taken
    before the update (not loss_after_update) skips that step's update. NumPy's overflow
    warnings before it point at the line that called fit.
    """
    (x_train, t_train), (x_test, t_test) = train, test
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"fit: optimizer must be one of {list(OPTIMIZERS)}, got {optimizer!r}")
        lr = DEFAULT_LR[optimizer] if lr is None else lr
        graph = hasattr(net, "parameters") and not numerical
        optimizer = OPTIMIZERS[optimizer](net.parameters() if graph else None, lr=lr)
    n = len(x_train)
    if n == 0 or batch_size < 1 or iters < 1:
        raise ValueError(
            f"fit: needs data, batch_size >= 1 and iters >= 1 (got {n}, {batch_size}, {iters})"
        )
    epoch = max(n // batch_size, 1) if epoch is None else epoch
    if seed is None:
        draw = np.random.choice  # the book's np.random.choice(train_size, batch_size)
    else:
        rng = np.random.default_rng(seed)
        draw = lambda n, size: rng.integers(0, n, size)  # noqa: E731
    step = _book_step if numerical or getattr(optimizer, "params", None) is None else _graph_step
    if hasattr(net, "train"):
        net.train()
    k = slice(evaluate_sample)
    history = History()
    progress = watched() if progress is None else progress
    bar = progress_bar(total=iters, desc="train") if progress else contextlib.nullcontext()
    with bar, warnings_at_user_line(), heap_only(), training_threads(threads) as chooser:
        for i in range(iters):
            batch = draw(n, batch_size)
            x, t = x_train[batch], t_train[batch]
            if chooser is None:
                loss = step(net, optimizer, x, t, numerical, loss_after_update)
            else:
                chooser.before_step()
                began = time.perf_counter()
                loss = step(net, optimizer, x, t, numerical, loss_after_update)
                chooser.after_step(time.perf_counter() - began)
            history.loss.append(net.loss(x, t) if loss_after_update else loss)
            check_loss("fit", history.loss[-1], start + i + 1, net, (x, t), _rate(optimizer))
            evaluate = (start + i) % epoch == 0 or (evaluate_last and i == iters - 1)
            if evaluate:
                began = time.perf_counter()
                history.eval_iteration.append(i + 1)
                history.train_acc.append(net.accuracy(x_train[k], t_train[k]))
                history.test_acc.append(net.accuracy(x_test[k], t_test[k]))
                history.eval_seconds += time.perf_counter() - began
            if callback is not None:
                callback(history)
            if evaluate and report is not None:
                report(history)
            elif evaluate and progress:
                bar.write(
                    f"epoch {i / epoch:5.2f}  iteration {i + 1:6d}  train acc "
                    f"{history.train_acc[-1]:.4f}  test acc {history.test_acc[-1]:.4f}"
                )
            if progress:
                bar.update()
    return history


def _graph_step(net, optimizer, x, t, numerical, loss_later):
    """PyTorch's step: the loss as a tensor, backward, the optimizer's step; the loss before."""
    optimizer.zero_grad()
    loss = net.forward(x, t)
    value = float(loss.data)
    if math.isfinite(value):  # else fit stops before NaN gradients reach the weights
        loss.backward()
        optimizer.step()
    return value


def _book_step(net, optimizer, x, t, numerical, loss_later):
    """The book's step: a dict of gradients, then optimizer.update(net.params, grads); the loss
    before it, unless it will be taken after."""
    loss = None if loss_later else net.loss(x, t)
    if loss is None or math.isfinite(loss):  # else fit stops before NaN reaches the weights
        optimizer.update(net.params, (net.numerical_gradient if numerical else net.gradient)(x, t))
    return loss


def _rate(optimizer):
    """The optimizer's learning rate for a message, or None."""
    lr = getattr(optimizer, "lr", None)
    return lr if isinstance(lr, (int, float)) else None


class Trainer:
    """The book's Trainer (common/trainer.py): trains network for `epochs` epochs of mini-batches
    of mini_batch_size, drawn from NumPy's global random state as the book's are, with the
    optimizer named (any case) with its arguments in optimizer_param. train() fills
    train_loss_list (each batch's loss after its update), train_acc_list and test_acc_list
    (every epoch, on the first evaluate_sample_num_per_epoch samples when given), printing the
    book's lines when verbose. It runs fit; progress as fit's (a bar where a person watches)."""

    optimizers = OPTIMIZERS  # by lowercase name

    def __init__(
        self,
        network,
        x_train,
        t_train,
        x_test,
        t_test,
        epochs=20,
        mini_batch_size=100,
        optimizer="SGD",
        optimizer_param=MappingProxyType({"lr": 0.01}),  # the book's default, read-only
        evaluate_sample_num_per_epoch=None,
        verbose=True,
        progress=None,
    ):
        if evaluate_sample_num_per_epoch is not None and evaluate_sample_num_per_epoch < 1:
            raise ValueError(
                "Trainer: evaluate_sample_num_per_epoch must be at least 1 (or None for every "
                f"sample), got {evaluate_sample_num_per_epoch!r}"
            )
        name = optimizer.lower()
        if name not in self.optimizers:
            raise ValueError(
                f"Trainer: optimizer must be one of {list(self.optimizers)}, got {name!r}"
            )
        parameters = network.parameters() if hasattr(network, "parameters") else None
        self.optimizer = self.optimizers[name](parameters, **optimizer_param)
        self.network, self.verbose, self.epochs = network, verbose, epochs
        self.progress = progress
        self.x_train, self.t_train, self.x_test, self.t_test = x_train, t_train, x_test, t_test
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        self.train_size = len(x_train)
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = self.current_epoch = 0
        self.train_loss_list, self.train_acc_list, self.test_acc_list = [], [], []

    def train(self):
        """Train, then print the final test accuracy on the whole test set when verbose."""
        if self.max_iter > 0:
            self.fit(self.max_iter)
        if self.verbose:
            test_acc = self.network.accuracy(self.x_test, self.t_test)
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(test_acc))

    def train_step(self):
        """One mini-batch, and the epoch's accuracies where it starts an epoch: the book's."""
        self.fit(1)

    def fit(self, iters):
        """iters more mini-batches, continuing the count of those done."""
        history = fit(
            self.network,
            (self.x_train, self.t_train),
            (self.x_test, self.t_test),
            iters=iters,
            batch_size=self.batch_size,
            optimizer=self.optimizer,
            seed=None,
            evaluate_sample=self.evaluate_sample_num_per_epoch,
            evaluate_last=False,
            loss_after_update=True,
            progress=self.progress,
            callback=self._loss_line if self.verbose else None,
            report=self._epoch_line if self.verbose else None,
            epoch=self.iter_per_epoch,
            start=self.current_iter,
        )
        self.current_iter += iters
        self.current_epoch += len(history.train_acc)
        self.train_loss_list += history.loss
        self.train_acc_list += history.train_acc
        self.test_acc_list += history.test_acc

    def _loss_line(self, history):
        """The book's line for every batch, written through the progress bar when it is on."""
        write("train loss:" + str(history.loss[-1]))

    def _epoch_line(self, history):
        """The book's line for every epoch."""
        write(
            f"=== epoch:{self.current_epoch + len(history.train_acc)}, train acc:"
            f"{history.train_acc[-1]}, test acc:{history.test_acc[-1]} ==="
        )
