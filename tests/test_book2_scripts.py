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

import pytest
from book import BOOK2, BOOK2_EDITS, NUMBER, book2_data, make_copies, run_scripts

pytestmark = [pytest.mark.book2, pytest.mark.slow]

CHAPTERS = ("ch01", "ch02", "ch03", "ch04", "ch05", "ch06", "ch07", "ch08")
MODULES = {  # the chapters' own modules: imported by the scripts, not scripts themselves
    "ch01/two_layer_net.py", "ch03/simple_cbow.py", "ch03/simple_skip_gram.py", "ch04/cbow.py",
    "ch04/skip_gram.py", "ch04/negative_sampling_layer.py", "ch05/simple_rnnlm.py",
    "ch06/rnnlm.py", "ch06/better_rnnlm.py", "ch07/seq2seq.py", "ch07/peeky_seq2seq.py",
    "ch07/rnnlm_gen.py", "ch08/attention_layer.py", "ch08/attention_seq2seq.py",
}  # fmt: skip
PTB_VOCABULARY = {"ch07/generate_text.py"}  # the shipped Rnnlm.pkl speaks PTB's 10,000 words
NOT_HERE = {  # its weights, BetterRnnlm.pkl, are not in the book's repository (SOURCE.md)
    "ch07/generate_better_text.py",
}
SCRIPTS = [
    f"{c}/{p.name}"
    for c in CHAPTERS
    for p in sorted((BOOK2 / c).glob("*.py"))
    if f"{c}/{p.name}" not in MODULES | NOT_HERE | PTB_VOCABULARY
]
SEQUENCES = "char_to_id, id_to_char = sequence.get_vocab()"
SUBSET = "\nx_train, t_train, x_test, t_test = x_train[:{}], t_train[:{}], x_test[:40], t_test[:40]"
SHRINK = {
    "ch07/train_seq2seq.py": [
        (SEQUENCES, SEQUENCES + SUBSET.format(1000, 1000)),
        ("max_epoch = 25", "max_epoch = 2"),
    ],
    "ch08/train.py": [
        (SEQUENCES, SEQUENCES + SUBSET.format(600, 600)),
        ("max_epoch = 10", "max_epoch = 2"),
    ],
    "ch05/train.py": [("max_epoch = 100", "max_epoch = 10")],
    "ch05/train_custom_loop.py": [("max_epoch = 100", "max_epoch = 10")],
    "ch06/train_rnnlm.py": [
        ("max_epoch = 4", "max_epoch = 2"),
        ("model.save_params()", "model.save_params('trained.pkl')"),
    ],
    "ch06/train_better_rnnlm.py": [
        ("wordvec_size = 650", "wordvec_size = 30"),
        ("hidden_size = 650", "hidden_size = 30"),
        ("max_epoch = 40", "max_epoch = 2"),
    ],
    "ch04/train.py": [
        ("max_epoch = 10", "max_epoch = 2"),
        ("hidden_size = 100", "hidden_size = 20"),
        ("'cbow_params.pkl'", "'trained_params.pkl'"),  # eval.py reads the shipped one
    ],
}
TOLERANCE = 1e-9  # relative; most agree to the last bit


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    root = tmp_path_factory.mktemp("book2")
    data = root / "data"
    prepare = book2_data(data)
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


@pytest.fixture(scope="module")
def copies_with_ptbs_vocabulary(tmp_path_factory):
    """Copies whose small corpus opens with PTB's 10,000 words in their ids' order (from the
    shipped cbow_params.pkl), so the shipped Rnnlm.pkl's word ids mean the same words."""
    from tinygrad_ko.files import load_pickled_weights

    id_to_word = load_pickled_weights(BOOK2 / "ch04" / "cbow_params.pkl")["id_to_word"]
    vocabulary = [id_to_word[i] for i in range(len(id_to_word))]
    root = tmp_path_factory.mktemp("book2_ptb")
    data = root / "data"
    book, ours = make_copies(root, ("ch06", "ch07"), {}, book2_data(data, vocabulary), BOOK2,
                             "book2", BOOK2_EDITS)  # fmt: skip
    return book, ours, data


@pytest.mark.parametrize("name", sorted(PTB_VOCABULARY))
def test_the_shipped_language_model_generates_the_books_words(
    name, copies_with_ptbs_vocabulary, monkeypatch
):
    book, ours, data = copies_with_ptbs_vocabulary
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(data))
    (theirs, *_), (mine, *_) = run_scripts([book / name, ours / name])
    assert mine == theirs and len(theirs.split()) > 50
