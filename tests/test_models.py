"""TwoLayerNet: the book's interface, the graph interface, and files that round-trip safely."""

import copy
import gc
import json
import os
import pickle
import stat
import tracemalloc
import warnings

import numpy as np
import pytest
from book import book_module
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_ko.book as book_layer
from tinygrad_ko import Tensor, check_gradients
from tinygrad_ko.book import ch04, ch05
from tinygrad_ko.models import MultiLayerNet, MultiLayerNetExtend, TwoLayerNet


def data(rng, n=8, inputs=6, classes=3):
    return rng.standard_normal((n, inputs)).astype(np.float32), rng.integers(0, classes, n)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_it_has_the_books_parameters(activation, dtype):
    net = TwoLayerNet(784, 50, 10, activation=activation, dtype=dtype, seed=0)
    assert list(net.params) == ["W1", "b1", "W2", "b2"]
    assert [p.shape for p in net.params.values()] == [(784, 50), (50,), (50, 10), (10,)]
    assert all(p.dtype == dtype for p in net.params.values())
    assert abs(net.params["W1"].std() - 0.01) < 0.001 and not net.params["b1"].any()
    same = TwoLayerNet(784, 50, 10, activation=activation, dtype=dtype, seed=0)
    np.testing.assert_array_equal(same.params["W1"], net.params["W1"])


@pytest.mark.book
def test_without_a_seed_the_weights_come_from_numpys_random_state_as_the_books_do():
    book = book_module("ch04/two_layer_net.py")
    np.random.seed(0)
    theirs = book.TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    np.random.seed(0)
    ours = TwoLayerNet(784, 50, 10, dtype=np.float64)
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_array_equal(ours.params[key], theirs.params[key], err_msg=key)
    np.random.seed(0)
    again = TwoLayerNet(784, 50, 10, dtype=np.float64)
    np.testing.assert_array_equal(again.params["W1"], ours.params["W1"])


def test_with_a_seed_the_weights_ignore_numpys_random_state_and_load_leaves_it(tmp_path):
    np.random.seed(1)
    first = TwoLayerNet(6, 5, 3, seed=7)
    np.random.seed(2)
    second = TwoLayerNet(6, 5, 3, seed=7)
    np.testing.assert_array_equal(first.params["W1"], second.params["W1"])
    first.save(tmp_path / "net.npz")
    np.random.seed(3)
    TwoLayerNet.load(tmp_path / "net.npz")
    after_load = np.random.random()
    np.random.seed(3)
    assert np.random.random() == after_load


def test_an_unknown_activation_is_an_error():
    with pytest.raises(ValueError, match=r"activation must be one of \['sigmoid', 'relu'\]"):
        TwoLayerNet(4, 3, 2, activation="tanh")


@settings(max_examples=10)
@given(seed=st.integers(0, 1000), activation=st.sampled_from(["sigmoid", "relu"]))
def test_backprop_matches_numerical_gradient_for_a_float32_net(seed, activation):
    rng = np.random.default_rng(seed)
    net = TwoLayerNet(6, 5, 3, weight_init_std=1.0, activation=activation, seed=seed)
    x, t = data(rng)
    numerical = net.numerical_gradient(x, t)
    assert all(g.dtype == np.float64 for g in numerical.values())
    for key, diff in check_gradients(net, x, t).items():
        scale = np.abs(numerical[key]).max()
        assert diff.max_abs <= 1e-4 * max(scale, 1e-3), key  # float32 backprop vs float64


def test_a_sampled_numerical_gradient_checks_a_few_elements_of_each_parameter():
    rng = np.random.default_rng(7)
    net = TwoLayerNet(6, 5, 3, weight_init_std=1.0, seed=7)
    x, t = data(rng)
    sampled = net.numerical_gradient(x, t, sample=4, seed=0)
    full = net.numerical_gradient(x, t)
    for key, g in sampled.items():
        taken = ~np.ma.getmaskarray(g)
        assert taken.sum() == min(4, g.size)
        np.testing.assert_allclose(g.data[taken], full[key][taken], rtol=1e-12)
    report = check_gradients(net, x, t, sample=4, seed=0)
    assert all(d.max_abs < 1e-4 for d in report.values())


