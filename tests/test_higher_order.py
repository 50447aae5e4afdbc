"""Gradients of gradients (book 3, steps 33-36; PyTorch's create_graph): backward with
create_graph=True, grad(), enable_grad, once-differentiable Functions, and second derivatives of
whole networks (Hessian-vector products) against central differences of first derivatives.
Each op's own second rule is checked in the op table (test_ops.py)."""

import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_ko import Function, Tensor, enable_grad, grad, gradgradcheck, no_grad
from tinygrad_ko.conv import Convolution, Pooling
from tinygrad_ko.convnets import SimpleConvNet
from tinygrad_ko.gradcheck import GradcheckError
from tinygrad_ko.models import MultiLayerNetExtend, TwoLayerNet
from tinygrad_ko.normalization import BatchNormalization
from tinygrad_ko.viz import to_dot


def test_newtons_method_with_the_second_derivative_by_backprop_gives_book_3s_iterates():
    """Step 33: y = x⁴ - 2x², x ← x - y'/y'', from x = 2, both derivatives by backprop."""
    x = Tensor(np.array(2.0), requires_grad=True)
    iterates = []
    for _ in range(10):
        iterates.append(float(x.data))
        y = x**4 - 2 * x**2
        x.grad = None
        y.backward(create_graph=True)
        gx = x.grad
        x.grad = None
        gx.backward()
        x.data = x.data - gx.data / x.grad
    assert [repr(v) for v in iterates] == [
        "2.0", "1.4545454545454546", "1.1510467893775467", "1.0253259289766978",
        "1.0009084519430513", "1.0000012353089454", "1.000000000002289", "1.0", "1.0", "1.0",
    ]  # fmt: skip


def test_double_backprop_of_book_3_step_36():
    """y = x², gx = dy/dx = 2x, z = gx³ + y; dz/dx = 3·gx²·2 + 2x = 24x² + 2x = 100 at x = 2."""
    x = Tensor(np.array(2.0), requires_grad=True)
    y = x**2
    y.backward(create_graph=True)
    gx = x.grad
    x.grad = None
    (gx**3 + y).backward()
    assert type(x.grad) is np.ndarray and x.grad == 100.0


def derivatives(f, x, order):
    """[f'(x), f''(x), ...] elementwise, each by backprop of the one before (step 35's loop)."""
    found, y = [], f(x)
    for _ in range(order):
        (y,) = grad(y.sum(), [x], create_graph=True)
        found.append(y.data)
    return found


def test_tanh_derivatives_one_to_four_at_1_are_the_closed_forms():
    t = np.tanh(1.0)
    closed = [1 - t**2, -2 * t * (1 - t**2), -2 * (1 - t**2) * (1 - 3 * t**2),
              8 * t * (1 - t**2) * (2 - 3 * t**2)]  # fmt: skip
    found = derivatives(Tensor.tanh, Tensor(np.array(1.0), requires_grad=True), 4)
    np.testing.assert_allclose(found, closed, rtol=1e-14)


def test_sin_derivatives_are_cos_minus_sin_minus_cos_on_200_points():
    points = np.linspace(-7, 7, 200)
    found = derivatives(Tensor.sin, Tensor(points, requires_grad=True), 3)
    np.testing.assert_allclose(found, [np.cos(points), -np.sin(points), -np.cos(points)], atol=0)


def test_the_gradient_is_a_tensor_with_a_graph_only_under_create_graph():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    (x.tanh() * x).sum().backward()
    assert type(x.grad) is np.ndarray
    first = x.grad
    x.grad = None
    y = (x.tanh() * x).sum()
    y.backward(create_graph=True)
    assert isinstance(x.grad, Tensor) and x.grad.requires_grad
    np.testing.assert_array_equal(x.grad.data, first)
    y.backward()  # retain_graph defaulted to True: the graph is there for another walk
    np.testing.assert_allclose(x.grad.data, 2 * first)


def test_draw_graph_of_a_derivative_shows_the_ops_of_the_derivative():
    x = Tensor(np.array(1.0), requires_grad=True, name="x")
    x.sin().backward(create_graph=True)
    dot = to_dot(x.grad)
    assert '"cos"' in dot and '"mul"' in dot and '"sin"' not in dot
    assert 'label="x\\n() float64"' in dot


# --- grad() ------------------------------------------------------------------------------------


