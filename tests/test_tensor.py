"""The Tensor and the engine: recording, backward, accumulation, freeing, no_grad, custom ops."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest
from hypothesis import given

from tinygrad_ko import Function, Tensor, detect_anomaly, no_grad
from tinygrad_ko.testing.strategies import arrays, shapes


class Square(Function):
    def forward(self, x):
        self.x = x
        return x**2

    def backward(self, dout):
        return 2 * self.x * dout


class MulBook(Function):
    """The book's MulLayer (5.4.1) as a Function of two inputs."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return dout * self.y, dout * self.x


# --- the array it holds ----------------------------------------------------------------------


def test_tensor_wraps_arrays_lists_and_scalars():
    array = np.arange(6.0).reshape(2, 3)
    t = Tensor(array)
    assert t.data is array  # shared, not copied
    assert (t.shape, t.ndim, t.size, t.dtype) == ((2, 3), 2, 6, np.float64)
    assert t.numpy() is array
    assert Tensor([[1, 2]]).dtype == np.int64
    assert Tensor(2.5).item() == 2.5
    assert Tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert t.grad is None and not t.requires_grad


def test_repr_shows_values_dtype_and_where_it_came_from():
    assert repr(Tensor([1.0, 2.0], requires_grad=True)) == "Tensor([1., 2.], requires_grad=True)"
    y = Tensor(np.ones(2, np.float32), requires_grad=True) * 2
    assert repr(y) == "Tensor([2., 2.], dtype=float32, creator=Mul)"
    assert repr(Tensor(0.5, name="b")) == "Tensor(0.5, name='b')"
    with pytest.raises(TypeError, match="Tensor: name must be a string, got int"):
        Tensor(0.5, name=5)


def test_repr_of_a_large_tensor_fits_a_screen():
    data = np.random.default_rng(0).standard_normal((100, 784)).astype(np.float32)
    x = Tensor(data, requires_grad=True)
    text = repr(x)
    assert len(text.splitlines()) == 8  # three rows, "...", three rows; shape and dtype
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "..." in text and f"{data[-1, -1]:.4f}]]," in text  # the last corner is shown
    assert text.endswith("\n       shape=(100, 784), dtype=float32, requires_grad=True)")
    y = (x * 2).sum(axis=0)
    assert repr(y).endswith("],\n       shape=(784,), dtype=float32, creator=Sum)")
    images = repr(Tensor(np.zeros((100, 16, 28, 28), np.float32)))
    assert len(images.splitlines()) <= 30 and images.endswith(
        "shape=(100, 16, 28, 28), dtype=float32)"
    )
    assert "..." not in repr(Tensor(np.zeros((10, 10))))  # up to 100 elements: every value
    assert "shape" in repr(Tensor(np.zeros(101)))


def test_item_of_a_tensor_with_several_elements_is_an_error():
    with pytest.raises(ValueError, match="item: tensor has 3 elements"):
        Tensor([1.0, 2.0, 3.0]).item()


@pytest.mark.parametrize("data", [["a", "b"], [object()], {"x": 1}])
def test_non_numeric_data_is_refused(data):
    with pytest.raises(TypeError, match="Tensor: "):
        Tensor(data)


def test_an_integer_tensor_cannot_require_gradients():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        Tensor([1, 2, 3], requires_grad=True)
    t = Tensor([1, 2, 3])
    with pytest.raises(TypeError, match="dtype int64"):
        t.requires_grad = True


def test_conversions_learners_reach_for():
    t = Tensor([1.0, 2.0])
    assert [x.item() for x in t] == [1.0, 2.0]
    assert float(Tensor([[2.5]])) == 2.5
    np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0])
    assert np.asarray(t).dtype == np.float64
    assert bool(Tensor([0.0])) is False and bool(Tensor(3.0)) is True
    with pytest.raises(ValueError, match="truth value of a tensor with 2 elements is ambiguous"):
        bool(t)
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(Tensor(1.0))


def test_detach_shares_data_but_leaves_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    d = (x * 3).detach()
    assert not d.requires_grad and d._creator is None
    np.testing.assert_array_equal(d.data, [3.0, 6.0])


def test_numbers_keep_the_tensor_dtype_and_arrays_on_the_left_give_tensors():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    assert (x * 2).dtype == (2.5 - x).dtype == (x**2).dtype == np.float32
    y = np.arange(3.0) * x
    assert isinstance(y, Tensor) and y.requires_grad