@given(seed=st.integers(0, 1000), activation=st.sampled_from(["sigmoid", "relu"]))
@settings(max_examples=20)
def test_a_fast_check_passes_the_network_and_leaves_its_weights_alone(seed, activation):
    rng = np.random.default_rng(seed)
    net = TwoLayerNet(6, 5, 3, weight_init_std=1.0, activation=activation, seed=seed)
    before = {k: v.copy() for k, v in net.params.items()}
    report = check_gradients(net, *data(rng), fast=True, seed=seed)
    assert report.passed, str(report)
    assert all(np.array_equal(net.params[k], v) for k, v in before.items())


def test_a_fast_check_catches_an_inverted_relu_mask(monkeypatch):
    from tinygrad_ko.layers import ReLU

    rng = np.random.default_rng(5)
    net = TwoLayerNet(6, 5, 3, weight_init_std=1.0, activation="relu", seed=5)
    x, t = data(rng)
    monkeypatch.setattr(ReLU, "backward", lambda self, dout: dout * self.mask)
    report = check_gradients(net, x, t, fast=True)
    assert not report["W1"].passed and not report["b1"].passed and report["W2"].passed


def test_predict_loss_and_accuracy_the_books_way():
    rng = np.random.default_rng(1)
    net = TwoLayerNet(6, 5, 3, seed=1)
    x, t = data(rng)
    scores = net.predict(x)
    assert scores.shape == (8, 3) and isinstance(scores, np.ndarray)
    loss = net.loss(x, t)
    assert isinstance(loss, float) and loss == pytest.approx(np.log(3), abs=0.01)  # near uniform
    expected = np.mean(scores.argmax(axis=1) == t)
    assert net.accuracy(x, t) == expected == net.accuracy(x, np.eye(3)[t])


def test_accuracy_in_chunks_counts_every_sample_once():
    rng = np.random.default_rng(11)
    net = TwoLayerNet(6, 5, 3, weight_init_std=1.0, seed=11)
    x, t = rng.standard_normal((23, 6)), rng.integers(0, 3, 23)
    whole = np.mean(net.predict(x).argmax(axis=1) == t)
    assert 0 < whole < 1
    for chunk in (1, 7, 23, 100):  # chunks that do and do not divide the set
        assert net.accuracy(x, t, batch_size=chunk) == whole


@pytest.mark.parametrize(
    "x_shape, t",
    [((4, 6), [0, 1, 2]), ((4, 6), np.eye(3)[[0, 1, 2]]), ((0, 6), []), ((), [0])],
)
def test_accuracy_refuses_labels_that_do_not_match_the_samples(x_shape, t):
    net = TwoLayerNet(6, 5, 3, seed=0)
    with pytest.raises(ValueError, match=r"TwoLayerNet\.accuracy: x of shape"):
        net.accuracy(np.zeros(x_shape), t)


def test_forward_is_a_graph_whose_backward_fills_the_parameters():
    rng = np.random.default_rng(2)
    net = TwoLayerNet(6, 5, 3, weight_init_std=1.0, seed=2)
    x, t = data(rng)
    book = net.gradient(x, t)
    book = {k: g.copy() for k, g in book.items()}
    for p in net.parameters():
        p.grad = None
    loss = net.forward(x, t)  # arrays, as fit passes them
    assert isinstance(loss, Tensor) and loss.shape == ()
    loss.backward()
    for (key, g), p in zip(book.items(), net.parameters()):
        np.testing.assert_array_equal(p.grad, g, err_msg=key)


