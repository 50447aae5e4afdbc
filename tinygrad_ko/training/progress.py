"""Progress reporting: a tqdm bar where a person is watching (a widget in Jupyter and Colab, a
text bar in a terminal), plain lines when the output is a log or a pipe, or when tqdm (the
optional extra `progress`) is not installed."""

from __future__ import annotations

import importlib.util
import sys
import time

__all__ = ["PlainProgress", "in_notebook", "progress_bar", "watched", "write"]


def in_notebook():
    """True inside a Jupyter kernel (Jupyter, Colab, VS Code): IPython with a kernel attached."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def watched():
    """Whether a person is watching the output: a notebook, or a terminal on stderr. Logs,
    pipes, tests, and programs without a stderr are not watched."""
    return in_notebook() or _isatty(sys.stderr)


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no stream (pythonw), or a closed one
        return False


def progress_bar(total=None, desc="", unit="it", stream=None):
    """A context manager with update(n) and write(line), like tqdm's: in a notebook tqdm's
    widget (or its text bar without ipywidgets), it and the lines on stdout, which Jupyter does
    not tint as errors; tqdm's text bar on a terminal; else PlainProgress. stream: stderr
    outside notebooks."""
    notebook = in_notebook()
    stream = stream or (sys.stdout if notebook else sys.stderr)
    bar = _tqdm(notebook) if notebook or _isatty(stream) else None
    if bar is not None:
        return bar(total=total, desc=desc, unit=unit, unit_scale=unit == "B", file=stream)
    return PlainProgress(total, desc, unit, stream)


def _tqdm(notebook):
    """tqdm's bar class: the widget in a notebook that has ipywidgets (tqdm.auto would warn on
    stderr where it is missing), else the text bar; None without tqdm."""
    try:
        from tqdm.std import tqdm
    except ImportError:
        return None
    if notebook and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm
    return tqdm


def write(line):
    """Print a line to stdout without breaking a progress bar being drawn (tqdm.write)."""
    try:
        from tqdm import tqdm
    except ImportError:
        print(line, flush=True)
    else:
        tqdm.write(line)


class PlainProgress:
    """One line at each tenth of the way (or none without a total), and write() for the rest."""

    def __init__(self, total, desc, unit, stream):
        self.total, self.desc, self.unit, self.stream = total, desc, unit, stream
        self.n, self.tenths, self.start = 0, 0, time.perf_counter()

    def update(self, n=1):
        self.n += n
        if self.total and self.n * 10 >= (self.tenths + 1) * self.total:
            self.tenths = self.n * 10 // self.total
            seconds = time.perf_counter() - self.start
            print(
                f"{self.desc}: {100 * self.n // self.total}% ({self.n}/{self.total} {self.unit}, "
                f"{seconds:.1f} s)",
                file=self.stream,
                flush=True,
            )

    def write(self, line, file=None):
        print(line, file=file or sys.stdout, flush=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
