"""Gradient checking: backprop against central differences (book 5.7.3).

gradcheck works on any function of tensors, like torch.autograd.gradcheck; check_gradients is
the book's gradient_check.py for a whole network, as one call.
"""

from __future__ import annotations

import copy
import html
import itertools
import re
from typing import NamedTuple

import numpy as np

from tinygrad_ko.autograd import backprop, enable_grad, grad, no_grad
from tinygrad_ko.numerical import numerical_gradient
from tinygrad_ko.ops import concatenate
from tinygrad_ko.tensor import Tensor

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


class GradientDifference(NamedTuple):
    """How far backprop is from numerical differentiation for one parameter."""

    max_abs: float  # max |backprop - numerical|
    max_rel: float  # max |backprop - numerical| / max(|backprop|, |numerical|)
    mean_abs: float  # mean |backprop - numerical|: the figure the book's gradient_check prints
    tolerance: float  # atol + rtol·(size of the gradient): how far each value may be off
    beyond: int  # compared values beyond the tolerance (NaN counts as beyond)
    compared: int  # values compared: elements, or directions in fast mode

    @property
    def passed(self):
        return self.beyond == 0


RTOL = {"float64": 1e-5, "float32": 1e-3, "fast": 1e-3}
"""check_gradients' default rtol (1e-2 for other dtypes). float32 backprop of a batch of 100 is
off by about 1e-4 of the largest gradient through rounding alone; fast mode, which moves every
weight at once, differentiates a float64 loss at steps where rounding reaches about 1e-4 of ‖g‖."""

FAST_STEPS = (1e-8, 1e-9)
"""The steps (times a Gaussian direction) of fast mode's fourth-order differences. A direction
agrees when the derivative at either step does: a wrong rule disagrees at every step, a ReLU
kink (no derivative at 0) only at the steps that reach it, and rounding mostly at the smaller."""


class GradientReport(dict):
    """{parameter name: GradientDifference}, printed as the table the book's gradient_check.py
    would print, with a verdict per parameter; `passed` is True when every parameter passes."""

    def __init__(self, rows, compared, rule):
        super().__init__(rows)
        self.compared, self.rule = compared, rule  # for the heading and the closing line

    @property
    def passed(self):
        return all(d.passed for d in self.values())

    def rows(self):
        """The table: a heading row, then per parameter its figures and its verdict."""
        heading = ("parameter", "max |diff|", "max rel", "mean |diff|", "tolerance", "beyond")
        body = [
            (key, f"{d.max_abs:.3g}", f"{d.max_rel:.2g}", f"{d.mean_abs:.3g}",
             f"{d.tolerance:.3g}", f"{d.beyond}/{d.compared}", "pass" if d.passed else "FAIL")
            for key, d in self.items()
        ]  # fmt: skip
        return [(*heading, "result"), *body]

    def verdict(self):
        failed = [key for key, d in self.items() if not d.passed]
        verdict = "every parameter passes" if not failed else f"FAILED: {', '.join(failed)}"
        return f"{verdict} (each compared value within tolerance = {self.rule})"

    def __str__(self):
        widths = [10, 11, 9, 12, 10, 13]  # the result column goes last, unpadded
        lines = [f"backprop against central differences: {self.compared}"]
        for row in self.rows():
            cells = [f"{row[0]:{widths[0]}s}"]
            cells += [f"{cell:>{w}s}" for cell, w in zip(row[1:-1], widths[1:])]
            lines.append(" ".join(cells) + f"  {row[-1]}")
        lines.append(self.verdict())
        return "\n".join(lines)

    __repr__ = __str__  # a report at the prompt is the table

    def _repr_pretty_(self, printer, cycle):  # IPython's text (a dict would print as a dict)
        printer.text(str(self))

    def _repr_html_(self):  # a notebook shows an HTML table, failures in red
        heading, *body = self.rows()
        rows = [_html_row(heading, "th")]
        rows += [_html_row(row, "td", "" if row[-1] == "pass" else "color: red") for row in body]
        caption = html.escape(f"backprop against central differences: {self.compared}")
        return (
            f"<table><caption>{caption}</caption>{''.join(rows)}</table>"
            f"<p>{html.escape(self.verdict())}</p>"
        )


def _html_row(cells, tag, style=""):
    inner = "".join(f"<{tag}>{html.escape(str(cell))}</{tag}>" for cell in cells)
    return f"<tr style='{style}'>{inner}</tr>" if style else f"<tr>{inner}</tr>"


