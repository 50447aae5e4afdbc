"""The gradient checker is itself checked: it must catch wrong backward rules, in full and fast
mode, and never cry wolf on correct ones (the gradient table in test_ops.py runs it on every op)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_ko import Function, GradcheckError, Tensor, check_gradients, gradcheck, numerical_diff
from tinygrad_ko.gradcheck import PROJECTIONS
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
        def numerical_gradient(self, x, t, sample=None, seed=None):
            from tinygrad_ko import numerical_gradient

            grads = {
                k: numerical_gradient(lambda _: self.loss(x, t), p, sample=sample, seed=seed)
                for k, p in self.params.items()
            }
            grads["W"][...] = np.nan  # the sampled elements, all NaN
            return grads

    x, t = np.arange(6.0).reshape(2, 3) / 6, np.ones((2, 2))
    report = check_gradients(NanNet(), x, t, sample=2, seed=0)
    assert np.isnan(report["W"].max_abs)
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
