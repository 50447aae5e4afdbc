"""What one node of the graph costs: a chain of small ops (multiply, add, tanh on a 1x8 float64
array, as a graph-mode RNN or a book-3 scalar program runs them), forward and backward, in
microseconds per op; tinygrad_ko beside PyTorch eager and DeZero (book 3's framework, when
installed), each in a fresh process, best of `repeats` runs in each of `rounds` rounds.

    python benchmarks/node_overhead.py [--ops 3000] [--rounds 3] [--repeats 5] [--smoke] [--json F]
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
from processes import in_a_process


def chain(name, ops, repeats):
    """Best of `repeats`: microseconds per op for forward and backward of `ops` ops."""
    steps = ops // 3
    rng = np.random.default_rng(0)
    x0, w0, b0 = (rng.random((1, 8)) for _ in range(3))
    if name == "tinygrad_ko":
        from tinygrad_ko import Tensor

        def run():
            x, w, b = (Tensor(a, requires_grad=True) for a in (x0, w0, b0))
            y = x
            for _ in range(steps):
                y = (y * w + b).tanh()
            y.sum().backward()
            return float(x.grad.sum())
    elif name == "pytorch":
        import torch

        torch.set_num_threads(1)

        def run():
            x, w, b = (torch.tensor(a, requires_grad=True) for a in (x0, w0, b0))
            y = x
            for _ in range(steps):
                y = (y * w + b).tanh()
            y.sum().backward()
            return float(x.grad.sum())
    else:
        if not hasattr(np, "int"):
            np.int = int  # DeZero 0.0.13 still names np.int, gone from NumPy 2
        import dezero

        def run():
            x, w, b = (dezero.Variable(a) for a in (x0, w0, b0))
            y = x
            for _ in range(steps):
                y = dezero.functions.tanh(y * w + b)
            dezero.functions.sum(y).backward()
            return float(x.grad.data.sum())

    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - start)
    return {"us_per_op": min(times) / (3 * steps) * 1e6, "value": value}


def available(names):
    """The contenders whose framework is installed here; the others named as not measured."""
    found = []
    for name in names:
        module = {"tinygrad_ko": "tinygrad_ko", "pytorch": "torch", "dezero": "dezero"}[name]
        try:
            __import__(module)
        except ImportError:
            print(f"{name}: not installed, not measured")
            continue
        found.append(name)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--smoke", action="store_true", help="tiny settings: does it run?")
    args = parser.parse_args()
    if args.smoke:
        args.ops, args.rounds, args.repeats = 30, 1, 1
    from tinygrad_ko.bench import machine

    figures = {"machine": machine(), "us_per_op": {}}
    print(f"machine: {figures['machine']}")
    names = available(["tinygrad_ko", "pytorch", "dezero"])
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    print(f"a chain of {args.ops:,} ops (multiply, add, tanh on 1x8 float64), forward and "
          f"backward; OPENBLAS_NUM_THREADS={threads}")  # fmt: skip
    results = {n: [] for n in names}
    for r in range(args.rounds):
        for name in names if r % 2 == 0 else reversed(names):
            result = in_a_process("node_overhead", "chain", name, args.ops, args.repeats)
            results[name].append(result["us_per_op"])
            print(f"round {r + 1}: {name:12s} {result['us_per_op']:6.2f} us an op")
    print("\n| framework | us an op (median of rounds, each the best of its runs) |")
    print("|---|---:|")
    for name in names:
        figures["us_per_op"][name] = statistics.median(results[name])
        print(f"| {name} | {figures['us_per_op'][name]:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
