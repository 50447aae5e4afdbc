"""The chapter-6 optimizers: the book's update and PyTorch's step agree with the book's formulas,
update in place, and allocate nothing per step."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_ko import Tensor
from tinygrad_ko.optim import SGD, AdaGrad, Adam, Momentum
from tinygrad_ko.testing.strategies import arrays, shapes


def reference(name, lr, steps):
    """The book's update rules (6.1), written out with plain NumPy temporaries."""
    p = steps[0][0].copy()
    v = m = h = np.zeros_like(p)
    for t, (_, g) in enumerate(steps, start=1):
        if name == "SGD":
            p = p - lr * g
        elif name == "Momentum":
            v = 0.9 * v - lr * g
            p = p + v
        elif name == "AdaGrad":
            h = h + g * g
            p = p - lr * g / (np.sqrt(h) + 1e-7)
        else:
            m = m + 0.1 * (g - m)
            v = v + 0.001 * (g * g - v)
            p = p - lr * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (np.sqrt(v) + 1e-7)
    return p


OPTIMIZERS = {"SGD": SGD, "Momentum": Momentum, "AdaGrad": AdaGrad, "Adam": Adam}


@pytest.mark.parametrize("name", OPTIMIZERS)
@settings(max_examples=20)
@given(data=st.data())
def test_both_forms_follow_the_books_formula(name, data):
    shape = data.draw(shapes())
    start = data.draw(arrays(shape))
    grads = [data.draw(arrays(shape)) for _ in range(4)]
    expected = reference(name, 0.05, [(start, g) for g in grads])

    book_params, book = {"W": start.copy()}, OPTIMIZERS[name](lr=0.05)
    W = Tensor(start.copy(), requires_grad=True)
    torch_like = OPTIMIZERS[name]([W], lr=0.05)
    array = book_params["W"]
    for g in grads:
        book.update(book_params, {"W": g})
        torch_like.zero_grad()
        W.grad = g
        torch_like.step()
    assert book_params["W"] is array  # updated in place
    np.testing.assert_allclose(book_params["W"], expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(W.data, book_params["W"])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_step_allocates_nothing_once_the_state_exists(name):
    rng = np.random.default_rng(0)
    W = Tensor(rng.standard_normal((784, 50)).astype(np.float32), requires_grad=True)
    W.grad = rng.standard_normal((784, 50)).astype(np.float32)
    optimizer = OPTIMIZERS[name]([W], lr=0.01)
    optimizer.step()  # creates the state
    tracemalloc.start()
    try:
        optimizer.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2000  # bytes: a few small Python objects, no array (one would be 157 kB)
    assert W.data.dtype == np.float32


def test_zero_grad_and_parameters_without_a_gradient():
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    optimizer = SGD([a, b], lr=0.5)
    a.grad = np.array([2.0])
    optimizer.step()
    assert a.item() == 0.0 and b.item() == 1.0  # b had no gradient: left alone
    optimizer.zero_grad()
    assert a.grad is None and b.grad is None


def test_the_books_positional_learning_rate_and_defaults():
    assert SGD(0.3).lr == 0.3 and SGD().lr == 0.01 and Adam().lr == 0.001
    assert SGD(np.float32(0.1)).lr == np.float32(0.1)
    assert Momentum(0.01, momentum=0.5).momentum == 0.5


@pytest.mark.parametrize("call", [lambda: Momentum(0.01, 0.5), lambda: Adam(0.001, 0.8, 0.99)])
def test_ambiguous_positional_numbers_are_refused_not_misread(call):
    with pytest.raises(TypeError, match="takes the learning rate first and the rest by name"):
        call()


def test_misuse_is_explained():
    with pytest.raises(TypeError, match=r"SGD.step: no parameters.*update\(params, grads\)"):
        SGD(lr=0.1).step()
    with pytest.raises(TypeError, match="params must be tensors"):
        SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match=r"gradient for W parameter has shape \(3,\)"):
        SGD(lr=0.1).update({"W": np.zeros(2)}, {"W": np.zeros(3)})


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_descends_a_bowl(name):
    x = Tensor(np.array([-3.0, 4.0]), requires_grad=True)
    lr = {"SGD": 0.1, "Momentum": 0.1, "AdaGrad": 1.0, "Adam": 0.3}[name]  # AdaGrad's steps shrink
    optimizer = OPTIMIZERS[name]([x], lr=lr)
    for _ in range(200):
        optimizer.zero_grad()
        (x * x).sum().backward()
        optimizer.step()
    assert np.abs(x.data).max() < 0.3
