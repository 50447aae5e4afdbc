"""Numerical gradient against backprop, measured (4.5 against 5.7): how each cost grows with the
number of parameters, and how far apart the two gradients are. `tinygrad-ko bench` runs a
quick sweep; benchmarks/numeric_vs_backprop.py the full one."""

from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np

from tinygrad_ko.networks.models import TwoLayerNet

__all__ = ["Point", "machine", "markdown", "median_seconds", "plot_costs", "slopes", "sweep"]

QUICK = {"hidden_sizes": (1, 5, 20, 50), "batch_sizes": (10, 100)}
FULL = {"hidden_sizes": (1, 2, 5, 10, 20, 50, 100), "batch_sizes": (1, 10, 100)}


def machine():
    """The machine a figure was measured on: cores, CPU, Python, NumPy and its BLAS."""
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return (
        f"{os.cpu_count()} cores ({_cpu_name()}), Python {platform.python_version()}, "
        f"NumPy {np.__version__} with {blas['name']} {blas.get('version', '')}"
    )


def _cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def median_seconds(run, repeat=5, number=1):
    """Median over `repeat` timings of `number` calls of run(), per call."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            run()
        times.append((time.perf_counter() - start) / number)
    return float(np.median(times))


@dataclass
class Point:
    hidden: int
    batch: int
    params: int
    numerical_seconds: float
    backprop_ms: float
    ratio: float  # numerical / backprop
    relative_error: float  # max |backprop - numerical| / max |numerical|, over all parameters


def sweep(x, t, hidden_sizes, batch_sizes, report=print):
    """TwoLayerNet(784, hidden, 10) in float64, as the book's code runs, for each hidden size and
    batch size: the full numerical gradient once, backprop's as a median of repeats."""
    points = []
    for batch in batch_sizes:
        xb, tb = x[:batch].astype(np.float64), t[:batch]
        for hidden in hidden_sizes:
            net = TwoLayerNet(x.shape[1], hidden, 10, dtype=np.float64, seed=0)
            start = time.perf_counter()
            numerical = net.numerical_gradient(xb, tb)
            numerical_seconds = time.perf_counter() - start
            backprop = net.gradient(xb, tb)
            backprop_seconds = median_seconds(partial(net.gradient, xb, tb), number=20)
            scale = max(np.abs(g).max() for g in numerical.values())
            error = max(np.abs(backprop[k] - numerical[k]).max() for k in numerical) / scale
            params = sum(p.size for p in net.params.values())
            point = Point(
                hidden,
                batch,
                params,
                numerical_seconds,
                backprop_seconds * 1e3,
                numerical_seconds / backprop_seconds,
                float(error),
            )
            points.append(point)
            report(
                f"hidden {hidden:4d}  batch {batch:4d}  {params:7,d} parameters: numerical "
                f"{numerical_seconds:8.3f} s, backprop {point.backprop_ms:7.3f} ms"
            )
    return points


def slopes(points):
    """{batch: (numerical slope, backprop slope)}: how each cost grows with the parameter count,
    the slope of log(cost) against log(parameters) fitted by least squares."""
    fitted = {}
    for batch in sorted({p.batch for p in points}):
        row = [p for p in points if p.batch == batch]
        logs = np.log([p.params for p in row])
        fitted[batch] = tuple(
            float(np.polyfit(logs, np.log([cost(p) for p in row]), 1)[0])
            for cost in (lambda p: p.numerical_seconds, lambda p: p.backprop_ms)
        )
    return fitted


def markdown(points):
    lines = [
        "| hidden | batch | parameters | numerical gradient | backprop | numerical / backprop "
        "| max relative error |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {p.hidden} | {p.batch} | {p.params:,} | {p.numerical_seconds:.3f} s | "
        f"{p.backprop_ms:.3f} ms | {p.ratio:,.0f} | {p.relative_error:.1e} |"
        for p in points
    ]
    return "\n".join(lines)


def as_json(points):
    return {
        "machine": machine(),
        "points": [asdict(p) for p in points],
        "slopes": {str(b): {"numerical": n, "backprop": g} for b, (n, g) in slopes(points).items()},
    }


def plot_costs(points, path=None):
    """Both costs against the parameter count, log-log, one line per batch size: a matplotlib
    Figure, saved at path when given."""
    from tinygrad_ko.display.plot import new_figure, save_figure

    figure, kind = new_figure(path, "plot_costs:", figsize=(7, 5), dpi=100)
    ax = figure.subplots()
    for i, batch in enumerate(sorted({p.batch for p in points})):
        row = [p for p in points if p.batch == batch]
        params, style = [p.params for p in row], {"color": f"C{i}", "marker": "os^vD"[i % 5]}
        numerical, backprop = [p.numerical_seconds for p in row], [p.backprop_ms / 1e3 for p in row]
        ax.plot(params, numerical, "-", label=f"numerical, batch {batch}", **style)
        ax.plot(params, backprop, "--", label=f"backprop, batch {batch}", **style)
    ax.set(xscale="log", yscale="log", xlabel="parameters", ylabel="seconds per gradient")
    ax.set_title("Numerical gradient vs backprop, TwoLayerNet(784, hidden, 10), float64")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    figure.tight_layout()
    return save_figure(figure, path, kind)