# --- backward --------------------------------------------------------------------------------


@given(shapes().flatmap(arrays))
def test_backward_of_a_scalar_fills_leaf_gradients(a):
    x = Tensor(a, requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * a)
    assert x.grad.shape == x.shape


def test_backward_on_a_non_scalar_needs_a_gradient():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"only for a scalar output.*shape \(2, 3\)"):
        y.backward()
    with pytest.raises(
        ValueError, match=r"grad has shape \(3,\), but the tensor has shape \(2, 3\)"
    ):
        y.backward(np.ones(3))


def test_backward_with_a_gradient_on_a_non_scalar():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 30.0])


def test_gradients_accumulate_across_backward_calls():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0 + 3.0, 4.0 + 3.0])


def test_a_tensor_used_twice_gets_both_contributions():
    x = Tensor(3.0, requires_grad=True)
    y = x * x + x  # x feeds two nodes, and one node twice
    y.backward()
    assert x.grad == 2 * 3.0 + 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_gradient_of_a_0d_tensor_is_a_0d_array_also_when_summed_and_accumulated(dtype):
    x = Tensor(np.array(3.0, dtype), requires_grad=True)
    (x * x).backward()  # x feeds one node twice: 3 + 3, which NumPy gives as a scalar
    assert type(x.grad) is np.ndarray and x.grad.shape == () and x.grad.dtype == dtype
    (x * x).backward()  # accumulated: 6 + 6
    assert type(x.grad) is np.ndarray and x.grad.shape == () and x.grad.dtype == dtype
    assert x.grad == 12.0
    x.grad[...] = 0  # what one does with an array, as PyTorch's grad.zero_()
    assert x.grad == 0.0
    x.grad = np.float64(1.0)  # set by hand, in another dtype
    (x * x).backward()
    assert type(x.grad) is np.ndarray and x.grad.dtype == dtype and x.grad == 7.0
    x.grad = np.ones(2)
    with pytest.raises(ValueError, match=r"backward: .grad of a tensor of shape \(\) was set"):
        (x * x).backward()


def test_a_second_backward_through_a_freed_graph_is_an_error():
    x = Tensor(2.0, requires_grad=True)
    y = (x * x).exp()
    y.backward()
    with pytest.raises(RuntimeError, match=r"freed by an earlier backward.*retain_graph=True"):
        y.backward()


def test_retain_graph_keeps_it_for_another_backward():
    x = Tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == 8.0


def test_backward_frees_what_the_nodes_saved():
    class Saved(Function):
        def forward(self, x):
            self.big = np.ones(1000)
            self.ref = weakref.ref(self.big)
            return x * 1

        def backward(self, dout):
            return dout

    y = Saved()(Tensor(1.0, requires_grad=True))
    saved = y._creator.ref
    y.backward()
    gc.collect()
    assert saved() is None


def test_a_chain_of_100000_ops_backpropagates_without_recursion_error():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_leaf_gradients_do_not_share_memory():
    x, y = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    (x + y).reshape(3, 1).sum().backward()  # Add hands the same array to both inputs
    x.grad[0] = 99.0
    np.testing.assert_array_equal(y.grad, [1.0, 1.0, 1.0])


class BookRelu(Function):
    """The book's Relu, whose backward zeroes dout in place."""

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


def test_a_backward_rule_writing_into_dout_does_not_touch_other_gradients():
    a = Tensor([-1.0, 2.0, -3.0], requires_grad=True)
    b = Tensor([1.0, 1.0, 1.0], requires_grad=True)
    (BookRelu()(a) + b).backward(np.ones(3))  # Add hands one array to both inputs
    np.testing.assert_array_equal(b.grad, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(a.grad, [0.0, 1.0, 0.0])
    x = Tensor([-1.0, 2.0], requires_grad=True)
    BookRelu()(x).sum().backward()  # sum's gradient is a read-only broadcast view
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])


def test_retain_grad_keeps_an_intermediate_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = (x * 3).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad, 2 * h.data)
    np.testing.assert_array_equal(x.grad, 2 * h.data * 3)


# --- no_grad and inputs without gradients ----------------------------------------------------


