"""fit: the book's schedule reaches the book's accuracy on the real MNIST, deterministically."""

import numpy as np
import pytest

from tinygrad_ko.datasets import load_mnist
from tinygrad_ko.models import TwoLayerNet
from tinygrad_ko.train import fit

pytestmark = pytest.mark.mnist


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def test_the_books_schedule_reaches_the_books_accuracy(mnist):
    train, test = mnist
    net = TwoLayerNet(784, 50, 10, activation="relu", seed=0)
    history = fit(net, train, test)  # 10000 batches of 100, SGD lr 0.1, seed 0
    assert history.test_acc[-1] >= 0.968  # chapter 5's 97 %
    assert history.test_acc[-1] == net.accuracy(*test)  # the model after the last iteration
    assert len(history.loss) == 10000
    assert history.eval_iteration == [1, *range(601, 10000, 600), 10000]


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


def test_the_same_seed_gives_the_same_run(mnist):
    def run(seed):
        net = TwoLayerNet(784, 20, 10, seed=seed)
        return fit(net, *small(mnist), iters=150, batch_size=50, seed=seed), net

    (first, net1), (again, net2), (other, _) = run(3), run(3), run(4)
    assert first == again and first != other
    np.testing.assert_array_equal(net1.params["W1"], net2.params["W1"])


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "adam"])
def test_every_optimizer_learns(mnist, optimizer):
    net = TwoLayerNet(784, 20, 10, activation="relu", seed=0)
    history = fit(net, *small(mnist), iters=300, optimizer=optimizer)
    assert history.test_acc[-1] > 0.75 > history.test_acc[0]


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


def test_bad_settings_are_named(mnist):
    net = TwoLayerNet(784, 5, 10)
    with pytest.raises(ValueError, match=r"optimizer must be one of \['sgd'"):
        fit(net, *small(mnist), optimizer="rmsprop")
    with pytest.raises(ValueError, match="batch_size >= 1"):
        fit(net, *small(mnist), batch_size=0)