def test_parameters_share_memory_with_params():
    net = TwoLayerNet(4, 3, 2, seed=0)
    for array, tensor in zip(net.params.values(), net.parameters()):
        assert tensor.data is array
    net.params["W1"] -= 1.0  # the book's update, in place
    net.params["b2"] = np.array([5.0, 6.0])  # and a plain assignment
    W1, _, _, b2 = net.parameters()
    np.testing.assert_array_equal(W1.data, net.params["W1"])
    np.testing.assert_array_equal(b2.data, [5.0, 6.0])
    with pytest.raises(ValueError, match=r"params\['b2'\]: the new value has shape \(3,\)"):
        net.params["b2"] = np.zeros(3)


WRITES = {  # every way of writing into a dict, each setting b2 to [5, 6]
    "item": lambda params, new: params.__setitem__("b2", new),
    "update(dict)": lambda params, new: params.update({"b2": new}),
    "update(pairs)": lambda params, new: params.update([("b2", new)]),
    "update(keyword)": lambda params, new: params.update(b2=new),
    "|=": lambda params, new: params.__ior__({"b2": new}),
}


@pytest.mark.parametrize("write", WRITES)
def test_every_way_of_writing_into_params_changes_the_weights_the_network_uses(write):
    net = TwoLayerNet(4, 3, 2, dtype=np.float64, seed=0)
    x = np.ones((1, 4))
    WRITES[write](net.params, np.array([5.0, 6.0]))
    np.testing.assert_array_equal(net.params["b2"], [5.0, 6.0])
    hidden = 1 / (1 + np.exp(-(x @ net.params["W1"] + net.params["b1"])))
    expected = hidden @ net.params["W2"] + np.array([5.0, 6.0])
    np.testing.assert_allclose(net.predict(x), expected, rtol=1e-12)
    assert net.params.setdefault("b2") is net.params["b2"]


def test_params_refuse_what_would_leave_the_network_apart():
    net = TwoLayerNet(4, 3, 2, seed=0)
    before = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(KeyError, match=r"no parameter 'W3', only \['W1', 'b1', 'W2', 'b2'\]"):
        net.params.update({"b2": np.zeros(2) + 7, "W3": np.zeros(2)})
    with pytest.raises(KeyError, match="no parameter 'W3'"):
        net.params.setdefault("W3", np.zeros(2))
    with pytest.raises(ValueError, match=r"params\['b1'\]: the new value has shape \(2,\)"):
        net.params |= {"b2": np.zeros(2) + 7, "b1": np.zeros(2)}
    for remove in (
        lambda p: p.pop("W1"),
        lambda p: p.popitem(),
        lambda p: p.clear(),
        lambda p: p.__delitem__("W1"),
    ):
        with pytest.raises(TypeError, match="parameters cannot be removed"):
            remove(net.params)
    for key, value in before.items():  # nothing was written: not even the valid b2
        np.testing.assert_array_equal(net.params[key], value)


def test_copies_of_a_network_keep_its_params_and_its_weights_together():
    net = TwoLayerNet(4, 3, 2, dtype=np.float64, seed=0)
    x = np.ones((1, 4))
    for twin in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        twin.params["b2"] = np.array([5.0, 6.0])  # reaches the twin's layers, not net's
        np.testing.assert_allclose(twin.predict(x) - net.predict(x), [[5.0, 6.0]])
        with pytest.raises(TypeError, match="cannot be removed"):
            twin.params.pop("W1")
    snapshot = copy.deepcopy(net.params)
    net.params["b2"] += 1
    np.testing.assert_array_equal(snapshot["b2"], [0.0, 0.0])
    assert type(net.params.copy()) is dict and net.params.copy()["b2"] is net.params["b2"]
    assert type(type(net.params).fromkeys(["W1"])) is dict


def test_writing_parameters_into_each_other_swaps_them():
    net = TwoLayerNet(4, 2, 2, dtype=np.float64, seed=0)
    b1, b2 = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    net.params.update(b1=b1, b2=b2)
    net.params.update(b1=net.params["b2"], b2=net.params["b1"])
    np.testing.assert_array_equal(net.params["b1"], b2)
    np.testing.assert_array_equal(net.params["b2"], b1)


