"""tinygrad-ko train: its output, and the files --json, --save and --plot write."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from book import BOOK
from mnist_files import small_mnist, write

from tinygrad_ko import cli, commands, viz
from tinygrad_ko.convnets import SimpleConvNet
from tinygrad_ko.datasets import load_mnist
from tinygrad_ko.models import MultiLayerNet, TwoLayerNet
from tinygrad_ko.train import fit

mnist = pytest.mark.mnist  # the tests that read the real MNIST files


@mnist
def test_train_writes_a_summary_a_model_and_a_plot(tmp_path, capsys):
    paths = {k: tmp_path / f"run.{k}" for k in ("json", "npz", "png")}
    argv = ["train", "--iters", "120", "--activation", "relu", "--hidden-size", "20"]
    argv += ["--json", str(paths["json"]), "--save", str(paths["npz"])]
    argv += ["--plot", str(paths["png"])]
    assert cli.main(argv) == 0

    out, err = capsys.readouterr()
    assert "epoch  0.00  iteration      1  train acc" in out
    assert "final test accuracy" in out and "loading" in out and "training" in out
    assert "train: 100% (120/120 it" in err  # plain progress lines: not a terminal

    summary = json.loads(paths["json"].read_text())
    keys = {"args", "train_acc", "test_acc", "load_seconds", "train_seconds", "eval_seconds"}
    assert set(summary) == keys | {"history", "evaluate_sample"}
    assert summary["evaluate_sample"] is None  # the MLP is evaluated on every image
    assert 0 < summary["eval_seconds"] < summary["train_seconds"]
    assert summary["args"]["lr"] == 0.1 and summary["args"]["iters"] == 120
    assert summary["load_seconds"] > 0
    history = summary["history"]
    assert len(history["loss"]) == 120 and history["test_acc"][-1] == summary["test_acc"]
    assert history["train_acc"][-1] == summary["train_acc"]
    assert f"final test accuracy {summary['test_acc']:.2%}" in out

    saved = TwoLayerNet.load(paths["npz"])  # the model the summary describes
    _, test = load_mnist()
    assert saved.accuracy(*test) == summary["test_acc"]
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@mnist
def test_python_dash_m_runs_the_same_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tinygrad_ko", "train", "--iters", "5", "--hidden-size", "5"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "final test accuracy" in result.stdout


@pytest.mark.parametrize("command", ["train", "gradcheck"])
def test_the_header_names_the_data_folder_given_either_way(tmp_path, monkeypatch, capsys, command):
    files, _, _ = small_mnist(np.random.default_rng(0))
    write(tmp_path / "mnist", files, monkeypatch)
    argv = [command, "--data-dir", str(tmp_path), "--batch-size", "2", "--hidden-size", "3"]
    assert cli.main(argv + (["--iters", "2"] if command == "train" else ["--fast"])) == 0
    assert capsys.readouterr().out.startswith(f"MNIST: {tmp_path / 'mnist'}\n")


def test_missing_data_is_reported_without_a_traceback(tmp_path, capsys):
    assert cli.main(["train", "--data-dir", str(tmp_path / "none"), "--iters", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tinygrad-ko train: load_mnist: ") and "Traceback" not in err


def test_plot_without_matplotlib_says_how_to_install_it_before_training(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # as if not installed
    monkeypatch.setattr(commands, "load_mnist", lambda **_: pytest.fail("trained anyway"))
    assert cli.main(["train", "--plot", "curves.png"]) == 1
    assert "pip install 'tinygrad_ko[plot]'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "bench"])
def test_a_plot_suffix_matplotlib_cannot_write_is_refused_before_any_work(
    monkeypatch, capsys, tmp_path, command
):
    monkeypatch.setattr(commands, "load_mnist", lambda **_: pytest.fail("worked anyway"))
    assert cli.main([command, "--plot", str(tmp_path / "curves.gif")]) == 1
    err = capsys.readouterr().err
    assert f"tinygrad-ko {command}: --plot {tmp_path / 'curves.gif'}: " in err
    assert "is not one matplotlib writes; use .png, .jpg" in err


@mnist
def test_the_options_reach_the_training(monkeypatch, tmp_path):
    seen = {}

    def spy(net, train, test, **options):
        seen.update(options, hidden=net.sizes[1], activation=net.activation)
        return fit(net, train, test, **options)

    monkeypatch.setattr(commands, "fit", spy)
    argv = ["train", "--iters", "7", "--batch-size", "13", "--optimizer", "adam", "--lr", "0.002"]
    argv += ["--seed", "5", "--hidden-size", "9", "--activation", "relu"]
    assert cli.main(argv) == 0
    assert seen == {
        "iters": 7, "batch_size": 13, "lr": 0.002, "optimizer": "adam", "seed": 5,
        "numerical": False, "progress": True, "hidden": 9, "activation": "relu",
        "evaluate_sample": None,
    }  # fmt: skip


@pytest.mark.parametrize("flag", ["--save", "--json", "--plot"])
def test_an_unwritable_output_is_refused_before_loading_anything(
    flag, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(commands, "load_mnist", lambda **_: pytest.fail("loaded anyway"))
    assert cli.main(["train", flag, str(tmp_path / "no" / "such" / "f.out")]) == 1
    err = capsys.readouterr().err
    assert f"{flag} {tmp_path}/no/such/f.out: the folder {tmp_path}/no/such does not exist" in err


@mnist
def test_a_diverging_run_stops_and_says_so(tmp_path, capsys):
    path = tmp_path / "s.json"
    argv = ["train", "--activation", "relu", "--lr", "1e30", "--iters", "5", "--json", str(path)]
    with pytest.warns(RuntimeWarning) as warned:  # NumPy's overflow, shown at the caller's line
        assert cli.main(argv) == 1
    assert all(w.filename == __file__ for w in warned), [w.filename for w in warned]
    err = capsys.readouterr().err.splitlines()[-1]  # after the progress bar's line
    assert err.startswith("tinygrad-ko train: fit: the loss is nan at iteration 2 at lr 1e+30,")
    assert "lower the learning rate" in err and "Affine (on W2, b2) produced inf" in err
    assert not path.exists()  # no summary of a run that did not finish


@mnist
def test_bench_prints_the_sweep_and_writes_its_files(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(commands, "QUICK", {"hidden_sizes": (1, 2), "batch_sizes": (3,)})
    paths = [str(tmp_path / "b.json"), str(tmp_path / "b.png")]
    assert cli.main(["bench", "--json", paths[0], "--plot", paths[1]]) == 0
    out = capsys.readouterr().out
    assert out.startswith("machine: ") and "| 2 | 3 | 1,600 |" in out
    assert "batch 3: numerical cost grows as parameters^" in out
    assert json.loads((tmp_path / "b.json").read_text())["points"][1]["params"] == 1600
    assert (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"


@mnist
def test_numerical_training_warns_how_long_a_step_takes(capsys):
    argv = ["train", "--numerical", "--iters", "1", "--hidden-size", "2", "--batch-size", "2"]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert "every step evaluates the loss 2 x 1,600 times" in err  # 784·2 + 2 + 2·10 + 10
    assert " a step, " in err and "for 1 iterations" in err


@pytest.mark.parametrize(
    "bad", [["--iters", "-1"], ["--optimizer", "rmsprpo"], ["--seed", "-1"], ["--lr", "x"]]
)
def test_bad_arguments_are_refused_by_argparse(bad):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", *bad])
    assert exit_.value.code == 2


def test_no_command_prints_usage(capsys):
    with pytest.raises(SystemExit):
        cli.main([])
    assert "usage: tinygrad-ko" in capsys.readouterr().err


@mnist
def test_the_json_history_is_plain_numbers(tmp_path):
    path = tmp_path / "s.json"
    cli.main(["train", "--iters", "3", "--hidden-size", "3", "--json", str(path)])
    history = json.loads(path.read_text())["history"]
    assert all(isinstance(v, (int, float)) for values in history.values() for v in values)
    assert np.isfinite(history["loss"]).all()


# --- tinygrad-ko graph ------------------------------------------------------------------------


def fake_dot(tmp_path, script):
    """A stand-in for Graphviz's dot, so both outcomes are tested whether or not it is installed."""
    path = tmp_path / "bin" / "dot"
    path.parent.mkdir()
    path.write_text(f"#!{sys.executable}\nimport sys\n{script}\n")
    path.chmod(0o755)
    return str(path)


