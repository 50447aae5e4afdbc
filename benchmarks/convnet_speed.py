"""Training the chapter-7 SimpleConvNet: tinygrad_ko against a hand-fused NumPy step (the floor)
and, where torch is installed, PyTorch on the CPU.

    python benchmarks/convnet_speed.py [--repeats 5] [--steps 300] [--iters 12000] [--json FILE]
                                       [--smoke]

All start from the same weights and draw the same batches. Each measurement runs in a fresh
process of its own (one contender's threads and memory cannot slow another's), the contenders
alternating. PyTorch runs twice: as its users run it, and with glibc's malloc set as importing
tinygrad_ko sets it (tinygrad_ko.memory), which the floor has too:
- the training step (forward, backward, Adam): `--steps` steps after 10 to warm up, in
  `--repeats` rounds; medians of the milliseconds a step, and of the paired ratios;
- the book's whole chapter-7 schedule once each (12000 mini-batches of 100, Adam lr 0.001,
  accuracy on 1000 train and 1000 test images every epoch): seconds, the test accuracy on all
  10,000 test images at the end, and the peak resident memory of the process (VmHWM).
tinygrad_ko goes through the user's path: SimpleConvNet, Adam and fit, as `tinygrad-ko train
--model convnet` runs them. Data: $TINYGRAD_KO_DATA/mnist, else the cache. About 15 minutes
on a 2-core machine.
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

from tinygrad_ko import memory
from tinygrad_ko.bench import machine
from tinygrad_ko.convnets import SimpleConvNet
from tinygrad_ko.datasets import load_mnist
from tinygrad_ko.optim import Adam
from tinygrad_ko.train import fit

WARM_UP = 10  # steps before the clock starts


def stepper_ours(seed):
    """tinygrad_ko's step, as fit takes it, and the network's accuracy."""
    net = SimpleConvNet(seed=seed)
    optimizer = Adam(net.parameters(), lr=0.001)

    def step(x, t):
        optimizer.zero_grad()
        loss = net.forward(x, t)
        loss.backward()
        optimizer.step()
        return float(loss.data)

    return step, net.accuracy


def stepper_pytorch(seed):
    import torch_convnet

    return torch_convnet.stepper(seed)


def schedule_ours(train_set, test_set, iters):
    """The user's path, fit as `tinygrad-ko train --model convnet` runs it: (seconds, of them
    evaluating, test accuracy on the whole test set)."""
    start = time.perf_counter()
    net = SimpleConvNet(seed=0)
    history = fit(net, train_set, test_set, iters=iters, optimizer="adam", lr=0.001, seed=0,
                  progress=False,
                  evaluate_sample=fused_convnet.BOOK.evaluate_sample)  # fmt: skip
    began = time.perf_counter()
    accuracy = net.accuracy(*test_set)
    end = time.perf_counter()
    return end - start, history.eval_seconds + end - began, accuracy


def schedule_of(stepper):
    """The whole schedule of a stepper's step and accuracy, timed as schedule_ours."""

    def run(train_set, test_set, iters):
        start = time.perf_counter()
        _, accuracy, evaluating = fused_convnet.schedule(*stepper(0), train_set, test_set, iters)
        return time.perf_counter() - start, evaluating, accuracy

    return run


CONTENDERS = {  # (stepper, whole schedule)
    "tinygrad_ko": (stepper_ours, schedule_ours),
    "floor": (fused_convnet.stepper, schedule_of(fused_convnet.stepper)),
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


def worker(name, steps, iters):
    """In a process of its own: one measurement of one contender, as a line of JSON."""
    train_set, test_set = load_mnist(flatten=False)
    stepper, schedule = CONTENDERS[name]
    if iters:
        seconds, evaluating, accuracy = schedule(train_set, test_set, iters)
        result = {"seconds": seconds, "eval_seconds": evaluating, "test_acc": accuracy}
    else:
        x, t = train_set
        batches = np.random.default_rng(0).integers(0, len(x), (WARM_UP + steps, 100))
        step, _ = stepper(0)
        for b in batches[:WARM_UP]:
            step(x[b], t[b])
        start = time.perf_counter()
        for b in batches[WARM_UP:]:
            step(x[b], t[b])
        result = {"ms_per_step": (time.perf_counter() - start) / steps * 1000}
    print(json.dumps(result | {"peak_mb": peak_mb()}))


def measure(name, steps=0, iters=0):
    """One measurement of one contender, in a fresh process."""
    command = [sys.executable, __file__, "--worker", name, "--steps", str(steps)]
    env = os.environ | ({memory.OPT_OUT: "0"} if name in MALLOC_AS_USUAL else {})
    out = subprocess.run([*command, "--iters", str(iters)], capture_output=True, text=True,
                         env=env, check=True).stdout  # fmt: skip
    return json.loads(out.splitlines()[-1])


def contenders():
    names = ["tinygrad_ko", "floor"]
    try:
        import torch

        names += ["PyTorch", "PyTorch, malloc as tinygrad_ko's"]
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    except ImportError:
        print("PyTorch is not installed: measuring tinygrad_ko and the floor only")
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=300, help="timed steps in each round")
    parser.add_argument("--iters", type=int, default=12000, help="of the whole schedule")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--smoke", action="store_true", help="tiny settings: does it run?")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.steps, args.iters)
    if args.smoke:
        args.repeats, args.steps, args.iters = 1, 5, 30
    print(f"machine: {machine()}")
    names = contenders()

    ms = {name: [] for name in names}
    for r in range(args.repeats):
        for name in names if r % 2 == 0 else names[::-1]:  # alternating, both ways
            ms[name].append(measure(name, steps=args.steps)["ms_per_step"])
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} ms" for k, v in ms.items()))
    runs = {}
    for name in names:
        runs[name] = measure(name, iters=args.iters)
        print(f"schedule {name}: {runs[name]}")

    ours = np.array(ms["tinygrad_ko"])
    ratios = {k: float(np.median(ours / np.array(v))) for k, v in ms.items() if k != "tinygrad_ko"}
    print(f"\n| implementation | training step | {args.iters} iterations | steps alone | "
          "test accuracy | peak memory |\n|---|---:|---:|---:|---:|---:|")  # fmt: skip
    for name in names:
        run = runs[name]
        print(
            f"| {name} | {np.median(ms[name]):.2f} ms | {run['seconds']:.0f} s | "
            f"{run['seconds'] - run['eval_seconds']:.0f} s | {run['test_acc']:.2%} | "
            f"{run['peak_mb']:.0f} MB |"
        )
    print(
        f"\ntinygrad_ko's step over each, median of {args.repeats} paired rounds of "
        f"{args.steps} steps: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items())
    )
    if args.json:
        result = {"machine": machine(), "steps": args.steps, "iters": args.iters,
                  "ms_per_step": ms, "ratios": ratios, "schedule": runs}  # fmt: skip
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
