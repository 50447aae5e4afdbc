"""fit: the book's schedule reaches the book's accuracy on the real MNIST, deterministically."""

import re

import numpy as np
import pytest
from book import book_module

from tinygrad_ko.datasets import load_mnist
from tinygrad_ko.models import MultiLayerNet, MultiLayerNetExtend, TwoLayerNet
from tinygrad_ko.train import Trainer, fit

mnist_data = pytest.mark.mnist  # the tests that read the real MNIST files


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


@mnist_data
def test_the_books_schedule_reaches_the_books_accuracy(mnist):
    train, test = mnist
    net = TwoLayerNet(784, 50, 10, activation="relu", seed=0)
    history = fit(net, train, test)  # 10000 batches of 100, SGD lr 0.1, seed 0
    assert history.test_acc[-1] >= 0.968  # chapter 5's 97 %
    assert history.test_acc[-1] == net.accuracy(*test)  # the model after the last iteration
    assert len(history.loss) == 10000
    assert history.eval_iteration == [1, *range(601, 10000, 600), 10000]


@mnist_data
def test_the_chapter_4_network_learns_as_the_books_curves_show(mnist):
    train, test = mnist
    net = TwoLayerNet(784, 50, 10, activation="sigmoid", seed=0)
    history = fit(net, train, test, iters=2000)  # the first 3.3 epochs of the schedule
    assert history.eval_iteration == [1, 601, 1201, 1801, 2000]
    assert history.test_acc[0] < 0.2 and history.test_acc[-1] >= 0.89  # the full run: 94.6 %
    assert history.test_acc == sorted(history.test_acc)  # better at every evaluation


def small(mnist, n=2000):
    (x, t), (x_test, t_test) = mnist
    return (x[:n], t[:n]), (x_test[:500], t_test[:500])


@mnist_data
def test_the_same_seed_gives_the_same_run(mnist):
    def run(seed):
        net = TwoLayerNet(784, 20, 10, seed=seed)
        return fit(net, *small(mnist), iters=150, batch_size=50, seed=seed), net

    (first, net1), (again, net2), (other, _) = run(3), run(3), run(4)
    assert first == again and first != other
    np.testing.assert_array_equal(net1.params["W1"], net2.params["W1"])


@mnist_data
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_every_optimizer_learns(mnist, optimizer):
    net = TwoLayerNet(784, 20, 10, activation="relu", seed=0)
    history = fit(net, *small(mnist), iters=300, optimizer=optimizer)
    assert history.test_acc[-1] > 0.75 > history.test_acc[0]


@mnist_data
def test_numerical_gradients_train_the_same_network_as_backprop(mnist):
    # the notes' experiment (000), small enough to run: both ways take the same steps
    (x, t), test = small(mnist, n=200)
    x = x[:, ::8]  # 98 pixels, so one numerical step is 2 x 1,044 losses
    test = (test[0][:, ::8], test[1])
    nets = {
        way: TwoLayerNet(98, 10, 10, weight_init_std=0.1, dtype=np.float64, seed=1)
        for way in ("backprop", "numerical")
    }
    for way, net in nets.items():
        fit(net, (x, t), test, iters=5, batch_size=20, numerical=way == "numerical")
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(
            nets["numerical"].params[key], nets["backprop"].params[key], atol=1e-8
        )


@mnist_data
@pytest.mark.parametrize("numerical", [False, True])
def test_the_loss_recorded_is_the_batchs_before_its_update(mnist, numerical):
    (x, t), test = small(mnist, n=300)
    x = x[:, ::16]  # 49 pixels keep the numerical run short
    test = (test[0][:, ::16], test[1])
    before = TwoLayerNet(49, 4, 10, weight_init_std=0.5, dtype=np.float64, seed=2)
    net = TwoLayerNet(49, 4, 10, weight_init_std=0.5, dtype=np.float64, seed=2)
    history = fit(net, (x, t), test, iters=1, batch_size=7, seed=9, numerical=numerical)
    batch = np.random.default_rng(9).integers(0, len(x), 7)  # fit's first batch
    assert history.loss[0] == pytest.approx(before.loss(x[batch], t[batch]), abs=1e-12)
    assert net.loss(x[batch], t[batch]) < history.loss[0]  # and the update lowered it


