"""Every script in examples/ runs (with small settings where it would be slow) and prints what
it is there to show, so none of them rots."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

RUNS = {
    "check_backprop.py": ([], "A buggy ReLU backward is caught"),
    "gradient_descent.py": (["--plot", "{tmp}/path.png"], "lr 0.1,   100 steps: x = [-6.1111"),
    "simple_net.py": ([], "dW by backprop"),
    "numerical_vs_backprop.py": (["--iters", "2"], "the two trained networks differ by at most"),
    "train_mnist.py": (["--iters", "300", "--plot", "{tmp}/c"], "saved {tmp}/c-relu.png"),
}
NEEDS_MNIST = {"numerical_vs_backprop.py", "train_mnist.py"}


def test_every_example_is_run_here():
    assert sorted(RUNS) == sorted(p.name for p in EXAMPLES.glob("*.py"))


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=[pytest.mark.mnist] * (n in NEEDS_MNIST)) for n in RUNS]
)
def test_example_runs(name, tmp_path):
    args, expected = RUNS[name]
    expected = expected.format(tmp=tmp_path)
    command = [sys.executable, str(EXAMPLES / name), *(a.format(tmp=tmp_path) for a in args)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
