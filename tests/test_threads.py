"""tinygrad_ko.training.threads: BLAS's thread count chosen from measured steps, measured again
when the machine's load changes, put back after training; left alone where the user set it."""

import sys

import numpy as np
import pytest

from tinygrad_ko.models import TwoLayerNet
from tinygrad_ko.training import threads as threads_module
from tinygrad_ko.training.threads import BlasThreads, blas_threads, training_threads
from tinygrad_ko.training.train import fit


class FakeBlas:
    """A BLAS library as threadpoolctl controls it: its thread count, and every count set."""

    def __init__(self, num_threads=2):
        self.num_threads, self.history = num_threads, []

    def set_num_threads(self, count):
        self.num_threads = count
        self.history.append(count)


def train(chooser, blas, seconds_at, steps):
    """Runs `steps` steps through chooser, each taking seconds_at(step, thread count); returns
    the thread count of each step."""
    counts = []
    for i in range(steps):
        chooser.before_step()
        counts.append(blas.num_threads)
        chooser.after_step(seconds_at(i, blas.num_threads))
    return counts


def test_a_quiet_machine_keeps_two_threads_and_a_busy_one_gets_one():
    for seconds, best in (({1: 0.15, 2: 0.09}, 2), ({1: 0.15, 2: 0.45}, 1)):
        blas = FakeBlas()
        chooser = BlasThreads([blas], every=100)
        counts = train(chooser, blas, lambda i, n, s=seconds: s[n], 20)
        assert counts[:2] == [2, 2]  # warming up, as BLAS was
        assert counts[2:8] == [1, 2, 1, 2, 1, 2]  # measured alternating
        assert counts[8:] == [best] * 12 and chooser.choice == best


def test_it_measures_again_when_steps_get_slower_and_after_every_steps():
    blas = FakeBlas()
    chooser = BlasThreads([blas], every=50)
    # quiet until step 30: two threads win; then a second process: two threads are 4x slower
    busy = lambda i, n: {1: 0.15, 2: 0.09}[n] if i < 30 else {1: 0.3, 2: 1.2}[n]  # noqa: E731
    counts = train(chooser, blas, busy, 60)
    assert counts[8:33] == [2] * 25  # three of the last five slow (the median):
    assert counts[33:39] == [1, 2, 1, 2, 1, 2]  # measured again
    assert counts[39:] == [1] * 21 and chooser.choice == 1
    # quiet again: the periodic measurement (every 50 steps) finds two threads faster
    counts = train(chooser, blas, lambda i, n: {1: 0.15, 2: 0.09}[n], 60)
    assert counts[:29] == [1] * 29  # 50 steps after the last choice,
    assert counts[29:35] == [1, 2, 1, 2, 1, 2] and counts[35:] == [2] * 25


def test_a_lucky_measurement_does_not_make_it_measure_again_and_again():
    blas = FakeBlas()
    chooser = BlasThreads([blas], every=1000)
    # the steps measured happen to be fast; every step after them takes twice as long
    counts = train(chooser, blas, lambda i, n: 0.05 if 2 <= i < 8 else 0.1, 100)
    assert counts[8:] == [counts[8]] * 92  # judged by the first five steps at the choice


def test_many_cores_are_tried_in_powers_of_two_and_each_library_gets_its_own_count_back():
    numpy_blas, other_blas = FakeBlas(16), FakeBlas(4)
    chooser = BlasThreads([numpy_blas, other_blas], cores=12)
    assert chooser.counts == [1, 2, 4, 8, 12]
    train(chooser, numpy_blas, lambda i, n: 1 / n + n / 50, 30)  # fastest at 8
    assert chooser.choice == 8 and numpy_blas.num_threads == other_blas.num_threads == 8
    chooser.restore()
    assert (numpy_blas.num_threads, other_blas.num_threads) == (16, 4)


def test_training_threads_checks_its_argument():
    message = r'fit: threads must be "auto", None or a count >= 1, got 0'
    with pytest.raises(ValueError, match=message), training_threads(0):
        pass


def test_on_one_core_blas_gets_one_thread_and_nothing_is_measured():
    blas = FakeBlas()
    chooser = BlasThreads([blas], cores=1)
    assert blas.num_threads == 1
    assert train(chooser, blas, lambda i, n: {1: 0.1, 2: 0.05}[n], 20) == [1] * 20
    chooser.restore()
    assert blas.num_threads == 2


@pytest.mark.parametrize("variable", ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"])
def test_a_count_the_user_set_is_left_alone(monkeypatch, variable):
    for name in threads_module.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, "2")
    assert blas_threads() is None


def test_without_threadpoolctl_auto_leaves_blas_alone_and_a_count_says_what_it_needs(monkeypatch):
    for name in threads_module.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import fails
    assert blas_threads() is None
    with (
        pytest.raises(ImportError, match=r"fit: threads=1 needs threadpoolctl"),
        training_threads(1),
    ):
        pass


def test_fit_trains_with_the_count_it_is_given_and_puts_it_back():
    from threadpoolctl import threadpool_info

    def blas_count():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_count()
    assert before  # threadpoolctl finds NumPy's BLAS
    rng = np.random.default_rng(0)
    data = rng.random((50, 6)).astype(np.float32), rng.integers(0, 3, 50)
    seen = []
    fit(TwoLayerNet(6, 4, 3, seed=0), data, data, iters=3, batch_size=10, progress=False,
        threads=2, callback=lambda history: seen.append(blas_count()))  # fmt: skip
    assert seen == [[2] * len(before)] * 3 and blas_count() == before


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")  # diverging, as meant
@pytest.mark.parametrize("lr", [0.1, 1e38], ids=["trained", "diverged"])
def test_fit_chooses_through_blas_threads_and_puts_the_count_back(monkeypatch, lr):
    from tinygrad_ko.training import TrainingDiverged

    blas = FakeBlas()
    monkeypatch.setattr(threads_module, "blas_threads", lambda: BlasThreads([blas]))
    rng = np.random.default_rng(0)
    data = rng.random((50, 6)).astype(np.float32), rng.integers(0, 3, 50)
    seen = []
    net = TwoLayerNet(6, 4, 3, activation="relu", weight_init_std=1.0, seed=0)
    try:
        fit(net, data, data, iters=12, batch_size=10, lr=lr, progress=False,
            callback=lambda history: seen.append(blas.num_threads))  # fmt: skip
    except TrainingDiverged:  # at the third step, the first measured, on one thread
        assert lr > 1 and seen == [2, 2] and blas.history == [1, 2]
    else:
        assert lr < 1
        # measured (the callback runs after the last measured step has chosen), then chosen
        assert seen == [2, 2, 1, 2, 1, 2, 1] + [blas.history[6]] * 5
    assert blas.num_threads == 2  # BLAS's own count again