@mnist_data
def test_bad_settings_are_named(mnist):
    net = TwoLayerNet(784, 5, 10)
    with pytest.raises(ValueError, match=r"optimizer must be one of \['sgd'"):
        fit(net, *small(mnist), optimizer="rmsprpo")  # the book's Trainer spelling: not ours
    with pytest.raises(ValueError, match="batch_size >= 1"):
        fit(net, *small(mnist), batch_size=0)


@pytest.mark.book
@pytest.mark.parametrize("sample", [None, 40])
def test_the_trainer_gives_the_books_lists_and_lines(capsys, sample):
    book_trainer = book_module("common/trainer.py").Trainer
    book_net = book_module("common/multi_layer_net_extend.py").MultiLayerNetExtend
    rng = np.random.default_rng(0)
    x, t = rng.random((250, 12)), rng.integers(0, 3, 250)  # 2.5 batches an epoch
    data = (x[:200], t[:200], x[200:], t[200:])
    options = {"epochs": 4, "mini_batch_size": 80, "optimizer": "Adam"}
    options |= {"optimizer_param": {"lr": 0.01}, "evaluate_sample_num_per_epoch": sample}
    runs = {}
    for way, make in (("book", book_net), ("ours", MultiLayerNetExtend)):
        np.random.seed(3)  # the weights, the batches and the dropout masks
        extra = {"dtype": np.float64} if way == "ours" else {}
        net = make(12, [8, 8], 3, use_dropout=True, **extra)
        trainer = (book_trainer if way == "book" else Trainer)(net, *data, **options)
        trainer.train()
        runs[way] = (trainer, capsys.readouterr().out)
    (book, book_out), (ours, out) = runs["book"], runs["ours"]
    assert len(ours.train_loss_list) == len(book.train_loss_list) == 10  # int(4 · 2.5)
    np.testing.assert_allclose(ours.train_loss_list, book.train_loss_list, rtol=1e-5)
    # epochs of 2.5 batches: the book's i % 2.5 == 0 holds at i = 0 and 5 only
    assert ours.train_acc_list == book.train_acc_list and len(ours.test_acc_list) == 2
    assert ours.test_acc_list == book.test_acc_list
    words = lambda text: re.sub(r"\d\.\d+(e-?\d+)?", "#", text)  # noqa: E731
    assert words(out) == words(book_out)  # the same lines, numbers aside


def test_the_trainer_takes_any_optimizer_by_name_and_refuses_others():
    net = MultiLayerNet(4, [3], 2, seed=0)
    x, t = np.ones((10, 4)), np.zeros(10, dtype=int)
    for name in ("SGD", "momentum", "Nesterov", "adagrad", "RMSprop", "adam"):
        trainer = Trainer(net, x, t, x, t, epochs=1, mini_batch_size=5, optimizer=name,
                          verbose=False)  # fmt: skip
        trainer.train()
        assert len(trainer.train_loss_list) == 2 and len(trainer.test_acc_list) == 1
    with pytest.raises(ValueError, match=r"Trainer: optimizer must be one of \['sgd'"):
        Trainer(net, x, t, x, t, optimizer="rmsprpo")


def test_fit_evaluates_every_whole_epoch_and_trains_the_books_own_networks():
    np.random.seed(0)
    book_net = book_module("common/multi_layer_net.py").MultiLayerNet(6, [5], 3)  # no parameters()
    rng = np.random.default_rng(0)
    x, t = rng.random((300, 6)), rng.integers(0, 3, 300)
    history = fit(book_net, (x, t), (x, t), iters=100, batch_size=7, lr=0.1)  # epoch: 300 // 7
    assert history.eval_iteration == [1, 43, 85, 100] and len(history.loss) == 100


def test_the_trainer_with_no_epochs_only_reports_and_refuses_an_empty_sample(capsys):
    net = MultiLayerNet(4, [3], 2, seed=0)
    x, t = np.ones((10, 4)), np.zeros(10, dtype=int)
    trainer = Trainer(net, x, t, x, t, epochs=0)
    trainer.train()
    out = capsys.readouterr().out
    assert trainer.train_loss_list == [] and f"test acc:{net.accuracy(x, t)}" in out
    with pytest.raises(ValueError, match="evaluate_sample_num_per_epoch must be at least 1"):
        Trainer(net, x, t, x, t, evaluate_sample_num_per_epoch=0)