@pytest.mark.parametrize("value", [np.array(["1", "2"]), np.array([1j, 2j])])
def test_values_that_are_not_real_numbers_are_refused(value):
    net = TwoLayerNet(4, 3, 2, seed=0)
    with pytest.raises(TypeError, match=r"params\['b2'\]: a value of dtype .* cannot be written"):
        net.params["b2"] = value


def test_the_books_training_loop_runs_with_only_the_import_changed():
    rng = np.random.default_rng(3)
    x_train, t_train = rng.standard_normal((200, 6)).astype(np.float32), rng.integers(0, 3, 200)
    t_train = (x_train[:, 0] > 0).astype(int) + (x_train[:, 1] > 0)  # learnable classes 0..2
    network = TwoLayerNet(input_size=6, hidden_size=10, output_size=3, weight_init_std=0.5)
    before = network.loss(x_train, t_train)
    batches = np.random.default_rng(4)
    for _ in range(300):
        batch_mask = batches.choice(200, 20)
        x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
        grad = network.gradient(x_batch, t_batch)
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= 0.5 * grad[key]
    assert network.loss(x_train, t_train) < 0.8 * before


# --- files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_and_load_give_the_same_predictions(tmp_path, activation, dtype):
    net = TwoLayerNet(6, 5, 3, weight_init_std=1.0, activation=activation, dtype=dtype, seed=5)
    path = tmp_path / "net.npz"
    net.save(path)
    again = TwoLayerNet.load(path)
    assert (again.sizes, again.activation, again.dtype) == ((6, 5, 3), activation, np.dtype(dtype))
    x, _ = data(np.random.default_rng(6))
    np.testing.assert_array_equal(again.predict(x), net.predict(x))
    assert list(tmp_path.iterdir()) == [path]  # nothing else left behind
    with np.load(path, allow_pickle=False) as archive:  # readable without pickle
        assert json.loads(str(archive["meta"]))["activation"] == activation


def rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as archive:
        arrays = dict(archive)
    arrays.update(changes)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"W3": np.zeros(2)}, r"holds arrays \['W1', 'W2', 'W3', 'b1', 'b2', 'meta'\]"),
        ({"b2": None}, r"holds arrays \['W1', 'W2', 'b1', 'meta'\]"),
        ({"W1": np.zeros((5, 6), np.float32)}, r"array W1 .* is float32 \(5, 6\).*\(6, 5\)"),
        ({"b1": np.zeros(5, np.float64)}, r"array b1 .* is float64 \(5,\).*float32"),
        ({"b1": np.array([None] * 5, dtype=object)}, "array b1 .* object array"),
        ({"meta": np.array("not json")}, "no valid architecture record 'meta'"),
        ({"meta": np.array(json.dumps({"sizes": [6, 5]}))}, "no valid architecture record"),
    ],
)
def test_load_refuses_inconsistent_files_naming_the_array(tmp_path, changes, message):
    path = tmp_path / "net.npz"
    TwoLayerNet(6, 5, 3, seed=0).save(path)
    rewrite(path, **changes)
    with pytest.raises(ValueError, match=message):
        TwoLayerNet.load(path)


@pytest.mark.parametrize(
    "meta",
    [
        {"sizes": [1_000_000, 1_000_000, 10], "activation": "relu", "dtype": "float32"},
        {"sizes": [6.9, True, 3], "activation": "relu", "dtype": "float32"},
        {"sizes": [6, 5, 3], "activation": "tanh", "dtype": "float32"},
        {"sizes": [6, 5, 3], "activation": "relu", "dtype": "int64"},
    ],
)
def test_load_checks_the_record_before_building_anything(tmp_path, meta):
    path = tmp_path / "net.npz"
    TwoLayerNet(6, 5, 3, seed=0).save(path)
    rewrite(path, meta=np.array(json.dumps(meta)))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"no valid architecture record|recorded architecture"):
            TwoLayerNet.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # a record asking for a huge network allocates nothing


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 cut", b"W1,b1\n1,2\n"])
def test_load_refuses_files_that_are_not_whole_archives(tmp_path, content):
    path = tmp_path / "net.npz"
    path.write_bytes(content)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(ValueError, match=r"TwoLayerNet.load: .*net.npz is not"):
            TwoLayerNet.load(path)
        gc.collect()
    assert [str(w.message) for w in caught] == []  # the file was closed, not left to the GC


