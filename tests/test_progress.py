"""progress_bar: tqdm on a terminal, plain lines at each tenth otherwise."""

import io

import pytest

from tinygrad_ko.progress import PlainProgress, progress_bar


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_plain_lines_at_each_tenth_when_not_a_terminal():
    stream = io.StringIO()
    with progress_bar(total=50, desc="train", stream=stream) as bar:
        assert isinstance(bar, PlainProgress)
        for _ in range(50):
            bar.update()
    lines = stream.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == [f"train: {p}%" for p in range(10, 101, 10)]
    assert lines[-1].startswith("train: 100% (50/50 it, ")


def test_a_terminal_gets_a_tqdm_bar():
    tqdm = pytest.importorskip("tqdm")  # the dev extra installs it, so CI runs this
    stream = Terminal()
    with progress_bar(total=3, desc="x", stream=stream) as bar:
        assert isinstance(bar, tqdm.tqdm)
        bar.update(3)
    assert "3/3" in stream.getvalue()