def check_gradients(
    network, x, t=None, sample=None, seed=None, fast=False, rtol=None, atol=1e-8, train_flg=None
):
    """The book's gradient_check.py (5.7.3) in one call, for any object with `params`,
    `gradient(x, t)` (backprop) and `numerical_gradient(x, t)`, like the book's TwoLayerNet;
    and for any layer or model in book 2's style (`params` and `grads` lists, `forward` and
    `backward` on arrays), yours included: check_gradients(layer, x) or (model, x, t).

    A parameter passes when every compared |backprop - numerical| is within
    atol + rtol·max |numerical| (rtol from RTOL unless given). Modes:
    - every element (default), as the book;
    - sample=k: k random elements of each parameter (the network's numerical_gradient must
      accept sample and seed, as TwoLayerNet's does);
    - fast=True: PROJECTIONS directional derivatives g·v per parameter along random Gaussian v,
      by fourth-order central differences of the loss at the FAST_STEPS (through
      network.float64_loss(x, t) when the network has it, else network.loss with float64
      params moved in place), each within atol + rtol·‖g‖: a fixed number of loss evaluations
      whatever the size.
    train_flg, when given, is passed on to the network's gradient and numerical gradient:
    train_flg=False checks a network with Dropout in evaluation mode.
    Returns a GradientReport; print it for the table.
    """
    if fast and sample is not None:
        raise ValueError("check_gradients: choose fast=True or sample=k, not both")
    if isinstance(getattr(network, "params", None), list):  # book 2's style
        network = ListsNetwork(network, (x,) if t is None else (x, t), seed)
    mode = {} if train_flg is None else {"train_flg": train_flg}  # e.g. Dropout: evaluation
    backprop = network.gradient(x, t, **mode)
    if fast:
        backprop, numerical = _directional(network, x, t, backprop, seed, mode)
        compared = f"{PROJECTIONS} random directions per parameter"
    elif sample is None:
        numerical = network.numerical_gradient(x, t, **mode)
        compared = "every element"
    else:
        numerical = network.numerical_gradient(x, t, sample=sample, seed=seed, **mode)
        compared = f"{sample} random elements per parameter"
    rows, limits = {}, set()
    for key in network.params:
        a = np.asarray(backprop[key])
        limit = RTOL.get("fast" if fast else a.dtype.name, 1e-2) if rtol is None else rtol
        limits.add(limit)
        a = a.astype(np.float64)
        n = np.ma.getdata(numerical[key]).astype(np.float64)
        if fast:  # per direction, the step whose derivative agrees better
            size = np.sqrt(np.mean(n[0] ** 2))
            n = np.where(np.abs(a - n[0]) <= np.abs(a - n[1]), n[0], n[1])
        else:
            if a.shape != n.shape:
                raise ValueError(
                    f"check_gradients: gradient({key}) has shape {a.shape}, but "
                    f"numerical_gradient({key}) has shape {n.shape}"
                )
            if sample is not None:  # only the differentiated elements (the rest are masked)
                taken = ~np.ma.getmaskarray(numerical[key])
                a, n = a[taken], n[taken]
            size = np.abs(n).max(initial=0)
        diff = np.abs(a - n)
        scale = np.maximum(np.abs(a), np.abs(n))
        rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
        tolerance = float(atol + limit * size)
        rows[key] = GradientDifference(
            float(diff.max(initial=0)),
            float(rel.max(initial=0)),
            float(diff.mean()),
            tolerance,
            int(np.sum(~(diff <= tolerance))),  # NaN is never within
            diff.size,
        )
    size_name = "‖g‖" if fast else "max |numerical|"
    rtols = "/".join(f"{r:g}" for r in sorted(limits))
    return GradientReport(rows, compared, f"{atol:g} + rtol·{size_name}, rtol {rtols}")


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

    def numerical_gradient(self, x=None, t=None, sample=None, seed=None, **_):
        return {
            key: numerical_gradient(lambda _: self.loss(), p, sample=sample,
                                    seed=None if seed is None else seed + i)
            for i, (key, p) in enumerate(self.params.items())
        }  # fmt: skip


def _directional(network, x, t, backprop, seed, mode):
    """For each parameter p with backprop gradient g: g·v_b, and dL(p + s·v_b)/ds at 0 at each
    of the FAST_STEPS (an array of shape (steps, PROJECTIONS)), for PROJECTIONS random Gaussian
    directions v_b, by fourth-order central differences with every element of p moved at once
    and restored exactly afterwards."""
    if hasattr(network, "float64_loss"):
        params, loss = network.float64_loss(x, t, **mode)
    else:
        params, loss = network.params, lambda: network.loss(x, t)
        odd = [f"{k} ({p.dtype})" for k, p in params.items() if p.dtype != np.float64]
        if odd:
            raise ValueError(
                f"check_gradients(fast=True): parameters {', '.join(odd)} are not float64; fast "
                "mode moves them by about 1e-8, below float32's resolution. Use float64 "
                "parameters, or give the network a float64_loss(x, t) like TwoLayerNet's"
            )
    rng = np.random.default_rng(DEFAULT_SEED if seed is None else seed)
    evaluate = _scalar(loss)
    analytical, numerical = {}, {}
    for key, p in params.items():
        vs = rng.standard_normal((PROJECTIONS, *p.shape))
        g = np.asarray(backprop[key], dtype=np.float64)
        analytical[key] = vs.reshape(PROJECTIONS, -1) @ g.reshape(-1)
        original = p.copy()
        columns = np.empty((len(FAST_STEPS), PROJECTIONS))
        for (i, eps), (b, v) in itertools.product(enumerate(FAST_STEPS), enumerate(vs)):

            def move(s, p=p, original=original, step=eps * v):
                p[...] = original + s * step if s else original  # s = 0: bit for bit

            columns[i, b] = _difference(evaluate, (), move, CENTRAL_4TH_ORDER)[0] / eps
        numerical[key] = columns
    return analytical, numerical


def _scalar(loss):
    """loss() as the fn(*xs) -> tensor that _difference evaluates."""
    return lambda: Tensor(np.asarray(loss(), dtype=np.float64))