def test_graph_without_graphviz_draws_with_grandalf(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    out = tmp_path / "graph.svg"
    assert cli.main(["graph", "--activation", "relu", "--out", str(out)]) == 0
    assert f"drew the graph to {out}" in capsys.readouterr().out
    svg = ET.parse(out).getroot()
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "generated by graphviz" not in out.read_text().lower()
    assert texts.count("ReLU") == 1 and "W1" in texts and texts.count("Affine") == 2
    assert list(tmp_path.iterdir()) == [out]


def test_graph_with_nothing_to_draw_writes_dot_and_says_how(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    for name in ("grandalf", "grandalf.graphs", "grandalf.layouts"):
        monkeypatch.setitem(sys.modules, name, None)  # not installed
    out = tmp_path / "graph.svg"
    assert cli.main(["graph", "--activation", "relu", "--out", str(out)]) == 0
    message = capsys.readouterr().out
    assert not out.exists()
    assert f"dot -Tsvg {tmp_path / 'graph.dot'} -o {out}" in message
    assert "pip install grandalf" in message and "apt install graphviz" in message
    text = (tmp_path / "graph.dot").read_text()
    assert text.startswith("digraph") and text.count("shape=box") == 4
    assert 'label="ReLU"' in text and 'label="W1\\n(784, 50) float32"' in text


def test_graph_renders_with_dot_when_it_is_installed(monkeypatch, tmp_path, capsys):
    script = (
        "data = sys.stdin.read()\nsys.stdout.write(' '.join(sys.argv[1:]) + ' ' + str(len(data)))"
    )
    program = fake_dot(tmp_path, script)
    monkeypatch.setattr(viz.shutil, "which", lambda name: program if name == "dot" else None)
    out = tmp_path / "graph.png"
    assert cli.main(["graph", "--hidden-size", "7", "--values", "--grads", "--out", str(out)]) == 0
    assert f"drew the graph to {out}" in capsys.readouterr().out
    flag, size = out.read_text().split()
    assert flag == "-Tpng" and int(size) > 500


def test_graph_reports_a_failing_dot_and_leaves_no_file(monkeypatch, tmp_path, capsys):
    program = fake_dot(tmp_path, "sys.stderr.write('Error: syntax error in line 1'); sys.exit(1)")
    monkeypatch.setattr(viz.shutil, "which", lambda name: program)
    out = tmp_path / "graph.svg"
    assert cli.main(["graph", "--out", str(out)]) == 1
    assert "tinygrad-ko graph: dot failed: Error: syntax error" in capsys.readouterr().err
    assert list(tmp_path.glob("graph*")) == []


def test_graph_refuses_an_unknown_format(tmp_path, capsys):
    assert cli.main(["graph", "--out", str(tmp_path / "graph.jpg")]) == 1
    err = capsys.readouterr().err
    assert f"tinygrad-ko graph: --out {tmp_path / 'graph.jpg'}: the file must end in" in err
    assert list(tmp_path.iterdir()) == []


# --- tinygrad-ko gradcheck --------------------------------------------------------------------


def table(out):
    """{parameter: (max |diff|, tolerance, values beyond it, result)} from the printed table."""
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in ("W1", "b1", "W2", "b2"):
            rows[parts[0]] = (float(parts[1]), float(parts[4]), parts[5], parts[6])
    return rows


@mnist
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_gradcheck_prints_a_passing_table_for_the_real_network(activation, capsys):
    argv = ["gradcheck", "--activation", activation, "--hidden-size", "6", "--batch-size", "2"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "on the first 2 training images" in out and "every element" in out
    rows = table(out)
    assert set(rows) == {"W1", "b1", "W2", "b2"}
    assert all(d < tol and result == "pass" for d, tol, _, result in rows.values())
    assert rows["b2"][2] == "0/10" and rows["W2"][2] == "0/60"
    assert "every parameter passes (each compared value within tolerance = 1e-08 + rtol·" in out


@mnist
@pytest.mark.parametrize("fast", [False, True])
def test_gradcheck_fails_with_status_1_on_a_wrong_backward_rule(fast, monkeypatch, capsys):
    from tinygrad_ko.layers import Sigmoid

    monkeypatch.setattr(Sigmoid, "backward", lambda self, dout: dout * self.out)  # no (1 - y)
    argv = ["gradcheck", "--hidden-size", "6", "--batch-size", "4"] + ["--fast"] * fast
    assert cli.main(argv) == 1
    out = capsys.readouterr().out
    rows = table(out)
    assert rows["W1"][3] == rows["b1"][3] == "FAIL"  # behind the broken rule
    assert rows["W2"][3] == rows["b2"][3] == "pass"  # in front of it
    assert "FAILED: W1, b1 (each compared value within" in out


@mnist
def test_gradcheck_fast_checks_the_full_batch_by_projections(capsys):
    assert cli.main(["gradcheck", "--fast", "--activation", "relu"]) == 0
    out = capsys.readouterr().out
    assert "on the first 100 training images" in out and "22 random directions" in out
    assert all(result == "pass" for *_, result in table(out).values())
    assert table(out)["W1"][2] == "0/22"


@pytest.mark.parametrize("name", ["graph.dot", "graph.DOT"])
def test_graph_writes_dot_when_asked_whether_or_not_graphviz_is_there(name, tmp_path, capsys):
    out = tmp_path / name
    assert cli.main(["graph", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote the graph to {out}\n"
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert out.read_text().startswith("digraph")


def test_an_output_that_is_a_folder_is_refused(tmp_path, capsys):
    (tmp_path / "graph.svg").mkdir()
    assert cli.main(["graph", "--out", str(tmp_path / "graph.svg")]) == 1
    err = capsys.readouterr().err
    assert f"tinygrad-ko graph: --out {tmp_path / 'graph.svg'}: that is a folder" in err


@mnist
def test_gradcheck_refuses_more_images_than_mnist_has(capsys):
    assert cli.main(["gradcheck", "--batch-size", "60001", "--hidden-size", "2"]) == 1
    assert "--batch-size 60001: MNIST has 60000 training images" in capsys.readouterr().err


def test_the_chapter_6_network_trains_with_its_options(tmp_path, monkeypatch, capsys):
    files, _, _ = small_mnist(np.random.default_rng(0), train=60, test=20)
    write(tmp_path, files, monkeypatch)
    argv = ["train", "--data-dir", str(tmp_path), "--model", "mlp", "--hidden-sizes", "12,8"]
    argv += ["--batchnorm", "--dropout", "0.2", "--weight-decay", "0.01", "--optimizer"]
    argv += ["rmsprop", "--iters", "6", "--batch-size", "20", "--save", str(tmp_path / "n.npz")]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    header = "MultiLayerNet 784-12-8-10 (relu, batchnorm, dropout 0.2, weight decay 0.01); 6 "
    assert header + "iterations of 20, rmsprop lr 0.01, seed 0; backprop" in out
    again = MultiLayerNet.load(tmp_path / "n.npz")
    assert again.sizes == (784, 12, 8, 10) and again.use_batchnorm and again.use_dropout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--batchnorm"], "--model twolayer takes --activation, --hidden-size, not"),
        (["train", "--hidden-sizes", "5,5"], "not --hidden-sizes"),
        (["train", "--model", "mlp", "--hidden-size", "5"], "not --hidden-size"),
        (["graph", "--model", "convnet", "--activation", "relu", "--out", "g.dot"], "convnet"),
        (["train", "--iters", "0"], "--iters 0 evaluates weights without training them"),
    ],
)
def test_options_that_do_not_fit_the_model_are_refused_before_any_work(
    argv, message, capsys, monkeypatch
):
    monkeypatch.setattr(commands, "load_mnist", lambda **_: pytest.fail("worked anyway"))
    assert cli.main(argv) == 1
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("text", ["100,,100", "100,0", "abc"])
def test_hidden_sizes_must_be_sizes(text):
    with pytest.raises(SystemExit):
        cli.main(["train", "--model", "mlp", "--hidden-sizes", text])


@mnist
def test_gradcheck_passes_the_chapter_6_network(capsys):
    argv = ["gradcheck", "--model", "mlp", "--hidden-sizes", "4,3", "--batchnorm"]
    assert cli.main([*argv, "--weight-decay", "0.1", "--batch-size", "3"]) == 0
    out = capsys.readouterr().out
    assert "MultiLayerNet 784-4-3-10 (relu, batchnorm, weight decay 0.1), float64" in out
    assert "gamma1" in out and "every parameter passes" in out


def test_the_convnet_trains_on_images_with_adam_by_default(tmp_path, monkeypatch, capsys):
    files, _, _ = small_mnist(np.random.default_rng(0), train=40, test=20)
    write(tmp_path, files, monkeypatch)
    argv = ["train", "--data-dir", str(tmp_path), "--model", "convnet", "--hidden-size", "8"]
    assert cli.main([*argv, "--iters", "4", "--batch-size", "10"]) == 0
    out = capsys.readouterr().out
    assert "SimpleConvNet 1x28x28 (conv 30x5² - pool - 8 - 10); 4 iterations of 10, adam lr " in out
    assert "final test accuracy" in out


def test_a_convnet_is_evaluated_on_a_sample_each_epoch_and_on_all_the_test_set_at_the_end(
    tmp_path, monkeypatch, capsys
):
    files, _, _ = small_mnist(np.random.default_rng(0), train=40, test=20)
    write(tmp_path, files, monkeypatch)
    monkeypatch.setitem(commands.SCHEDULES, "convnet", commands.Schedule(6, "adam", 5))
    paths = {k: tmp_path / f"run.{k}" for k in ("json", "npz")}
    argv = ["train", "--data-dir", str(tmp_path), "--model", "convnet", "--hidden-size", "8"]
    argv += ["--batch-size", "10", "--lr", "0.01", "--json", str(paths["json"])]
    assert cli.main([*argv, "--save", str(paths["npz"])]) == 0
    summary = json.loads(paths["json"].read_text())
    history = summary["history"]
    assert summary["evaluate_sample"] == 5 and history["eval_iteration"] == [1, 5, 6]
    assert all(round(acc * 5, 9).is_integer() for acc in history["test_acc"] + history["train_acc"])
    _, test = load_mnist(data_dir=tmp_path, flatten=False)
    assert summary["test_acc"] == SimpleConvNet.load(paths["npz"]).accuracy(*test)
    assert (
        f"final test accuracy {summary['test_acc']:.2%} (train {summary['train_acc']:.2%} on the "
        "first 5)" in capsys.readouterr().out
    )


@mnist
def test_the_books_deep_convnet_weights_are_evaluated_with_load(capsys):
    weights = BOOK / "ch08" / "deep_convnet_params.pkl"
    assert cli.main(["train", "--model", "deepconvnet", "--load", str(weights)]) == 0
    assert "test accuracy 99.35%" in capsys.readouterr().out


@mnist
def test_gradcheck_checks_every_parameter_of_the_convnet_on_a_few_images(capsys):
    assert cli.main(["gradcheck", "--model", "convnet", "--hidden-size", "5"]) == 0
    out = capsys.readouterr().out
    assert "SimpleConvNet 1x28x28 (conv 30x5² - pool - 5 - 10), float64" in out
    assert "22 random directions per parameter" in out and "every parameter passes" in out
    assert all(f"\n{name} " in out for name in ("W1", "b1", "W2", "b2", "W3", "b3"))


@mnist
@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--model", "convnet", "--hidden-size", "5"], " not judged: at a kink (b1 "),
        (["--model", "mlp", "--hidden-sizes", "4,3", "--batchnorm"], "zero (rounding noise): b1"),
    ],
)
def test_gradcheck_prints_the_python_report_word_for_word(options, words, monkeypatch, capsys):
    # the convnet with its own biases of 0, kinks and all; the mlp's biases before batch norm
    reports, check = [], commands.check_gradients

    def recorded(*args, **kwargs):
        reports.append(check(*args, **kwargs))
        return reports[-1]

    monkeypatch.setattr(commands, "check_gradients", recorded)
    assert cli.main(["gradcheck", *options]) == 0
    out = capsys.readouterr().out
    assert f"\n{reports[0]}\n" in out and words in out
    assert "biases drawn" not in out and "note:" not in out  # no story of the CLI's own
