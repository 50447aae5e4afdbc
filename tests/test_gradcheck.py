"""The gradient checker is itself checked: it must catch wrong backward rules, in full and fast
mode, and never cry wolf on correct ones (the gradient table in test_ops.py runs it on every op;
here the book's own networks, kinks and all, and bugs planted in them)."""

import functools

import numpy as np
import pytest
from book import book_module
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_ko import Function, GradcheckError, Tensor, check_gradients, gradcheck, numerical_diff
from tinygrad_ko.datasets import load_mnist
from tinygrad_ko.gradcheck import BY_ELEMENT, PROJECTIONS
from tinygrad_ko.layers import Affine


class WrongSign(Function):
    """x³ with the sign of its derivative flipped."""

    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, dout):
        return -3 * self.x**2 * dout


class AddKeepsBroadcastShape(Function):
    """a + b that returns the gradient of a broadcast b unsummed."""

    def forward(self, a, b):
        return a + b

    def backward(self, dout):
        return dout, dout


class AddPicksOneCopy(Function):
    """a + b that reduces a broadcast b to the right shape, but takes one copy, not the sum."""

    def forward(self, a, b):
        return a + b

    def backward(self, dout):
        return dout, dout[0]


class MatMulTransposedGrad(Function):
    """a @ b with da = dout·b instead of dout·bᵀ (right shape for square b, wrong values)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a @ b

    def backward(self, dout):
        return dout @ self.b, self.a.T @ dout


def buggy_numerical_diff(f, x, h=1e-4):
    """The sign bug from the users' notes (001): + where - belongs."""
    return (f(x - h) + f(x + h)) / (2 * h)


class CubeByNotes(Function):
    """x³ whose backward rule was derived with the notes' numerical_diff."""

    diff = staticmethod(buggy_numerical_diff)

    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, dout):
        return dout * self.diff(lambda v: v**3, self.x)


class CubeByBook(CubeByNotes):
    diff = staticmethod(numerical_diff)


RNG = np.random.default_rng(0)
A, B, B_ROW, SQUARE = (
    RNG.uniform(0.5, 2, (3, 4)),
    RNG.uniform(0.5, 2, (3, 4)),
    RNG.uniform(0.5, 2, (4,)),
    RNG.uniform(0.5, 2, (4, 4)),
)

WRONG = {
    "wrong sign": (lambda x: WrongSign()(x), [A]),
    "broadcast gradient not summed": (lambda a, b: AddKeepsBroadcastShape()(a, b), [A, B_ROW]),
    "broadcast gradient not summed, right shape": (
        lambda a, b: AddPicksOneCopy()(a, b),
        [A, B_ROW],
    ),
    "transposed matmul gradient": (lambda a, b: MatMulTransposedGrad()(a, b), [A, SQUARE]),
    "the notes' sign bug": (lambda x: CubeByNotes()(x), [A]),
}


@pytest.mark.parametrize("fast_mode", [False, True])
@pytest.mark.parametrize("name", WRONG)
def test_a_wrong_backward_rule_fails_the_check(name, fast_mode):
    fn, arrays = WRONG[name]
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    with pytest.raises(GradcheckError, match=r"gradcheck: .*input [01]"):
        gradcheck(fn, inputs, fast_mode=fast_mode)
    assert gradcheck(fn, inputs, fast_mode=fast_mode, raise_exception=False) is False


@pytest.mark.parametrize("fast_mode", [False, True])
def test_the_same_rule_with_the_books_numerical_diff_passes(fast_mode):
    assert gradcheck(
        lambda x: CubeByBook()(x), [Tensor(A, requires_grad=True)], fast_mode=fast_mode, atol=1e-6
    )


