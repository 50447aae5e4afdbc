"""The chapter-6 optimizers: the book's update gives the book's own numbers (its
common/optimizer.py, for arrays and for numbers), PyTorch's step takes the same steps, both
update in place and allocate nothing per step."""

import tracemalloc

import numpy as np
import pytest
from book import book_module
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_ko import Tensor
from tinygrad_ko.optim import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop
from tinygrad_ko.testing.strategies import arrays, shapes

OPTIMIZERS = {
    cls.__name__: cls for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam)
}  # the book's common/optimizer.py, all of it
KINDS = {  # (parameter, gradient) as the book's scripts pass them: arrays, and numbers
    "array": (np.array, np.array),
    "0-d array": (lambda a: np.array(a.flat[0]), lambda a: np.array(a.flat[0])),
    "NumPy scalar": (lambda a: np.float64(a.flat[0]), lambda a: np.float64(a.flat[0])),
    "Python float": (lambda a: float(a.flat[0]), lambda a: float(a.flat[0])),
    "float32 array": (lambda a: a.astype(np.float32), lambda a: a.astype(np.float32)),
    # a float32 network's numerical_gradient is float64: NumPy promotes, as in the book
    "float32 array, float64 gradient": (lambda a: a.astype(np.float32), np.array),
}


@pytest.mark.book
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", OPTIMIZERS)
@settings(max_examples=10)
@given(data=st.data())
def test_update_gives_the_books_values_over_many_steps(name, kind, data):
    book = book_module("common/optimizer.py")
    shape = data.draw(shapes(min_dims=1)) if "array" in kind and kind != "0-d array" else ()
    lr = data.draw(st.sampled_from([0.01, 0.1, 0.95]))
    start = {key: data.draw(arrays(shape)) for key in ("x", "y")}
    ours, theirs = OPTIMIZERS[name](lr=lr), getattr(book, name)(lr=lr)
    make_param, make_grad = KINDS[kind]
    params = {key: make_param(value) for key, value in start.items()}
    book_params = {key: make_param(value) for key, value in start.items()}
    before = dict(params)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    for _ in range(100):
        grads = {key: make_grad(rng.standard_normal(shape)) for key in start}
        theirs.update(book_params, grads)
        ours.update(params, grads)
    for key in start:
        if name == "Adam" and "float32" in kind:  # see Adam's docstring: float32 stays float32
            np.testing.assert_allclose(params[key], book_params[key], rtol=1e-5, atol=1e-6)
        else:  # bit for bit: the same operations, in the same order and dtypes as the book's
            np.testing.assert_array_equal(params[key], book_params[key])
        if isinstance(before[key], np.ndarray):
            assert params[key] is before[key] and params[key].dtype == before[key].dtype
        else:
            assert type(params[key]) is type(before[key])  # a number stays a number


def test_a_number_parameter_is_updated_not_left_alone():
    params = {"x": np.float64(-7.0)}
    SGD(lr=0.95).update(params, {"x": np.float64(-0.7)})
    assert params["x"] == -7.0 - 0.95 * -0.7  # the book's -6.335
    params = {"x": -7.0, "y": 2}
    SGD(lr=0.95).update(params, {"x": -0.7, "y": 1.0})
    assert params == {"x": -7.0 - 0.95 * -0.7, "y": 2 - 0.95}


@pytest.mark.parametrize("name", OPTIMIZERS)
@settings(max_examples=10)
@given(data=st.data())
def test_both_forms_take_the_same_steps(name, data):
    shape = data.draw(shapes())
    start = data.draw(arrays(shape))
    grads = [data.draw(arrays(shape)) for _ in range(4)]
    params, book_form = {"W": start.copy()}, OPTIMIZERS[name](lr=0.05)
    W = Tensor(start.copy(), requires_grad=True)
    torch_form = OPTIMIZERS[name]([W], lr=0.05)
    for g in grads:
        book_form.update(params, {"W": g})
        torch_form.zero_grad()
        W.grad = g
        torch_form.step()
    np.testing.assert_array_equal(W.data, params["W"])


@pytest.mark.book
def test_one_sgd_updates_any_params_as_the_books_does():
    book = book_module("common/optimizer.py")
    rng = np.random.default_rng(0)
    nets = [{"W": rng.standard_normal((3, 2))}, {"W": rng.standard_normal(4)}, {"W": 1.5}]
    book_nets = [{"W": np.copy(net["W"]) if np.ndim(net["W"]) else net["W"]} for net in nets]
    ours, theirs = SGD(lr=0.1), book.SGD(lr=0.1)
    for _ in range(3):
        for net, book_net in zip(nets, book_nets):
            grads = {"W": rng.standard_normal(np.shape(net["W"]))}
            ours.update(net, grads)
            theirs.update(book_net, grads)
    for net, book_net in zip(nets, book_nets):
        np.testing.assert_array_equal(net["W"], book_net["W"])


