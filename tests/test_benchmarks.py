"""The benchmark scripts run (tiny settings), so they do not rot between measurements."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

pytestmark = [pytest.mark.mnist, pytest.mark.slow]


@pytest.mark.parametrize(
    ("script", "expected", "keys"),
    [
        (
            "numeric_vs_backprop.py",
            "gradcheck(fast_mode=True) of the whole network",
            {"machine", "points", "slopes", "headline"},
        ),
        (
            "train_speed.py",
            "tinygrad_ko / floor, median of 1 paired repetitions",
            {"machine", "loop_ratio", "step_ratio", "peak_memory_mb", "resident_mb_over_steps"},
        ),
        (
            "blas_threads.py",
            "| a second training | ",
            {"machine", "ms"},
        ),
        (
            "word2vec_speed.py",
            "| CBOW step (batch 100, PTB's sizes) | ms a step | x the book's | peak MB |",
            {"machine", "ms_per_step", "peak_mb", "loss"},
        ),
        (
            "rnnlm_speed.py",
            "| LSTM language model step (20 x 35 words) | ms a step | x the book's | peak MB |",
            {"machine", "ms_per_step", "peak_mb", "perplexity"},
        ),
        (
            "book2_steps.py",
            "| Seq2seq step | ms a step | x the book's | peak MB |",
            {"machine", "seq2seq"},
        ),
        (
            "node_overhead.py",
            "| framework | us an op (median of rounds, each the best of its runs) |",
            {"machine", "us_per_op"},
        ),
        (
            "convnet_speed.py",
            "| DeepConvNet step, 1 thread(s) | ms a step | tinygrad_ko's over it | peak memory |",
            {
                "machine",
                "simple, 1 thread(s)",
                "deep, 1 thread(s)",
                "simple, schedule",
                "deep, schedule",
            },
        ),
    ],
)
def test_benchmark_runs(script, expected, keys, tmp_path):
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
    result = json.loads((tmp_path / "r.json").read_text())
    assert keys <= set(result)
    if script == "train_speed.py":  # 300 smoke steps sampled every 100
        assert len(result["resident_mb_over_steps"]) == 3
        assert all(mb > 0 for mb in result["peak_memory_mb"].values())
    if script == "node_overhead.py":
        assert 0 < result["us_per_op"]["tinygrad_ko"] < 1000
    if script == "convnet_speed.py":  # the same weights, batches and dropped units: the same
        for network in ("simple", "deep"):  # 30 steps
            runs = result[f"{network}, schedule"]
            ours, floor = runs["tinygrad_ko"]["test_acc"], runs["floor"]["test_acc"]
            assert ours == pytest.approx(floor, abs=2e-3), network
            assert all(0 < run["eval_seconds"] < run["seconds"] for run in runs.values())
