"""tinygrad_ko.book: every public name of the book's common/ and dataset/mnist.py, with the
book's signatures and defaults, and the book's dtypes from load_mnist."""

import inspect

import numpy as np
import pytest
from book import BOOK, book_module

import tinygrad_ko.book as ours
from tinygrad_ko.book import ch04, ch05

MODULES = [f"common/{p.name}" for p in sorted((BOOK / "common").glob("*.py"))] + [
    "dataset/mnist.py"
]
OMITTED = {  # names of the book's modules that tinygrad_ko.book leaves out, and why
    "url_base": "the book's download address, which no longer serves the files",
    "dataset_dir": "where the book keeps its pickle cache; see tinygrad_ko.datasets.mnist_dir",
    "save_file": "the book's pickle cache of MNIST; tinygrad_ko reads the .gz files themselves",
}


def public_names(path):
    """The names a star import of the book's module gives: not private, not a module, and
    defined by the book (not imported from elsewhere, like OrderedDict)."""
    module = book_module(path)
    names = {}
    for name, value in vars(module).items():
        if name.startswith("_") or inspect.ismodule(value):
            continue
        if callable(value) and not getattr(value, "__module__", "").startswith("book."):
            continue
        names[name] = value
    return names


@pytest.mark.book
@pytest.mark.parametrize("path", MODULES)
def test_every_public_name_of_the_book_is_exported_with_its_signature(path):
    for name, theirs in public_names(path).items():
        if name in OMITTED:
            assert not hasattr(ours, name)
            continue
        assert name in ours.__all__, f"{path}: {name}"
        mine = getattr(ours, name)
        if not callable(theirs):
            assert mine == theirs, name
            continue
        same_signature(theirs, mine, f"{path}: {name}")
        for method, book_method in vars(theirs).items() if inspect.isclass(theirs) else ():
            if callable(book_method) and not method.startswith("_"):
                same_signature(book_method, getattr(mine, method), f"{path}: {name}.{method}")


def same_signature(theirs, mine, where):
    """The book's parameters in order with their names (their case aside: the book's X is our
    x) and defaults (train_flg: ours None means the layer's mode, True unless set); ours may
    add parameters after them, with defaults."""
    expected = inspect.signature(theirs).parameters
    got = inspect.signature(mine).parameters
    assert len(got) >= len(expected), where
    for (key, param), (my_key, my_param) in zip(expected.items(), got.items()):
        assert my_key.lower() == key.lower(), f"{where}({key})"
        ours_default = True if key == "train_flg" and my_param.default is None else my_param.default
        assert ours_default == param.default, f"{where}({key})"
    extra = list(got.values())[len(expected) :]
    assert all(p.default is not inspect.Parameter.empty for p in extra), where


def test_the_star_import_brings_numpy_as_the_books_does():
    namespace = {}
    exec("from tinygrad_ko.book import *", namespace)
    assert namespace["np"] is np and "load_mnist" in namespace and "Trainer" in namespace


@pytest.mark.mnist
@pytest.mark.parametrize("one_hot", [False, True])
def test_load_mnist_has_the_books_dtypes(one_hot):
    (x, t), (x_test, _) = ours.load_mnist(normalize=True, one_hot_label=one_hot)
    assert x.dtype == np.float32 and x.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert t.dtype == (np.float64 if one_hot else np.uint8)
    assert t.shape == ((60000, 10) if one_hot else (60000,))
    (raw, labels), _ = ours.load_mnist(normalize=False, flatten=False)
    assert raw.dtype == np.uint8 and raw.shape == (60000, 1, 28, 28)
    np.testing.assert_array_equal(t.argmax(axis=1) if one_hot else t, labels)


def test_the_chapters_own_modules():
    net4, net5 = ch04.TwoLayerNet(6, 4, 3), ch05.TwoLayerNet(6, 4, 3)
    assert (net4.activation, net5.activation) == ("sigmoid", "relu")
    assert net4.dtype == net5.dtype == np.float64
    x = np.random.default_rng(0).random((5, 6))
    np.testing.assert_allclose(net4.predict(x).sum(axis=1), 1.0)  # chapter 4: probabilities
    assert ch04.numerical_gradient(lambda p: np.sum(p**2), np.array([[3.0, 4.0]])).shape == (1, 2)
    apple, tax = ch05.MulLayer(), ch05.MulLayer()  # the book's buy_apple.py (5.4.1)
    price = tax.forward(apple.forward(100, 2), 1.1)
    dprice, dtax = tax.backward(1)
    dapple, dnum = apple.backward(dprice)
    assert (int(price), dapple, int(dnum), dtax) == (220, 2.2, 110, 200)
    add = ch05.AddLayer()
    assert add.forward(2, 3) == 5 and add.backward(1.5) == (1.5, 1.5)


def test_the_books_optimizers_take_their_arguments_by_position():
    assert ours.Momentum(0.2, 0.5).momentum == 0.5 and ours.Adam(0.1, 0.8).beta1 == 0.8
    params = {"x": -7.0}
    ours.RMSprop(0.1, 0.9).update(params, {"x": 1.0})
    assert params["x"] == pytest.approx(-7.0 - 0.1 / (np.sqrt(0.1) + 1e-7), rel=1e-12)


def test_the_books_trainer_takes_its_own_spelling_of_rmsprop():
    net = ours.MultiLayerNet(4, [3], 2)
    x, t = np.ones((10, 4)), np.zeros(10, dtype=int)
    trainer = ours.Trainer(net, x, t, x, t, optimizer="rmsprpo", verbose=False)
    assert type(trainer.optimizer).__name__ == "RMSprop" and trainer.optimizer.lr == 0.01
