"""The book's own scripts of chapters 4-6, run twice from temporary copies: as the book ships
them (with its common/ and dataset/), and with only their import lines rewritten by the import
rule of README.ko.md, on tinygrad_ko. Both from the same np.random seed; every number each
prints and every line or bar it plots must agree.

Where a script runs long, both copies get the same smaller sizes (SHRINK): the rule under test
is the import lines, and the same code with the same sizes must give the same numbers.
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from book import BOOK

pytestmark = [pytest.mark.book, pytest.mark.mnist]

CHAPTERS = ("ch04", "ch05", "ch06")
SCRIPTS = [f"{c}/{p.name}" for c in CHAPTERS for p in sorted((BOOK / c).glob("*.py"))]
RUNNER = Path(__file__).with_name("run_book_script.py")

SHRINK = {  # the same substitutions in both copies, where the book's sizes take minutes
    "ch04/train_neuralnet.py": [("iters_num = 10000", "iters_num = 300")],
    "ch04/train_neuralnet_2.py": [("iters_num = 10000", "iters_num = 1201")],
    "ch05/gradient_check.py": [("hidden_size=50", "hidden_size=5")],
    "ch05/train_neuralnet.py": [("iters_num = 10000", "iters_num = 1201")],
    "ch06/batch_norm_gradient_check.py": [
        ("hidden_size_list=[100, 100]", "hidden_size_list=[8, 6]")
    ],
    "ch06/batch_norm_test.py": [("max_epochs = 20", "max_epochs = 4")],
    "ch06/batch_norm_test_multi.py": [("max_epochs = 20", "max_epochs = 3"), ("num=16", "num=2")],
    "ch06/hyperparameter_optimization.py": [
        ("optimization_trial = 100", "optimization_trial = 3"),
        ("epocs=50", "epocs=4"),
    ],
    "ch06/optimizer_compare_mnist.py": [("max_iterations = 2000", "max_iterations = 101")],
    "ch06/overfit.py": [("max_epochs = 201", "max_epochs = 6")],
    "ch06/overfit_dropout.py": [("epochs=301", "epochs=6")],
    "ch06/overfit_weight_decay.py": [("max_epochs = 201", "max_epochs = 6")],
    "ch06/weight_init_compare.py": [("max_iterations = 2000", "max_iterations = 101")],
}
TOLERANCE = {  # relative
    # gradient checks print differences made of rounding: where the book's is below 1e-6, ours
    # must be too (ours are smaller: 1e-13 where the book's are 1e-10)
    "ch05/gradient_check.py": "tiny",
    "ch06/batch_norm_gradient_check.py": "tiny",
}
DEFAULT_TOLERANCE = 1e-9


def import_rule(source, chapter, own_modules):
    """README.ko.md's rule, on import lines only: the book's common/ and dataset/ modules come
    from tinygrad_ko.book, the chapter's own modules from tinygrad_ko.book.<chapter>."""

    def replace(match):
        indent, module = match[1], match[2]
        if module.split(".")[0] in ("common", "dataset"):
            return f"{indent}from tinygrad_ko.book import"
        if module in own_modules:
            return f"{indent}from tinygrad_ko.book.{chapter} import"
        return match[0]

    return re.sub(r"^(\s*)from ([\w.]+) import", replace, source, flags=re.M)


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    """Two copies side by side: the book's (with the MNIST files where its loader looks for
    them) and ours (the chapters only, their import lines rewritten)."""
    root = tmp_path_factory.mktemp("book")
    book, ours = root / "book", root / "ours"
    shutil.copytree(BOOK, book, ignore=shutil.ignore_patterns("*.pkl", "__pycache__"))
    mnist = Path(os.environ["TINYGRAD_KO_DATA"])
    mnist = mnist / "mnist" if (mnist / "mnist").is_dir() else mnist
    for data in mnist.glob("*.gz"):
        (book / "dataset" / data.name).symlink_to(data)
    # the book's loader makes its pickle (printing as it goes) the first time: now, not in a run
    init = "from dataset.mnist import init_mnist; init_mnist()"
    subprocess.run([sys.executable, "-c", init], cwd=book, check=True, capture_output=True)
    for chapter in CHAPTERS:
        own = {p.stem for p in (BOOK / chapter).glob("*.py")}
        (ours / chapter).mkdir(parents=True)
        for script in (BOOK / chapter).glob("*.py"):
            text = import_rule(script.read_text(encoding="utf-8"), chapter, own)
            (ours / chapter / script.name).write_text(text, encoding="utf-8")
    for name, changes in SHRINK.items():
        for copy in (book, ours):
            path = copy / name
            text = path.read_text(encoding="utf-8")
            for old, new in changes:
                assert old in text, (name, old)
                text = text.replace(old, new)
            path.write_text(text, encoding="utf-8")
    return book, ours


def run(script):
    """(printed numbers, plotted data) of the script, run in its own folder."""
    env = os.environ | {"MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    result = subprocess.run(
        [sys.executable, str(RUNNER), script.name],
        cwd=script.parent,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, f"{script}:\n{result.stderr[-3000:]}"
    printed, _, plotted = result.stdout.rpartition("RESULTS\n")
    numbers = [float(n) for n in re.findall(r"-?\d+\.?\d*(?:[eE][-+]?\d+)?", printed)]
    return printed, numbers, json.loads(plotted)


def close(a, b, rtol):
    if a == b or (a != a and b != b):  # NaN is NaN
        return True
    if rtol == "tiny" and abs(b) < 1e-6:
        return abs(a) < 1e-6
    return math.isclose(a, b, rel_tol=DEFAULT_TOLERANCE if rtol == "tiny" else rtol)


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_books_script_gives_the_books_numbers_with_only_its_imports_changed(name, copies):
    book, ours = copies
    theirs_text, theirs, theirs_plot = run(book / name)
    mine_text, mine, mine_plot = run(ours / name)
    rtol = TOLERANCE.get(name, DEFAULT_TOLERANCE)
    words = re.sub(r"-?\d+\.?\d*(?:[eE][-+]?\d+)?", "#", mine_text)
    assert words == re.sub(r"-?\d+\.?\d*(?:[eE][-+]?\d+)?", "#", theirs_text)
    assert len(mine) == len(theirs)
    bad = [(i, a, b) for i, (a, b) in enumerate(zip(mine, theirs)) if not close(a, b, rtol)]
    assert not bad, f"printed numbers (index, ours, book's): {bad[:10]}"
    assert [len(line) for line in mine_plot] == [len(line) for line in theirs_plot]
    for i, (line, expected) in enumerate(zip(mine_plot, theirs_plot)):
        bad = [(j, a, b) for j, (a, b) in enumerate(zip(line, expected)) if not close(a, b, rtol)]
        assert not bad, f"plotted line {i} (index, ours, book's): {bad[:10]}"
