"""The command line: `tinygrad-ko train | bench | graph | gradcheck`, also as
`python -m tinygrad_ko ...`. This module reads the arguments; tinygrad_ko.commands does the
work."""

from __future__ import annotations

import argparse
import sys

from tinygrad_ko import commands
from tinygrad_ko.checking.gradient_check import PROJECTIONS
from tinygrad_ko.networks.models import ACTIVATIONS
from tinygrad_ko.training.divergence import TrainingDiverged
from tinygrad_ko.training.train import OPTIMIZERS

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
    except (OSError, ValueError, ImportError, TrainingDiverged) as error:  # missing data, bad
        print(f"tinygrad-ko {args.name}: {error}", file=sys.stderr)  # files, no matplotlib, NaN
        return 1


def parser():
    top = argparse.ArgumentParser(
        prog="tinygrad-ko",
        description="Deep Learning from Scratch, chapters 4-8, on a small honest autograd.",
    )
    commands_ = top.add_subparsers(required=True, metavar="COMMAND")
    add = command(
        commands_,
        "train",
        commands.train,
        help="retrain one of the book's networks on MNIST, with the book's schedule",
        description="Retrain one of the book's networks on MNIST with the book's schedule: "
        "TwoLayerNet and MultiLayerNet 10000 mini-batches of 100 with SGD lr 0.1 (chapters "
        "4-6), the convolutional networks 20 epochs with Adam lr 0.001 (chapters 7-8); train "
        "and test accuracy every epoch.",
    )
    network_options(add)
    add(
        "--iters",
        type=natural,
        metavar="N",
        help="10000 (12000 for convnets; 0 with --load: evaluate)",
    )
    add("--batch-size", type=positive, default=100, metavar="N")
    add("--lr", type=float, help="learning rate (default: 0.1 for sgd, 0.001 for adam, else 0.01)")
    add("--optimizer", choices=list(OPTIMIZERS), help="sgd (adam for the convnets)")
    add("--seed", type=natural, default=0, help="weights and batches (default 0)")
    add("--data-dir", metavar="DIR", help=DATA_DIR_HELP)
    add("--plot", metavar="FILE", help=f"save the accuracy and loss curves {PLOT_FORMATS}")
    add("--save", metavar="FILE.npz", help="save the trained parameters")
    add("--load", metavar="FILE", help="start from these weights: .npz of ours, or the book's .pkl")
    add("--json", metavar="FILE", help="write a summary of the run as JSON")
    add(
        "--numerical",
        action="store_true",
        help="take gradients by numerical differentiation instead of backprop (very slow)",
    )

    add = command(
        commands_,
        "bench",
        commands.bench,
        help="measure numerical gradients against backprop (a quick sweep, under a minute)",
        description="Time the full numerical gradient and backprop of TwoLayerNet(784, hidden, "
        "10) on MNIST batches, for a few hidden and batch sizes; print a table and how each "
        "cost grows with the number of parameters. benchmarks/numeric_vs_backprop.py runs the "
        "full sweep.",
    )
    add("--data-dir", metavar="DIR", help=DATA_DIR_HELP)
    add("--json", metavar="FILE", help="write the measurements as JSON")
    add("--plot", metavar="FILE", help=f"save a log-log plot of both costs {PLOT_FORMATS}")

    add = command(
        commands_,
        "graph",
        commands.graph,
        help="draw the computational graph of one training step",
        description="Draw the graph one training step of a network records (book 5.1): its "
        "layers as boxes, its tensors as ovals. Renders with Graphviz's dot program when it "
        "is installed, else with the grandalf package (pip install grandalf); with neither, "
        "writes the DOT file and says how to render it. The inputs are "
        "random stand-ins of MNIST's shape: the graph depends only on the shapes.",
    )
    network_options(add)
    add("--batch-size", type=positive, default=100, metavar="N")
    add("--values", action="store_true", help="show the values of tensors of up to 10 elements")
    add("--grads", action="store_true", help="run backward and show gradients of small tensors")
    add("--out", required=True, metavar="FILE", help="graph.svg, .png, .pdf or .dot")

    add = command(
        commands_,
        "gradcheck",
        commands.gradient_check,
        help="check backprop against numerical gradients on MNIST (the book's gradient_check.py)",
        description="The book's gradient_check.py (5.7.3): a network in float64 on the first "
        "training images, backprop against central differences, a line per parameter; every "
        "element for the fully connected networks, random directions (--fast) for the "
        "convolutional ones. Exit status 1 when a parameter fails.",
    )
    network_options(add)
    add("--batch-size", type=positive, metavar="N", help="images (3, the book's; 100 with --fast)")
    add("--sample", type=positive, metavar="K", help="check K random elements of each parameter")
    add(
        "--fast",
        action="store_true",
        help=f"{PROJECTIONS} random directional derivatives per parameter instead of every element",
    )
    add("--seed", type=natural, default=0, help="weights and directions (default 0)")
    add("--data-dir", metavar="DIR", help=DATA_DIR_HELP)
    return top


def command(subparsers, name, run, **texts):
    """A subcommand running `run`; returns its add_argument."""
    sub = subparsers.add_parser(name, **texts)
    sub.set_defaults(command=run, name=name)
    return sub.add_argument


def network_options(add):
    """The options every command shares that build a network for MNIST."""
    add(
        "--model",
        choices=list(commands.SCHEDULES),
        default="twolayer",
        help="TwoLayerNet (chapters 4-5, default), MultiLayerNet (chapter 6), SimpleConvNet "
        "(chapter 7) or DeepConvNet (chapter 8)",
    )
    add(
        "--activation",
        choices=list(ACTIVATIONS),
        help="sigmoid (chapter 4; TwoLayerNet's default) or relu (chapter 5; MultiLayerNet's)",
    )
    add("--hidden-size", type=positive, metavar="N", help="50 (100 for convnet)")
    add("--hidden-sizes", type=sizes, metavar="N,N,...", help="mlp's layers (100,100,100)")
    add("--batchnorm", action="store_true", help="mlp: batch normalization (6.3)")
    add("--dropout", type=ratio, metavar="RATIO", help="mlp: dropout (6.4.3)")
    add("--weight-decay", type=decay, metavar="LAMBDA", help="mlp: weight decay ½λΣW² (6.4.2)")


def sizes(text):
    """'100,100,100' as [100, 100, 100]."""
    try:
        values = [int(n) for n in text.split(",")]
    except ValueError:
        message = f"must be sizes separated by commas, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if any(n < 1 for n in values):
        raise argparse.ArgumentTypeError(f"sizes must be at least 1, got {text!r}")
    return values


def ratio(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be from 0 up to but not including 1, got {value}")
    return value


def decay(text):
    value = float(text)
    if not value >= 0 or value == float("inf"):  # NaN fails the first test
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
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
