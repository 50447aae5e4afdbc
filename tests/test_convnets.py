"""SimpleConvNet and DeepConvNet: the book's weights, gradients and accuracies, gradients checked,
the book's pickles read safely and written so the book's own code reads them."""

import importlib.util
import shutil
import sys

import numpy as np
import pytest
from book import BOOK, book_module

from tinygrad_ko import check_gradients
from tinygrad_ko.book.ch07 import SimpleConvNet as BookSimpleConvNet
from tinygrad_ko.book.ch08 import DeepConvNet as BookDeepConvNet
from tinygrad_ko.convnets import DeepConvNet, SimpleConvNet
from tinygrad_ko.datasets import load_mnist

SMALL = {  # the book's ch07/gradient_check.py network
    "input_dim": (1, 10, 10),
    "conv_param": {"filter_num": 10, "filter_size": 3, "pad": 0, "stride": 1},
    "hidden_size": 10,
    "output_size": 10,
    "weight_init_std": 0.01,
}


@pytest.fixture(scope="module")
def mnist_test():
    return load_mnist(flatten=False)[1]


@pytest.mark.book
def test_simple_convnet_has_the_books_weights_gradients_and_loss():
    book = book_module("ch07/simple_convnet.py")
    rng = np.random.default_rng(0)
    x, t = rng.random((4, 1, 10, 10)), rng.integers(0, 10, 4)
    np.random.seed(0)
    theirs = book.SimpleConvNet(**SMALL)
    np.random.seed(0)
    ours = BookSimpleConvNet(**SMALL)
    for key, value in theirs.params.items():
        np.testing.assert_array_equal(ours.params[key], value, err_msg=key)
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x), rtol=1e-12)
    assert ours.loss(x, t) == pytest.approx(theirs.loss(x, t), rel=1e-12)
    expected = theirs.gradient(x, t)
    for key, value in ours.gradient(x, t).items():
        np.testing.assert_allclose(value, expected[key], rtol=1e-9, atol=1e-15, err_msg=key)


@pytest.mark.book
def test_deep_convnet_has_the_books_weights_and_gradients_with_the_same_masks():
    book = book_module("ch08/deep_convnet.py")
    x, t = np.random.default_rng(1).random((2, 1, 28, 28)), np.array([3, 7])
    np.random.seed(2)
    theirs = book.DeepConvNet()
    np.random.seed(2)
    ours = BookDeepConvNet()
    for key, value in theirs.params.items():
        np.testing.assert_array_equal(ours.params[key], value, err_msg=key)
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x), rtol=1e-10)
    np.random.seed(3)  # the same dropout masks, drawn in the same order
    expected = theirs.gradient(x, t)
    np.random.seed(3)
    for key, value in ours.gradient(x, t).items():
        np.testing.assert_allclose(value, expected[key], rtol=1e-8, atol=1e-14, err_msg=key)


def test_simple_convnet_passes_a_gradient_check_of_every_element():
    rng = np.random.default_rng(4)
    net = SimpleConvNet(**SMALL | {"weight_init_std": 0.3}, dtype=np.float64, seed=4)
    report = check_gradients(net, rng.random((2, 1, 10, 10)), np.array([1, 5]))
    assert report.passed, str(report)


def test_deep_convnet_passes_a_gradient_check_on_small_images():
    rng = np.random.default_rng(5)
    net = DeepConvNet(input_dim=(1, 12, 12), hidden_size=6, dtype=np.float64, seed=5)
    x, t = rng.random((2, 1, 12, 12)), np.array([2, 9])
    with pytest.raises(ValueError, match="check it in evaluation mode"):
        check_gradients(net, x, t, sample=2)
    # Dropout in evaluation mode scales instead of drawing masks; each parameter sampled
    report = check_gradients(net, x, t, sample=6, seed=0, train_flg=False)
    assert report.passed and len(report) == 16, str(report)


