"""Pictures of a training run, with matplotlib (the optional extra `plot`)."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import numpy as np

from tinygrad_ko.data.files import atomic_write

__all__ = [
    "figure_format",
    "new_figure",
    "plot_filters",
    "plot_history",
    "require_matplotlib",
    "save_figure",
    "smooth_curve",
]

INSTALL = "pip install 'tinygrad_ko[plot]' (or pip install matplotlib)"
FORMATS = ("png", "jpg", "jpeg", "svg", "pdf", "webp", "tif", "tiff")


def smooth_curve(x, window=11):
    """A noisy curve (mini-batch losses) smoothed for plotting, as the book's chapter-6 figures
    are: a moving average weighted by a Kaiser window (beta 2), the ends mirrored so the
    result has the input's length."""
    x = np.asarray(x, dtype=np.float64)
    if window % 2 == 0 or window < 1:
        raise ValueError(f"smooth_curve: the window must be odd, to center on each point: {window}")
    if x.ndim != 1 or len(x) < window:
        raise ValueError(
            f"smooth_curve: x must be a 1-D curve of at least {window} points, got shape {x.shape}"
        )
    mirrored = np.concatenate([x[window - 1 : 0 : -1], x, x[-1:-window:-1]])
    weights = np.kaiser(window, 2)
    smoothed = np.convolve(weights / weights.sum(), mirrored, mode="valid")
    return smoothed[window // 2 : len(smoothed) - window // 2]


def require_matplotlib():
    """The class of our pictures: a matplotlib Figure that a notebook shows inline (PNG) even
    when pyplot was never imported; or an ImportError that says how to install matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"plotting needs matplotlib, which is not installed: {INSTALL}") from None
    return _picture(Figure)


@functools.cache
def _picture(figure_class):
    class Picture(figure_class):
        def _repr_png_(self):
            buffer = io.BytesIO()
            self.savefig(buffer, format="png")
            return buffer.getvalue()

    Picture.__module__, Picture.__qualname__ = __name__, "Picture"  # pickle finds it by name
    return Picture


def __getattr__(name):  # tinygrad_ko.display.plot.Picture, made when first asked for (matplotlib)
    if name == "Picture":
        return require_matplotlib()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def new_figure(path, caller, **options):
    """(a Figure made with matplotlib's options, the format to save it in), the format checked
    from path's suffix before any drawing; (figure, None) when path is None: nothing to save."""
    kind = None if path is None else figure_format(path, caller)
    return require_matplotlib()(**options), kind


def figure_format(path, caller):
    """The picture format path's suffix names (.jpg: JPEG), checked before any work is done:
    matplotlib must be installed and able to write it. `caller` names what is asking."""
    require_matplotlib()
    from matplotlib.backend_bases import FigureCanvasBase

    writable = [f for f in FORMATS if f in FigureCanvasBase.get_supported_filetypes()]
    suffix = Path(path).suffix.lower()[1:]
    if suffix not in writable:
        found = f"its suffix .{suffix} is not" if suffix else "it has no suffix, which is not"
        raise ValueError(
            f"{caller} {path}: the picture's format comes from the file's suffix, and {found} "
            f"one matplotlib writes; use {', '.join('.' + f for f in writable)}"
        )
    return suffix


def save_figure(figure, path, kind):
    """Write figure to path in the format `kind` (from figure_format), atomically; nothing
    when path is None. Returns the figure."""
    if path is not None:
        with atomic_write(path) as f:
            figure.savefig(f, format=kind)
    return figure


def plot_history(history, path=None, title=None):
    """Train/test accuracy (left) and the mini-batch loss (right) as a matplotlib Figure (a
    notebook shows it), saved at path when given, in the format its suffix names (.png, .svg,
    .pdf, .jpg, ...)."""
    figure, kind = new_figure(path, "plot_history:", figsize=(10, 4), dpi=100)
    accuracy, loss = figure.subplots(1, 2)
    accuracy.plot(history.eval_iteration, history.train_acc, "o-", label="train acc")
    accuracy.plot(history.eval_iteration, history.test_acc, "s--", label="test acc")
    accuracy.set(xlabel="iteration", ylabel="accuracy", ylim=(0, 1))
    accuracy.legend(loc="lower right")
    accuracy.grid(alpha=0.3)
    steps = np.arange(1, len(history.loss) + 1)
    loss.plot(steps, history.loss, linewidth=0.5, alpha=0.35, label="mini-batch")
    window = min(100, len(history.loss))
    mean = np.convolve(history.loss, np.ones(window) / window, mode="valid")
    loss.plot(steps[window - 1 :], mean, label=f"mean of the last {window}")
    loss.set(xlabel="iteration", ylabel="loss", yscale="log")
    loss.legend(loc="upper right")
    loss.grid(alpha=0.3)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return save_figure(figure, path, kind)


def plot_filters(filters, path=None, columns=10):
    """Pictures of convolution filters, as the book's visualize_filter.py draws them (7.6.1):
    each filter's first channel as a small gray image, dark for large weights. filters:
    {title: W of shape (FN, C, FH, FW)}, one block of rows per title. Returns the matplotlib
    Figure, saved at path when given (format from the suffix)."""
    if not filters:
        raise ValueError("plot_filters: nothing to draw: give {title: filters}")
    for title, W in filters.items():
        if np.ndim(W) != 4:
            raise ValueError(
                f"plot_filters: {title!r} must be filters (FN, C, FH, FW), got shape {np.shape(W)}"
            )
        if len(W) == 0:
            raise ValueError(f"plot_filters: {title!r} has no filters (shape {np.shape(W)})")
    rows = [-(-len(W) // columns) for W in filters.values()]  # rows each block needs
    size = (columns, sum(rows) + 0.4 * len(rows))
    figure, kind = new_figure(path, "plot_filters:", figsize=size, dpi=60)
    blocks = figure.subfigures(len(filters), 1, height_ratios=rows, squeeze=False)[:, 0]
    for block, n_rows, (title, W) in zip(blocks, rows, filters.items()):
        block.suptitle(title)
        axes = block.subplots(n_rows, columns, squeeze=False).ravel()
        for ax in axes:
            ax.set_axis_off()
        for ax, w in zip(axes, np.asarray(W)[:, 0]):
            ax.imshow(w, cmap="gray_r", interpolation="nearest")
    return save_figure(figure, path, kind)
