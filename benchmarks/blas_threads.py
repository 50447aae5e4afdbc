"""BLAS threads and the chapter-5 training loop, on a quiet and on a loaded machine.

    python benchmarks/blas_threads.py [--iters 3000] [--repeats 3] [--json FILE]

Each measurement is a fresh process running tinygrad_ko's fit (ReLU 784-50-10, batches of 100,
SGD lr 0.1, the book's schedule shortened to --iters) with OPENBLAS_NUM_THREADS (and
OMP_NUM_THREADS) set to 1 or to the number of cores. "Loaded" runs the same measurement while
other processes keep the machine busy: a pure-Python busy loop (one core taken), or a second
training of the same kind (another learner's notebook on the same machine). Reported: the
median seconds of the training loop per setting, alternating the settings in each repetition.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tinygrad_ko.bench import machine

TRAIN = """
import time
from tinygrad_ko.datasets import load_mnist
from tinygrad_ko.models import TwoLayerNet
from tinygrad_ko.train import fit
train, test = load_mnist()
start = time.perf_counter()
fit(TwoLayerNet(784, 50, 10, activation="relu", seed=0), train, test, iters={iters},
    evaluate_last=False, progress=False)
print(time.perf_counter() - start)
"""
BUSY = "while True: pass"
LOADS = {
    "quiet": [],
    "one busy-loop process": [BUSY],
    "a second training": [TRAIN.format(iters=10**9)],
}


def environment(threads):
    return os.environ | {"OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}


def measure(threads, load, iters, settle=1.0):
    """Seconds of fit's loop with `threads` BLAS threads while the `load` processes run."""
    others = [
        subprocess.Popen(
            [sys.executable, "-c", code], env=environment(threads), stdout=subprocess.DEVNULL
        )
        for code in load
    ]
    try:
        time.sleep(settle if others else 0)  # let the load start (and load MNIST)
        out = subprocess.run([sys.executable, "-c", TRAIN.format(iters=iters)],
                             env=environment(threads), capture_output=True, text=True,
                             check=True).stdout  # fmt: skip
        return float(out.split()[-1])
    finally:
        for process in others:
            process.kill()
            process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--smoke", action="store_true", help="tiny settings: does it run?")
    args = parser.parse_args()
    if args.smoke:
        args.iters, args.repeats = 20, 1
    cores = os.cpu_count() or 1
    settings = sorted({1, cores})
    print(f"machine: {machine()}")
    print(f"fit for {args.iters} iterations, medians of {args.repeats}")
    print("\n| machine | " + " | ".join(f"{n} BLAS thread(s)" for n in settings) + " |")
    print("|---|" + "---:|" * len(settings))
    medians = {}
    for name, load in LOADS.items():
        seconds = {n: [] for n in settings}
        for r in range(args.repeats):
            for n in settings if r % 2 == 0 else settings[::-1]:
                seconds[n].append(measure(n, load, args.iters, 0.3 if args.smoke else 1.0))
        medians[name] = {str(n): float(np.median(v)) for n, v in seconds.items()}
        row = " | ".join(f"{medians[name][str(n)]:.2f} s" for n in settings)
        print(f"| {name} | {row} |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "seconds": medians}, indent=1))


if __name__ == "__main__":
    main()