def test_grad_returns_gradients_and_leaves_every_grad_alone():
    x, w = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, -1.0], requires_grad=True)
    x.grad = np.array([5.0, 5.0])
    gx, gw = grad((x * w).sum(), [x, w])
    np.testing.assert_array_equal(gx.data, w.data)
    np.testing.assert_array_equal(gw.data, x.data)
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])
    assert w.grad is None


class Boom(Function):
    def forward(self, x):
        return x * 2

    def backward(self, dout):
        raise AssertionError("grad walked a part of the graph that does not lead to its inputs")


def test_grad_walks_only_the_part_of_the_graph_that_leads_to_its_inputs():
    x, w = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, -1.0], requires_grad=True)
    (gw,) = grad((Boom()(x) * w).sum(), [w])
    np.testing.assert_array_equal(gw.data, [2.0, 4.0])


def test_grad_of_several_outputs_adds_their_gradients():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (g,) = grad([(x * x).sum(), x.sum() * 3], [x], grad_outputs=[None, Tensor(2.0)])
    np.testing.assert_array_equal(g.data, 2 * x.data + 6)


def test_double_vjp_differentiates_a_vector_jacobian_product_by_its_vector():
    """Jᵀv with v in the graph, then the gradient of (Jᵀv)·u by v: J u (a forward-mode product)."""
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal(3), requires_grad=True)
    A = rng.standard_normal((4, 3))

    def f(x):
        return (Tensor(A) @ x).tanh()

    v, u = Tensor(np.zeros(4), requires_grad=True), rng.standard_normal(3)
    (jtv,) = grad(f(x), [x], grad_outputs=v, create_graph=True)
    (ju,) = grad((jtv * u).sum(), [v])
    jacobian = (1 - np.tanh(A @ x.data) ** 2)[:, None] * A
    np.testing.assert_allclose(ju.data, jacobian @ u, rtol=1e-12)


def test_grad_says_what_is_wrong():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for a scalar output.*shape \(2,\)"):
        grad(x * 2, [x])
    unused = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad: input 1 .* not used .* allow_unused=True"):
        grad((x * 2).sum(), [x, unused])
    assert grad((x * 2).sum(), [x, unused], allow_unused=True)[1] is None
    with pytest.raises(RuntimeError, match=r"grad: input 0 .* does not require a gradient"):
        grad((x * 2).sum(), [Tensor([1.0])])
    with pytest.raises(ValueError, match=r"grad: 2 grad_outputs for 1 outputs"):
        grad((x * 2).sum(), [x], grad_outputs=[None, None])


def test_a_second_backward_through_a_freed_graph_says_retain_graph():
    x = Tensor(np.array(1.5), requires_grad=True)
    x.tanh().backward(create_graph=True, retain_graph=False)  # its gradient uses tanh's output
    gx = x.grad
    x.grad = None
    with pytest.raises(RuntimeError, match=r"freed by an earlier backward.*retain_graph=True"):
        gx.backward()


def test_enable_grad_records_inside_no_grad_and_create_graph_records_there_too():
    x = Tensor(np.array(2.0), requires_grad=True)
    with no_grad():
        assert not (x * x).requires_grad
        with enable_grad():
            y = x * x * x
        assert y.requires_grad
        y.backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.data == 12.0


# --- Functions written by users -----------------------------------------------------------------


class CubeOnArrays(Function):
    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, dout):
        return 3 * self.x**2 * dout


class Cube(CubeOnArrays):
    def backward_graph(self, dout, out):
        x = self.inputs[0]
        return 3 * x * x * dout


def test_a_function_with_only_an_array_rule_is_once_differentiable_and_says_so():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    CubeOnArrays()(x).sum().backward(create_graph=True)
    np.testing.assert_array_equal(x.grad.data, [3.0, 12.0])  # first order is right
    gx = x.grad
    x.grad = None
    with pytest.raises(
        RuntimeError, match=r"CubeOnArrays.backward works on arrays.*backward_graph"
    ):
        gx.sum().backward()


def test_a_function_with_a_rule_in_tensors_is_differentiable_to_any_order():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    found = derivatives(lambda t: Cube()(t), x, 3)
    np.testing.assert_array_equal(found, [3 * x.data**2, 6 * x.data, [6.0, 6.0]])
    assert gradgradcheck(lambda t: Cube()(t), [x])


