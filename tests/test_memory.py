"""tinygrad_ko.engine.memory: after importing tinygrad_ko, a training step reuses the memory the
step before it freed, large blocks included while fit trains, unless told not to; afterwards
the heap's free memory goes back to the system."""

import os
import platform
import subprocess
import sys

import pytest

from tinygrad_ko.engine.memory import OPT_OUT

STEPS = """
import resource
import numpy as np
from tinygrad_ko.networks.convnets import {network}
from tinygrad_ko.training.train import fit

rng = np.random.default_rng(0)
x, t = rng.random((100, 1, 28, 28), np.float32), rng.integers(0, 10, 100)
faults = []
def count(history):  # after each step
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt)
fit({network}(seed=0), (x, t), (x[:10], t[:10]), iters=14, batch_size=100, optimizer="adam",
    progress=False, evaluate_last=False, epoch=10**9, callback=count)
print((faults[-1] - faults[8]) / 5)  # the heap has grown to what a step needs by the ninth
"""  # (by the third on Python 3.11; 3.10's heap settled only after the seventh)


def page_faults_per_step(network, **environ):
    """Minor page faults a step of `network` takes in fit, in a fresh process that imports
    only tinygrad_ko."""
    code = STEPS.replace("{network}", network)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=os.environ | environ, check=True)  # fmt: skip
    return float(run.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc (CI's, Colab's)")
@pytest.mark.parametrize("network", ["SimpleConvNet", "DeepConvNet"])
def test_steps_take_their_memory_from_the_step_before_not_from_the_system(network):
    kept, given_back = (
        page_faults_per_step(network),
        page_faults_per_step(network, **{OPT_OUT: "0"}),
    )
    # given back, glibc returns the 40-300 MB a step frees and faults it in again: 4,700-9,700
    # a step; blocks over 32 MB in a mapping of their own would take 300 a DeepConvNet step
    assert kept < 50 and given_back > 1000, (kept, given_back)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc (CI's, Colab's)")
def test_after_training_a_freed_block_goes_back_to_the_system():
    code = """
import numpy as np
from tinygrad_ko.engine.memory import heap_only
def resident_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 1e6
with heap_only():
    big = np.ones(50_000_000)  # 400 MB from the heap
    later = np.ones(1_000_000)  # 8 MB above it in the heap, still in use: the heap cannot
    # shrink past it, so without malloc_trim the 400 MB would stay resident
    inside = resident_mb()
    del big
print(inside, resident_mb())
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    inside, after = map(float, run.stdout.split())
    assert inside > 400 and after < inside - 350, (inside, after)
