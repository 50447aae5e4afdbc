"""The book's own scripts of chapters 4-8, run twice from temporary copies: as the book ships
them (with its common/ and dataset/), and with only their import lines rewritten by the import
rule of README.ko.md, on tinygrad_ko. Both from the same np.random seed; every number each
prints and every line or bar it plots must agree.

Where a script runs long, both copies get the same smaller sizes (SHRINK): the rule under test
is the import lines, and the same code with the same sizes must give the same numbers.
"""

import math
import os
import re
from pathlib import Path

import pytest
from book import BOOK, NUMBER, make_copies, mnist_data, run_scripts

pytestmark = [pytest.mark.book, pytest.mark.mnist, pytest.mark.slow]

CHAPTERS = ("ch04", "ch05", "ch06", "ch07", "ch08")
SCRIPTS = [f"{c}/{p.name}" for c in CHAPTERS for p in sorted((BOOK / c).glob("*.py"))]

LOADED = "(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)"
SUBSET = "x_train, t_train, x_test, t_test = x_train[:{train}], t_train[:{train}], x_test[:{test}], t_test[:{test}]"  # noqa: E501
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
    "ch07/train_convnet.py": [
        (LOADED, LOADED + "\n" + SUBSET.format(train=500, test=100)),
        ("max_epochs = 20", "max_epochs = 2"),
    ],
    "ch08/half_float_network.py": [("sampled = 10000", "sampled = 300")],
    "ch08/misclassified_mnist.py": [(LOADED, LOADED + "\n" + SUBSET.format(train=10, test=300))],
    "ch08/train_deepnet.py": [
        (LOADED, LOADED + "\n" + SUBSET.format(train=200, test=100)),
        ("epochs=20", "epochs=1"),
    ],
}
TOLERANCE = {  # relative
    # gradient checks print differences made of rounding: where the book's is below 1e-6, ours
    # must be too (ours are smaller: 1e-13 where the book's are 1e-10)
    "ch05/gradient_check.py": "tiny",
    "ch06/batch_norm_gradient_check.py": "tiny",
}
DEFAULT_TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    mnist = Path(os.environ["TINYGRAD_KO_DATA"])
    mnist = mnist / "mnist" if (mnist / "mnist").is_dir() else mnist
    return make_copies(tmp_path_factory.mktemp("book"), CHAPTERS, SHRINK, mnist_data(mnist))


def close(a, b, rtol):
    if a == b or (a != a and b != b):  # NaN is NaN
        return True
    if rtol == "tiny" and abs(b) < 1e-6:
        return abs(a) < 1e-6
    return math.isclose(a, b, rel_tol=DEFAULT_TOLERANCE if rtol == "tiny" else rtol)


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_books_script_gives_the_books_numbers_with_only_its_imports_changed(name, copies):
    book, ours = copies
    runs = run_scripts([book / name, ours / name])  # side by side, a core each
    (theirs_text, theirs, theirs_plot, _), (mine_text, mine, mine_plot, _) = runs
    rtol = TOLERANCE.get(name, DEFAULT_TOLERANCE)
    assert re.sub(NUMBER, "#", mine_text) == re.sub(NUMBER, "#", theirs_text)  # the same lines
    assert len(mine) == len(theirs)
    bad = [(i, a, b) for i, (a, b) in enumerate(zip(mine, theirs)) if not close(a, b, rtol)]
    assert not bad, f"printed numbers (index, ours, book's): {bad[:10]}"
    assert [len(line) for line in mine_plot] == [len(line) for line in theirs_plot]
    for i, (line, expected) in enumerate(zip(mine_plot, theirs_plot)):
        bad = [(j, a, b) for j, (a, b) in enumerate(zip(line, expected)) if not close(a, b, rtol)]
        assert not bad, f"plotted line {i} (index, ours, book's): {bad[:10]}"
