"""plot_history: a PNG of the curves, or a message saying how to get matplotlib."""

import sys

import pytest

from tinygrad_ko.plot import plot_history, require_matplotlib
from tinygrad_ko.train import History


def test_the_curves_are_saved_as_a_png(tmp_path):
    history = History(
        loss=[2.3 / (i + 1) for i in range(300)],
        train_acc=[0.1, 0.8, 0.9],
        test_acc=[0.1, 0.78, 0.88],
        eval_iteration=[1, 151, 300],
    )
    path = tmp_path / "curves.png"
    plot_history(history, path, title="test")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


def test_without_matplotlib_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'tinygrad_ko\[plot\]'"):
        require_matplotlib()
