"""What a notebook or a prompt shows: the graph as SVG (or a line on how to get Graphviz), the
gradient report as a table, short reprs, inline figures, and progress that stays off stderr in
a notebook and off altogether in logs and tests."""

import importlib.util
import pickle
import shutil
import sys
import types
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from test_gradcheck import TinyNet

from tinygrad_ko import Tensor, check_gradients, viz
from tinygrad_ko.models import TwoLayerNet
from tinygrad_ko.optim import SGD, Adam
from tinygrad_ko.plot import plot_filters, plot_history
from tinygrad_ko.progress import in_notebook, watched
from tinygrad_ko.train import History, Trainer, fit
from tinygrad_ko.viz import Graph, draw_graph, to_dot

PNG = b"\x89PNG\r\n\x1a\n"


def small_loss():
    net = TwoLayerNet(6, 4, 3, activation="relu", seed=0)
    loss = net.forward(Tensor(np.ones((2, 6)), name="x"), np.array([0, 2]))
    loss.name = "loss"
    return loss


@pytest.mark.graphviz
def test_a_graph_shows_itself_as_svg_with_a_box_per_layer():
    graph = draw_graph(small_loss())
    assert graph.source == to_dot(small_loss())
    bundle = graph._repr_mimebundle_()
    svg = ET.fromstring(bundle["image/svg+xml"])
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    for name in ("Affine", "ReLU", "SoftmaxWithLoss", "W1", "loss"):
        assert name in texts
    assert bundle["text/plain"] == repr(graph) and "4 ops" in repr(graph)


def test_without_graphviz_a_graph_says_how_to_get_it_and_offers_the_dot_text(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    graph = draw_graph(small_loss())
    bundle = graph._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    first, rest = bundle["text/plain"].split("\n", 1)
    assert "apt install graphviz" in first and rest == graph.source
    with pytest.raises(RuntimeError, match="drawing a graph needs Graphviz: install"):
        graph.svg()


@pytest.mark.graphviz
@pytest.mark.parametrize(
    "name, start", [("g.dot", b"digraph"), ("g.svg", b"<?xml"), ("g.png", PNG)]
)
def test_a_graph_saves_its_text_or_a_drawing(tmp_path, name, start):
    draw_graph(small_loss()).save(tmp_path / name)
    assert (tmp_path / name).read_bytes().startswith(start)


def test_a_graph_refuses_a_file_it_cannot_write_before_writing(tmp_path):
    with pytest.raises(ValueError, match=r"Graph.save .*g\.jpg: the name must end in \.dot"):
        Graph("digraph {}").save(tmp_path / "g.jpg")
    assert list(tmp_path.iterdir()) == []


def test_the_gradient_report_is_a_table_in_text_and_in_html():
    x, t = np.arange(6.0).reshape(2, 3) / 6, np.ones((2, 2))
    report = check_gradients(TinyNet(bug=True), x, t)
    assert repr(report) == str(report) and str(report).splitlines()[2].split()[0] == "W"
    pretty = []
    report._repr_pretty_(types.SimpleNamespace(text=pretty.append), cycle=False)
    assert pretty == [str(report)]  # IPython's text, not the dict's
    table = ET.fromstring(f"<div>{report._repr_html_()}</div>")
    rows = [[cell.text for cell in row] for row in table.iter("tr")]
    assert rows[0] == ["parameter", "max |diff|", "max rel", "mean |diff|", "tolerance", "beyond",
                       "result"]  # fmt: skip
    assert [row[0] for row in rows[1:]] == ["W", "b"] and [row[-1] for row in rows[1:]] == [
        "FAIL",
        "pass",
    ]
    styles = [row.get("style") for row in table.iter("tr")]
    assert styles == [None, "color: red", None]
    assert table.find("p").text.startswith("FAILED: W")


def test_history_models_and_optimizers_have_short_reprs():
    history = History(loss=[2.3, 0.51234], train_acc=[0.91], test_acc=[0.9], eval_iteration=[2])
    assert repr(history) == (
        "<History: 2 losses (last 0.5123), evaluated 1x (last at iteration 2: train acc 0.9100, "
        "test acc 0.9000)>"
    )
    assert repr(History()) == "<History: empty>"
    long = History(loss=[0.1] * 200_000)
    assert len(repr(long)) < 100
    net = TwoLayerNet(784, 50, 10, seed=0)
    assert repr(net) == "<TwoLayerNet 784-50-10 (sigmoid): float32, 39,760 parameters>"
    assert repr(Adam(net.parameters())) == "Adam(lr=0.001, beta1=0.9, beta2=0.999; 4 tensors)"
    assert repr(SGD(0.1)) == "SGD(lr=0.1; the book's form)"


def test_figures_show_inline_and_are_saved_only_when_given_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    history = History(loss=[1.0, 0.5, 0.4], train_acc=[0.5, 0.9], test_acc=[0.5, 0.8],
                      eval_iteration=[1, 3])  # fmt: skip
    figures = [plot_history(history), plot_filters({"W": np.ones((3, 1, 5, 5))})]
    for figure in figures:
        assert figure._repr_png_().startswith(PNG)  # what IPython shows, pyplot or not
    assert list(tmp_path.iterdir()) == []


def data(n=60):
    rng = np.random.default_rng(0)
    return (rng.random((n, 6)), rng.integers(0, 3, n)), (
        rng.random((20, 6)),
        rng.integers(0, 3, 20),
    )


def test_progress_is_off_in_logs_and_tests(capsys):
    assert not in_notebook() and not watched()
    fit(TwoLayerNet(6, 4, 3, seed=0), *data(), iters=12, batch_size=10)
    assert capsys.readouterr() == ("", "")


@pytest.fixture
def notebook(monkeypatch):
    """IPython with a kernel attached, as in Jupyter and Colab, without ipywidgets (the widget
    itself is checked in a real kernel by test_notebooks): tqdm.auto would warn on stderr."""
    shell = types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "ipywidgets" else find_spec(name, *a),
    )


