"""Gradient checking: backprop against central differences (book 5.7.3).

gradcheck works on any function of tensors, like torch.autograd.gradcheck; check_gradients is
the book's gradient_check.py for a whole network, as one call.
"""

from __future__ import annotations

import copy
import functools
import html
import inspect
import re
from typing import NamedTuple

import numpy as np

from tinygrad_ko.engine.autograd import backprop, enable_grad, grad, no_grad
from tinygrad_ko.engine.ops import concatenate
from tinygrad_ko.engine.tensor import Tensor

__all__ = [
    "GradcheckError",
    "GradientDifference",
    "GradientReport",
    "check_gradients",
    "gradcheck",
    "gradgradcheck",
]

PROJECTIONS = 22
"""Random Gaussian vectors fast_mode draws on each side of the Jacobian J, comparing uᵀJv from
backprop and from central differences for all 22 × 22 pairs, each against atol + rtol·‖J‖.
An error in a single entry of J (the hardest kind to see through projections) larger than that
tolerance escapes every pair with probability 4.1e-7; 1.5 times larger, 6.4e-10. (That is the
probability that r·max|g_a|·max|h_b| ≤ 1 for 22 + 22 standard normals g, h.)"""

DEFAULT_SEED = 0


class GradcheckError(AssertionError):
    """Backprop and central differences disagree; pytest reports it as a failed check."""


def gradcheck(
    fn,
    inputs,
    *,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    fast_mode=False,
    raise_exception=True,
    seed=None,
):
    """Check the gradients backprop gives for fn against central differences; True if they agree.

    fn takes the inputs (tensors; arrays are passed as constants) and returns a tensor of any
    shape. Every input with requires_grad=True is checked, on float64 copies whatever its
    dtype, so float32 code is checked without rounding false alarms. An entry passes when
    |analytical - numerical| <= atol + rtol·|numerical|.

    - Full mode: every entry of the Jacobian d(output)/d(input), backprop row by row, central
      differences (f(x+eps) - f(x-eps)) / 2eps element by element.
    - fast_mode=True: uᵀJv from both sides for PROJECTIONS random Gaussian vectors u and v each,
      every pair compared against atol + rtol·‖J‖ (‖J‖ the Frobenius norm, estimated from the
      projections), with fourth-order central differences: a constant number of evaluations
      whatever the sizes. It judges J as a whole, so an error in one entry much smaller than
      rtol·‖J‖ can hide; full mode judges every entry against its own value. The vectors come
      from `seed` (default 0), so a check is repeatable.

    On disagreement, raises GradcheckError naming the input, the worst entry, both values and
    the tolerance, or returns False if raise_exception=False.
    """
    xs, checked = _float64_inputs("gradcheck", inputs)
    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, it returned {type(out).__name__}")
    if not np.all(np.isfinite(out.data)):
        raise ValueError(
            "gradcheck: fn's output is not finite (NaN or inf) at the checked point, so no "
            "derivative can be compared there; check at another point"
        )
    check = _fast if fast_mode else _full
    try:
        problem = check(fn, xs, out, checked, eps, atol, rtol, seed)
    except GradcheckError as error:
        problem = str(error)
    if problem is None:
        return True
    if raise_exception:
        raise GradcheckError(problem)
    return False