@pytest.mark.book
@pytest.mark.mnist
@pytest.mark.parametrize(
    ("network", "weights", "accuracy"),
    # what the book's own classes give on these weights: benchmarks/book_weights.py prints
    # 0.989 and 0.9935 (the book's 99.35 %, 8.1.1)
    [
        (SimpleConvNet, "ch07/params.pkl", 0.989),
        (DeepConvNet, "ch08/deep_convnet_params.pkl", 0.9935),
    ],
)  # fmt: skip
def test_the_books_weights_give_the_books_test_accuracy(mnist_test, network, weights, accuracy):
    net = network(seed=0)  # float32: the book's float64 weights, rounded
    net.load_params(BOOK / weights)
    assert net.accuracy(*mnist_test) == accuracy


@pytest.mark.book
def test_save_params_writes_what_the_books_own_load_params_reads(tmp_path):
    shutil.copytree(BOOK / "common", tmp_path / "common")
    shutil.copy(BOOK / "ch07" / "simple_convnet.py", tmp_path / "simple_convnet.py")
    ours = SimpleConvNet(**SMALL, seed=6)
    ours.save_params(tmp_path / "ours.pkl")
    sys.path.insert(0, str(tmp_path))
    try:
        spec = importlib.util.spec_from_file_location(
            "copied_convnet", tmp_path / "simple_convnet.py"
        )
        copied = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(copied)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "common" or n.startswith("common.")]:
            del sys.modules[name]  # the copied common/, not to be mistaken for the book's
    theirs = copied.SimpleConvNet(**SMALL)
    theirs.load_params("ours.pkl")  # beside its module, as the book looks; our own file
    x = np.random.default_rng(6).random((3, 1, 10, 10)).astype(np.float32)
    np.testing.assert_allclose(theirs.predict(x), ours.predict(x), rtol=1e-5, atol=1e-7)


def test_load_params_names_what_does_not_fit(tmp_path):
    SimpleConvNet(**SMALL, seed=0).save_params(tmp_path / "small.pkl")
    with pytest.raises(ValueError, match=r"load_params: W1 in .* has shape \(10, 1, 3, 3\)"):
        SimpleConvNet(seed=0).load_params(tmp_path / "small.pkl")
    DeepConvNet(input_dim=(1, 12, 12), seed=0).save_params(tmp_path / "deep.pkl")
    with pytest.raises(ValueError, match=r"holds \['W1', 'W2'.*this network's weights are"):
        SimpleConvNet(seed=0).load_params(tmp_path / "deep.pkl")


def test_a_convnet_trains_saves_and_loads_in_both_modes(tmp_path):
    rng = np.random.default_rng(7)
    net = DeepConvNet(input_dim=(1, 12, 12), hidden_size=8, seed=7)
    x, t = rng.random((6, 1, 12, 12)).astype(np.float32), rng.integers(0, 10, 6)
    assert net.eval().forward(x, t).item() == net.forward(x, t).item()  # dropout off
    assert net.train().forward(x, t).item() != net.forward(x, t).item()  # new masks
    net.save(tmp_path / "deep.npz")
    again = DeepConvNet.load(tmp_path / "deep.npz")
    np.testing.assert_array_equal(again.predict(x), net.predict(x))
    assert "DeepConvNet 1x12x12 (conv 16 16 32 32 64 64 - 8 - 10)" in repr(again)


def with_our_weights(theirs, ours, layers):
    """The book's network `theirs` holding the weights of `ours`, put in as the book's
    load_params puts them: into its params and its layers (`layers`: the keys or indices of
    those with weights, in order)."""
    theirs.params.update({key: np.array(value) for key, value in ours.params.items()})
    for i, key in enumerate(layers, 1):
        theirs.layers[key].W, theirs.layers[key].b = theirs.params[f"W{i}"], theirs.params[f"b{i}"]
    return theirs


