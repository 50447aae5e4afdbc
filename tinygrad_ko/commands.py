"""What each `tinygrad-ko` command does (tinygrad_ko.cli reads the arguments): train, bench,
graph and gradcheck, on any of the book's networks for MNIST."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tinygrad_ko.bench import QUICK, as_json, machine, markdown, plot_costs, slopes, sweep
from tinygrad_ko.checking.gradient_check import check_gradients
from tinygrad_ko.data.datasets import load_mnist, mnist_dir
from tinygrad_ko.data.files import atomic_write
from tinygrad_ko.display.plot import figure_format, plot_history
from tinygrad_ko.display.viz import CannotDraw, draw_graph
from tinygrad_ko.engine.tensor import Tensor
from tinygrad_ko.layers.normalization import Dropout
from tinygrad_ko.networks.convnets import DeepConvNet, SimpleConvNet
from tinygrad_ko.networks.models import MultiLayerNet, TwoLayerNet
from tinygrad_ko.training.train import DEFAULT_LR, fit

__all__ = ["bench", "gradient_check", "graph", "train"]

IMAGES = ("convnet", "deepconvnet")  # the models that take (N, 1, 28, 28) images


class Schedule(NamedTuple):
    """How the book trains a model: iterations, optimizer, and how many images of each set
    are evaluated every epoch (None: all; chapter 7's train_convnet.py takes 1,000)."""

    iters: int
    optimizer: str
    evaluate_sample: int | None


SCHEDULES = {
    "twolayer": Schedule(10000, "sgd", None),  # chapters 4-5
    "mlp": Schedule(10000, "sgd", None),  # chapter 6
    "convnet": Schedule(12000, "adam", 1000),  # chapter 7
    "deepconvnet": Schedule(12000, "adam", 1000),  # chapter 8
}


def network(args, **options):
    """The network the options describe, for MNIST (784 inputs or 1x28x28 images, 10 outputs),
    built with options (dtype, seed); an option the model does not have is refused."""
    given = {
        "--activation": args.activation,
        "--hidden-size": args.hidden_size,
        "--hidden-sizes": args.hidden_sizes,
        "--batchnorm": args.batchnorm or None,
        "--dropout": args.dropout,
        "--weight-decay": args.weight_decay,
    }
    takes = {
        "twolayer": ("--activation", "--hidden-size"),
        "mlp": ("--activation", "--hidden-sizes", "--batchnorm", "--dropout", "--weight-decay"),
        "convnet": ("--hidden-size",),
        "deepconvnet": ("--hidden-size",),
    }[args.model]
    wrong = [flag for flag, value in given.items() if value is not None and flag not in takes]
    if wrong:
        raise ValueError(f"--model {args.model} takes {', '.join(takes)}, not {', '.join(wrong)}")
    hidden = {} if args.hidden_size is None else {"hidden_size": args.hidden_size}
    if args.model == "convnet":
        return SimpleConvNet(**hidden, **options)
    if args.model == "deepconvnet":
        return DeepConvNet(**hidden, **options)
    if args.model == "twolayer":
        size = args.hidden_size or 50
        return TwoLayerNet(784, size, 10, activation=args.activation or "sigmoid", **options)
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
    """load_mnist for a command, first saying which folder the data comes from; images for
    the convolutional networks."""
    print(f"MNIST: {mnist_dir(args.data_dir)}", flush=True)
    flatten = getattr(args, "model", None) not in IMAGES
    return load_mnist(data_dir=args.data_dir, flatten=flatten, **options)


def load_weights(net, path):
    """Weights for net from path: the book's pickle (.pkl, read safely) or our .npz."""
    if Path(path).suffix.lower() == ".pkl":
        net.load_params(path)
        return net
    return type(net).load(path)


def train(args):
    for flag in ("plot", "save", "json"):  # before a long run, not after it
        if getattr(args, flag):
            writable(getattr(args, flag), f"--{flag}")
    if args.plot:
        figure_format(args.plot, "--plot")
    net = network(args, seed=args.seed)
    if args.load:
        net = load_weights(net, args.load)
    if args.iters == 0 and not args.load:
        raise ValueError("--iters 0 evaluates weights without training them: give --load FILE")
    schedule = SCHEDULES[args.model]
    if args.iters is None:
        args.iters = 0 if args.load and args.model == "deepconvnet" else schedule.iters
    args.optimizer = args.optimizer or schedule.optimizer
    args.lr = DEFAULT_LR[args.optimizer] if args.lr is None else args.lr
    args.activation = getattr(net, "activation", None)
    start = time.perf_counter()
    (x_train, t_train), test = mnist(args)
    load_seconds = time.perf_counter() - start
    if args.iters == 0:  # evaluate what was loaded
        print(f"{net.summary()}, loaded from {args.load}")
        print(f"test accuracy {net.accuracy(*test):.2%}")
        return 0
    print(
        f"{net.summary()}; {args.iters} iterations of {args.batch_size}, {args.optimizer} lr "
        f"{args.lr}, seed {args.seed}; {'numerical gradients' if args.numerical else 'backprop'}"
    )
    if args.numerical:
        warn_numerical(net, x_train[: args.batch_size], t_train[: args.batch_size], args.iters)
    start = time.perf_counter()
    history = fit(net, (x_train, t_train), test, iters=args.iters, batch_size=args.batch_size,
                  lr=args.lr, optimizer=args.optimizer, seed=args.seed,
                  numerical=args.numerical, progress=True,
                  evaluate_sample=schedule.evaluate_sample)  # fmt: skip
    test_acc, sampled = history.test_acc[-1], ""
    if schedule.evaluate_sample is not None:  # a sample each epoch; now the whole test set
        began = time.perf_counter()
        test_acc, sampled = net.accuracy(*test), f" on the first {schedule.evaluate_sample:,}"
        history.eval_seconds += time.perf_counter() - began
    train_seconds = time.perf_counter() - start
    print(
        f"final test accuracy {test_acc:.2%} (train {history.train_acc[-1]:.2%}{sampled}); "
        f"loading {load_seconds:.2f} s, training {train_seconds:.2f} s "
        f"({history.eval_seconds:.2f} s of it evaluating)"
    )
    if args.save:
        net.save(args.save)
        print(f"saved the parameters to {args.save}")
    if args.json:
        times = {"load_seconds": load_seconds, "train_seconds": train_seconds}
        write_summary(args, history, test_acc, schedule.evaluate_sample, times)
    if args.plot:
        plot_history(history, args.plot, title=f"{net.summary()} on MNIST")
        print(f"saved the curves to {args.plot}")
    return 0


def write_summary(args, history, test_acc, evaluate_sample, times):
    """--json: the arguments, the final accuracies (test_acc on the whole test set), the times
    and the history (evaluated on the first evaluate_sample images when not null), strict
    JSON."""
    summary = {
        "args": {k: v for k, v in vars(args).items() if k not in ("command", "name")},
        "train_acc": history.train_acc[-1],
        "test_acc": test_acc,
        "evaluate_sample": evaluate_sample,
        **times,
        "eval_seconds": history.eval_seconds,
        "history": {
            k: [v if math.isfinite(v) else None for v in getattr(history, k)]
            for k in ("loss", "train_acc", "test_acc", "eval_iteration")
        },
    }
    with atomic_write(args.json, "w") as f:
        json.dump(summary, f, indent=1, allow_nan=False)  # strict JSON: NaN is written as null
    print(f"wrote the summary to {args.json}")


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
    if out.suffix.lower() not in (".svg", ".png", ".pdf", ".dot"):
        raise ValueError(f"--out {out}: the file must end in .svg, .png, .pdf or .dot")
    writable(out, "--out")
    rng = np.random.default_rng(0)
    net = network(args, seed=0)
    shape = (1, 28, 28) if args.model in IMAGES else (784,)
    x = Tensor(rng.random((args.batch_size, *shape), dtype=np.float32), name="x")
    t = Tensor(rng.integers(0, 10, args.batch_size), name="t")
    loss = net.forward(x, t)
    loss.name = "loss"
    if args.grads:
        loss.backward(retain_graph=True)
    drawing = draw_graph(loss, values=args.values, grads=args.grads)
    try:
        drawing.save(out)  # by dot where it is installed, else by grandalf
    except CannotDraw as error:  # neither dot nor grandalf: the DOT text, and how to draw it
        target = out.with_suffix(".dot")
        drawing.save(target)
        print(f"wrote the graph to {target}")
        kind = out.suffix[1:].lower()
        print(f"{out} was not drawn: {error}; or later: dot -T{kind} {target} -o {out}")
        return 0
    print(f"{'wrote' if out.suffix.lower() == '.dot' else 'drew'} the graph to {out}")
    return 0


def gradient_check(args):
    # the convnets: random directions by default; their hundreds of thousands of weights one
    # by one would take hours
    fast = args.fast or (args.model in IMAGES and args.sample is None)
    batch = args.batch_size or (100 if args.fast else 3)
    net = network(args, dtype=np.float64, seed=args.seed)
    # with Dropout, in evaluation mode: in training it draws a new mask at every evaluation
    train_flg = not any(isinstance(layer, Dropout) for layer in net.layers)
    sample = args.sample
    (x_train, t_train), _ = mnist(args, dtype=np.float64)
    if batch > len(x_train):
        raise ValueError(f"--batch-size {batch}: MNIST has {len(x_train)} training images")
    x, t = x_train[:batch], t_train[:batch]
    count = sum(p.size for p in net.params.values())
    mode = "" if train_flg else ", in evaluation mode (Dropout scales, as when testing)"
    print(f"{net.summary()}, float64, {count:,} parameters, on the first {batch} training "
          f"images{mode}")  # fmt: skip
    if not fast and sample is None:
        expected = numerical_seconds(net, x, t)
        if expected > 10:
            print(f"central differences of every parameter: about {duration(expected)}")
    start = time.perf_counter()
    report = check_gradients(net, x, t, sample=sample, fast=fast, seed=args.seed,
                             train_flg=train_flg)  # fmt: skip
    print(report)
    print(f"checked in {time.perf_counter() - start:.2f} s")
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