def test_no_grad_records_nothing():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        y = x * 2
    assert not y.requires_grad and y._creator is None
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        y.backward()
    assert (x * 2).requires_grad  # recording is back after the block


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError), no_grad():
        raise ZeroDivisionError
    assert (Tensor([1.0], requires_grad=True) * 2).requires_grad


def test_inputs_that_do_not_require_gradients_get_none():
    x, w = Tensor([1.0, 2.0]), Tensor([3.0, 4.0], requires_grad=True)
    (x * w).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])


def test_a_node_knows_which_inputs_need_a_gradient():
    x, w = Tensor(np.ones((2, 3))), Tensor(np.ones((3, 4)), requires_grad=True)
    node = (x @ w)._creator
    assert node.needs_input_grad == (False, True)
    dx, dw = node.backward(np.ones((2, 4)))
    assert dx is None and dw.shape == (3, 4)  # the matmul for dx is not done at all


def test_nothing_is_recorded_when_no_input_requires_a_gradient():
    assert (Tensor([1.0]) * Tensor([2.0]))._creator is None


# --- custom ops ------------------------------------------------------------------------------


@given(shapes().flatmap(arrays))
def test_a_custom_function_works_on_tensors_and_on_arrays(a):
    x = Tensor(a, requires_grad=True)
    Square()(x).backward(np.ones(a.shape))
    book = Square()
    np.testing.assert_array_equal(book.forward(a), a**2)
    np.testing.assert_array_equal(book.backward(np.ones(a.shape)), x.grad)


def test_a_custom_function_of_two_inputs_returns_a_tuple():
    x, y = Tensor(2.0, requires_grad=True), Tensor(5.0, requires_grad=True)
    MulBook()(x, y).backward()
    assert (x.grad, y.grad) == (5.0, 2.0)


def test_one_function_instance_can_be_called_several_times_in_a_graph():
    square = Square()
    x = Tensor(3.0, requires_grad=True)
    square(square(x)).backward()  # d(x^4)/dx = 4x^3
    assert x.grad == 4 * 27


def test_a_wrong_gradient_shape_names_the_function_the_input_and_both_shapes():
    class Bad(Function):
        def forward(self, x, y):
            return x + y

        def backward(self, dout):
            return dout, dout  # forgot to sum the broadcast y back

    x, y = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    out = Bad()(x, y).sum()
    with pytest.raises(
        ValueError,
        match=r"Bad.backward: the gradient for input 1 has shape \(2, 3\), "
        r"but input 1 has shape \(3,\)",
    ):
        out.backward()


def test_too_few_gradients_for_inputs_that_need_them_is_an_error():
    class Short(Function):
        def forward(self, x, y):
            return x * y

        def backward(self, dout):
            return dout

    out = Short()(Tensor(1.0, requires_grad=True), Tensor(2.0, requires_grad=True))
    with pytest.raises(ValueError, match=r"Short.backward returned 1 gradient\(s\).*2 input"):
        out.backward()


def test_a_function_can_declare_its_weights_on_the_instance():
    class Scale(Function):
        def __init__(self, w):
            self.w, self.param_names = w, ("w",)

        def forward(self, x):
            self.x = x
            return x * self.w

        def backward(self, dout):
            self.dw = (dout * self.x).sum(keepdims=True).reshape(self.w.shape)
            return dout * self.w

    w = Tensor([5.0], requires_grad=True)
    Scale(w)(Tensor([1.0, 2.0])).sum().backward()
    np.testing.assert_array_equal(w.grad, [1.0 + 2.0])


def test_backward_may_return_any_tuple_or_a_list():
    from typing import NamedTuple

    class Pair(NamedTuple):
        dx: np.ndarray
        dy: np.ndarray

    class Mul(MulBook):
        def backward(self, dout):
            return Pair(dout * self.y, dout * self.x)

    x, y = Tensor(2.0, requires_grad=True), Tensor(5.0, requires_grad=True)
    Mul()(x, y).backward()
    assert (x.grad, y.grad) == (5.0, 2.0)


def test_forward_sees_which_inputs_want_a_gradient():
    seen = []

    class Look(Function):
        def forward(self, x, y):
            seen.append(self.needs_input_grad)
            return x + y

        def backward(self, dout):
            return dout, dout

    a, b = Tensor(1.0, requires_grad=True), Tensor(2.0)
    Look()(a, b)
    with no_grad():
        Look()(a, b)
    Look().forward(np.ones(1), np.ones(1))
    assert seen == [(True, False), (False, False), None]  # recorded, not recorded, book way