def test_gradgradcheck_catches_a_wrong_second_rule_and_names_it():
    class WrongCube(CubeOnArrays):
        def backward_graph(self, dout, out):
            x = self.inputs[0]
            return 3 * x * dout * x.data  # x² with one factor a constant: wrong second order

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(
        GradcheckError,
        match=r"^gradgradcheck: the gradient of the gradient.*"
        r"the gradient for input 0, element \(\d,\)",
    ):
        gradgradcheck(lambda t: WrongCube()(t), [x])
    assert not gradgradcheck(lambda t: WrongCube()(t), [x], raise_exception=False, fast_mode=True)


# --- third order through the convolution and pooling layers --------------------------------------


def directional(f, xs, vs, order):
    """D^order f(xs)[vs, ..., vs], the derivative along vs taken `order` times, by backprop."""
    with enable_grad():
        y = f(*xs)
        for _ in range(order):
            grads = grad(y, xs, create_graph=True, allow_unused=True)
            y = sum((g * v).sum() for g, v in zip(grads, vs) if g is not None)
    return float(y.data)


@pytest.mark.parametrize(
    ("layer", "size"),
    [
        (lambda x, W, b: Convolution(W, b, stride=2, pad=1)(x), 7),
        (lambda x, W, b: Pooling(2, 2, stride=2)(Convolution(W, b, pad=1)(x)), 6),
        (lambda x, W, b: Pooling(3, 3, stride=1, pad=1)(Convolution(W, b)(x)), 6),
    ],
    ids=["Convolution", "Pooling (tiled)", "Pooling (overlapping, padded)"],
)
def test_third_derivatives_through_convolution_and_pooling_match_differences(layer, size):
    rng = np.random.default_rng(3)
    shapes = [(2, 2, size, size), (3, 2, 3, 3), (3,)]
    xs = [Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    vs = [rng.standard_normal(s) for s in shapes]

    def f(*ts):
        return (layer(*ts).tanh() ** 2).sum()

    h = 1e-6  # the difference's error is O(h²): 1e-4 leaves 1e-5 of it
    moved = [
        directional(f, [Tensor(x.data + s * h * v, requires_grad=True) for x, v in zip(xs, vs)],
                    vs, 2)
        for s in (1, -1)
    ]  # fmt: skip
    third = directional(f, xs, vs, 3)
    assert third == pytest.approx((moved[0] - moved[1]) / (2 * h), rel=1e-8)


# --- whole networks: Hessian-vector products and a gradient penalty --------------------------


def hessian_vector_product(net, x, t, v):
    """H v for the loss's Hessian H in the weights, by double backprop."""
    params = list(net.parameters())
    grads = grad(net.forward(x, t), params, create_graph=True)
    (hv,) = [grad(sum((g * Tensor(v[k])).sum() for g, k in zip(grads, net.params)), params)]
    return dict(zip(net.params, (h.data for h in hv)))


def hold_masks_fixed(net):
    """A function that puts the network's random generator back, so each forward draws the same
    dropout masks."""
    state = net.rng.bit_generator.state

    def restore():
        net.rng.bit_generator.state = state

    return restore


@pytest.mark.parametrize(
    "make",
    [
        lambda: TwoLayerNet(6, 5, 3, weight_init_std=0.5, dtype=np.float64, seed=1),
        lambda: MultiLayerNetExtend(
            6,
            [5, 4],
            3,
            use_batchnorm=True,
            use_dropout=True,
            dropout_ratio=0.3,
            weight_decay_lambda=0.1,
            dtype=np.float64,
            seed=2,
        ),
        lambda: SimpleConvNet(
            (1, 6, 6),
            {"filter_num": 3, "filter_size": 3, "pad": 0, "stride": 1},
            hidden_size=5,
            output_size=3,
            weight_init_std=0.5,
            dtype=np.float64,
            seed=3,
        ),
    ],
    ids=["TwoLayerNet", "MultiLayerNetExtend", "SimpleConvNet"],
)
def test_hessian_vector_products_of_networks_match_differences_and_are_symmetric(make):
    net = make()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 36) if isinstance(net, SimpleConvNet) else (4, 6))
    x = x.reshape(4, 1, 6, 6) if isinstance(net, SimpleConvNet) else x
    t = np.array([0, 1, 2, 1])
    u, v = ({k: rng.standard_normal(p.shape) for k, p in net.params.items()} for _ in range(2))
    restore = hold_masks_fixed(net)
    restore()
    hv = hessian_vector_product(net, x, t, v)
    restore()
    hu = hessian_vector_product(net, x, t, u)

    h, originals = 1e-5, {k: p.copy() for k, p in net.params.items()}
    moved = []
    for s in (1, -1):
        for k, p in net.params.items():
            p[...] = originals[k] + s * h * v[k]
        restore()
        moved.append(net.gradient(x, t))
    for k, p in net.params.items():
        p[...] = originals[k]
    for k in net.params:
        np.testing.assert_allclose(
            hv[k], (moved[0][k] - moved[1][k]) / (2 * h), rtol=1e-5, atol=1e-8, err_msg=k
        )
    u_hv = sum(np.vdot(u[k], hv[k]) for k in net.params)
    v_hu = sum(np.vdot(v[k], hu[k]) for k in net.params)
    assert u_hv == pytest.approx(v_hu, rel=1e-10)


