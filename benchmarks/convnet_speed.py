"""Training the book's convolutional networks, chapter 7's SimpleConvNet and chapter 8's
DeepConvNet: tinygrad_ko against a hand-fused NumPy step (the floor) and, where torch is
installed, PyTorch on the CPU, each at 1 and 2 threads (BLAS's, and PyTorch's own).

    python benchmarks/convnet_speed.py [--networks simple,deep] [--threads 1,2] [--repeats 5]
                                       [--iters 0] [--json FILE] [--smoke]

All start from the same weights and draw the same batches. Each measurement runs in a fresh
process of its own (one contender's threads and memory cannot slow another's), the contenders
alternating. PyTorch runs twice: as its users run it, and with glibc's malloc set as
tinygrad_ko sets it for fit (tinygrad_ko.engine.memory), which the floor has too:
- the training step (forward, backward, Adam): a network's STEPS after 10 to warm up, in
  `--repeats` rounds; medians of the milliseconds a step, of the paired ratios, and the peak
  resident memory of the process (VmHWM);
- with `--iters N`, each network's whole schedule once each (the book's is 12000 mini-batches
  of 100, Adam lr 0.001, accuracy on 1000 train and 1000 test images every epoch): seconds,
  the test accuracy on all 10,000 test images at the end, and the peak memory.
tinygrad_ko goes through the user's path: the network, Adam and fit, as `tinygrad-ko train
--model convnet` (or deepconvnet) runs them. Data: $TINYGRAD_KO_DATA/mnist, else the cache.
About 10 minutes on a 2-core machine without --iters.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import fused_convnet
import fused_deepconvnet

from tinygrad_ko.bench import machine
from tinygrad_ko.data.datasets import load_mnist
from tinygrad_ko.engine import memory
from tinygrad_ko.networks.convnets import DeepConvNet, SimpleConvNet
from tinygrad_ko.training.optim import Adam
from tinygrad_ko.training.train import fit

WARM_UP = 10  # steps before the clock starts
NETWORKS = {  # our class, its floor, timed steps in a round
    "simple": (SimpleConvNet, fused_convnet, 200),
    "deep": (DeepConvNet, fused_deepconvnet, 40),
}


def stepper_ours(seed, network):
    """tinygrad_ko's step, as fit takes it, and the network's accuracy."""
    net = NETWORKS[network][0](seed=seed)
    optimizer = Adam(net.parameters(), lr=0.001)

    def step(x, t):
        optimizer.zero_grad()
        loss = net.forward(x, t)
        loss.backward()
        optimizer.step()
        return float(loss.data)

    return step, net.accuracy


def stepper_floor(seed, network):
    return NETWORKS[network][1].stepper(seed)


def stepper_pytorch(seed, network):
    import torch_convnet

    return torch_convnet.stepper(seed, network)


def schedule_ours(network, train_set, test_set, iters):
    """The user's path, fit as `tinygrad-ko train --model convnet` runs it: (seconds, of them
    evaluating, test accuracy on the whole test set)."""
    start = time.perf_counter()
    net = NETWORKS[network][0](seed=0)
    history = fit(net, train_set, test_set, iters=iters, optimizer="adam", lr=0.001, seed=0,
                  progress=False,
                  evaluate_sample=fused_convnet.BOOK.evaluate_sample)  # fmt: skip
    began = time.perf_counter()
    accuracy = net.accuracy(*test_set)
    end = time.perf_counter()
    return end - start, history.eval_seconds + end - began, accuracy


def schedule_of(stepper):
    """The whole schedule of a stepper's step and accuracy, timed as schedule_ours."""

    def run(network, train_set, test_set, iters):
        start = time.perf_counter()
        step_and_accuracy = stepper(0, network)
        with memory.heap_only():  # as fit's
            _, accuracy, evaluating = fused_convnet.schedule(*step_and_accuracy, train_set,
                                                             test_set, iters)  # fmt: skip
        return time.perf_counter() - start, evaluating, accuracy

    return run


CONTENDERS = {  # (stepper, whole schedule)
    "tinygrad_ko": (stepper_ours, schedule_ours),
    "floor": (stepper_floor, schedule_of(stepper_floor)),
    "PyTorch": (stepper_pytorch, schedule_of(stepper_pytorch)),
    "PyTorch, malloc as tinygrad_ko's": (stepper_pytorch, schedule_of(stepper_pytorch)),
}
# the workers import tinygrad_ko (its MNIST loader), which sets glibc's malloc to keep freed
# memory (tinygrad_ko.memory): PyTorch runs as its users run it, without that, and again with it
MALLOC_AS_USUAL = {"PyTorch"}


