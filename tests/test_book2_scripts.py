"""Book 2's own scripts of chapters 1-4, run twice from temporary copies: as the book ships them
(with the edits ../shared/book2/SOURCE.md lists for today's NumPy) and with only their import
lines rewritten by the import rule (tinygrad_ko.book2), from the same np.random seed. Every
number each prints and every line it plots must agree (the seconds a Trainer prints aside).

The Penn Treebank is not here: both copies read the same small corpus in its format, made
below (the book's loader from its dataset/ folder, ours from $TINYGRAD_KO_DATA/ptb). Long
trainings get the same smaller sizes in both copies (SHRINK).
"""

import math
import re
import shutil

import numpy as np
import pytest
from book import BOOK2, BOOK2_EDITS, NUMBER, make_copies, run_scripts

pytestmark = [pytest.mark.book, pytest.mark.slow]

CHAPTERS = ("ch01", "ch02", "ch03", "ch04")
MODULES = {  # the chapters' own modules: imported by the scripts, not scripts themselves
    "ch01/two_layer_net.py", "ch03/simple_cbow.py", "ch03/simple_skip_gram.py", "ch04/cbow.py",
    "ch04/skip_gram.py", "ch04/negative_sampling_layer.py",
}  # fmt: skip
SCRIPTS = [
    f"{c}/{p.name}"
    for c in CHAPTERS
    for p in sorted((BOOK2 / c).glob("*.py"))
    if f"{c}/{p.name}" not in MODULES
]
SHRINK = {
    "ch04/train.py": [
        ("max_epoch = 10", "max_epoch = 2"),
        ("hidden_size = 100", "hidden_size = 20"),
        ("'cbow_params.pkl'", "'trained_params.pkl'"),  # eval.py reads the shipped one
    ],
}
TOLERANCE = 1e-9  # relative; most agree to the last bit

# words the scripts look up (show_ptb.py, count_method_big.py), and more to make a vocabulary
NAMED = "you year car toyota happy lexus king man queen take took go good better bad cars child"
WORDS = NAMED.split() + [f"w{i}" for i in range(120)] + ["<unk>", "N", "the", "a", "of"]


def small_ptb(folder, rng):
    """ptb.train/valid/test.txt in the Penn Treebank's format: a sentence a line, words
    separated by spaces, each line starting with a space."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in (("train", 400), ("valid", 40), ("test", 40)):
        sentences = []
        for _ in range(lines):
            words = rng.choice(WORDS, size=rng.integers(4, 16), p=ZIPF)
            sentences.append(" " + " ".join(words) + " \n")
        if name == "train":  # every word at least once, so the vocabulary is all of WORDS
            sentences.insert(0, " " + " ".join(WORDS) + " \n")
        (folder / f"ptb.{name}.txt").write_text("".join(sentences), encoding="utf-8")


ZIPF = 1 / np.arange(1, len(WORDS) + 1)
ZIPF /= ZIPF.sum()


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    root = tmp_path_factory.mktemp("book2")
    data = root / "data"

    def prepare(book, ours):
        small_ptb(data / "ptb", np.random.default_rng(0))
        for name in ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"):
            shutil.copy(data / "ptb" / name, book / "dataset" / name)
        (data / "sequence").mkdir()
        for name in ("addition.txt", "date.txt"):
            shutil.copy(BOOK2 / "dataset" / name, data / "sequence" / name)

    book, ours = make_copies(root, CHAPTERS, SHRINK, prepare, BOOK2, "book2", BOOK2_EDITS)
    return book, ours, data


def numbers(text):
    """The numbers a script printed, the seconds of a Trainer's lines left out."""
    return [float(n) for n in re.findall(NUMBER, re.sub(r"시간 \d+\[s\]", "시간 [s]", text))]


def close(a, b):
    return a == b or (a != a and b != b) or math.isclose(a, b, rel_tol=TOLERANCE)


@pytest.mark.parametrize("name", SCRIPTS)
def test_book2s_script_gives_the_books_numbers_with_only_its_imports_changed(
    name, copies, monkeypatch
):
    book, ours, data = copies
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(data))
    runs = run_scripts([book / name, ours / name])
    (theirs_text, _, theirs_plot, _), (mine_text, _, mine_plot, _) = runs
    assert re.sub(NUMBER, "#", mine_text) == re.sub(NUMBER, "#", theirs_text)  # the same lines
    mine, theirs = numbers(mine_text), numbers(theirs_text)
    assert len(mine) == len(theirs) and (theirs_text.strip() or theirs_plot)
    bad = [(i, a, b) for i, (a, b) in enumerate(zip(mine, theirs)) if not close(a, b)]
    assert not bad, f"printed numbers (index, ours, book's): {bad[:10]}"
    assert [len(line) for line in mine_plot] == [len(line) for line in theirs_plot]
    for i, (line, expected) in enumerate(zip(mine_plot, theirs_plot)):
        bad = [(j, a, b) for j, (a, b) in enumerate(zip(line, expected)) if not close(a, b)]
        assert not bad, f"plotted line {i} (index, ours, book's): {bad[:10]}"
