"""The command line: `tinygrad-ko train | bench | graph | gradcheck`, also as
`python -m tinygrad_ko ...`."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tinygrad_ko.bench import QUICK, as_json, machine, markdown, plot_costs, slopes, sweep
from tinygrad_ko.datasets import load_mnist, mnist_dir
from tinygrad_ko.files import atomic_write
from tinygrad_ko.gradcheck import PROJECTIONS, check_gradients
from tinygrad_ko.models import ACTIVATIONS, MultiLayerNet, TwoLayerNet
from tinygrad_ko.plot import figure_format, plot_history
from tinygrad_ko.tensor import Tensor
from tinygrad_ko.train import DEFAULT_LR, OPTIMIZERS, fit
from tinygrad_ko.viz import to_dot

__all__ = ["main"]

PLOT_FORMATS = "in the format the suffix names: .png, .svg, .pdf, .jpg, ... (needs matplotlib)"
DATA_DIR_HELP = (
    "folder holding the four MNIST .gz files, or one with mnist/ inside (default: "
    "$TINYGRAD_KO_DATA, else ~/.cache/tinygrad_ko/mnist; downloaded where missing)"
)


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return args.command(args)
    except (OSError, ValueError, ImportError) as error:  # missing data, bad files, no matplotlib
        print(f"tinygrad-ko {args.name}: {error}", file=sys.stderr)
        return 1


def parser():
    top = argparse.ArgumentParser(
        prog="tinygrad-ko",
        description="Deep Learning from Scratch, chapters 4-5, on a small honest autograd.",
    )
    commands = top.add_subparsers(required=True, metavar="COMMAND")
    train_parser = commands.add_parser(
        "train",
        help="retrain the chapter-4 two-layer network on MNIST",
        description="Retrain the book's TwoLayerNet on MNIST with its schedule: 10000 mini-"
        "batches of 100, SGD with lr 0.1, train and test accuracy every epoch.",
    )
    add = train_parser.add_argument
    network_options(add)
    add("--iters", type=positive, default=10000, metavar="N")
    add("--batch-size", type=positive, default=100, metavar="N")
    add(
        "--lr",
        type=float,
        help="learning rate (default: 0.1 for sgd; the book's 0.01, 0.01, 0.001 for momentum, "
        "adagrad, adam)",
    )
    add("--optimizer", choices=list(OPTIMIZERS), default="sgd")
    add("--seed", type=natural, default=0, help="weights and batches (default 0)")
    add("--data-dir", metavar="DIR", help=DATA_DIR_HELP)
    add(
        "--plot",
        metavar="FILE",
        help=f"save the accuracy and loss curves {PLOT_FORMATS}",
    )
    add("--save", metavar="FILE.npz", help="save the trained parameters")
    add("--json", metavar="FILE", help="write a summary of the run as JSON")
    add(
        "--numerical",
        action="store_true",
        help="take gradients by numerical differentiation instead of backprop (very slow)",
    )
    train_parser.set_defaults(command=train, name="train")

    bench_parser = commands.add_parser(
        "bench",
        help="measure numerical gradients against backprop (a quick sweep, under a minute)",
        description="Time the full numerical gradient and backprop of TwoLayerNet(784, hidden, "
        "10) on MNIST batches, for a few hidden and batch sizes; print a table and how each "
        "cost grows with the number of parameters. benchmarks/numeric_vs_backprop.py runs the "
        "full sweep.",
    )
    bench_parser.add_argument("--data-dir", metavar="DIR", help=DATA_DIR_HELP)
    bench_parser.add_argument("--json", metavar="FILE", help="write the measurements as JSON")
    bench_parser.add_argument(
        "--plot", metavar="FILE", help=f"save a log-log plot of both costs {PLOT_FORMATS}"
    )
    bench_parser.set_defaults(command=bench, name="bench")

    graph_parser = commands.add_parser(
        "graph",
        help="draw the computational graph of the chapter-4 network",
        description="Draw the graph one training step of TwoLayerNet records (book 5.1): its "
        "layers as boxes, its tensors as ovals. Renders with Graphviz's dot program when it "
        "is installed; otherwise writes the DOT file and says how to render it. The inputs are "
        "random stand-ins of MNIST's shape: the graph depends only on the shapes.",
    )
    add = graph_parser.add_argument
    network_options(add)
    add("--batch-size", type=positive, default=100, metavar="N")
    add("--values", action="store_true", help="show the values of tensors of up to 10 elements")
    add("--grads", action="store_true", help="run backward and show gradients of small tensors")
    add("--out", required=True, metavar="FILE", help="graph.svg, graph.png or graph.dot")
    graph_parser.set_defaults(command=graph, name="graph")

    check_parser = commands.add_parser(
        "gradcheck",
        help="check backprop against numerical gradients on MNIST (the book's gradient_check.py)",
        description="The book's gradient_check.py (5.7.3): TwoLayerNet in float64 on the first "
        "training images, backprop against central differences, a line per parameter. Exit "
        "status 1 when a parameter fails.",
    )
    add = check_parser.add_argument
    network_options(add)
    add(
        "--batch-size",
        type=positive,
        metavar="N",
        help="images to check on (default 3, the book's; 100 with --fast)",
    )
    add(
        "--fast",
        action="store_true",
        help=f"{PROJECTIONS} random directional derivatives per parameter instead of every element",
    )
    add("--seed", type=natural, default=0, help="weights and directions (default 0)")
    add("--data-dir", metavar="DIR", help=DATA_DIR_HELP)
    check_parser.set_defaults(command=gradient_check, name="gradcheck")
    return top


def network_options(add):
    """The options every command shares that build a network for MNIST."""
    add(
        "--model",
        choices=["twolayer", "mlp"],
        default="twolayer",
        help="TwoLayerNet (chapters 4-5, default) or MultiLayerNet (chapter 6)",
    )
    add(
        "--activation",
        choices=list(ACTIVATIONS),
        help="sigmoid (chapter 4; TwoLayerNet's default) or relu (chapter 5; MultiLayerNet's)",
    )
    add("--hidden-size", type=positive, default=50, metavar="N", help="TwoLayerNet's (50)")
    add(
        "--hidden-sizes",
        type=sizes,
        metavar="N,N,...",
        help="MultiLayerNet's hidden layers (100,100,100)",
    )
    add("--batchnorm", action="store_true", help="MultiLayerNet: batch normalization (6.3)")
    add("--dropout", type=ratio, metavar="RATIO", help="MultiLayerNet: dropout (6.4.3)")
    add("--weight-decay", type=float, metavar="LAMBDA", help="MultiLayerNet: ½λΣW² (6.4.1)")


def network(args, **options):
    """The network the options describe, 784 inputs and 10 outputs, built with options."""
    if args.model == "twolayer":
        chapter_6 = (args.hidden_sizes, args.dropout, args.weight_decay, args.batchnorm or None)
        if any(option is not None for option in chapter_6):
            raise ValueError(
                "--hidden-sizes, --batchnorm, --dropout and --weight-decay are MultiLayerNet's: "
                "add --model mlp"
            )
        activation = args.activation or "sigmoid"
        return TwoLayerNet(784, args.hidden_size, 10, activation=activation, **options)
    return MultiLayerNet(
        784,
        args.hidden_sizes or [100, 100, 100],
        10,
        activation=args.activation or "relu",
        weight_decay_lambda=args.weight_decay or 0,
        use_dropout=args.dropout is not None,
        dropout_ratio=0.5 if args.dropout is None else args.dropout,
        use_batchnorm=args.batchnorm,
        **options,
    )


def sizes(text):
    """'100,100,100' as [100, 100, 100]."""
    try:
        values = [int(n) for n in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be sizes separated by commas, got {text!r}"
        ) from None
    if any(n < 1 for n in values):
        raise argparse.ArgumentTypeError(f"sizes must be at least 1, got {text!r}")
    return values


def ratio(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be from 0 up to but not including 1, got {value}")
    return value


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def natural(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def writable(path, flag):
    """Refuse an output path whose folder is missing or read-only before the work, not after."""
    folder = Path(path).parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise FileNotFoundError(
            f"{flag} {path}: the folder {folder} does not exist or is read-only"
        )
    if Path(path).is_dir():
        raise IsADirectoryError(f"{flag} {path}: that is a folder; give a file name")


def mnist(args, **options):
    """load_mnist for a command, first saying which folder the data comes from."""
    print(f"MNIST: {mnist_dir(args.data_dir)}", flush=True)
    return load_mnist(data_dir=args.data_dir, **options)


def train(args):
    for flag in ("plot", "save", "json"):  # before a long run, not after it
        if getattr(args, flag):
            writable(getattr(args, flag), f"--{flag}")
    if args.plot:
        figure_format(args.plot, "--plot")
    net = network(args, seed=args.seed)
    start = time.perf_counter()
    (x_train, t_train), test = mnist(args)
    load_seconds = time.perf_counter() - start
    args.lr = lr = DEFAULT_LR[args.optimizer] if args.lr is None else args.lr
    print(
        f"{net.summary()}; {args.iters} iterations of {args.batch_size}, {args.optimizer} lr "
        f"{lr}, seed {args.seed}; {'numerical gradients' if args.numerical else 'backprop'}"
    )
    if args.numerical:
        warn_numerical(net, x_train[: args.batch_size], t_train[: args.batch_size], args.iters)
    start = time.perf_counter()
    history = fit(
        net,
        (x_train, t_train),
        test,
        iters=args.iters,
        batch_size=args.batch_size,
        lr=lr,
        optimizer=args.optimizer,
        seed=args.seed,
        numerical=args.numerical,
        progress=True,
    )
    train_seconds = time.perf_counter() - start
    diverged = next((i for i, loss in enumerate(history.loss, 1) if not math.isfinite(loss)), None)
    if diverged:
        print(
            f"the loss became {history.loss[diverged - 1]} at iteration {diverged}: the learning "
            f"rate {lr} is too large for this network",
            file=sys.stderr,
        )
    train_acc, test_acc = history.train_acc[-1], history.test_acc[-1]
    print(
        f"final test accuracy {test_acc:.2%} (train {train_acc:.2%}); "
        f"loading {load_seconds:.2f} s, training {train_seconds:.2f} s "
        f"({history.eval_seconds:.2f} s of it evaluating)"
    )
    if args.save:
        net.save(args.save)
        print(f"saved the parameters to {args.save}")
    if args.json:
        summary = {
            "args": {k: v for k, v in vars(args).items() if k not in ("command", "name")},
            "train_acc": train_acc,
            "test_acc": test_acc,
            "load_seconds": load_seconds,
            "train_seconds": train_seconds,
            "eval_seconds": history.eval_seconds,
            "history": {
                k: [v if math.isfinite(v) else None for v in getattr(history, k)]
                for k in ("loss", "train_acc", "test_acc", "eval_iteration")
            },
        }
        with atomic_write(args.json, "w") as f:
            json.dump(summary, f, indent=1, allow_nan=False)  # strict JSON: NaN is written as null
        print(f"wrote the summary to {args.json}")
    if args.plot:
        title = f"{net.summary()} on MNIST"
        plot_history(history, args.plot, title=title)
        print(f"saved the curves to {args.plot}")
    return 0


def bench(args):
    for flag in ("plot", "json"):
        if getattr(args, flag):
            writable(getattr(args, flag), f"--{flag}")
    if args.plot:
        figure_format(args.plot, "--plot")
    run_sweep(args, **QUICK)
    return 0


def run_sweep(args, hidden_sizes, batch_sizes):
    """The numerical-vs-backprop sweep, printed, and written as --json and --plot ask."""
    print(f"machine: {machine()}")
    (x, t), _ = mnist(args)
    points = sweep(x, t, hidden_sizes, batch_sizes)
    print(f"\n{markdown(points)}\n")
    for batch, (numerical, backprop) in slopes(points).items():
        print(
            f"batch {batch}: numerical cost grows as parameters^{numerical:.2f}, "
            f"backprop as parameters^{backprop:.2f}"
        )
    if args.json:
        with atomic_write(args.json, "w") as f:
            json.dump(as_json(points), f, indent=1)
        print(f"wrote {args.json}")
    if args.plot:
        plot_costs(points, args.plot)
        print(f"saved the plot to {args.plot}")
    return points


def graph(args):
    out = Path(args.out)
    if out.suffix.lower() not in (".svg", ".png", ".dot"):
        raise ValueError(f"--out {out}: the file must end in .svg, .png or .dot")
    writable(out, "--out")
    rng = np.random.default_rng(0)
    net = network(args, seed=0)
    x = Tensor(rng.random((args.batch_size, 784), dtype=np.float32), name="x")
    t = Tensor(rng.integers(0, 10, args.batch_size), name="t")
    loss = net.forward(x, t)
    loss.name = "loss"
    if args.grads:
        loss.backward(retain_graph=True)
    text = to_dot(loss, values=args.values, grads=args.grads)
    program = shutil.which("dot")
    if out.suffix.lower() == ".dot" or program is None:
        target = out if out.suffix.lower() == ".dot" else out.with_suffix(".dot")
        with atomic_write(target, "w") as f:
            f.write(text)
        print(f"wrote the graph to {target}")
        if target != out:
            print(
                f"Graphviz's dot program is not installed, so {out} was not drawn. Install it "
                "(Debian/Ubuntu: sudo apt install graphviz; macOS: brew install graphviz) and "
                f"run: dot -T{out.suffix[1:].lower()} {target} -o {out}"
            )
        return 0
    result = subprocess.run(
        [program, f"-T{out.suffix[1:].lower()}"], input=text.encode(), capture_output=True
    )
    if result.returncode != 0:
        raise OSError(f"dot failed: {result.stderr.decode(errors='replace').strip()}")
    with atomic_write(out) as f:
        f.write(result.stdout)
    print(f"drew the graph to {out}")
    return 0


def gradient_check(args):
    batch = args.batch_size or (100 if args.fast else 3)
    if args.dropout:
        raise ValueError(
            "--dropout: a new mask at every evaluation of the loss leaves nothing for numerical "
            "gradients to agree with; check the network without it"
        )
    net = network(args, dtype=np.float64, seed=args.seed)
    (x_train, t_train), _ = mnist(args, dtype=np.float64)
    if batch > len(x_train):
        raise ValueError(f"--batch-size {batch}: MNIST has {len(x_train)} training images")
    x, t = x_train[:batch], t_train[:batch]
    count = sum(p.size for p in net.params.values())
    print(f"{net.summary()}, float64, {count:,} parameters, on the first {batch} training images")
    if not args.fast:
        expected = numerical_seconds(net, x, t)
        if expected > 10:
            print(f"central differences of every parameter: about {duration(expected)}")
    start = time.perf_counter()
    report = check_gradients(net, x, t, fast=args.fast, seed=args.seed)
    print(report)
    print(f"checked in {time.perf_counter() - start:.2f} s")
    if not report.passed and net.activation == "relu":
        print(
            "note: ReLU has no derivative at 0; where a unit's input lies within the step of 0, "
            "no numerical check can agree. If only a few values fail, try another --seed."
        )
    return 0 if report.passed else 1


def numerical_seconds(net, x, t):
    """Seconds one numerical gradient of net on (x, t) takes: 2 evaluations of the float64 loss
    per weight, the evaluation timed here (median of 5) through the same layers."""
    _, loss = net.float64_loss(x, t)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        loss()
        times.append(time.perf_counter() - start)
    return 2 * sum(p.size for p in net.params.values()) * sorted(times)[2]


def warn_numerical(net, x, t, iters):
    """Say how long training by numerical differentiation will take."""
    count = sum(p.size for p in net.params.values())
    step = numerical_seconds(net, x, t)
    print(
        f"--numerical: every step evaluates the loss 2 x {count:,} times, one pair per weight: "
        f"about {duration(step)} a step, {duration(step * iters)} for {iters} iterations "
        "(plus the accuracy evaluations). Meant for small runs, e.g. --hidden-size 10 "
        "--batch-size 10 --iters 100.",
        file=sys.stderr,
    )


def duration(seconds):
    for unit, size in (("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.2g} {unit}"
    return f"{seconds:.2g} s"
