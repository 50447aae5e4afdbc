"""Threads on a quiet and on a busy machine: the chapter-7 SimpleConvNet's training step with
tinygrad_ko's fit choosing BLAS's threads (the default), with 1 and 2 fixed, and PyTorch with
its own default, each while other processes keep the machine busy.

    python benchmarks/blas_threads.py [--steps 300] [--repeats 3] [--json FILE] [--smoke]

Each measurement is a fresh process training for `--steps` steps (batches of 100, Adam lr 0.001,
after 10 steps to warm up): tinygrad_ko through fit, as `tinygrad-ko train --model convnet`
runs it (its choice of threads and its measuring included in the time), PyTorch through the
loop of benchmarks/torch_convnet.py. The loads: none; a pure-Python busy loop (one core taken);
a second training of the same kind (another learner's notebook on the same machine); and the
whole run pinned to one core with taskset (as Colab's free runtime, two hyperthreads of one
core). Reported: milliseconds a step, medians of `--repeats`, the contenders alternating.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tinygrad_ko.bench import machine

sys.path.insert(0, str(Path(__file__).parent))
WARM_UP = 10
OURS = """
import sys, time
from tinygrad_ko.data.datasets import load_mnist
from tinygrad_ko.networks.convnets import SimpleConvNet
from tinygrad_ko.training.train import fit
train, test = load_mnist(flatten=False)
net = SimpleConvNet(seed=0)
fit(net, train, test, iters={warm_up}, optimizer="adam", lr=0.001, progress=False,
    evaluate_last=False, evaluate_sample=100, epoch=10**9)
start = time.perf_counter()
fit(net, train, test, iters={steps}, optimizer="adam", lr=0.001, progress=False,
    evaluate_last=False, evaluate_sample=100, epoch=10**9, start=1)
print((time.perf_counter() - start) / {steps} * 1e3)
"""
PYTORCH = """
import sys, time
import numpy as np
import torch_convnet
from tinygrad_ko.data.datasets import load_mnist
(x, t), _ = load_mnist(flatten=False)
step, _ = torch_convnet.stepper(0)
rng = np.random.default_rng(0)
for i in range({warm_up} + {steps}):
    if i == {warm_up}:
        start = time.perf_counter()
    b = rng.integers(0, len(x), 100)
    step(x[b], t[b])
print((time.perf_counter() - start) / {steps} * 1e3)
"""
THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
CONTENDERS = {  # code, the thread count set through the environment (None: the default)
    "tinygrad_ko (fit chooses)": (OURS, None),
    "tinygrad_ko, 1 thread": (OURS, 1),
    "tinygrad_ko, 2 threads": (OURS, 2),
    "PyTorch (its default)": (PYTORCH, None),
}
BUSY = "while True: pass"
LOADS = ["quiet", "one busy-loop process", "a second training", "one core (taskset -c 0)"]


def environment(threads):
    env = {k: v for k, v in os.environ.items() if k not in THREADS}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    return env | ({name: str(threads) for name in THREADS} if threads else {})


def measure(name, load, steps, settle=1.0):
    """Milliseconds a step of contender `name` while `load` runs."""
    code, threads = CONTENDERS[name]
    pin = ["taskset", "-c", "0"] if load.startswith("one core") else []
    others = []
    if load == "one busy-loop process":
        others = [[sys.executable, "-c", BUSY]]
    elif load == "a second training":
        others = [[sys.executable, "-c", code.format(warm_up=WARM_UP, steps=10**9)]]
    running = [subprocess.Popen(command, env=environment(threads), stdout=subprocess.DEVNULL)
               for command in others]  # fmt: skip
    try:
        time.sleep(settle if running else 0)  # let the load start (and load MNIST)
        program = code.format(warm_up=WARM_UP, steps=steps)
        out = subprocess.run([*pin, sys.executable, "-c", program], env=environment(threads),
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
        return float(out.split()[-1])
    finally:
        for process in running:
            process.kill()
            process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--smoke", action="store_true", help="tiny settings: does it run?")
    args = parser.parse_args()
    if args.smoke:
        args.steps, args.repeats = 12, 1
    names, loads = list(CONTENDERS), LOADS if shutil.which("taskset") else LOADS[:-1]
    try:
        import torch  # noqa: F401
    except ImportError:
        print("PyTorch is not installed: not measured")
        names.remove("PyTorch (its default)")
    print(f"machine: {machine()}")
    print(f"SimpleConvNet training step, ms, medians of {args.repeats} runs of {args.steps} steps")
    print("\n| the machine while it trains | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    medians = {}
    for load in loads:
        ms = {name: [] for name in names}
        for r in range(args.repeats):
            for name in names if r % 2 == 0 else names[::-1]:
                ms[name].append(measure(name, load, args.steps, 0.3 if args.smoke else 1.0))
        medians[load] = {name: statistics.median(v) for name, v in ms.items()}
        row = " | ".join(f"{medians[load][name]:.1f}" for name in names)
        print(f"| {load} | {row} |", flush=True)
    quiet = medians["quiet"]
    print("\nslower than on a quiet machine (each contender against its own quiet time):")
    for load in loads[1:]:
        print(f"- {load}: " + ", ".join(f"{n} {medians[load][n] / quiet[n]:.2f}x" for n in names))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "ms": medians}, indent=1))


if __name__ == "__main__":
    main()
