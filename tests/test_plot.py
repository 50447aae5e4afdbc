"""plot_history and plot_filters: the pictures in the format the file's suffix names, or a
message saying how to get matplotlib or which suffixes it writes."""

import sys

import numpy as np
import pytest
from book import book_module

from tinygrad_ko.plot import plot_filters, plot_history, require_matplotlib, smooth_curve
from tinygrad_ko.train import History

HISTORY = History(
    loss=[2.3 / (i + 1) for i in range(300)],
    train_acc=[0.1, 0.8, 0.9],
    test_acc=[0.1, 0.78, 0.88],
    eval_iteration=[1, 151, 300],
)
MAGIC = {  # how each format's files begin
    "curves.png": b"\x89PNG\r\n\x1a\n",
    "curves.JPG": b"\xff\xd8\xff",
    "curves.jpeg": b"\xff\xd8\xff",
    "curves.svg": b"<?xml",
    "curves.pdf": b"%PDF",
}


@pytest.mark.parametrize("name", MAGIC)
def test_the_curves_are_saved_in_the_format_the_suffix_names(tmp_path, name):
    path = tmp_path / name
    plot_history(HISTORY, path, title="test")
    data = path.read_bytes()
    assert data.startswith(MAGIC[name]) and len(data) > 10_000
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("name", ["curves.gif", "curves.txt", "curves", ".png", "curves."])
def test_a_suffix_matplotlib_does_not_write_is_refused_listing_those_it_does(tmp_path, name):
    with pytest.raises(ValueError, match=r"plot_history: .*use \.png, \.jpg, .*\.svg, \.pdf"):
        plot_history(HISTORY, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_without_matplotlib_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'tinygrad_ko\[plot\]'"):
        require_matplotlib()


@pytest.mark.book
def test_smooth_curve_is_the_books():
    losses = np.random.default_rng(0).random(300)
    np.testing.assert_array_equal(
        smooth_curve(losses), book_module("common/util.py").smooth_curve(losses)
    )
    with pytest.raises(ValueError, match="smooth_curve: x must be a 1-D curve of at least 11"):
        smooth_curve(losses[:5])
    with pytest.raises(ValueError, match="smooth_curve: the window must be odd"):
        smooth_curve(losses, window=10)


def test_filters_are_drawn_one_small_image_each_under_their_title(tmp_path):
    rng = np.random.default_rng(0)
    before, after = rng.standard_normal((30, 1, 5, 5)), rng.standard_normal((12, 3, 3, 3))
    figure = plot_filters({"before": before, "after": after}, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:8] == MAGIC["curves.png"]
    images = [image.get_array() for ax in figure.axes for image in ax.get_images()]
    assert len(images) == 42  # the first channel of each filter, in order
    np.testing.assert_array_equal(images[0], before[0, 0])
    np.testing.assert_array_equal(images[-1], after[-1, 0])
    assert [sub.get_suptitle() for sub in figure.subfigs] == ["before", "after"]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"W1": np.ones((30, 25))}, r"'W1' must be filters \(FN, C, FH, FW\), got shape \(30,"),
        ({"W1": np.ones((0, 1, 5, 5))}, r"'W1' has no filters"),
        ({}, r"nothing to draw"),
    ],
)
def test_filters_that_cannot_be_drawn_are_refused_by_name(tmp_path, filters, message):
    with pytest.raises(ValueError, match="plot_filters: " + message):
        plot_filters(filters, tmp_path / "f.png")
    assert not (tmp_path / "f.png").exists()
