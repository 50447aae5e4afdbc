"""Progress reporting: a tqdm bar on a terminal, plain lines when the output is a log or a pipe
(or tqdm is not installed: it is the optional extra `progress`)."""

from __future__ import annotations

import sys
import time

__all__ = ["progress_bar"]


def progress_bar(total=None, desc="", unit="it", stream=None):
    """A context manager with update(n) and write(line), like tqdm's."""
    stream = stream or sys.stderr
    if stream.isatty():
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B", file=stream)
    return PlainProgress(total, desc, unit, stream)


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
