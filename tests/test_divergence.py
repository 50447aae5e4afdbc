"""Training that diverges says so: fit and the Trainers stop at the first NaN or inf loss, before
its gradients reach the weights, naming the op that made it; NumPy's overflow warnings point at
the user's line."""

import warnings

import numpy as np
import pytest

from tinygrad_ko import Tensor, TrainingDiverged, book2
from tinygrad_ko.book2.ch01 import TwoLayerNet as Book2TwoLayerNet
from tinygrad_ko.models import MultiLayerNet, MultiLayerNetExtend
from tinygrad_ko.train import Trainer, fit
from tinygrad_ko.training.divergence import check_loss

rng = np.random.default_rng(0)
X = rng.standard_normal((200, 4)).astype(np.float32) * 10
T = rng.integers(0, 3, 200)


def diverging_net():
    """A float32 network that lr 100 drives to NaN within a few steps (lr 10 trains it)."""
    return MultiLayerNet(4, [16, 16], 3, weight_init_std=1.0, dtype=np.float32, seed=0)


def test_fit_stops_at_the_first_nonfinite_loss_with_the_weights_before_it():
    net = diverging_net()
    with pytest.warns(RuntimeWarning), pytest.raises(TrainingDiverged) as caught:
        fit(net, (X, T), (X, T), iters=200, lr=100.0, progress=False)
    error = caught.value
    assert not np.isfinite(error.loss)
    assert all(np.isfinite(w).all() for w in net.params.values())  # NaN never reached them
    message = str(error)
    assert message.startswith(f"fit: the loss is {error.loss} at iteration {error.iteration} ")
    assert "at lr 100" in message and "lower the learning rate" in message
    assert error.where.startswith("Affine (on W") and "produced inf in its forward pass" in message
    assert f"called at {__file__}:" in error.where  # the fit call above

    # the iterations before it were finite: the same run one step shorter ends normally
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = fit(diverging_net(), (X, T), (X, T), iters=error.iteration - 1, lr=100.0)
    assert np.isfinite(history.loss).all() and len(history.loss) == error.iteration - 1


def test_a_training_that_does_not_diverge_is_not_stopped():
    history = fit(diverging_net(), (X, T), (X, T), iters=200, lr=10.0, progress=False)
    assert len(history.loss) == 200 and np.isfinite(history.loss).all()


def test_overflow_warnings_point_at_the_users_line_and_name_the_op():
    with warnings.catch_warnings(record=True) as caught, pytest.raises(TrainingDiverged):
        warnings.simplefilter("always")
        fit(diverging_net(), (X, T), (X, T), iters=200, lr=100.0, progress=False)
    assert caught, "the run overflows before its loss is NaN"
    for w in caught:
        assert w.category is RuntimeWarning and w.filename == __file__, (w.filename, w.message)
        assert str(w.message).split(" encountered in ")[1].split(".")[1] in ("forward", "backward")

    x = Tensor(np.full(3, 100.0, np.float32), requires_grad=True)
    y = x**5  # 1e10: finite; the gradient 1e30 · 5x⁴ overflows float32
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y.backward(np.full(3, 1e30, np.float32))
    assert caught and all(w.filename == __file__ for w in caught)
    assert "overflow encountered in Pow.backward" in str(caught[0].message)


def test_a_users_numpy_settings_win():
    with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning would fail the test
        with pytest.raises(TrainingDiverged):
            fit(diverging_net(), (X, T), (X, T), iters=200, lr=100.0, progress=False)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
        fit(diverging_net(), (X, T), (X, T), iters=200, lr=100.0, progress=False)
    seen = []
    handler = np.errstate(call=lambda error, flag: seen.append(error), over="call", invalid="call")
    with handler, warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TrainingDiverged):
            fit(diverging_net(), (X, T), (X, T), iters=200, lr=100.0, progress=False)
    assert "overflow" in seen  # the user's handler, not ours


def test_finding_the_op_leaves_the_network_and_the_random_states_as_they_were():
    net = MultiLayerNetExtend(4, [8, 8], 3, use_batchnorm=True, use_dropout=True, seed=0)
    net.forward(X, T)  # running averages that are not zeros
    before = {k: v.copy() for k, v in net.running().items()}
    np.random.seed(1)
    global_state, own_state = np.random.get_state()[1].copy(), net.rng.bit_generator.state
    with pytest.raises(TrainingDiverged):
        check_loss("fit", float("nan"), 3, net, (X, T))
    assert all(np.array_equal(before[k], v) for k, v in net.running().items())
    assert net.rng.bit_generator.state == own_state
    assert np.array_equal(np.random.get_state()[1], global_state)


def test_the_books_trainer_stops_too():
    np.random.seed(0)  # its batches come from NumPy's global state, as the book's
    trainer = Trainer(diverging_net(), X, T, X, T, epochs=100, mini_batch_size=20,
                      optimizer="sgd", optimizer_param={"lr": 1e4}, verbose=False)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(TrainingDiverged, match="fit: the loss is nan at iteration"):
            trainer.train()


class Constant:
    """A book-2 style model of one weight, loss 1 and gradient 1, whatever the batch."""

    def __init__(self):
        self.params, self.grads = [np.ones(2)], [np.ones(2)]

    def forward(self, x, t):
        return 1.0

    def backward(self, dout=1):
        return None


class NanAt:
    """A book-2 style model whose loss is NaN at the given call (counted from 1); `before`, its
    weights as that call found them."""

    def __init__(self, at, model):
        self.model, self.at, self.calls, self.before = model, at, 0, None
        self.params, self.grads = model.params, model.grads

    def forward(self, x, t):
        self.calls += 1
        loss = self.model.forward(x, t)
        if self.calls != self.at:
            return loss
        self.before = [p.copy() for p in self.params]
        return np.float32("nan")

    def backward(self, dout=1):
        return self.model.backward(dout)


def test_the_book2_trainers_stop_at_the_nan_loss_with_the_weights_before_it():
    model = NanAt(7, Book2TwoLayerNet(4, 5, 3))
    x, t = rng.standard_normal((30, 4)), rng.integers(0, 3, 30)
    with pytest.raises(TrainingDiverged, match=r"^Trainer.fit: the loss is nan at iteration 7,"):
        book2.Trainer(model, book2.SGD(lr=0.1)).fit(x, t, 10, batch_size=5, eval_interval=None)
    assert all(np.array_equal(p, w) for p, w in zip(model.params, model.before))

    model = NanAt(3, Constant())
    corpus = np.arange(200) % 4
    with pytest.raises(
        TrainingDiverged, match=r"^RnnlmTrainer.fit: the loss is nan at iteration 3,"
    ):
        book2.RnnlmTrainer(model, book2.SGD(lr=0.1)).fit(
            corpus[:-1], corpus[1:], max_epoch=1, batch_size=2, time_size=5, eval_interval=None
        )
    assert np.array_equal(model.params[0], np.full(2, 0.8)) and model.calls == 3  # two updates