def test_batch_normalizations_hessian_is_the_true_one():
    """μ and σ² depend on x: differentiating the gradient with 1/σ held constant (DeZero's rule)
    gives another Hessian; ours matches central differences of the gradient."""
    rng = np.random.default_rng(5)
    x0, gamma, beta = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.standard_normal(3)
    w, v = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))

    def gradient(x, create_graph=False):
        x = x if isinstance(x, Tensor) else Tensor(x, requires_grad=True)
        y = BatchNormalization(gamma, beta)(x, train_flg=True)
        return grad(((y * y).sum() * 0.5 + (y * w).sum()), [x], create_graph=create_graph)[0]

    x = Tensor(x0, requires_grad=True)
    (hv,) = grad((gradient(x, create_graph=True) * v).sum(), [x])
    h = 1e-5
    central = (gradient(x0 + h * v).data - gradient(x0 - h * v).data) / (2 * h)
    np.testing.assert_allclose(hv.data, central, rtol=1e-6, atol=1e-9)


def test_a_gradient_penalty_trains_a_float32_network_in_float32():
    """loss + λ‖∂loss/∂x‖², as WGAN-GP and input-gradient regularizers write it: its weight
    gradients by double backprop, in float32, equal the float64 network's."""
    rng = np.random.default_rng(6)
    x, t = rng.standard_normal((4, 6)), np.array([0, 1, 2, 0])
    nets = [TwoLayerNet(6, 5, 3, weight_init_std=0.5, activation="relu", dtype=d, seed=7)
            for d in (np.float32, np.float64)]  # fmt: skip
    found = []
    for net in nets:
        inputs = Tensor(x.astype(net.dtype), requires_grad=True)
        loss = net.forward(inputs, t)
        (gx,) = grad(loss, [inputs], create_graph=True)
        (loss + 10 * (gx * gx).sum()).backward()
        found.append({k: p.grad for k, p in net.tensors.items()})
    for k, g32 in found[0].items():
        assert type(g32) is np.ndarray and g32.dtype == np.float32
        np.testing.assert_allclose(g32, found[1][k], rtol=2e-3, atol=1e-5, err_msg=k)
        assert np.abs(found[1][k]).max() > 0


def test_the_readmes_example_runs_newton_a_hessian_vector_product_and_a_penalty(capsys):
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    (code,) = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "Newton" in b]
    names = {}
    exec(compile(code, "README.md", "exec"), names)
    assert capsys.readouterr().out == "1.0\n"
    net, hv, v = names["net"], names["hv"], names["v"]
    params, x, t = list(net.parameters()), names["x_batch"], names["t_batch"]
    u = [np.random.default_rng(9).standard_normal(p.shape) for p in params]
    grads = grad(net.forward(x, t), params, create_graph=True)
    hu = grad(sum((g * ui).sum() for g, ui in zip(grads, u)), params)
    assert sum(np.vdot(a, b.data) for a, b in zip(u, hv)) == pytest.approx(
        sum(np.vdot(a, b.data) for a, b in zip(v, hu)), rel=1e-9
    )
    assert all(type(p.grad) is np.ndarray and np.abs(p.grad).max() > 0 for p in params)


