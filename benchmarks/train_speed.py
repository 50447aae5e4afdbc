"""Retraining the chapter-5 network: tinygrad_ko against a hand-fused NumPy loop (the floor),
and against PyTorch and JAX where they are installed.

    python benchmarks/train_speed.py [--repeats 3] [--json FILE]

All run the book's schedule on the real MNIST in this process, in alternating repetitions:
10000 mini-batches of 100, SGD lr 0.1, train and test accuracy every epoch, ReLU 784-50-10.
tinygrad_ko goes through the normal user path (TwoLayerNet and fit). Reported: medians of the
whole loop and of the steps alone (the loop without the evaluations), their ratios to the floor
and to JAX (medians of the ratios within each repetition), test accuracy, one gradient of a
batch of 100 against the floor's, the peak memory of `tinygrad-ko train` and of the floor (each
in its own process), and throughput across batch sizes. Data: $TINYGRAD_KO_DATA/mnist, else the
cache. BLAS threads are as the environment sets them (OPENBLAS_NUM_THREADS), and printed.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import fused

from tinygrad_ko.bench import machine
from tinygrad_ko.datasets import load_mnist
from tinygrad_ko.models import TwoLayerNet
from tinygrad_ko.optim import SGD
from tinygrad_ko.train import fit

# VmHWM, the peak resident memory of this process image: ru_maxrss would start from the size
# of the benchmark process itself, which Linux carries through fork and exec
PEAK = (
    "import re; status = open('/proc/self/status').read()\n"
    "print(round(int(re.search(r'VmHWM:\\s+(\\d+)', status)[1]) * 1024 / 1e6))"
)


def ours(train_set, test_set, iters):
    net = TwoLayerNet(784, 50, 10, activation="relu", seed=0)
    start = time.perf_counter()
    history = fit(net, train_set, test_set, iters=iters, progress=False)
    return time.perf_counter() - start, history.eval_seconds, history.test_acc[-1]


def floor(train_set, test_set, iters):
    start = time.perf_counter()
    _, test_acc, eval_seconds = fused.train(train_set, test_set, iters=iters)
    return time.perf_counter() - start, eval_seconds, test_acc


def pytorch(train_set, test_set, iters):
    import torch_reference

    start = time.perf_counter()
    _, test_acc, eval_seconds = torch_reference.train(train_set, test_set, iters=iters)
    return time.perf_counter() - start, eval_seconds, test_acc


def jax_jit(train_set, test_set, iters):
    import jax_reference

    start = time.perf_counter()
    _, test_acc, eval_seconds = jax_reference.train(train_set, test_set, iters=iters)
    return time.perf_counter() - start, eval_seconds, test_acc


def implementations():
    """tinygrad_ko and the floor, and PyTorch and JAX when they are installed."""
    runs = {"tinygrad_ko": ours, "floor": floor}
    for module, name, run in (("torch", "PyTorch", pytorch), ("jax", "JAX", jax_jit)):
        try:
            version = __import__(module).__version__
        except ImportError:
            print(f"{name} is not installed: not measured")
        else:
            runs[f"{name} {version}"] = run
    return runs


def gradient_times(train_set, repeats=7, number=300):
    """Seconds per gradient of a batch of 100, net.gradient (the book's call) and the floor's,
    alternating: the medians of `repeats` timings of `number` calls each."""
    x, t = train_set[0][:100], train_set[1][:100]
    net, p = TwoLayerNet(784, 50, 10, activation="relu", seed=0), fused.init(0)
    calls = {"tinygrad_ko": lambda: net.gradient(x, t), "floor": lambda: fused.gradient(p, x, t)}
    seconds = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            for _ in range(number):
                call()
            seconds[name].append((time.perf_counter() - start) / number)
    return {name: float(np.median(v)) for name, v in seconds.items()}


def peak_megabytes(code):
    """Peak resident memory of a fresh Python process running code (VmHWM, in MB of 10^6)."""
    out = subprocess.run([sys.executable, "-c", f"{code}\n{PEAK}"], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    return int(out.split()[-1])


def steps_ours(x, t, batches):
    net = TwoLayerNet(784, 50, 10, activation="relu", seed=0)
    optimizer = SGD(net.parameters(), lr=0.1)
    for b in batches:
        optimizer.zero_grad()
        net.forward(x[b], t[b]).backward()
        optimizer.step()


def steps_floor(x, t, batches):
    p = fused.init(0)
    for b in batches:
        _, grads = fused.gradient(p, x[b], t[b])
        for key, g in grads.items():
            g *= 0.1
            p[key] -= g


def resident_mb():
    """This process's resident memory now (VmRSS), in MB of 10^6."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) * 1024 / 1e6


def memory_over_steps(train_set, steps, every):
    """Resident memory after every `every` training steps of TwoLayerNet (the PyTorch-style loop
    fit runs): flat when each step's graph is freed with the step."""
    x, t = train_set
    net = TwoLayerNet(784, 50, 10, activation="relu", seed=0)
    optimizer = SGD(net.parameters(), lr=0.1)
    rng, samples = np.random.default_rng(0), []
    for i in range(1, steps + 1):
        batch = rng.integers(0, len(x), 100)
        optimizer.zero_grad()
        net.forward(x[batch], t[batch]).backward()
        optimizer.step()
        if i % every == 0:
            samples.append(resident_mb())
    return samples


def throughput(train_set, batch_sizes, samples=20000):
    """Samples per second of the training step alone (no evaluation), both ways, alternating,
    medians of 3."""
    x, t = train_set
    rows = {}
    for batch in batch_sizes:
        steps = max(samples // batch, 20)
        batches = np.random.default_rng(0).integers(0, len(x), (steps, batch))
        seconds = {"tinygrad_ko": [], "floor": []}
        for _ in range(3):
            for name, run in (("tinygrad_ko", steps_ours), ("floor", steps_floor)):
                start = time.perf_counter()
                run(x, t, batches)
                seconds[name].append(time.perf_counter() - start)
        rate = {k: steps * batch / float(np.median(v)) for k, v in seconds.items()}
        rows[batch] = rate | {"ratio": rate["floor"] / rate["tinygrad_ko"]}
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--smoke", action="store_true", help="tiny settings: does it run?")
    args = parser.parse_args()
    iters, train_argv = (300, ["--iters", "300"]) if args.smoke else (10000, [])
    print(f"machine: {machine()}")
    threads = {k: os.environ.get(k, "unset") for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    print("BLAS threads: " + ", ".join(f"{k}={v}" for k, v in threads.items()))
    train_set, test_set = load_mnist()

    contenders = implementations()
    runs = {name: [] for name in contenders}
    for r in range(args.repeats):
        order = list(contenders.items())
        for name, run in order if r % 2 == 0 else order[::-1]:  # alternating, both ways
            total, evaluating, accuracy = run(train_set, test_set, iters)
            runs[name].append((total, total - evaluating, accuracy))
            print(
                f"run {r + 1} {name}: {total:.2f} s, "
                f"steps {total - evaluating:.2f} s, accuracy {accuracy:.4f}"
            )

    median = {k: np.median(np.array(v), axis=0) for k, v in runs.items()}
    # each repetition ran both back to back: the median of their ratios resists the drift of a
    # shared machine better than a ratio of medians
    paired = np.array(runs["tinygrad_ko"])[:, :2] / np.array(runs["floor"])[:, :2]
    loop_ratio, step_ratio = np.median(paired, axis=0)
    jax_name = next((name for name in runs if name.startswith("JAX")), None)
    jax_ratio = None
    if jax_name is not None:
        jax_ratio = float(
            np.median(np.array(runs["tinygrad_ko"])[:, 0] / np.array(runs[jax_name])[:, 0])
        )
    gradient = gradient_times(train_set, number=30 if args.smoke else 300)
    cli = "from tinygrad_ko.cli import main; main"
    memory = {
        "tinygrad-ko train": peak_megabytes(f"{cli}(['train', *{train_argv}])"),
        "tinygrad-ko train --activation relu": peak_megabytes(
            f"{cli}(['train', '--activation', 'relu', *{train_argv}])"
        ),
        "floor": peak_megabytes(
            f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import fused\n"
            "from tinygrad_ko.datasets import load_mnist\n"
            f"fused.train(*load_mnist(), iters={iters})"
        ),
    }
    long_run, every = (300, 100) if args.smoke else (10000, 1000)
    over_run = memory_over_steps(train_set, long_run, every)
    sizes, samples = ((10, 100), 2000) if args.smoke else ((1, 10, 100, 1000), 20000)
    rates = throughput(train_set, sizes, samples)

    print("\n| implementation | training loop | steps alone | test accuracy |")
    print("|---|---:|---:|---:|")
    for name in runs:
        total, alone, accuracy = median[name]
        print(f"| {name} | {total:.2f} s | {alone:.2f} s | {accuracy:.2%} |")
    print(
        f"\ntinygrad_ko / floor, median of {args.repeats} paired repetitions: training loop "
        f"{loop_ratio:.2f}, steps alone {step_ratio:.2f}"
    )
    if jax_ratio is not None:
        print(f"tinygrad_ko / {jax_name}, training loop, median of the same pairs: {jax_ratio:.2f}")
    print(
        f"one gradient of a batch of 100: net.gradient {gradient['tinygrad_ko'] * 1e3:.3f} ms, "
        f"the floor's {gradient['floor'] * 1e3:.3f} ms, ratio "
        f"{gradient['tinygrad_ko'] / gradient['floor']:.2f}"
    )
    print("\n| peak memory | MB |\n|---|---:|")
    for name, mb in memory.items():
        print(f"| {name} | {mb} |")
    print(
        f"\nresident memory of this process every {every:,} of {long_run:,} training steps, MB: "
        + " ".join(f"{mb:.0f}" for mb in over_run)
        + f" (growth {over_run[-1] - over_run[0]:+.1f} MB)"
    )
    print("\n| batch size | tinygrad_ko samples/s | floor samples/s | floor / tinygrad_ko |")
    print("|---:|---:|---:|---:|")
    for batch, rate in rates.items():
        print(
            f"| {batch} | {rate['tinygrad_ko']:,.0f} | {rate['floor']:,.0f} | {rate['ratio']:.2f} |"
        )
    if args.json:
        result = {
            "machine": machine(),
            "runs": {k: [list(r) for r in v] for k, v in runs.items()},
            "blas_threads": threads,
            "loop_ratio": loop_ratio,
            "step_ratio": step_ratio,
            "jax_ratio": jax_ratio,
            "gradient_seconds": gradient,
            "peak_memory_mb": memory,
            "resident_mb_over_steps": over_run,
            "throughput": {str(k): v for k, v in rates.items()},
        }
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