def test_load_names_itself_when_given_a_folder(tmp_path):
    with pytest.raises(ValueError, match=r"TwoLayerNet.load: .* is not a complete .npz archive"):
        TwoLayerNet.load(tmp_path)


def test_saved_files_are_readable_by_others(tmp_path):
    old = os.umask(0o022)
    try:
        TwoLayerNet(4, 3, 2).save(tmp_path / "net.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "net.npz").stat().st_mode) == 0o644


def test_load_refuses_a_pickle(tmp_path):
    path = tmp_path / "net.pkl"
    path.write_bytes(pickle.dumps({"W1": np.zeros(2)}))
    with pytest.raises(
        ValueError, match=r"net.pkl is not an .npz archive; .*pickle could read is refused"
    ):
        TwoLayerNet.load(path)
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(ValueError, match="holds a single array"):
        TwoLayerNet.load(tmp_path / "one.npy")


def test_an_interrupted_save_leaves_no_file(tmp_path, monkeypatch):
    def fail_halfway(f, **arrays):
        f.write(b"PK half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", fail_halfway)
    with pytest.raises(KeyboardInterrupt):
        TwoLayerNet(4, 3, 2).save(tmp_path / "net.npz")
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=100)
@given(data=st.data())
def test_a_damaged_parameter_file_is_refused_or_loads_unchanged(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("net")
    path = folder / "net.npz"
    net = TwoLayerNet(6, 5, 3, weight_init_std=1.0, seed=8)
    net.save(path)
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 3))):
        raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    if data.draw(st.booleans()):
        del raw[data.draw(st.integers(0, len(raw) - 1)) :]
    path.write_bytes(bytes(raw))
    try:
        again = TwoLayerNet.load(path)
    except ValueError as error:
        assert str(error).startswith(f"TwoLayerNet.load: {path}") or "array" in str(error)
    else:  # a flip in the archive's padding or comment may change nothing that is read
        for key in net.params:
            np.testing.assert_array_equal(again.params[key], net.params[key])


# --- MultiLayerNet (chapter 6) ------------------------------------------------------------------

EXTENDED = {  # the book's MultiLayerNetExtend options, each way
    "plain": {},
    "weight decay": {"weight_decay_lambda": 0.1},
    "batchnorm": {"use_batchnorm": True},
    "dropout": {"use_dropout": True, "dropout_ratio": 0.3},
    "all": {"use_batchnorm": True, "use_dropout": True, "weight_decay_lambda": 0.05},
}


@pytest.mark.book
@pytest.mark.parametrize("options", EXTENDED)
@pytest.mark.parametrize("init", ["relu", "xavier", 0.05])
def test_multilayer_net_gives_the_books_numbers(options, init):
    book = book_module("common/multi_layer_net_extend.py")
    kwargs = EXTENDED[options]
    book_kwargs = {("dropout_ration" if k == "dropout_ratio" else k): v for k, v in kwargs.items()}
    rng = np.random.default_rng(2)
    x, t = rng.random((7, 12)), rng.integers(0, 4, 7)
    np.random.seed(0)
    theirs = book.MultiLayerNetExtend(12, [6, 5], 4, weight_init_std=init, **book_kwargs)
    np.random.seed(0)
    ours = MultiLayerNetExtend(12, [6, 5], 4, weight_init_std=init, dtype=np.float64, **kwargs)
    assert list(ours.params) == sorted(theirs.params, key=list(ours.params).index)
    for key, value in theirs.params.items():
        np.testing.assert_array_equal(ours.params[key], value, err_msg=key)
    np.random.seed(1)  # the same dropout masks, drawn in the same order
    expected = theirs.gradient(x, t)
    np.random.seed(1)
    grads = ours.gradient(x, t)
    assert list(grads) == list(expected)  # the book's order: W1 b1 gamma1 beta1 W2 …
    for key, value in expected.items():
        np.testing.assert_allclose(grads[key], value, rtol=1e-9, atol=1e-12, err_msg=key)
    # the book's loss takes log(y + 1e-7), ours is the exact cross-entropy: the same weight
    # decay on top, and the same loss where no probability is near 1e-7
    scores = theirs.predict(x)
    decay = theirs.loss(x, t) - theirs.last_layer.forward(scores, t)
    exact = -np.mean(scores[np.arange(7), t] - np.log(np.exp(scores).sum(axis=1)))
    assert ours.loss(x, t) == pytest.approx(exact + decay, rel=1e-9)
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x), rtol=1e-12)
    assert ours.accuracy(x, t) == theirs.accuracy(x, t)