def test_a_plain_backward_calls_no_function_and_records_nothing(monkeypatch):
    net = MultiLayerNetExtend(6, [5], 3, use_batchnorm=True, dtype=np.float64, seed=0)
    loss = net.forward(np.random.default_rng(0).standard_normal((4, 6)), np.array([0, 1, 2, 1]))
    calls = []
    original = Function.__call__
    monkeypatch.setattr(Function, "__call__", lambda *a, **k: calls.append(a) or original(*a, **k))
    loss.backward()
    assert calls == []
    assert all(type(p.grad) is np.ndarray for p in net.parameters())


def test_gradients_of_create_graph_backward_calls_accumulate_keeping_their_graphs():
    x = Tensor(np.array(3.0), requires_grad=True)
    (x**3).backward(create_graph=True)
    (x**2).backward(create_graph=True)  # x.grad = 3x² + 2x, still a graph
    (second,) = grad(x.grad, [x])
    assert x.grad.data == 33.0 and second.data == 6 * 3.0 + 2


def test_a_user_rule_may_return_arrays_for_constant_gradients():
    class Scale(Function):
        def forward(self, x):
            return 2 * x

        def backward(self, dout):
            return 2 * dout

        def backward_graph(self, dout, out):
            return dout * 2

    class Shift(Scale):
        def forward(self, x):
            return x + 1

        def backward_graph(self, dout, out):
            return np.ones(out.shape) * dout.data  # an array: a constant gradient

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (Scale()(Shift()(x)) * x).sum().backward(create_graph=True)
    np.testing.assert_array_equal(x.grad.data, 2 * (x.data + 1) + 2 * x.data)


def test_float32_weights_given_float64_data_keep_float32_gradients_of_any_order():
    net = TwoLayerNet(6, 5, 3, weight_init_std=0.5, seed=0)  # float32 weights
    x, t = np.random.default_rng(1).standard_normal((4, 6)), np.array([0, 1, 2, 1])
    params = list(net.parameters())
    first = [g.copy() for g in net.gradient(x, t).values()]
    grads = grad(net.forward(x, t, training=True), params, create_graph=True)
    for g, f in zip(grads, first):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g.data, f, rtol=1e-6, atol=1e-7)
    hv = grad(sum((g * g).sum() for g in grads), params)
    assert all(h.dtype == np.float32 and np.abs(h.data).max() > 0 for h in hv)


def test_the_mixed_second_derivative_of_a_power_at_exponent_0_is_1_over_a():
    a, b = Tensor(np.array(2.0), requires_grad=True), Tensor(np.array(0.0), requires_grad=True)
    (da,) = grad(a**b, [a], create_graph=True)
    (dadb,) = grad(da, [b])
    assert da.data == 0.0 and dadb.data == 0.5  # d/db (b·a^(b-1)) = a^(b-1)(1 + b log a)


def test_grad_with_respect_to_an_intermediate_does_not_run_or_free_what_made_it():
    x = Tensor(np.ones(3), requires_grad=True)
    h = x * x
    (gh,) = grad((h * 3).sum(), [h])
    np.testing.assert_array_equal(gh.data, [3.0, 3.0, 3.0])
    h.sum().backward()  # the graph behind h is still there
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


def test_every_gradient_handed_out_owns_writable_memory():
    a, b = (Tensor(np.zeros(3), requires_grad=True) for _ in range(2))
    (a + b).backward(np.array([1.0, 2.0, 3.0]), create_graph=True)
    assert a.grad is not b.grad and not np.shares_memory(a.grad.data, b.grad.data)
    x = Tensor(np.ones(3), requires_grad=True)
    x.sum().backward(create_graph=True)
    x.grad.data *= 2  # not a read-only broadcast view
    ga, gb = grad((a + b).sum(), [a, b])
    assert not np.shares_memory(ga.data, gb.data)
    ga.data[0] = 5.0


def test_a_once_differentiable_rule_of_the_wrong_shape_is_named_as_its_backward():
    class Bad(CubeOnArrays):
        def backward(self, dout):
            return np.ones(1)

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(ValueError, match=r"^Bad\.backward: the gradient for input 0 has shape"):
        Bad()(x).sum().backward(create_graph=True)


def test_sum_to_and_broadcast_to_take_an_int_and_grad_names_an_output_without_a_graph():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    assert x.sum_to(3).shape == (3,) and x.sum_to(3).broadcast_to((2, 3)).shape == (2, 3)
    with pytest.raises(RuntimeError, match=r"^grad: output 0 \(shape \(\)\) does not require"):
        grad(Tensor(1.0) * 2, [x])
