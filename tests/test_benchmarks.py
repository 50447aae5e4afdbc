"""The benchmark scripts run (tiny settings), so they do not rot between measurements."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

pytestmark = pytest.mark.mnist


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("numeric_vs_backprop.py", "gradcheck(fast_mode=True) of the whole network"),
        ("train_speed.py", "tinygrad_ko / floor, median of 1 paired repetitions"),
    ],
)
def test_benchmark_runs(script, expected, tmp_path):
    command = [
        sys.executable,
        str(BENCHMARKS / script),
        "--smoke",
        "--json",
        str(tmp_path / "r.json"),
    ]
    if script == "train_speed.py":
        command += ["--repeats", "1"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout and "machine: " in result.stdout
    assert (tmp_path / "r.json").stat().st_size > 100