def test_the_failure_message_names_the_input_the_entry_both_values_and_the_tolerance():
    x = Tensor(np.array([2.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as failure:
        gradcheck(lambda c, x: WrongSign()(x) + c.sum(), [Tensor(np.ones(2)), x])
    message = str(failure.value)
    assert "input 1 (shape (1,)), element (0,)" in message
    assert "analytical -12" in message and "numerical 12" in message
    assert "atol + rtol·|numerical| = 0.012" in message


def test_a_failed_check_is_an_assertion_error_so_pytest_reports_a_failure():
    with pytest.raises(AssertionError, match="gradcheck: "):
        gradcheck(lambda x: WrongSign()(x), [Tensor(np.array([2.0]), requires_grad=True)])


def test_float32_inputs_are_checked_in_float64_on_copies():
    x = Tensor(np.array([1000.5, -3.25], dtype=np.float32), requires_grad=True)

    def fn(x):
        assert x.dtype == np.float64  # in float32, x ± 1e-6 would be x itself
        return x * x * x

    assert gradcheck(fn, x)
    assert x.dtype == np.float32 and x.grad is None  # the caller's tensor is untouched


def test_gradcheck_leaves_the_gradients_of_other_tensors_alone():
    W = Tensor(np.ones((4, 2)), requires_grad=True)
    b = Tensor(np.zeros(2), requires_grad=True)
    assert gradcheck(lambda x: Affine(W, b)(x), Tensor(A, requires_grad=True))
    assert W.grad is None and b.grad is None


def test_fast_mode_uses_a_fixed_number_of_evaluations_whatever_the_size():
    calls = []

    def fn(x):
        calls.append(1)
        return (x * x).sum(axis=0)

    for n in (10, 1000):
        calls.clear()
        gradcheck(fn, Tensor(np.ones((n, 3)), requires_grad=True), fast_mode=True)
        assert len(calls) == 1 + 4 * PROJECTIONS  # 4 points per random direction


def test_fast_mode_is_repeatable_for_a_seed():
    x = Tensor(A, requires_grad=True)
    messages = set()
    for _ in range(2):
        with pytest.raises(GradcheckError) as failure:
            gradcheck(lambda x: WrongSign()(x), x, fast_mode=True, seed=7)
        messages.add(str(failure.value))
    assert len(messages) == 1


class OffByOneEntry(Function):
    """y = M x, whose backward adds `error` to one entry of the Jacobian."""

    def __init__(self, M, entry, error):
        self.M, self.entry, self.error = M, entry, error

    def forward(self, x):
        return self.M @ x

    def backward(self, dout):
        wrong = self.M.copy()
        wrong[self.entry] += self.error
        return wrong.T @ dout


@given(seed=st.integers(0, 2**32 - 1), row=st.integers(0, 5), col=st.integers(0, 7))
def test_fast_mode_catches_a_single_entry_just_over_the_tolerance(seed, row, col):
    # J = M = 0, so each entry's tolerance is atol; the rule is off by 1.5·atol in one entry.
    # By the analysis behind PROJECTIONS it escapes with probability 6e-10 per seed.
    fn = OffByOneEntry(np.zeros((6, 8)), (row, col), 1.5e-5)
    assert not gradcheck(
        fn, Tensor(np.ones(8), requires_grad=True), fast_mode=True, raise_exception=False, seed=seed
    )


@given(seed=st.integers(0, 2**32 - 1), r=st.sampled_from([1.0, 1.5]))
def test_fast_mode_catches_a_single_entry_over_the_tolerance_of_a_nonzero_jacobian(seed, r):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((40, 30))
    entry = (int(rng.integers(40)), int(rng.integers(30)))
    tolerance = 1e-5 + 1e-3 * np.linalg.norm(M)  # atol + rtol·‖J‖
    fn = OffByOneEntry(M, entry, r * tolerance * rng.choice([-1, 1]))
    x = Tensor(np.ones(30), requires_grad=True)
    assert not gradcheck(fn, x, fast_mode=True, raise_exception=False, seed=seed)


@given(seed=st.integers(0, 2**32 - 1))
def test_fast_mode_raises_no_false_alarm_where_the_function_curves_hard(seed):
    # log near 0.01: third derivative 2e6; a two-point difference along a random direction
    # would add its O(h²) errors over all 900 elements
    x = np.random.default_rng(seed).uniform(0.01, 0.05, (30, 30))
    assert gradcheck(lambda x: x.log(), Tensor(x, requires_grad=True), fast_mode=True, seed=seed)


@given(seed=st.integers(0, 2**32 - 1))
def test_fast_mode_raises_no_false_alarm_on_a_nonlinear_network(seed):
    rng = np.random.default_rng(seed)
    W, x = Tensor(3 * rng.standard_normal((40, 30))), rng.standard_normal((20, 40))
    fn = lambda x: (x @ W).tanh().exp()  # noqa: E731
    assert gradcheck(fn, Tensor(x, requires_grad=True), fast_mode=True, seed=seed)


@pytest.mark.parametrize("fast_mode", [False, True])
@pytest.mark.parametrize(
    "layout",
    [
        lambda a: a.T,
        np.asfortranarray,
        lambda a: np.broadcast_to(a[:1], a.shape),
        lambda a: a.astype(np.float32)[:, ::2],
    ],
)
def test_inputs_of_any_memory_layout_are_checked(layout, fast_mode):
    x = Tensor(layout(np.arange(1.0, 13.0).reshape(3, 4)), requires_grad=True)
    assert gradcheck(lambda x: x * x, x, fast_mode=fast_mode)


# --- bad calls -------------------------------------------------------------------------------


def test_fn_that_does_not_return_a_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="fn must return a Tensor, it returned ndarray"):
        gradcheck(lambda x: x.data * 2, Tensor(A, requires_grad=True))


def test_inputs_none_of_which_require_gradients_are_a_value_error():
    with pytest.raises(ValueError, match="none of the inputs requires a gradient"):
        gradcheck(lambda x: x * 2, [Tensor(A)])


def test_a_non_finite_output_is_a_value_error():
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with pytest.raises(ValueError, match="not finite"), pytest.warns(RuntimeWarning, match="log"):
        gradcheck(lambda x: x.log(), x)  # log(0) = -inf, as the user asked


# --- the book's gradient_check.py ------------------------------------------------------------


class TinyNet:
    """One Affine layer and its loss ½Σy², the book's way, with a switchable bug in dW."""

    def __init__(self, bug=False):
        rng = np.random.default_rng(3)
        self.params = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
        self.bug = bug

    def loss(self, x, t):
        return 0.5 * np.sum((x @ self.params["W"] + self.params["b"] - t) ** 2)

    def gradient(self, x, t):
        dy = x @ self.params["W"] + self.params["b"] - t
        dW = x.T @ dy
        return {"W": -dW if self.bug else dW, "b": dy.sum(axis=0)}

    def numerical_gradient(self, x, t):
        from tinygrad_ko import numerical_gradient

        return {k: numerical_gradient(lambda _: self.loss(x, t), p) for k, p in self.params.items()}


def test_a_sampled_check_still_shows_a_nan_gradient():
    class NanNet(TinyNet):
        def gradient(self, x, t):
            grads = super().gradient(x, t)
            grads["W"][...] = np.nan  # a backward rule that divides by zero
            return grads

    x, t = np.arange(6.0).reshape(2, 3) / 6, np.ones((2, 2))
    report = check_gradients(NanNet(), x, t, sample=2, seed=0)
    assert np.isnan(report["W"].max_abs) and report["W"].kinks == 0
    assert not report["W"].passed and not report.passed


def test_check_gradients_reports_each_parameter_like_the_books_gradient_check():
    x, t = np.arange(6.0).reshape(2, 3) / 6, np.ones((2, 2))
    good = check_gradients(TinyNet(), x, t)
    assert set(good) == {"W", "b"}
    assert all(
        d.max_abs < 1e-8 and d.max_rel < 1e-6 and d.mean_abs <= d.max_abs for d in good.values()
    )
    bad = check_gradients(TinyNet(bug=True), x, t)
    assert bad["W"].max_rel == pytest.approx(2.0)  # |-g - g| / |g|
    assert bad["b"].max_abs < 1e-8


def test_check_gradients_gives_a_verdict_per_parameter_and_prints_the_table():
    x, t = np.arange(6.0).reshape(2, 3) / 6, np.ones((2, 2))
    good = check_gradients(TinyNet(), x, t)
    numerical = TinyNet().numerical_gradient(x, t)
    for key, row in good.items():  # the default rule for float64 backprop
        assert row.tolerance == pytest.approx(1e-8 + 1e-5 * np.abs(numerical[key]).max())
        assert row.passed and row.max_abs <= row.tolerance
    assert good.passed
    bad = check_gradients(TinyNet(bug=True), x, t)
    assert not bad.passed and not bad["W"].passed and bad["b"].passed
    assert bad["W"].compared == 6 and bad["W"].beyond > 0 and bad["b"].beyond == 0
    lines = str(bad).splitlines()
    assert lines[0] == "backprop against central differences: every element"
    assert lines[2].split()[0] == "W" and lines[2].split()[-2:] == [f"{bad['W'].beyond}/6", "FAIL"]
    assert lines[3].split()[0] == "b" and lines[3].split()[-2:] == ["0/2", "pass"]
    assert float(lines[2].split()[1]) == pytest.approx(bad["W"].max_abs, rel=1e-2)
    rule = "1e-08 + rtol·max |numerical|, rtol 1e-05"
    assert lines[4] == f"FAILED: W (each compared value within tolerance = {rule})"
    strict = check_gradients(TinyNet(), x, t, rtol=0.0, atol=0.0)
    assert all(row.tolerance == 0.0 for row in strict.values())


def test_fast_check_gradients_catches_a_bug_and_restores_the_weights_exactly():
    x, t = np.arange(6.0).reshape(2, 3) / 6, np.ones((2, 2))
    net = TinyNet()
    before = {k: v.copy() for k, v in net.params.items()}
    good = check_gradients(net, x, t, fast=True, seed=1)
    assert good.passed and str(good).startswith("backprop against central differences: 22 random")
    for key, value in net.params.items():  # moved in place along random directions, then back
        assert value.tobytes() == before[key].tobytes()
    bad = check_gradients(TinyNet(bug=True), x, t, fast=True, seed=1)
    assert not bad["W"].passed and bad["b"].passed and bad["W"].compared == 22


def test_fast_check_gradients_refuses_what_it_cannot_do():
    x, t = np.arange(6.0).reshape(2, 3) / 6, np.ones((2, 2))
    with pytest.raises(ValueError, match="fast=True or sample=k, not both"):
        check_gradients(TinyNet(), x, t, fast=True, sample=3)
    net = TinyNet()
    net.params = {k: v.astype(np.float32) for k, v in net.params.items()}
    with pytest.raises(
        ValueError, match=r"parameters W \(float32\), b \(float32\) are not float64"
    ):
        check_gradients(net, x, t, fast=True)


# --- kinks and rounding noise: no false alarms on the book's correct networks ---------------


class Elementwise:
    """A network of one parameter vector w, the book's way: loss Σ f(w), backprop by rule df."""

    def __init__(self, w, f, df):
        self.params = {"w": np.array(w, dtype=np.float64)}
        self.f, self.df = f, df

    def loss(self, x, t):
        return float(np.sum(self.f(self.params["w"])))

    def gradient(self, x, t):
        return {"w": np.asarray(self.df(self.params["w"]), dtype=np.float64)}


def relu(w):
    return np.maximum(w, 0)


def first_winner(w):
    """Max pooling's rule: the gradient goes to the first of the largest."""
    return np.eye(len(w))[np.argmax(w)]


@pytest.mark.parametrize(
    ("name", "w", "f", "df", "kinks"),
    [
        ("relu, the book's rule (0 at 0)", [0.0, 0.5, -0.5, 3e-5], relu, lambda w: w > 0, 1),
        ("relu, 1 at 0", [0.0, 0.5, -0.5], relu, lambda w: w >= 0, 1),
        ("abs, sign(0) = 0: the central difference", [0.0, 2.0], np.abs, np.sign, 0),
        ("abs, 1 at 0", [0.0, -2.0], np.abs, lambda w: np.where(w >= 0, 1.0, -1.0), 1),
        ("max at a tie", [1.0, 1.0], np.max, first_winner, 2),
        ("max, the step changes the winner", [1.0 + 3e-5, 1.0], np.max, first_winner, 0),
    ],
)
@pytest.mark.parametrize("fast", [False, True])
def test_an_element_at_a_kink_is_not_judged_and_counted(name, w, f, df, kinks, fast):
    report = check_gradients(Elementwise(w, f, df), None, fast=fast)
    row = report["w"]
    assert report.passed, str(report)
    assert row.kinks == kinks
    assert row.by_element == (fast and kinks > 0)  # a direction through a kink: per element
    assert row.compared == (PROJECTIONS if fast and not kinks else len(w) - kinks)
    assert (f"{kinks} not judged: at a kink" in str(report)) == (kinks > 0)


@pytest.mark.parametrize(
    ("name", "w", "f", "df"),
    [
        ("relu, -1 at 0", [0.0, 0.5], relu, lambda w: np.where(w == 0, -1.0, w > 0)),
        ("relu, mask inverted", [0.0, 0.5, -0.5], relu, lambda w: w <= 0),
        ("abs, sign flipped", [0.0, 2.0], np.abs, lambda w: -np.sign(w)),
        ("max, to the smaller", [1.0 + 3e-5, 1.0], np.max, lambda w: np.eye(2)[np.argmin(w)]),
    ],
)
@pytest.mark.parametrize("fast", [False, True])
def test_a_wrong_rule_at_a_kink_still_fails(name, w, f, df, fast):
    # backprop must equal one of the one-sided differences to be excused
    report = check_gradients(Elementwise(w, f, df), None, fast=fast)
    assert not report.passed and report["w"].beyond > 0, str(report)


def test_a_gradient_of_zero_reads_as_rounding_noise_not_max_rel_1():
    from tinygrad_ko.models import MultiLayerNet

    rng = np.random.default_rng(4)
    net = MultiLayerNet(8, [5, 4], 3, seed=4, dtype=np.float64, use_batchnorm=True)
    x, t = rng.standard_normal((6, 8)), rng.integers(0, 3, 6)
    for fast in (False, True):
        report = check_gradients(net, x, t, fast=fast)
        assert report.passed, str(report)
        # a bias before batch normalization: the mean over the batch takes it out
        zero = {key for key, row in report.items() if row.zero}
        assert zero == {"b1", "b2"}, str(report)
        line = next(line for line in str(report).splitlines() if line.startswith("b1 "))
        assert line.split()[2] == "-" and line.endswith("pass, zero (rounding noise)")
        assert "zero (rounding noise): b1, b2: backprop and numerical both within" in str(report)
    assert report["W1"].max_rel < 1e-2 and not report["W1"].zero  # a real gradient


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("size", [1e-7, 1e-6])
def test_a_real_gradient_far_below_the_loss_is_not_rounding_noise(fast, size):
    # a weight of gradient 1e-7 or 1e-6 next to a loss of 1: measurable, so compared and caught
    # (fast mode's own step of 1e-8 would take 1e-6 for noise: its zero is judged at 1e-4)
    net = Elementwise([0.0, 1.0], lambda w: 1 + size * w, lambda w: np.zeros_like(w))
    report = check_gradients(net, None, fast=fast)
    assert not report.passed and not report["w"].zero and report["w"].beyond > 0


@pytest.mark.parametrize("fast", [False, True])
def test_the_report_says_how_many_were_not_judged_and_in_which_parameter(fast):
    report = check_gradients(Elementwise([0.0, 0.0, 1.0], relu, lambda w: w > 0), None, fast=fast)
    assert report.kinks == 2
    lines = str(report).splitlines()
    assert lines[2].endswith(f"pass, {'by element, ' * fast}2 not judged: at a kink")
    assert lines[3].startswith("every parameter passes")
    assert lines[4].startswith("2 not judged: at a kink (w 2): the step crosses a kink")
    html_report = report._repr_html_()
    assert "2 not judged: at a kink (w 2)" in html_report and "color: red" not in html_report


def test_fast_mode_checks_a_bounded_sample_by_element_where_a_direction_crosses_a_kink():
    w = np.r_[np.zeros(300), np.linspace(0.5, 1.0, 200)]  # 300 ReLU inputs at the kink
    report = check_gradients(Elementwise(w, relu, lambda w: w > 0), None, fast=True)
    row = report["w"]
    assert row.by_element and row.compared + row.kinks == BY_ELEMENT < w.size
    assert row.passed and 0 < row.kinks < BY_ELEMENT  # the kinks excused, the rest compared
    assert f"up to {BY_ELEMENT} drawn at random" in str(report)


# --- the book's own networks, their data and initial weights ---------------------------------


@functools.cache
def mnist(count, flatten=True, one_hot_label=False):
    """The first `count` training images and labels, as the book's scripts take them."""
    (x, t), _ = load_mnist(flatten=flatten, one_hot_label=one_hot_label, dtype=np.float64)
    return x[:count], t[:count]


def ch07_network(seed=0):
    """ch07/gradient_check.py's network: the book's own class, with its own initial weights."""
    np.random.seed(seed)
    return book_module("ch07/simple_convnet.py").SimpleConvNet(
        input_dim=(1, 10, 10),
        conv_param={"filter_num": 10, "filter_size": 3, "pad": 0, "stride": 1},
        hidden_size=10,
        output_size=10,
        weight_init_std=0.01,
    )


@pytest.mark.book
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_books_chapter_7_gradient_check_passes_as_a_learner_calls_it(seed):
    network = ch07_network(seed)
    X = np.random.rand(100).reshape((1, 1, 10, 10))  # the script's own data, drawn as it does
    T = np.array([1]).reshape((1, 1))
    report = check_gradients(network, X, T)  # 1e-4 moves ReLU inputs and pooling winners across
    assert report.passed, str(report)


@pytest.mark.book
@pytest.mark.mnist
@pytest.mark.slow
def test_the_books_chapter_5_network_passes():
    np.random.seed(0)
    network = book_module("ch05/two_layer_net.py").TwoLayerNet(784, 50, 10)
    report = check_gradients(network, *mnist(3, one_hot_label=True))  # gradient_check.py's
    assert report.passed and report.kinks == 0, str(report)


@pytest.mark.book
@pytest.mark.mnist
@pytest.mark.slow
def test_the_books_chapter_6_network_with_batch_norm_and_dropout_passes():
    # batch_norm_gradient_check.py's network and image: batch norm of one image gives each unit
    # its beta, 0, so ReLU sits at its kink; Dropout's mask is drawn once, held for every loss
    np.random.seed(0)
    network = book_module("common/multi_layer_net_extend.py").MultiLayerNetExtend(
        784, [100, 100], 10, use_batchnorm=True, use_dropout=True
    )
    report = check_gradients(network, *mnist(1, one_hot_label=True))
    assert report.passed, str(report)
    assert 0 < report["beta2"].kinks == report.kinks <= 100  # the units Dropout kept
    assert report["beta2"].compared == 100 - report.kinks
    assert all(report[k].zero for k in ("W1", "b1", "W2", "b2", "W3", "gamma1", "beta1"))
    assert not report["b3"].zero


@pytest.mark.book
@pytest.mark.mnist
@pytest.mark.slow
def test_the_books_chapter_8_network_passes_with_dropout_held_fixed():
    np.random.seed(0)
    network = book_module("ch08/deep_convnet.py").DeepConvNet()
    x, t = mnist(2, flatten=False)
    before = {k: v.copy() for k, v in network.params.items()}
    report = check_gradients(network, x, t, fast=True)  # as the command line checks it
    assert report.passed, str(report)
    # biases of 0 under the blank background: every element of the first ones at a kink
    crossed = {key for key, row in report.items() if row.by_element}
    assert crossed and all(report[key].kinks > 0 for key in crossed) and report.kinks >= 16
    assert all(k.startswith("b") for k in crossed)
    assert all(np.array_equal(network.params[k], v) for k, v in before.items())


# planted bugs, in the book's chapter-7 network on MNIST (downsampled to its 10x10), where
# biases of 0 over the blank background put elements at kinks: none of them may hide there


def first_of_window(backward):
    def route(self, dout):
        self.arg_max = np.zeros_like(self.arg_max)  # each window's first input, not its max
        return backward(self, dout)

    return route


def no_bias_gradient(backward):
    def run(self, dout):
        dx = backward(self, dout)
        self.db = np.zeros_like(self.db)
        return dx

    return run


def transposed_square_dW(backward):
    def run(self, dout):
        dx = backward(self, dout)
        if self.dW.shape[0] == self.dW.shape[1]:
            self.dW = self.dW.T
        return dx

    return run


def negated_dW(backward):
    def run(self, dout):
        dx = backward(self, dout)
        self.dW = -self.dW
        return dx

    return run


def inverted_relu_mask(backward):
    def run(self, dout):
        dout = dout.copy()
        dout[~self.mask] = 0
        return dout

    return run


MUTANTS = {  # name: (layer, mutation, the parameters that must fail)
    "pooling routes to the window's first input": ("Pool1", first_of_window, {"W1", "b1"}),
    "no bias gradient (db = 0)": ("Conv1", no_bias_gradient, {"b1"}),
    "transposed dW (square W3)": ("Affine2", transposed_square_dW, {"W3"}),
    "dW with the wrong sign": ("Affine1", negated_dW, {"W2", "W3"}),
    "ReLU's mask inverted": ("Relu1", inverted_relu_mask, {"W1", "b1", "W2", "b2"}),
}


def mnist_10x10():
    x, t = mnist(2, flatten=False)
    return x[:, :, 4:24:2, 4:24:2], t  # the digits' middle, every other pixel


@pytest.mark.book
@pytest.mark.mnist
@pytest.mark.parametrize("fast", [False, True])
def test_the_book_network_the_mutants_are_planted_in_passes_with_kinks(fast):
    report = check_gradients(ch07_network(), *mnist_10x10(), fast=fast)
    assert report.passed and report["b1"].kinks > 0, str(report)


@pytest.mark.book
@pytest.mark.mnist
@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("name", MUTANTS)
def test_a_planted_bug_fails_where_it_is_planted(name, fast, monkeypatch):
    network = ch07_network()
    layer, mutation, wrong = MUTANTS[name]
    kind = type(network.layers[layer])
    monkeypatch.setattr(kind, "backward", mutation(kind.backward))
    report = check_gradients(network, *mnist_10x10(), fast=fast)
    assert {key for key, row in report.items() if not row.passed} == wrong, str(report)