@pytest.mark.parametrize("options", ["weight decay", "batchnorm"])
def test_backprop_through_a_multilayer_net_matches_numerical_gradients(options):
    rng = np.random.default_rng(4)
    net = MultiLayerNet(8, [5, 4], 3, seed=4, dtype=np.float64, **EXTENDED[options])
    x, t = rng.standard_normal((6, 8)), rng.integers(0, 3, 6)
    report = check_gradients(net, x, t)
    assert report.passed, str(report)
    assert ("gamma1" in report) == (options == "batchnorm")


def test_train_and_eval_switch_dropout_and_batchnorm_as_in_pytorch():
    rng = np.random.default_rng(0)
    net = MultiLayerNet(8, [50], 3, use_dropout=True, use_batchnorm=True, seed=0)
    x, t = rng.standard_normal((40, 8)).astype(np.float32), rng.integers(0, 3, 40)
    assert net.training and net.eval() is net and not net.training
    evaluated = net.forward(x, t).item()
    assert net.forward(x, t).item() == evaluated  # no dropout: the same every time
    np.testing.assert_allclose(net.loss(x, t), evaluated, rtol=1e-6)  # the book's default
    net.train()
    trained = {net.forward(x, t).item() for _ in range(3)}
    assert len(trained) == 3  # a new dropout mask each time
    bn = next(layer for layer in net.layers if hasattr(layer, "running_mean"))
    before = bn.running_mean.copy()
    net.predict(x)  # evaluation: the running averages stay
    np.testing.assert_array_equal(bn.running_mean, before)
    net.gradient(x, t)  # training, as the book's gradient
    assert not np.array_equal(bn.running_mean, before)


def test_a_multilayer_net_saves_and_loads_its_running_averages(tmp_path):
    rng = np.random.default_rng(0)
    net = MultiLayerNet(8, [6, 5], 3, use_batchnorm=True, weight_decay_lambda=0.1, seed=0)
    x, t = rng.standard_normal((20, 8)).astype(np.float32), rng.integers(0, 3, 20)
    for _ in range(3):
        net.gradient(x, t)  # moves the running averages
    net.save(tmp_path / "net.npz")
    again = MultiLayerNet.load(tmp_path / "net.npz")
    assert again.config == net.config and again.dtype == np.float32
    np.testing.assert_array_equal(again.predict(x), net.predict(x))  # evaluation mode
    assert again.loss(x, t) == net.loss(x, t)  # weight decay included
    with pytest.raises(ValueError, match=r"TwoLayerNet.load: .* no valid architecture record"):
        TwoLayerNet.load(tmp_path / "net.npz")  # another model's file


