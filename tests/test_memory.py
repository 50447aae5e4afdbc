"""tinygrad_ko.memory: after importing tinygrad_ko, a training step reuses the memory the step
before it freed, unless told not to."""

import os
import platform
import subprocess
import sys

import pytest

from tinygrad_ko.memory import OPT_OUT

STEPS = """
import resource
import numpy as np
from tinygrad_ko.convnets import {network}
from tinygrad_ko.optim import Adam

rng = np.random.default_rng(0)
x, t = rng.random((100, 1, 28, 28), np.float32), rng.integers(0, 10, 100)
net = {network}(seed=0)
optimizer = Adam(net.parameters(), lr=0.001)
for i in range(8):
    if i == 3:  # the heap has grown to what a step needs
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    optimizer.zero_grad()
    net.forward(x, t).backward()
    optimizer.step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5)
"""


def page_faults_per_step(network, **environ):
    """Minor page faults a step of `network` takes, in a fresh process that imports only
    tinygrad_ko."""
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
    # a step; kept, but in a mapping of its own (a block over 32 MB), 300 a step for DeepConvNet
    assert kept < 50 and given_back > 1000, (kept, given_back)
