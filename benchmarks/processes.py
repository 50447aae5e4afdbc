"""Running one contender of a benchmark in a fresh process of its own (its threads and memory
cannot slow another's), and reading what it used."""

import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path


def in_a_process(module, function, *args):
    """module.function(*args) run in a fresh Python process; its JSON-able result."""
    env = os.environ | {"PYTHONPATH": str(Path(__file__).parent)}
    call = f"{function}(*{args!r})"
    code = f"import json, {module} as m; print(json.dumps(m.{call}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if out.returncode:
        raise RuntimeError(f"{module}.{call} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_mb():
    """The peak resident memory of this process so far (VmHWM), in MB."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status)[1]) / 1024


def timed_steps(step, batches, warm_up):
    """Run step(*batch) over batches: (milliseconds a step after warm_up steps, every step's
    loss, this process's peak memory in MB)."""
    losses, start = [], None
    for i, batch in enumerate(batches):
        if i == warm_up:
            start = time.perf_counter()
        losses.append(step(*batch))
    return (time.perf_counter() - start) / (len(losses) - warm_up) * 1e3, losses, peak_mb()


def contenders(names):
    """names, PyTorch's left out (and said so) where torch is not installed."""
    try:
        import torch  # noqa: F401
    except ImportError:
        print("PyTorch is not installed: not measured")
        return [n for n in names if n != "pytorch"]
    return list(names)


def speed_table(module, names, repeats, steps, warm_up, heading, figures, *extra):
    """module.run(name, steps, warm_up, *extra) for each contender in a fresh process, `repeats`
    rounds, the order alternating; prints each round, then the table of medians (ms a step,
    the ratio to the first contender's, peak MB) under `heading`, and puts them in figures."""
    times, peaks = {n: [] for n in names}, {}
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            ms, _, peak = in_a_process(module, "run", name, steps, warm_up, *extra)
            times[name].append(ms)
            peaks[name] = max(peaks.get(name, 0), peak)
            print(f"round {r + 1} {name}: {ms:.2f} ms a step", flush=True)
    first = statistics.median(times[names[0]])
    print(f"\n| {heading} | ms a step | x the book's | peak MB |\n|---|---:|---:|---:|")
    for name in names:
        ms = statistics.median(times[name])
        print(f"| {name} | {ms:.2f} | {ms / first:.2f} | {peaks[name]:.0f} |")
        figures["ms_per_step"][name], figures["peak_mb"][name] = ms, peaks[name]