@pytest.mark.parametrize("name", [name for name in OPTIMIZERS if name != "SGD"])
def test_a_stateful_optimizer_given_another_shape_names_the_parameter_and_both(name):
    optimizer = OPTIMIZERS[name](lr=0.1)
    optimizer.update({"W1": np.ones((3, 2))}, {"W1": np.ones((3, 2))})
    expected = rf"{name}: parameter 'W1' has shape \(4,\), but the state .* has shape \(3, 2\)"
    with pytest.raises(ValueError, match=expected):
        optimizer.update({"W1": np.ones(4)}, {"W1": np.ones(4)})
    W = Tensor(np.ones(2), requires_grad=True, name="W")
    W.grad = np.ones(2)
    torch_form = OPTIMIZERS[name]([W], lr=0.1)
    torch_form.step()
    W.data = np.ones(5)  # the tensor now holds another array
    W.grad = np.ones(5)
    with pytest.raises(ValueError, match=rf"{name}: parameter 'W' has shape \(5,\)"):
        torch_form.step()


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("form", ["update", "step"])
def test_a_step_allocates_nothing_once_the_state_exists(name, form):
    rng = np.random.default_rng(0)
    W = Tensor(rng.standard_normal((784, 50)).astype(np.float32), requires_grad=True)
    W.grad = rng.standard_normal((784, 50)).astype(np.float32)
    array = W.data
    if form == "step":
        optimizer = OPTIMIZERS[name]([W], lr=0.01)
        step = optimizer.step
    else:
        optimizer = OPTIMIZERS[name](lr=0.01)
        params, grads = {"W": W.data}, {"W": W.grad}
        step = lambda: optimizer.update(params, grads)  # noqa: E731
    step()  # creates the state
    tracemalloc.start()
    try:
        step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2000  # bytes: a few small Python objects, no array (one would be 157 kB)
    assert W.data is array and W.data.dtype == np.float32


def test_zero_grad_and_parameters_without_a_gradient():
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    optimizer = SGD([a, b], lr=0.5)
    a.grad = np.array([2.0])
    optimizer.step()
    assert a.item() == 0.0 and b.item() == 1.0  # b had no gradient: left alone
    optimizer.zero_grad()
    assert a.grad is None and b.grad is None


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: SGD(0.3), 1.0 - 0.3 * 2.0),  # the learning rate first, as the book passes it
        (lambda: SGD(), 1.0 - 0.01 * 2.0),  # the book's defaults: 0.01, and 0.001 for Adam
        (lambda: Adam(), 1.0 - 0.001 * 0.001**0.5 / 0.1 * 0.2 / (0.004**0.5 + 1e-7)),
        # two steps, so momentum counts: v = -0.02, then v = 0.5·v - 0.02
        (lambda: Momentum(0.01, momentum=0.5), 1.0 - 0.02 + (0.5 * -0.02 - 0.02)),
    ],
)
def test_the_books_positional_learning_rate_and_defaults(make, expected):
    params, optimizer = {"W": np.array([1.0])}, make()
    for _ in range(2 if isinstance(optimizer, Momentum) else 1):
        optimizer.update(params, {"W": np.array([2.0])})  # from 1, with gradient 2
    assert params["W"][0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("call", [lambda: Momentum(0.01, 0.5), lambda: Adam(0.001, 0.8, 0.99)])
def test_ambiguous_positional_numbers_are_refused_not_misread(call):
    with pytest.raises(TypeError, match="takes the learning rate first and the rest by name"):
        call()


def test_a_bad_entry_anywhere_changes_nothing():
    params = {"a": np.ones(2), "b": np.ones(3)}
    optimizer = Momentum(lr=0.1)
    with pytest.raises(ValueError, match="parameter 'b' is float64 \\(2,\\), the parameter"):
        optimizer.update(params, {"a": np.ones(2), "b": np.ones(2)})
    with pytest.raises(KeyError, match="Momentum: grads has no gradient for parameter 'b'"):
        optimizer.update(params, {"a": np.ones(2)})
    np.testing.assert_array_equal(params["a"], [1.0, 1.0])  # 'a' was not stepped either time
    assert optimizer.state == {}


def test_misuse_is_explained():
    with pytest.raises(TypeError, match=r"SGD.step: no parameters.*update\(params, grads\)"):
        SGD(lr=0.1).step()
    with pytest.raises(TypeError, match="params must be tensors"):
        SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match=r"gradient for parameter 'W' is float64 \(3,\), the"):
        SGD(lr=0.1).update({"W": np.zeros(2)}, {"W": np.zeros(3)})
    with pytest.raises(TypeError, match=r"parameter 'W' must be a writable float array.* int64"):
        SGD(lr=0.1).update({"W": np.zeros(2, np.int64)}, {"W": np.zeros(2)})
    with pytest.raises(TypeError, match=r"parameter 'W' must be a writable float array.*read-only"):
        SGD(lr=0.1).update({"W": np.broadcast_to(0.0, (2,))}, {"W": np.zeros(2)})
    with pytest.raises(TypeError, match=r"Adam: parameter 'W' must be a NumPy array or a number"):
        Adam().update({"W": [1.0, 2.0]}, {"W": [0.0, 0.0]})


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_descends_a_bowl(name):
    x = Tensor(np.array([-3.0, 4.0]), requires_grad=True)
    lr = {"AdaGrad": 1.0, "RMSprop": 0.1, "Adam": 0.3}.get(name, 0.1)  # AdaGrad's steps shrink
    optimizer = OPTIMIZERS[name]([x], lr=lr)
    for _ in range(200):
        optimizer.zero_grad()
        (x * x).sum().backward()
        optimizer.step()
    assert np.abs(x.data).max() < 0.3