def test_forward_must_return_numbers():
    class Text(Function):
        def forward(self, x):
            return np.array(["a"])

    with pytest.raises(TypeError, match=r"Text\.forward returned dtype <U1"):
        Text()(Tensor(1.0))


def test_a_tensor_reached_before_its_other_user_still_gets_every_contribution():
    # r = f(c, a) with a = g(c): a walk that lists c when it first meets it, before a, would
    # run c's backward with a's share missing
    x = Tensor(2.0, requires_grad=True)
    c = x * 3
    a = c.exp()
    (c * a).backward()  # d/dx (3x·e^{3x}) = 3e^{3x} + 9x·e^{3x}
    assert x.grad == pytest.approx(3 * np.exp(6) + 18 * np.exp(6))


# --- bad input is named where it happens ------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "kind", "message"),
    [
        (lambda x: x + "a", TypeError, r"add: argument 1 must be a tensor or numbers, got str 'a'"),
        (
            lambda x: x * None,
            TypeError,
            r"mul: argument 1 must be a tensor or numbers, got NoneType",
        ),
        (lambda x: x @ {"a": 1}, TypeError, r"matmul: argument 1 must be a tensor or numbers"),
        (lambda x: x[1.5], IndexError, r"getitem: only integers.*\(inputs: float64 \(2, 3\)\)"),
        (lambda x: Tensor([True]) - Tensor([False]), TypeError, r"sub: .*boolean subtract"),
        (lambda x: x.mean(axis=0)[:0].mean(), ValueError, r"mean: no elements to average"),
    ],
)
def test_bad_input_names_the_operation_and_what_it_got(call, kind, message):
    with pytest.raises(kind, match=message) as failure:
        call(Tensor(np.ones((2, 3)), requires_grad=True))
    assert failure.value.__cause__ is None  # no NumPy traceback chained behind it


def test_a_users_function_keeps_its_own_errors():
    class Broken(Function):
        def forward(self, x):
            raise ValueError("my own bug")

    with pytest.raises(ValueError, match=r"^my own bug$"):
        Broken()(Tensor(1.0))


# --- detect_anomaly -----------------------------------------------------------------------------


def test_detect_anomaly_names_the_op_and_the_users_line_in_forward():
    x = Tensor([1.0, 0.0], requires_grad=True)
    with (
        detect_anomaly(),
        pytest.raises(FloatingPointError) as failure,
        np.errstate(divide="ignore"),
    ):
        x.log()  # the line named below
    message = str(failure.value)
    assert message.startswith("log produced inf in its forward pass; it was called at ")
    assert f"{__file__}:" in message and "in test_detect_anomaly_names_the_op" in message


def test_detect_anomaly_names_the_op_whose_backward_made_nan_or_inf():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = (x**0.5).sum()  # d/dx sqrt(x) at 0 is inf
        expected = r"pow.backward produced inf in the gradient"
        with pytest.raises(FloatingPointError, match=expected), np.errstate(divide="ignore"):
            y.backward()


def test_outside_detect_anomaly_nothing_is_checked():
    with np.errstate(divide="ignore"):
        assert Tensor([0.0]).log().item() == -np.inf


# --- long runs ----------------------------------------------------------------------------------


def test_two_thousand_training_steps_keep_memory_flat_and_leave_no_cycles():
    from tinygrad_ko.models import TwoLayerNet
    from tinygrad_ko.optim import SGD

    rng = np.random.default_rng(0)
    x, t = rng.random((500, 784), dtype=np.float32), rng.integers(0, 10, 500)
    net = TwoLayerNet(784, 50, 10, activation="relu", seed=0)
    optimizer = SGD(net.parameters(), lr=0.1)

    def steps(n):
        for _ in range(n):
            batch = rng.integers(0, 500, 100)
            optimizer.zero_grad()
            loss = net.forward(x[batch], t[batch])
            loss.backward()
            optimizer.step()
        return weakref.ref(loss._creator)  # the last step's graph

    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        steps(200)
        warm, _ = tracemalloc.get_traced_memory()
        last = steps(2000)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    assert after - warm < 32_000  # bytes, over 2,000 steps: nothing per step stays behind
    assert last() is None  # the graph went with the step, by reference counting alone
    assert gc.collect() == 0  # and no reference cycle was made
