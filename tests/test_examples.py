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
    "higher_derivatives.py": (
        ["--out", "{tmp}/tanh.png", "--graph", "{tmp}/g.dot"],
        "derivatives 1-4 of tanh on 200 points agree with the closed forms",
    ),
    "gradient_descent.py": (["--plot", "{tmp}/path.png"], "lr 0.1,   100 steps: x = [-6.1111"),
    "simple_net.py": ([], "dW by backprop"),
    "numerical_vs_backprop.py": (["--iters", "2"], "the two trained networks differ by at most"),
    "seeds.py": ([], "16 of 16 values agree with the notes"),
    "train_mnist.py": (["--iters", "300", "--plot", "{tmp}/c"], "saved {tmp}/c-relu.png"),
    "visualize_filters.py": (["--iters", "20", "--out", "{tmp}/f.png"], "30 filters of 5x5: saved"),
}
NEEDS_MNIST = {"numerical_vs_backprop.py", "train_mnist.py", "visualize_filters.py"}


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
    """The complete examples of a README: its ```python blocks (```py marks a fragment, which
    needs names from the text around it)."""
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


KOREAN_EXPECTED = {  # a line unique to each example of README.ko.md: what it must print
    "mean_squared_error(y, t)": ["0.0975", "0.5108"],
    "numerical_diff(lambda": ["0.1999", "0.2999"],
    "numerical_gradient(lambda": ["[6. 8.]"],
    "gradient_descent(lambda": ["-6.1111", "8.1481"],
    "history.test_acc": ["0.96", "0.97"],  # either will do
    "TwoLayerNet(input_size": ["(784, 50) 2.299 0.333"],
    "(x ** 2).sum().backward()\nprint": ["[6. 8.]"],
    "x.grad = None\n(x ** 2)": ["[6. 8.]\n[12. 16.]\n[6. 8.]"],
    "to_dot(": ['label="mul"', 'label="x\\n(2,) float64\\ndata [1., 2.]"'],
    "class Square": ["[6.]"],
    "SoftmaxWithLoss()": ["1.4076 [-0.45498", "0.12236", "0.33262"],
    "check_gradients(net": ["every parameter passes"],
    "MultiLayerNetExtend(20": ["5 True"],
    "y.backward(create_graph=True)": [
        "0 2.0\n1 1.4545454545454546\n2 1.1510467893775467\n3 1.0253259289766978\n"
        "4 1.0009084519430513\n5 1.0000012353089454\n6 1.000000000002289\n",
        "z의 기울기: 100.0",
    ],
    "Convolution(np.ones": ["[10. 14. 18.] (1, 1, 2, 2)", "[[1. 2. 2. 1.]\n [2. 4. 4. 2.]\n [2. 4"],
}


def test_every_example_of_the_korean_readme_is_run_here():
    blocks = python_blocks(ROOT / "README.ko.md")
    assert sorted(k for b in blocks for k in KOREAN_EXPECTED if k in b) == sorted(KOREAN_EXPECTED)
    assert len(blocks) == len(KOREAN_EXPECTED)


@pytest.mark.mnist
@pytest.mark.parametrize(
    "key",
    [pytest.param(k, marks=pytest.mark.graphviz) if k == "to_dot(" else k for k in KOREAN_EXPECTED],
)
def test_every_example_of_the_korean_readme_prints_what_it_says(key, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where an example saves its files
    (code,) = [b for b in python_blocks(ROOT / "README.ko.md") if key in b]
    exec(compile(code, "README.ko.md", "exec"), {})
    printed = capsys.readouterr().out
    expected = KOREAN_EXPECTED[key]
    if key == "history.test_acc":
        assert any(printed.startswith(value) for value in expected), printed
    else:
        assert all(value in printed for value in expected), printed


def test_the_readmes_link_each_other_and_their_pictures():
    english, korean = (
        (ROOT / n).read_text(encoding="utf-8") for n in ("README.md", "README.ko.md")
    )
    assert "](README.ko.md)" in english and "](README.md)" in korean
    pictures = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", english + korean))
    assert {"examples/figures/graph.png", "examples/figures/train-relu.png"} <= pictures
    assert {"examples/figures/train-convnet.png", "examples/figures/filters.png"} <= pictures
    for picture in pictures:
        data = (ROOT / picture).read_bytes()
        assert data[:4] == b"\x89PNG" and len(data) < 150_000, picture