def peak_mb():
    """The peak resident memory of this process so far (VmHWM), in MB of 10^6."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status)[1]) * 1024 / 1e6


def worker(name, network, steps, iters):
    """In a process of its own: one measurement of one contender, as a line of JSON."""
    train_set, test_set = load_mnist(flatten=False)
    stepper, schedule = CONTENDERS[name]
    if iters:
        seconds, evaluating, accuracy = schedule(network, train_set, test_set, iters)
        result = {"seconds": seconds, "eval_seconds": evaluating, "test_acc": accuracy}
    else:
        x, t = train_set
        batches = np.random.default_rng(0).integers(0, len(x), (WARM_UP + steps, 100))
        step, _ = stepper(0, network)
        # as fit trains, every block from the heap (tinygrad_ko.engine.memory.heap_only; with
        # TINYGRAD_KO_KEEP_FREED_MEMORY=0, PyTorch as its users run it, malloc as usual)
        with memory.heap_only():
            for b in batches[:WARM_UP]:
                step(x[b], t[b])
            start = time.perf_counter()
            for b in batches[WARM_UP:]:
                step(x[b], t[b])
            result = {"ms_per_step": (time.perf_counter() - start) / steps * 1000}
    print(json.dumps(result | {"peak_mb": peak_mb()}))


def measure(name, network, threads, steps=0, iters=0):
    """One measurement of one contender, in a fresh process with `threads` threads."""
    command = [sys.executable, __file__, "--worker", name, "--networks", network]
    env = os.environ | {v: str(threads) for v in THREAD_VARIABLES}
    env |= {memory.OPT_OUT: "0"} if name in MALLOC_AS_USUAL else {}
    out = subprocess.run([*command, "--steps", str(steps), "--iters", str(iters)],
                         capture_output=True, text=True, env=env, check=True).stdout  # fmt: skip
    return json.loads(out.splitlines()[-1])


THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def contenders():
    names = ["tinygrad_ko", "floor"]
    try:
        import torch

        names += ["PyTorch", "PyTorch, malloc as tinygrad_ko's"]
        print(f"PyTorch {torch.__version__}")
    except ImportError:
        print("PyTorch is not installed: measuring tinygrad_ko and the floor only")
    return names


def step_rounds(names, network, threads, repeats, steps):
    """`repeats` rounds of every contender's step, the order alternating: ms and peak MB."""
    ms, peaks = {name: [] for name in names}, {name: 0.0 for name in names}
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:  # alternating, both ways
            result = measure(name, network, threads, steps=steps)
            ms[name].append(result["ms_per_step"])
            peaks[name] = max(peaks[name], result["peak_mb"])
        print(f"{network}, {threads} thread(s), round {r + 1}: "
              + ", ".join(f"{k} {v[-1]:.2f} ms" for k, v in ms.items()), flush=True)  # fmt: skip
    return ms, peaks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default="simple,deep")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, help="timed steps in each round (default: by network)")
    parser.add_argument("--iters", type=int, default=0, help="of each whole schedule (0: none)")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--smoke", action="store_true", help="tiny settings: does it run?")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.networks, args.steps, args.iters)
    if args.smoke:
        args.repeats, args.steps, args.iters, args.threads = 1, 3, 30, "1"
    print(f"machine: {machine()}")
    names, figures = contenders(), {"machine": machine(), "steps": {}, "iters": args.iters}
    for network in args.networks.split(","):
        steps = args.steps or NETWORKS[network][2]
        figures["steps"][network] = steps
        for threads in map(int, args.threads.split(",")):
            ms, peaks = step_rounds(names, network, threads, args.repeats, steps)
            ours = np.array(ms["tinygrad_ko"])
            ratios = {k: float(np.median(ours / np.array(v))) for k, v in ms.items()}
            figures[f"{network}, {threads} thread(s)"] = {"ms_per_step": ms, "peak_mb": peaks,
                                                          "ratios": ratios}  # fmt: skip
            print(f"\n| {NETWORKS[network][0].__name__} step, {threads} thread(s) | ms a step "
                  "| tinygrad_ko's over it | peak memory |\n|---|---:|---:|---:|")  # fmt: skip
            for name in names:
                print(f"| {name} | {np.median(ms[name]):.2f} | {ratios[name]:.2f} | "
                      f"{peaks[name]:.0f} MB |")  # fmt: skip
            print(f"(medians of {args.repeats} paired rounds of {steps} steps)\n")
        if args.iters:
            runs = {name: measure(name, network, 1, iters=args.iters) for name in names}
            figures[f"{network}, schedule"] = runs
            print(
                f"| {NETWORKS[network][0].__name__}, {args.iters} iterations, 1 thread | "
                "seconds | steps alone | test accuracy | peak memory |\n|---|---:|---:|---:|---:|"
            )
            for name, run in runs.items():
                print(f"| {name} | {run['seconds']:.0f} | "
                      f"{run['seconds'] - run['eval_seconds']:.0f} | {run['test_acc']:.2%} | "
                      f"{run['peak_mb']:.0f} MB |")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