def gradgradcheck(
    fn,
    inputs,
    grad_outputs=None,
    *,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    fast_mode=False,
    raise_exception=True,
    seed=None,
):
    """Check second derivatives: gradcheck of (x, v) -> grad(fn(x), x, v, create_graph=True),
    the gradients backprop gives as a function of the inputs and of dL/doutput v, against
    central differences of it (PyTorch's gradgradcheck). Float64 copies, full and fast mode,
    tolerances and messages as gradcheck's.

    v is grad_outputs when given, else random (Gaussian, from `seed`, default 0), and is
    checked too: the gradient is linear in v, so that part checks the first derivative.
    """
    xs, checked = _float64_inputs("gradgradcheck", inputs)
    with no_grad():
        out = fn(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradgradcheck: fn must return a Tensor, it returned {type(out).__name__}")
    if grad_outputs is None:
        rng = np.random.default_rng(DEFAULT_SEED if seed is None else seed)
        grad_outputs = rng.standard_normal(out.shape)
    v = Tensor(np.array(np.asarray(grad_outputs), dtype=np.float64), requires_grad=True)
    if v.shape != out.shape:
        raise ValueError(
            f"gradgradcheck: grad_outputs has shape {v.shape}, but fn's output has shape "
            f"{out.shape}"
        )

    def first_derivative(*args):
        *ys, dout = args
        with enable_grad():  # gradcheck evaluates under no_grad; this needs the graph
            y = fn(*ys)
            wrt = [ys[i] for i in checked]
            if not y.requires_grad:
                return Tensor(np.zeros(sum(x.size for x in wrt)))
            grads = grad(y, wrt, dout, create_graph=True, allow_unused=True)
            parts = [
                Tensor(np.zeros(x.size)) if g is None else g.reshape(-1) for x, g in zip(wrt, grads)
            ]
            return concatenate(parts)

    try:
        return gradcheck(
            first_derivative,
            (*xs, v),
            eps=eps,
            atol=atol,
            rtol=rtol,
            fast_mode=fast_mode,
            raise_exception=raise_exception,
            seed=seed,
        )
    except GradcheckError as error:
        where = str(error).removeprefix("gradcheck: ")
        where = re.sub(r"output element \((\d+),\)", lambda m: _in_gradient(m, xs, checked), where)
        raise GradcheckError(
            f"gradgradcheck: the gradient of the gradient is wrong: {where} (input "
            f"{len(xs)} is grad_outputs)"
        ) from None


def _in_gradient(match, xs, checked):
    """An element of gradgradcheck's flat vector of gradients, named by input and position."""
    j = int(match[1])
    for i in checked:
        if j < xs[i].size:
            return f"the gradient for input {i}, element {_index(j, xs[i].shape)}"
        j -= xs[i].size
    return match[0]


def _float64_inputs(caller, inputs):
    """(float64 copies of the inputs, the positions of those that require a gradient), or a
    ValueError when none does."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    xs = tuple(_float64_copy(x) for x in inputs)
    checked = [i for i, x in enumerate(xs) if x.requires_grad]
    if not checked:
        raise ValueError(
            f"{caller}: none of the inputs requires a gradient, so there is nothing to check; "
            "make the ones to check with requires_grad=True"
        )
    return xs, checked


def _float64_copy(x):
    """A float64 copy in C order (so a flat view of it reaches every element), or a plain copy."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.dtype.kind == "f":
        return Tensor(np.array(x.data, dtype=np.float64, order="C"), x.requires_grad)
    return Tensor(np.array(x.data, order="C"))


CENTRAL = ((1.0, 0.5), (-1.0, -0.5))
"""(f(x+h) - f(x-h)) / 2h, the book's central difference: full mode, one element at a time."""

CENTRAL_4TH_ORDER = ((1.0, 2 / 3), (-1.0, -2 / 3), (2.0, -1 / 12), (-2.0, 1 / 12))
"""(8(f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h, error O(h⁴): fast mode moves every element
at once along a random direction, and the O(h²) errors of the two-point form would add up."""


def _evaluate(fn, xs):
    """fn's output as a flat float64 copy (a view, as reshape gives, would follow later moves)."""
    with no_grad():
        out = fn(*xs)
    return np.array(out.data, dtype=np.float64).reshape(-1)


def _vjp(out, u, wrt):
    """uᵀJ for each tensor in wrt, by backprop (zeros where the output does not depend on it)."""
    try:
        grads = (
            backprop(out, u, retain_graph=True, wrt=wrt) if out.requires_grad else [None] * len(wrt)
        )
    except ValueError as error:  # a backward rule returned the wrong shape or count
        raise GradcheckError(f"gradcheck: backprop failed: {error}") from error
    return [np.zeros(x.shape) if g is None else g for x, g in zip(wrt, grads)]


def _difference(fn, xs, move, stencil):
    """Σ w·f(x + s·h) over the stencil's (s, w) pairs, where move(s) puts the inputs at x + s·h in
    place; x is restored exactly (s = 0) whatever happens. Divided by h, a derivative."""
    try:
        total = 0.0
        for s, w in stencil:
            move(s)
            total = total + w * _evaluate(fn, xs)
    finally:
        move(0.0)
    return total


def _worst(analytical, numerical, tolerance):
    """Index of the entry that most exceeds its tolerance, or None when all are within it."""
    excess = np.abs(analytical - numerical) - tolerance
    if excess.size == 0:
        return None
    worst = _index(np.argmax(excess), excess.shape)
    return None if excess[worst] <= 0 else worst


def _index(flat, shape):
    """A flat index as a tuple of plain ints, for messages."""
    return tuple(int(i) for i in np.unravel_index(flat, shape))


def _report(where, analytical, numerical, tolerance, worst, rule):
    a, n = analytical[worst], numerical[worst]
    bad = int(np.sum(np.abs(analytical - numerical) > tolerance))
    return (
        f"gradcheck: {where}: analytical {a:.8g}, numerical {n:.8g}, |difference| "
        f"{abs(a - n):.3g} > {rule} = {np.broadcast_to(tolerance, numerical.shape)[worst]:.3g} "
        f"({bad} of {numerical.size} compared values disagree)"
    )


def _full(fn, xs, out, checked, eps, atol, rtol, seed):
    wrt = [xs[i] for i in checked]
    jacobians = [np.zeros((out.size, x.size)) for x in wrt]
    for j in range(out.size):
        u = np.zeros(out.size)
        u[j] = 1.0
        for jac, g in zip(jacobians, _vjp(out, u.reshape(out.shape), wrt)):
            jac[j] = g.reshape(-1)
    for i, x, analytical in zip(checked, wrt, jacobians):
        numerical = np.empty_like(analytical)
        flat = x.data.reshape(-1)  # a view: x.data is our own C-ordered copy
        for k in range(x.size):
            original = flat[k]

            def move(s, flat=flat, k=k, original=original):
                flat[k] = original + s * eps

            numerical[:, k] = _difference(fn, xs, move, CENTRAL) / eps
        tolerance = atol + rtol * np.abs(numerical)
        worst = _worst(analytical, numerical, tolerance)
        if worst is not None:
            j, k = worst
            where = f"input {i} (shape {x.shape}), element {_index(k, x.shape)}"
            if out.size > 1:
                where += f", output element {_index(j, out.shape)}"
            return _report(
                where, analytical, numerical, tolerance, worst, "atol + rtol·|numerical|"
            )
    return None


def _fast(fn, xs, out, checked, eps, atol, rtol, seed):
    rng = np.random.default_rng(DEFAULT_SEED if seed is None else seed)
    wrt = [xs[i] for i in checked]
    us = rng.standard_normal((PROJECTIONS, *out.shape))
    vs = [rng.standard_normal((PROJECTIONS, *x.shape)) for x in wrt]
    # analytical[i][a, b] = (Jᵢᵀ u_a) · v_b, one backward pass per u for all inputs at once
    analytical = [np.empty((PROJECTIONS, PROJECTIONS)) for _ in wrt]
    for a, u in enumerate(us):
        for proj, g, v in zip(analytical, _vjp(out, u, wrt), vs):
            proj[a] = v.reshape(PROJECTIONS, -1) @ g.reshape(-1)
    # all inputs moved together first: a fixed number of evaluations for the whole check
    together = _projection_mismatch(
        sum(analytical), _projected(fn, xs, wrt, us, vs, eps), atol, rtol, "the inputs together"
    )
    if together is None:
        return None
    for i, x, proj, v in zip(checked, wrt, analytical, vs):  # name the input at fault
        numerical = _projected(fn, xs, [x], us, [v], eps)
        problem = _projection_mismatch(proj, numerical, atol, rtol, f"input {i} (shape {x.shape})")
        if problem is not None:
            return problem
    return together


def _projected(fn, xs, wrt, us, vs, eps):
    """[a, b] = u_a · J v_b by central differences along v_b, moving the tensors in wrt."""
    originals = [x.data.copy() for x in wrt]
    columns = []
    for b in range(PROJECTIONS):

        def move(s, b=b):
            for x, x0, v in zip(wrt, originals, vs):
                x.data[...] = x0 + (s * eps) * v[b]

        derivative = _difference(fn, xs, move, CENTRAL_4TH_ORDER) / eps
        columns.append(us.reshape(PROJECTIONS, -1) @ derivative)
    return np.stack(columns, axis=1)


def _projection_mismatch(analytical, numerical, atol, rtol, what):
    """Compare every pair against one tolerance, atol + rtol·‖J‖, where ‖J‖ is estimated by the
    RMS of the projections (for Gaussian u and v, E[(uᵀJv)²] = ‖J‖², Frobenius norm)."""
    norm = float(np.sqrt(np.mean(numerical**2)))
    tolerance = atol + rtol * norm
    worst = _worst(analytical, numerical, tolerance)
    if worst is None:
        return None
    where = f"{what}, random projection uᵀJv {worst} (fast mode, ‖J‖ ≈ {norm:.3g})"
    return _report(where, analytical, numerical, tolerance, worst, "atol + rtol·‖J‖")


KINK = "not judged: at a kink"
"""What the report says of an element whose central difference straddles a kink."""

ZERO = "zero (rounding noise)"
"""What the report says of a parameter whose gradient is 0 but for rounding."""


class GradientDifference(NamedTuple):
    """How far backprop is from numerical differentiation for one parameter."""

    max_abs: float  # max |backprop - numerical|
    max_rel: float  # max |backprop - numerical| / max(|backprop|, |numerical|), noise left out
    mean_abs: float  # mean |backprop - numerical|: the figure the book's gradient_check prints
    tolerance: float  # atol + rtol·(size of the gradient): how far each value may be off
    beyond: int  # compared values beyond the tolerance (NaN counts as beyond)
    compared: int  # values compared: elements, or directions in fast mode
    kinks: int = 0  # elements not judged: at a kink (not in compared)
    zero: bool = False  # every compared value of both is within rounding noise of 0
    by_element: bool = False  # fast mode: a direction crossed a kink, so checked per element

    @property
    def passed(self):
        return self.beyond == 0

    @property
    def result(self):
        """The verdict and its notes, e.g. "pass" or "pass, 3 not judged: at a kink"."""
        notes = ["pass" if self.passed else "FAIL"]
        if self.by_element:
            notes.append("by element")
        if self.zero:
            notes.append(ZERO)
        if self.kinks:
            notes.append(f"{self.kinks} {KINK}")
        return ", ".join(notes)


RTOL = {"float64": 1e-5, "float32": 1e-3, "fast": 1e-3}
"""check_gradients' default rtol (1e-2 for other dtypes). float32 backprop of a batch of 100 is
off by about 1e-4 of the largest gradient through rounding alone; fast mode, which moves every
weight at once, differentiates a float64 loss at steps where rounding reaches about 1e-4 of ‖g‖."""

STEP = 1e-4
"""The book's h (4.3.1): every element's central difference (f(x+h) - f(x-h)) / 2h."""

SMALLER_STEPS = (1e-5, 1e-6)
"""Where an element's difference at STEP disagrees with backprop, it is taken again at these
steps: a ReLU input or a max-pooling tie a step away is out of their reach, and rounding (about
1e-16·|loss| / step) stays below atol. The one-sided differences that judge a kink are taken at
them too."""

NOISE = 64
"""The rounding noise of a difference of the loss at step h is taken as NOISE·ε·|loss| / h (ε
of float64): a few ε in each evaluation, and room for the layers that amplify it."""

FAST_STEPS = (1e-8, 1e-9)
"""The steps (times a Gaussian direction) of fast mode's fourth-order differences. A direction
agrees when the derivative at either step does: a wrong rule disagrees at every step, a kink
only at the steps that reach it, and rounding mostly at the smaller. Whether a direction's
derivative is 0 but for rounding is decided at STEP, where the noise is 1e4 times smaller: at
1e-8 a real gradient of 1e-6·|loss| would pass for noise."""

BY_ELEMENT = 200
"""How many elements (at most, drawn at random) fast mode checks one by one in a parameter
where a direction crossed a kink: its cost stays bounded, as fast mode's should."""


class GradientReport(dict):
    """{parameter name: GradientDifference}, printed as the table the book's gradient_check.py
    would print, with a verdict per parameter and what its notes mean; `passed` is True when
    every parameter passes."""

    def __init__(self, rows, compared, rule, by_element=None):
        super().__init__(rows)
        self.compared, self.rule = compared, rule  # for the heading and the closing line
        self.by_element = by_element  # fast mode: the rule of a parameter checked by element

    @property
    def passed(self):
        return all(d.passed for d in self.values())

    @property
    def kinks(self):
        """How many elements were not judged, being at a kink."""
        return sum(d.kinks for d in self.values())

    def rows(self):
        """The table: a heading row, then per parameter its figures and its verdict."""
        heading = ("parameter", "max |diff|", "max rel", "mean |diff|", "tolerance", "beyond")
        body = [(key, *_figures(d), f"{d.tolerance:.3g}", f"{d.beyond}/{d.compared}", d.result)
                for key, d in self.items()]  # fmt: skip
        return [(*heading, "result"), *body]

    def verdict(self):
        failed = [key for key, d in self.items() if not d.passed]
        verdict = "every parameter passes" if not failed else f"FAILED: {', '.join(failed)}"
        return f"{verdict} (each compared value within tolerance = {self.rule})"

    def notes(self):
        """Lines saying what the notes in the result column mean, for those that appear."""
        lines = []
        if self.kinks:
            where = ", ".join(f"{key} {d.kinks}" for key, d in self.items() if d.kinks)
            lines.append(
                f"{self.kinks} {KINK} ({where}): the step crosses a kink there (a ReLU input "
                "at 0, a max-pooling tie), where the loss has no derivative; the one-sided "
                "differences disagree, and backprop equals one of them"
            )
        zero = [key for key, d in self.items() if d.zero]
        if zero:
            lines.append(
                f"{ZERO}: {', '.join(zero)}: backprop and numerical both within the rounding "
                "noise of 0, so the gradient is 0 (as a bias's before batch normalization) and "
                "max rel would only compare noise"
            )
        by_element = [key for key, d in self.items() if d.by_element]
        if by_element:
            lines.append(
                f"by element: {', '.join(by_element)}: a random direction crossed a kink, so "
                f"elements (up to {BY_ELEMENT} drawn at random) were checked one by one instead, "
                f"within tolerance = {self.by_element}"
            )
        return lines

    def __str__(self):
        widths = [10, 11, 9, 12, 10, 13]  # the result column goes last, unpadded
        lines = [f"backprop against central differences: {self.compared}"]
        for row in self.rows():
            cells = [f"{row[0]:{widths[0]}s}"]
            cells += [f"{cell:>{w}s}" for cell, w in zip(row[1:-1], widths[1:])]
            lines.append(" ".join(cells) + f"  {row[-1]}")
        lines += [self.verdict(), *self.notes()]
        return "\n".join(lines)

    __repr__ = __str__  # a report at the prompt is the table

    def _repr_pretty_(self, printer, cycle):  # IPython's text (a dict would print as a dict)
        printer.text(str(self))

    def _repr_html_(self):  # a notebook shows an HTML table, failures in red
        heading, *body = self.rows()
        rows = [_html_row(heading, "th")]
        rows += [_html_row(row, "td", "" if row[-1].startswith("pass") else "color: red")
                 for row in body]  # fmt: skip
        caption = html.escape(f"backprop against central differences: {self.compared}")
        lines = "".join(f"<p>{html.escape(line)}</p>" for line in (self.verdict(), *self.notes()))
        return f"<table><caption>{caption}</caption>{''.join(rows)}</table>{lines}"


def _figures(d):
    """max |diff|, max rel and mean |diff| as the table shows them: "-" where nothing was
    compared, and max rel "-" where it would compare rounding noise."""
    if not d.compared:
        return "-", "-", "-"
    return f"{d.max_abs:.3g}", "-" if d.zero else f"{d.max_rel:.2g}", f"{d.mean_abs:.3g}"


def _html_row(cells, tag, style=""):
    inner = "".join(f"<{tag}>{html.escape(str(cell))}</{tag}>" for cell in cells)
    return f"<tr style='{style}'>{inner}</tr>" if style else f"<tr>{inner}</tr>"


def check_gradients(
    network, x, t=None, sample=None, seed=None, fast=False, rtol=None, atol=1e-8, train_flg=None
):
    """The book's gradient_check.py (5.7.3) in one call, for any object with `params`,
    `gradient(x, t)` (backprop) and `loss(x, t)` reading the params (moved in place by the
    check), like the book's networks; and for any layer or model in book 2's style (`params`
    and `grads` lists, `forward` and `backward` on arrays), yours included:
    check_gradients(layer, x) or (model, x, t).

    The loss is network.float64_loss(x, t) when the network has it (tinygrad_ko's: float64
    copies of the weights), else network.loss(x, t), in training mode when it takes train_flg
    (as the book's gradient runs it), with NumPy's random state put back before each evaluation
    and at the end: the dropout masks gradient drew from it stay fixed (the book's networks).
    train_flg, when given, is passed on to gradient and the loss: train_flg=False checks a
    network with Dropout in evaluation mode, as tinygrad_ko's own networks with Dropout, whose
    masks come from a generator of their own, must be checked (their float64_loss says so).

    A parameter passes when every compared |backprop - numerical| is within
    atol + rtol·max |numerical| (rtol from RTOL unless given). Modes:
    - every element (default), as the book, by central differences at STEP;
    - sample=k: k random elements of each parameter (from seed + the parameter's place);
    - fast=True: PROJECTIONS directional derivatives g·v per parameter along random Gaussian v,
      by fourth-order central differences of the loss at the FAST_STEPS, each within
      atol + rtol·‖g‖: a fixed number of loss evaluations whatever the size.

    Kinks. ReLU at 0 and max pooling at a tie have no derivative, and a step can straddle one
    (the book's convnets have many: 1e-4 changes pooling winners, and a bias of 0 over MNIST's
    blank background holds ReLU inputs at exactly 0). An element whose central difference
    disagrees is taken again at the SMALLER_STEPS and passes when one agrees. If none does, it
    is "not judged: at a kink" when its second-order one-sided differences disagree with each
    other (curvature alone leaves them within O(h²)) and backprop equals one of them (ReLU's
    derivative 0 at 0 and max pooling's first winner are one side's); otherwise it fails, as a
    wrong backward rule, which equals neither side, does. Such elements are counted, and left
    out of the figures. (Each is held to one side on its own, so a rule wrong only at an exact
    tie, giving every tied input of a max the gradient, can pass.) In fast mode a kink anywhere
    along a direction spoils it, so a parameter with a direction that disagrees and whose
    one-sided differences along it jump is checked element by element instead; one that
    disagrees without a jump fails.

    An element where backprop and numerical are both within the rounding noise of 0 (see
    NOISE) passes, and a parameter whose every value is reads "zero (rounding noise)" instead of
    a max rel of 1 (a bias before batch normalization has gradient 0).
    Returns a GradientReport; print it for the table.
    """
    if fast and sample is not None:
        raise ValueError("check_gradients: choose fast=True or sample=k, not both")
    if sample is not None and (
        isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or sample < 1
    ):
        raise ValueError(f"check_gradients: sample must be a whole number >= 1, got {sample!r}")
    if isinstance(getattr(network, "params", None), list):  # book 2's style
        network = ListsNetwork(network, (x,) if t is None else (x, t), seed)
    mode = {} if train_flg is None else {"train_flg": train_flg}  # e.g. Dropout: evaluation
    state = np.random.get_state()
    try:
        backprop = network.gradient(x, t, **mode)
        params, evaluate = _loss(network, x, t, mode, state)
        backprop = {key: _gradient(backprop, key, p) for key, p in params.items()}
        loss = evaluate()
        if fast:
            rows = _fast_rows(params, evaluate, loss, backprop, seed, atol, rtol)
        else:
            rows = _every_element(params, evaluate, loss, backprop, sample, seed, atol, rtol)
    finally:
        np.random.set_state(state)
    rtols = "/".join(f"{r:g}" for r in sorted({_rtol(rtol, a) for a in backprop.values()}))
    by_element = f"{atol:g} + rtol·max |numerical|, rtol {rtols}"
    if fast:
        compared = f"{PROJECTIONS} random directions per parameter"
        rule = f"{atol:g} + rtol·‖g‖, rtol {RTOL['fast'] if rtol is None else rtol:g}"
        return GradientReport(rows, compared, rule, by_element)
    compared = "every element" if sample is None else f"{sample} random elements per parameter"
    return GradientReport(rows, compared, by_element)


INPUT_NAMES = ("x", "t")  # check_gradients(layer, x, t): how the report names the inputs


def _float64_memo(arrays):
    """deepcopy's memo giving each array a float64 copy, and each view of another array (a
    weight tied through W.T) the same view of that array's copy, so tied weights stay tied."""
    memo, copies = {}, {}
    for a in arrays:
        base = a if a.base is None else a.base
        if id(base) not in copies:
            copies[id(base)] = np.array(base, dtype=np.float64, order="C")
            memo[id(base)] = copies[id(base)]
    for a in arrays:
        if a.base is None:
            continue
        base = copies[id(a.base)]
        start = a.__array_interface__["data"][0] - a.base.__array_interface__["data"][0]
        strides = tuple(st // a.itemsize * base.itemsize for st in a.strides)
        flat = base.reshape(-1)[start // a.itemsize :]
        memo[id(a)] = np.lib.stride_tricks.as_strided(flat, a.shape, strides)
    return memo


class ListsNetwork:
    """A layer or model in book 2's style (params and grads lists; forward(*inputs) and
    backward(dout) on arrays) seen as check_gradients sees a network: a float64 copy of it
    (weights shared between layers stay shared), every forward from the same start (NumPy's
    random state put back: the same negative samples and dropout masks; a stateful layer's
    state as it was: each evaluation runs on a fresh copy sharing the weights), and a fixed
    random dout for an output that is not a scalar loss. Its parameters are the distinct
    weights, named params[i] by their first place in the list (their gradients summed over the
    places, as book 2's remove_duplicate does), and the inputs, named x and t as
    check_gradients names them, whose gradients backward returns (a float input's)."""

    def __init__(self, layer, inputs, seed=None):
        from tinygrad_ko.book2.trainer import remove_duplicate

        self.remove_duplicate = remove_duplicate
        arrays = [a for a in (*layer.params, *layer.grads) if np.asarray(a).dtype.kind == "f"]
        self.start = copy.deepcopy(layer, _float64_memo(arrays))  # shared ones stay shared
        self.shared = [*self.start.params, *self.start.grads]
        self.model = self.start
        self.inputs = tuple(
            np.array(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else a for a in inputs
        )
        self.state = np.random.get_state()
        out = self.forward()
        rng = np.random.default_rng(DEFAULT_SEED if seed is None else seed)
        self.dout = None if np.ndim(out) == 0 else rng.standard_normal(np.shape(out))
        names = {}
        for i, p in enumerate(self.model.params):
            names.setdefault(id(p), f"params[{i}]")
        self.names = names
        unique, _ = remove_duplicate(self.model.params, self.model.grads)
        self.params = {names[id(p)]: p for p in unique}
        for name in self._input_gradients(self.backward()):
            self.params[name] = self.inputs[INPUT_NAMES.index(name)]

    def forward(self):
        np.random.set_state(self.state)
        self.model = copy.deepcopy(self.start, {id(a): a for a in self.shared})
        return self.model.forward(*self.inputs)

    def backward(self):
        return self.model.backward() if self.dout is None else self.model.backward(self.dout)

    def _input_gradients(self, returned):
        """{x or t: its gradient} for the float inputs whose gradient backward returned (one
        array for the first input, or one per input)."""
        grads = returned if isinstance(returned, (tuple, list)) else (returned,)
        found = {}
        for name, x, g in zip(INPUT_NAMES, self.inputs, grads):
            if isinstance(x, np.ndarray) and x.dtype.kind == "f" and np.shape(g) == x.shape:
                found[name] = g
        return found

    def loss(self, x=None, t=None):
        out = self.forward()
        return float(out) if self.dout is None else float(np.sum(out * self.dout))

    def gradient(self, x=None, t=None, **_):
        self.forward()
        inputs = self._input_gradients(self.backward())
        unique, summed = self.remove_duplicate(self.model.params, self.model.grads)
        grads = {self.names[id(p)]: np.array(g) for p, g in zip(unique, summed)}
        grads.update((name, np.array(g)) for name, g in inputs.items() if name in self.params)
        return grads


def _loss(network, x, t, mode, state):
    """(the parameters, which the checks move in place, and the loss at them as a float), as
    check_gradients describes."""
    if hasattr(network, "float64_loss"):
        params, loss = network.float64_loss(x, t, **mode)
        return params, lambda: float(loss())
    options = {}
    if "train_flg" in _parameter_names(network.loss):  # the book's MultiLayerNetExtend
        options["train_flg"] = mode.get("train_flg", True)

    def evaluate():
        np.random.set_state(state)  # the same dropout masks as gradient's
        return float(network.loss(x, t, **options))

    return network.params, evaluate


def _parameter_names(function):
    try:
        return inspect.signature(function).parameters
    except (TypeError, ValueError):  # no signature to read: pass no options
        return {}


def _gradient(backprop, key, p):
    """backprop[key] as an array of the parameter's shape, or a ValueError."""
    a = np.asarray(backprop[key])
    if a.shape != p.shape:
        raise ValueError(
            f"check_gradients: gradient({key}) has shape {a.shape}, but the parameter {key} has "
            f"shape {p.shape}"
        )
    return a


def _rtol(rtol, a):
    return RTOL.get(a.dtype.name, 1e-2) if rtol is None else rtol


def _every_element(params, evaluate, loss, backprop, sample, seed, atol, rtol):
    """{key: GradientDifference} element by element, or for `sample` random elements of each."""
    rows = {}
    for i, (key, p) in enumerate(params.items()):
        if sample is None:
            indices = list(np.ndindex(p.shape))
        else:
            rng = np.random.default_rng(None if seed is None else seed + i)
            chosen = np.sort(rng.permutation(p.size)[:sample])
            indices = list(zip(*np.unravel_index(chosen, p.shape)))
        limit = _rtol(rtol, backprop[key])
        rows[key] = _by_element(p, evaluate, loss, backprop[key], indices, atol, limit)
    return rows


def _by_element(p, evaluate, loss, a, indices, atol, rtol):
    """The GradientDifference of backprop `a` at the indices against central differences of the
    loss with p moved one element at a time, kinks judged as check_gradients describes."""
    a = np.array([a[index] for index in indices], dtype=np.float64)
    f = np.array([_losses(evaluate, p, index, (STEP, -STEP)) for index in indices]).reshape(-1, 2)
    n = (f[:, 0] - f[:, 1]) / (2 * STEP)
    bend = np.abs(f[:, 0] - 2 * loss + f[:, 1]) / STEP  # how far the one-sided differences part
    tolerance = atol + rtol * np.abs(n).max(initial=0)
    noise = _noise(loss, STEP)
    zero = (np.abs(a) <= noise) & (np.abs(n) <= noise)
    kink = np.zeros(n.shape, dtype=bool)
    if p.dtype == np.float64:  # a smaller step would move another dtype by its rounding
        for j in np.flatnonzero(~(np.abs(a - n) <= tolerance) & ~zero):
            n[j], kink[j] = _again(p, evaluate, loss, indices[j], a[j], n[j], bend[j], tolerance)
    return _row(a[~kink], n[~kink], tolerance, zero[~kink], int(kink.sum()))


def _again(p, evaluate, loss, index, a, n, bend, tolerance):
    """(numerical, at a kink) for an element whose difference n at STEP disagrees with backprop
    a: the difference at the first of the SMALLER_STEPS that agrees; else n, at a kink when at
    one of them the one-sided differences jump apart and a equals one of them. A loss straight
    on both sides of STEP (bend within tolerance), whose difference a smaller step does not
    change, has no kink to blame: that is a wrong rule, failed without more evaluations."""
    at = functools.cache(lambda offset: _losses(evaluate, p, index, (offset,))[0])
    for h in SMALLER_STEPS:
        central = (at(h) - at(-h)) / (2 * h)
        if abs(a - central) <= tolerance:
            return central, False
        if bend <= tolerance and abs(central - n) <= tolerance:
            return n, False
    for h in SMALLER_STEPS:
        right = (4 * at(h) - at(2 * h) - 3 * loss) / (2 * h)  # second order, one side only
        left = (3 * loss - 4 * at(-h) + at(-2 * h)) / (2 * h)
        jump = abs(right - left) > max(tolerance, _noise(loss, h))
        if jump and min(abs(a - right), abs(a - left)) <= tolerance:
            return n, True
    return n, False


def _losses(evaluate, p, index, offsets):
    """The loss with p[index] moved by each offset in turn; p[index] put back bit for bit."""
    original = p[index]
    values = []
    try:
        for offset in offsets:
            p[index] = original + offset
            values.append(evaluate())
    finally:
        p[index] = original
    return values


def _noise(loss, h):
    """The rounding noise of a difference of the loss at step h (see NOISE)."""
    return NOISE * np.finfo(np.float64).eps * abs(loss) / h


def _row(a, n, tolerance, zero, kinks=0, by_element=False):
    """The GradientDifference of compared values a (backprop) and n (numerical)."""
    diff = np.abs(a - n)
    scale = np.maximum(np.abs(a), np.abs(n))
    rel = np.divide(diff, scale, out=np.zeros_like(diff), where=(scale > 0) & ~zero)
    return GradientDifference(
        float(diff.max(initial=0)),
        float(rel.max(initial=0)),
        float(diff.mean()) if diff.size else 0.0,
        float(tolerance),
        int(np.sum(~(diff <= tolerance) & ~zero)),  # NaN is never within
        diff.size,
        kinks,
        bool(diff.size and zero.all()),
        by_element,
    )


def _fast_rows(params, evaluate, loss, backprop, seed, atol, rtol):
    """{key: GradientDifference} along random directions, or element by element where a
    direction that disagrees crossed a kink."""
    odd = [f"{k} ({p.dtype})" for k, p in params.items() if p.dtype != np.float64]
    if odd:
        raise ValueError(
            f"check_gradients(fast=True): parameters {', '.join(odd)} are not float64; fast "
            "mode moves them by about 1e-8, below float32's resolution. Use float64 "
            "parameters, or give the network a float64_loss(x, t) like TwoLayerNet's"
        )
    rng = np.random.default_rng(DEFAULT_SEED if seed is None else seed)
    limit = RTOL["fast"] if rtol is None else rtol
    noise = [_noise(loss, h) for h in FAST_STEPS]
    rows = {}
    for key, p in params.items():
        vs = rng.standard_normal((PROJECTIONS, *p.shape))
        a = vs.reshape(PROJECTIONS, -1) @ backprop[key].astype(np.float64).reshape(-1)
        n, jump = _along(p, evaluate, loss, vs, FAST_STEPS[0])
        zero = (np.abs(a) <= noise[0]) & (np.abs(n) <= noise[0])
        if zero.any():  # 0 at 1e-8 may be a small real gradient: at STEP it shows
            wide, _ = _along(p, evaluate, loss, vs[zero], STEP)
            quiet = _noise(loss, STEP)
            n[zero] = wide
            zero[zero] = (np.abs(a[zero]) <= quiet) & (np.abs(wide) <= quiet)
        tolerance = atol + limit * np.sqrt(np.mean(n**2))  # ‖g‖, as E[(g·v)²] = ‖g‖²
        crossed = False
        wrong = np.flatnonzero(~(np.abs(a - n) <= tolerance) & ~zero)
        if wrong.size:  # those directions again at the smaller step
            smaller, jump_smaller = _along(p, evaluate, loss, vs[wrong], FAST_STEPS[1])
            better = np.abs(a[wrong] - smaller) < np.abs(a[wrong] - n[wrong])
            n[wrong] = np.where(better, smaller, n[wrong])
            still = ~(np.abs(a[wrong] - n[wrong]) <= tolerance)
            jumps = (jump[wrong] > max(tolerance, noise[0])) | (
                jump_smaller > max(tolerance, noise[1])
            )
            crossed = np.any(jumps & still)
        if crossed:
            chosen = np.sort(rng.permutation(p.size)[:BY_ELEMENT])
            indices = list(zip(*np.unravel_index(chosen, p.shape)))
            limit_element = _rtol(rtol, backprop[key])
            row = _by_element(p, evaluate, loss, backprop[key], indices, atol, limit_element)
            rows[key] = row._replace(by_element=True)
        else:
            rows[key] = _row(a, n, tolerance, zero)
    return rows


def _along(p, evaluate, loss, vs, h):
    """For each direction v: dL(p + s·v)/ds at 0 by fourth-order central differences at step h,
    and how far apart the second-order one-sided derivatives from s > 0 and from s < 0 are (a
    jump: a kink within 2h); p moved in place, and put back bit for bit."""
    original = p.copy()
    values = np.empty((4, len(vs)))  # the loss at s = h, -h, 2h, -2h
    try:
        for b, v in enumerate(vs):
            for j, s in enumerate((h, -h, 2 * h, -2 * h)):
                p[...] = original + s * v
                values[j, b] = evaluate()
    finally:
        p[...] = original
    plus, minus, plus2, minus2 = values
    numerical = (8 * (plus - minus) - (plus2 - minus2)) / (12 * h)
    right = (4 * plus - plus2 - 3 * loss) / (2 * h)
    left = (3 * loss - 4 * minus + minus2) / (2 * h)
    return numerical, np.abs(right - left)