@pytest.mark.book
def test_simple_convnet_takes_strides_that_leave_rows_out_as_the_books_layers_do():
    # 12x12 images, 3x3 filters with stride 2: (12 - 3) // 2 + 1 = 5 rows, the last image row
    # left out; 2x2 pooling of 5x5: 2x2, the last row left out again
    config = SMALL | {"input_dim": (1, 12, 12)}
    config["conv_param"] = {"filter_num": 4, "filter_size": 3, "pad": 0, "stride": 2}
    ours = BookSimpleConvNet(**config | {"weight_init_std": 0.3})
    assert ours.params["W2"].shape == (4 * 2 * 2, 10)
    # the book's own network sizes its W2 from the unfloored 5.5 (int(4 · 2.75²) = 30 rows):
    # its layers are run with ours
    book = book_module("ch07/simple_convnet.py")
    theirs = with_our_weights(book.SimpleConvNet(**config), ours, ["Conv1", "Affine1", "Affine2"])
    rng = np.random.default_rng(8)
    x, t = rng.random((3, 1, 12, 12)), np.array([1, 4, 7])
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x), rtol=1e-12)
    assert ours.loss(x, t) == pytest.approx(theirs.loss(x, t), rel=1e-12)
    expected = theirs.gradient(x, t)
    for key, value in ours.gradient(x, t).items():
        np.testing.assert_allclose(value, expected[key], rtol=1e-9, atol=1e-15, err_msg=key)


@pytest.mark.book
def test_deep_convnet_takes_sizes_that_leave_rows_out_as_the_books_layers_do():
    # 13x13 images: pooled to 6x6 (the last row left out); a stride-2 conv_param_4 makes
    # (6 + 2·2 - 3) // 2 + 1 = 4; pooled 2x2, then 1x1
    conv_4 = {"filter_num": 32, "filter_size": 3, "pad": 2, "stride": 2}
    np.random.seed(9)
    ours = BookDeepConvNet(input_dim=(1, 13, 13), conv_param_4=conv_4, hidden_size=6)
    assert ours.params["W7"].shape == (64, 6)
    book = book_module("ch08/deep_convnet.py")
    theirs = book.DeepConvNet(input_dim=(1, 13, 13), conv_param_4=conv_4, hidden_size=6)
    with_our_weights(theirs, ours, [0, 2, 5, 7, 10, 12, 15, 18])  # as its load_params
    x, t = np.random.default_rng(9).random((2, 1, 13, 13)), np.array([3, 8])
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x), rtol=1e-10)
    np.random.seed(3)  # the same dropout masks, drawn in the same order
    expected = theirs.gradient(x, t)
    np.random.seed(3)
    for key, value in ours.gradient(x, t).items():
        np.testing.assert_allclose(value, expected[key], rtol=1e-8, atol=1e-14, err_msg=key)


@pytest.mark.parametrize(
    ("network", "kwargs", "message"),
    [
        (SimpleConvNet, {"conv_param": {"filter_num": 30}}, "conv_param must be a dict with "
         "filter_num"),
        (SimpleConvNet, {"input_dim": (1, 4, 6)}, r"conv_param: 5x5 filters do not fit inputs "
         r"of 4x6 padded by 0"),
        (SimpleConvNet, {"input_dim": (1, 5, 9)}, r"the 2x2 pooling after conv_param needs "
         r"inputs of at least 2x2, got 1x5"),
        (DeepConvNet, {"input_dim": (1, 3, 3)}, r"the 2x2 pooling after conv_param_6 needs "
         r"inputs of at least 2x2, got 1x1"),
        (DeepConvNet, {"input_dim": (1, 8, 8), "conv_param_5": {"filter_num": 4,
          "filter_size": 5, "pad": 0, "stride": 1}}, r"conv_param_5: 5x5 filters do not fit "
         r"inputs of 3x3 padded by 0"),
    ],
)  # fmt: skip
def test_conv_params_that_do_not_fit_are_named(network, kwargs, message):
    with pytest.raises(ValueError, match=f"^{network.__name__}: .*{message}"):
        network(**kwargs)


def test_sizes_are_floored_as_pytorch_floors_them():
    # 28x28, 5x5 filters with stride 2: (28 - 5) // 2 + 1 = 12, pooled 6; 27x27: 23, pooled 11
    strided = {"filter_num": 4, "filter_size": 5, "pad": 0, "stride": 2}
    assert SimpleConvNet(conv_param=strided, seed=0).params["W2"].shape == (4 * 6 * 6, 100)
    net = SimpleConvNet(input_dim=(1, 27, 27), seed=0)
    assert net.params["W2"].shape == (30 * 11 * 11, 100)
    x = np.random.default_rng(0).random((2, 1, 27, 27)).astype(np.float32)
    assert net.predict(x).shape == (2, 10)
