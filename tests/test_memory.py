"""tinygrad_ko.memory: a training step reuses the memory the step before it freed."""

import platform
import resource

import numpy as np
import pytest

from tinygrad_ko.convnets import SimpleConvNet
from tinygrad_ko.memory import keep_freed_memory
from tinygrad_ko.optim import Adam

glibc = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="glibc's malloc only (CI and Colab run on it)"
)


@glibc
def test_convnet_steps_take_their_memory_from_the_last_step_not_from_the_system():
    assert keep_freed_memory()  # done at import; setting it again works and says so
    rng = np.random.default_rng(0)
    x, t = rng.random((100, 1, 28, 28), np.float32), rng.integers(0, 10, 100)
    net = SimpleConvNet(seed=0)
    optimizer = Adam(net.parameters(), lr=0.001)

    def steps(count):
        for _ in range(count):
            optimizer.zero_grad()
            net.forward(x, t).backward()
            optimizer.step()

    steps(3)  # the heap grows to what a step needs
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    steps(5)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5
    # without it glibc returns the ~40 MB a step frees and takes it back: ~4,700 faults a step
    assert faults < 200, f"{faults:.0f} page faults a step"
