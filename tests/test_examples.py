"""Every script in examples/ runs (with small settings where it would be slow) and prints what
it is there to show, so none of them rots."""

import re
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
    "seeds.py": ([], "16 of 16 values agree with the notes"),
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


# --- the READMEs -------------------------------------------------------------------------------

ROOT = EXAMPLES.parent


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


@pytest.mark.mnist
@pytest.mark.parametrize("index", range(len(python_blocks(ROOT / "README.ko.md"))))
def test_every_example_of_the_korean_readme_runs(index, capsys):
    code = python_blocks(ROOT / "README.ko.md")[index]
    exec(compile(code, f"README.ko.md block {index}", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.strip()  # each example prints what it is there to show
    expected = re.findall(r"# (\[[\d. ]+\]|0\.\d{4})", code)  # values the comments promise
    assert all(value.rstrip(".") in printed for value in expected), (expected, printed)


def test_the_readmes_link_each_other_and_their_pictures():
    english, korean = (
        (ROOT / n).read_text(encoding="utf-8") for n in ("README.md", "README.ko.md")
    )
    assert "](README.ko.md)" in english and "](README.md)" in korean
    pictures = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", english + korean))
    assert {"examples/figures/graph.png", "examples/figures/train-relu.png"} <= pictures
    for picture in pictures:
        data = (ROOT / picture).read_bytes()
        assert data[:4] == b"\x89PNG" and len(data) < 150_000, picture