def test_in_a_notebook_progress_is_on_and_nothing_goes_to_stderr(notebook, capsys):
    assert in_notebook() and watched()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would reach the notebook's stderr
        fit(TwoLayerNet(6, 4, 3, seed=0), *data(), iters=12, batch_size=10)
    out, err = capsys.readouterr()
    assert err == ""
    assert "12/12" in out  # the bar (tqdm's text one here: no widget library in a plain process)
    assert out.count("train acc") == 3  # iterations 1 and 7 (epochs of 6) and the last


@pytest.mark.parametrize("verbose", [True, False])
def test_the_trainer_writes_its_lines_through_the_bar_in_a_notebook(notebook, capsys, verbose):
    train, test = data()
    Trainer(TwoLayerNet(6, 4, 3, seed=0), *train, *test, epochs=2, mini_batch_size=10,
            verbose=verbose).train()  # fmt: skip
    out, err = capsys.readouterr()
    assert err == "" and "12/12" in out
    assert out.count("train loss:") == 12 * verbose
    assert out.count("=== epoch:") == 2 * verbose and out.count("  train acc ") == 2 * (not verbose)


def test_progress_can_be_switched_either_way(notebook, capsys):
    fit(TwoLayerNet(6, 4, 3, seed=0), *data(), iters=12, batch_size=10, progress=False)
    assert capsys.readouterr() == ("", "")


def test_progress_can_be_forced_on_in_a_log(capsys):
    fit(TwoLayerNet(6, 4, 3, seed=0), *data(), iters=10, batch_size=10, progress=True)
    out, err = capsys.readouterr()
    assert "train: 100% (10/10 it" in err and out.count("train acc") == 3  # epochs of 6, last


def test_without_a_stderr_nobody_is_watching(monkeypatch):
    monkeypatch.setattr(sys, "stderr", None)  # pythonw, some service runners
    assert not watched()


def test_a_figure_can_be_pickled_and_read_back():
    figure = plot_history(History(loss=[1.0, 0.5], train_acc=[0.5], test_acc=[0.4],
                                  eval_iteration=[2]))  # fmt: skip
    again = pickle.loads(pickle.dumps(figure))
    assert again._repr_png_().startswith(PNG) and len(again.axes) == 2


def test_a_graph_whose_drawing_fails_says_why_and_shows_the_text(monkeypatch):
    def broken(source, kind):
        raise OSError("dot failed: Format: svg not recognized")

    monkeypatch.setattr(viz, "render", broken)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/dot")
    graph = draw_graph(small_loss())
    assert graph._repr_mimebundle_() == {
        "text/plain": f"(dot failed: Format: svg not recognized)\n{graph.source}"
    }


def test_reprs_hold_for_odd_but_legal_values():
    assert repr(SGD(lr=np.array(0.1))) == "SGD(lr=0.1; the book's form)"
    partial = History(loss=[1.0], eval_iteration=[1])  # a History filled by hand
    assert repr(partial) == "<History: 1 losses (last 1)>"


def test_layers_show_their_class_and_weight_shapes():
    from tinygrad_ko.convnets import SimpleConvNet

    assert repr(TwoLayerNet(4, 3, 2, seed=0).layers) == (
        "[Affine(W (4, 3), b (3,)), Sigmoid(), Affine(W (3, 2), b (2,))]"
    )
    assert repr(SimpleConvNet(seed=0).layers[0]) == "Convolution(W (30, 1, 5, 5), b (30,))"