def test_files_of_version_0_1_0_still_load(tmp_path):
    net = TwoLayerNet(6, 5, 3, activation="relu", seed=0)
    meta = {"sizes": [6, 5, 3], "activation": "relu", "dtype": "float32"}
    np.savez(tmp_path / "old.npz", meta=np.array(json.dumps(meta)), **net.params)
    again = TwoLayerNet.load(tmp_path / "old.npz")
    x = np.ones((2, 6), np.float32)
    np.testing.assert_array_equal(again.predict(x), net.predict(x))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"activation": "tanh"}, ValueError, r"activation must be one of \['sigmoid', 'relu'\]"),
        ({"weight_init_std": "lecun"}, ValueError, "weight_init_std must be a number or one of"),
        ({"hidden_size_list": 100}, TypeError, "hidden_size_list must be a list of sizes"),
        ({"hidden_size_list": [100, 0]}, ValueError, "layer sizes must be positive integers"),
        ({"use_dropout": True, "dropout_ratio": 1.5}, ValueError, "Dropout: dropout_ratio"),
        ({"weight_decay_lambda": -1}, ValueError, "weight_decay_lambda must be a number >= 0"),
        ({"dtype": np.int32}, TypeError, "dtype must be a float type"),
    ],
)
def test_bad_settings_of_a_multilayer_net_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        MultiLayerNet(**({"input_size": 4, "hidden_size_list": [3], "output_size": 2} | kwargs))


# --- fixes from review ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: book_layer.MultiLayerNetExtend(8, [5], 3, use_batchnorm=True, use_dropout=True),
        lambda: book_layer.MultiLayerNet(8, [5], 3, weight_decay_lambda=0.1),
        lambda: ch04.TwoLayerNet(8, 5, 3),
        lambda: ch05.TwoLayerNet(8, 5, 3),
    ],
)
def test_the_book_layers_networks_save_and_load_as_themselves(tmp_path, make):
    net = make()
    net.save(tmp_path / "net.npz")
    again = type(net).load(tmp_path / "net.npz")
    x = np.random.default_rng(0).random((4, 8))
    assert type(again) is type(net) and again.dtype == np.float64
    np.testing.assert_array_equal(again.predict(x), net.predict(x))
    assert again.loss(x, np.array([0, 1, 2, 0])) == net.loss(x, np.array([0, 1, 2, 0]))


def test_a_network_with_dropout_is_checked_in_evaluation_mode_not_silently_wrong():
    rng = np.random.default_rng(3)
    net = MultiLayerNet(6, [5, 4], 3, use_dropout=True, dtype=np.float64, seed=3)
    x, t = rng.standard_normal((5, 6)), rng.integers(0, 3, 5)
    with pytest.raises(ValueError, match="check it in evaluation mode \\(train_flg=False\\)"):
        check_gradients(net, x, t)
    assert check_gradients(net, x, t, train_flg=False).passed
    assert check_gradients(net, x, t, train_flg=False, fast=True).passed


def test_the_networks_mode_stays_out_of_its_layers():
    net = MultiLayerNet(6, [5], 3, use_dropout=True, use_batchnorm=True, seed=0)
    x, t = np.ones((4, 6), np.float32), np.zeros(4, dtype=int)
    net.eval().forward(x, t)
    net.predict(x)
    assert all(layer.training for layer in net.layers if hasattr(layer, "training"))


def test_sizes_given_as_numpy_integers_are_saved_as_numbers(tmp_path):
    net = TwoLayerNet(np.int64(4), np.int32(3), np.int64(2), seed=0)
    net.save(tmp_path / "net.npz")
    assert TwoLayerNet.load(tmp_path / "net.npz").sizes == (4, 3, 2)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: TwoLayerNet(784, 0, 10), "TwoLayerNet: layer sizes must be positive integers"),
        (lambda: MultiLayerNet(4, [3], 2, weight_decay_lambda=float("nan")), "a number >= 0"),
        (lambda: MultiLayerNet(4, [3], 2, use_dropout=True, dropout_ratio="0.5"), "dropout_ratio"),
        (lambda: MultiLayerNet(4, [3], 2, weight_init_std=None), "weight_init_std must be a"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named_by_the_class_given(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_numpy_numbers_are_numbers():
    net = MultiLayerNet(4, [3], 2, weight_decay_lambda=np.float32(0.1), weight_init_std=np.int64(1))
    assert net.weight_decay_lambda == pytest.approx(0.1)
