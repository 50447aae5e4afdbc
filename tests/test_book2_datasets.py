"""Book 2's dataset loaders (tinygrad_ko.book2.spiral, sequence, ptb) against the book's own
dataset/ modules in ../shared/book2, each run on the same files: the book's from a temporary copy
(with `np.int` made `int`, as ../shared/book2/SOURCE.md says, and its data files beside it), ours
from a temporary $TINYGRAD_KO_DATA. No test reaches the network: urlopen is replaced in every
test, by a fake server where a download is tested and by a failure elsewhere."""

import http.client
import importlib.util
import io
import itertools
import os
import re
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ko
from tinygrad_ko.book2 import ptb, sequence, spiral

BOOK2 = Path(__file__).resolve().parents[2] / "shared" / "book2"
DATASET = BOOK2 / "dataset"
PACKAGE = Path(tinygrad_ko.__file__).parent
PTB_FILES = ["ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"]
OURS_BESIDE_THE_PACKAGE = re.compile(r"(ptb\..*|addition\.txt|date\.txt|.*\.part|.*\.npy)$")


def need_book(path):
    if path.exists():
        return
    reason = f"the book's {path.name} is not in {path.parent}"
    if os.environ.get("TINYGRAD_KO_REQUIRE_DATA"):
        pytest.fail(reason)
    pytest.skip(reason)


_copies = itertools.count()


def book_copy(folder, name, data=()):
    """The book's dataset/<name>, copied into folder with `np.int`/`numpy.int` made `int` (and
    nothing else), the book's data files `data` beside it, and imported from there."""
    source = DATASET / name
    need_book(source)
    for file in data:
        need_book(DATASET / file)
    folder.mkdir(parents=True, exist_ok=True)
    text = re.sub(r"\b(np|numpy)\.int\b", "int", source.read_text(encoding="utf-8"))
    (folder / name).write_text(text, encoding="utf-8")
    for file in data:
        shutil.copy(DATASET / file, folder / file)
    spec = importlib.util.spec_from_file_location(
        f"book2_dataset_{name[:-3]}_{next(_copies)}", folder / name
    )
    module = importlib.util.module_from_spec(spec)
    path = list(sys.path)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path  # the book's modules append '..'
    return module


def beside_the_package():
    return {p for p in PACKAGE.rglob("*") if OURS_BESIDE_THE_PACKAGE.match(p.name)}


@pytest.fixture(autouse=True)
def no_network_and_nothing_beside_the_package(monkeypatch):
    def refuse(url, *args, **kwargs):
        raise AssertionError(f"a test reached for the network: {url}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    before = beside_the_package()
    yield
    assert beside_the_package() == before


@pytest.fixture
def fresh_vocab(monkeypatch):
    """sequence's module-level vocabulary, empty for this test and put back after it."""
    monkeypatch.setattr(sequence, "char_to_id", {})
    monkeypatch.setattr(sequence, "id_to_char", {})


@pytest.fixture
def data(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(folder))
    return folder


def assert_same_arrays(ours, books):
    assert len(ours) == len(books)
    for a, b in zip(ours, books):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()


def random_state():
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    return name, keys.tobytes(), pos, has_gauss, gauss


# --- spiral ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1984, 0, 2**32 - 1])
def test_spiral_is_the_books_bit_for_bit(tmp_path, seed):
    book = book_copy(tmp_path, "spiral.py")
    x_book, t_book = book.load_data(seed)
    state_book = random_state()
    np.random.seed(12)  # ours must seed it itself
    x, t = spiral.load_data(seed)
    assert random_state() == state_book  # the weights a script draws next are the book's too
    assert x.shape == (300, 2) and x.dtype == np.float64
    assert t.shape == (300, 3) and t.dtype == np.int64
    assert_same_arrays([x, t], [x_book, t_book])


def test_spirals_default_seed_is_the_books(tmp_path):
    book = book_copy(tmp_path, "spiral.py")
    assert_same_arrays(spiral.load_data(), book.load_data())


# --- sequence --------------------------------------------------------------------------------


def sequence_results(result):
    (x_train, t_train), (x_test, t_test) = result
    return [x_train, t_train, x_test, t_test]


@pytest.mark.parametrize(
    "files",
    [["addition.txt"], ["date.txt"], ["addition.txt", "date.txt"], ["date.txt", "addition.txt"]],
)
def test_sequence_equals_the_books_and_its_vocabulary_grows_as_the_books(
    tmp_path, data, fresh_vocab, files
):
    book = book_copy(tmp_path / "book", "sequence.py", files)
    data.mkdir()
    for name in files:
        shutil.copy(DATASET / name, data / name)
    vocab = sequence.get_vocab()
    for name in files:
        books = sequence_results(book.load_data(name))
        state_book = random_state()
        ours = sequence_results(sequence.load_data(name))
        assert random_state() == state_book
        assert_same_arrays(ours, books)
        assert all(a.dtype == np.int64 for a in ours)
        assert len(ours[2]) == len(ours[0]) // 9  # 10% held out for testing
        assert sequence.get_vocab() == book.get_vocab()
        assert list(sequence.char_to_id.items()) == list(book.char_to_id.items())  # the ids
    assert sequence.get_vocab()[0] is vocab[0] and sequence.get_vocab()[1] is vocab[1]


@pytest.mark.parametrize("seed", [None, 0, 7])
def test_sequence_seed_is_used_as_the_books(tmp_path, data, fresh_vocab, seed):
    book = book_copy(tmp_path / "book", "sequence.py", ["addition.txt"])
    (data / "sequence").mkdir(parents=True)
    shutil.copy(DATASET / "addition.txt", data / "sequence" / "addition.txt")
    np.random.seed(3)
    books = sequence_results(book.load_data(seed=seed))
    np.random.seed(3)
    ours = sequence_results(sequence.load_data(seed=seed))
    assert_same_arrays(ours, books)


PRINTABLE = [chr(c) for c in range(32, 127)]


@st.composite
def sequence_files(draw):
    """Lines as the book's files have them: a question without '_', then '_' and the answer,
    each padded to one width for the whole file."""
    q_width = draw(st.integers(0, 6))
    a_width = draw(st.integers(0, 5))
    question = st.text(st.sampled_from([c for c in PRINTABLE if c != "_"]), min_size=q_width)
    answer = st.text(st.sampled_from(PRINTABLE), min_size=a_width)
    lines = draw(
        st.lists(st.tuples(question, answer), min_size=1, max_size=40).map(
            lambda pairs: [q[:q_width] + "_" + a[:a_width] for q, a in pairs]
        )
    )
    return "".join(line + "\n" for line in lines)


@given(
    texts=st.lists(sequence_files(), min_size=1, max_size=3), seed=st.none() | st.integers(0, 99)
)
def test_sequence_on_any_file_of_the_books_format_equals_the_books(tmp_path_factory, texts, seed):
    folder = tmp_path_factory.mktemp("sequence")
    book = book_copy(folder, "sequence.py")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TINYGRAD_KO_DATA", str(folder))  # ours reads the files beside the book's
        patch.setattr(sequence, "char_to_id", {})
        patch.setattr(sequence, "id_to_char", {})
        for i, text in enumerate(texts):
            (folder / f"{i}.txt").write_text(text, encoding="utf-8", newline="")
            np.random.seed(100 + i)  # another seed than the one given
            books = sequence_results(book.load_data(f"{i}.txt", seed))
            np.random.seed(100 + i)  # another seed than the one given
            ours = sequence_results(sequence.load_data(f"{i}.txt", seed))
            assert_same_arrays(ours, books)
            assert list(sequence.char_to_id.items()) == list(book.char_to_id.items())
            assert sequence.id_to_char == book.id_to_char


def test_sequence_reads_from_the_default_cache(tmp_path, monkeypatch, fresh_vocab):
    monkeypatch.delenv("TINYGRAD_KO_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "tinygrad_ko" / "sequence"
    folder.mkdir(parents=True)
    (folder / "mine.txt").write_text("1+1_2\n2+2_4\n", encoding="utf-8")
    (x, t), (x_test, _) = sequence.load_data("mine.txt")
    assert x.shape == (2, 3) and t.shape == (2, 2) and len(x_test) == 0
    assert list(sequence.char_to_id) == ["1", "+", "_", "2", "4"]


@pytest.mark.parametrize("name", ["addition.txt", "mine.txt"])
def test_sequence_offline_and_missing_says_which_file_where_and_what_to_do(data, name):
    with pytest.raises(FileNotFoundError) as failure:
        sequence.load_data(name)
    message = str(failure.value)
    assert f"{data / 'sequence'} (from $TINYGRAD_KO_DATA) does not hold {name}" in message
    assert "TINYGRAD_KO_DATA" in message.split("\n")[1]
    assert sequence.URL_BASE + "addition.txt" in message
    if name == "addition.txt":
        assert "TINYGRAD_KO_OFFLINE is set" in message
    assert not data.exists()  # nothing made for it


@pytest.mark.parametrize("text", ["1+1_2\n12_3\n", "1+1_2\n1+1_23\n", "1+1_2\n11\n", ""])
def test_sequence_a_line_out_of_format_is_named(data, fresh_vocab, text):
    data.mkdir()
    (data / "bad.txt").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="empty" if not text else "line 2 of"):
        sequence.load_data("bad.txt")
    assert sequence.char_to_id == {}  # the vocabulary is not touched by a refused file


def test_sequence_a_binary_file_is_named(data, fresh_vocab):
    data.mkdir()
    (data / "bad.txt").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe_x\n")
    with pytest.raises(ValueError, match=r"bad\.txt is not a text file"):
        sequence.load_data("bad.txt")


# --- fake downloads --------------------------------------------------------------------------


class Response(io.BytesIO):
    """What urlopen returns: body, and a Content-Length (the body's own length unless given)."""

    def __init__(self, body, length=None):
        super().__init__(body)
        self.headers = {"Content-Length": str(len(body) if length is None else length)}


class Endless:
    """A response that streams `line` over and over up to `total` bytes, without a length."""

    def __init__(self, line, total):
        self.headers = {}
        self.line, self.left, self.sent = line, total, 0

    def read(self, n=-1):
        n = min(n, self.left)
        self.left -= n
        self.sent += n
        return (self.line * (n // len(self.line) + 1))[:n]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class CutOff(Response):
    def read(self, n=-1):
        raise http.client.IncompleteRead(b"abc", 100)


class Server:
    """A fake urlopen serving `files` (name -> bytes or a response maker) under `base`."""

    def __init__(self, base, files):
        self.base, self.files, self.requests = base, files, []

    def __call__(self, url, timeout=None):
        self.requests.append((url, timeout))
        assert timeout is not None and timeout > 0, "urlopen without a timeout"
        name = url.removeprefix(self.base)
        if not url.startswith(self.base) or name not in self.files:
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        served = self.files[name]
        return Response(served) if isinstance(served, bytes) else served()


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("TINYGRAD_KO_OFFLINE")

    def serve(base, files):
        server = Server(base, files)
        monkeypatch.setattr(urllib.request, "urlopen", server)
        return server

    return serve


def test_sequence_downloads_the_books_file_and_uses_it(tmp_path, data, fresh_vocab, online):
    need_book(DATASET / "addition.txt")
    book = book_copy(tmp_path / "book", "sequence.py", ["addition.txt"])
    server = online(sequence.URL_BASE, {"addition.txt": (DATASET / "addition.txt").read_bytes()})
    ours = sequence_results(sequence.load_data())
    assert [url for url, _ in server.requests] == [sequence.URL_BASE + "addition.txt"]
    assert sorted(p.name for p in (data / "sequence").iterdir()) == ["addition.txt"]
    assert (data / "sequence" / "addition.txt").read_bytes() == (
        DATASET / "addition.txt"
    ).read_bytes()
    assert_same_arrays(ours, sequence_results(book.load_data()))
    sequence.load_data()  # the second time from the folder
    assert len(server.requests) == 1


@pytest.mark.parametrize("broken", ["html", "changed", "cut short", "too long", "cut off"])
def test_sequence_refuses_a_bad_download_and_leaves_nothing(data, online, broken):
    need_book(DATASET / "addition.txt")
    good = (DATASET / "addition.txt").read_bytes()
    served, reason = {
        "html": (b"<!DOCTYPE html><html><body>rate limited</body></html>\n", "an HTML page"),
        "changed": (good[:100] + bytes([good[100] ^ 1]) + good[101:], "not the book file"),
        "cut short": (lambda: Response(good[:5000], length=len(good)), "cut short"),
        "too long": (good + b"1+1  _2    \n", "is over 650000 bytes"),
        "cut off": (lambda: CutOff(good), "IncompleteRead"),
    }[broken]
    online(sequence.URL_BASE, {"addition.txt": served})
    with pytest.raises(FileNotFoundError, match=reason) as failure:
        sequence.load_data("addition.txt")
    message = str(failure.value)
    assert f"{data / 'sequence'} (from $TINYGRAD_KO_DATA) does not hold addition.txt;" in message
    assert f"{sequence.URL_BASE}addition.txt sent" in message or broken == "cut off"
    assert not data.exists()  # neither the file, nor a .part, nor the folders made for it


def test_sequence_a_server_error_is_reported(data, online):
    online(sequence.URL_BASE, {})
    with pytest.raises(FileNotFoundError, match=r"date\.txt failed \(Not Found\)"):
        sequence.load_data("date.txt")
    assert not data.exists()


def test_sequence_never_downloads_a_file_the_book_does_not_have(data, online):
    server = online(sequence.URL_BASE, {"mine.txt": b"1_1\n"})
    with pytest.raises(FileNotFoundError, match="not one of the book's files"):
        sequence.load_data("mine.txt")
    assert server.requests == []


# --- ptb: small corpora in the Penn Treebank's format ----------------------------------------

WORDS = ["the", "<unk>", "N", "of", "n't", "'s", "u.s.", "$", "&", "mr.", "1\\/2", "buy-out", "a"]


@st.composite
def ptb_corpora(draw):
    """Three files in PTB's format (space-separated words, one sentence a line); the valid and
    test files use only words of the train file, as the book's loader needs."""
    extra = st.text(st.sampled_from("abcxyz.-'$&#0123"), min_size=1, max_size=4)
    words = draw(st.lists(st.sampled_from(WORDS) | extra, min_size=1, max_size=12, unique=True))
    lines = st.lists(st.lists(st.sampled_from(words), max_size=8), min_size=1, max_size=12)
    train = draw(lines)
    used = sorted({w for line in train for w in line}) or ["the"]
    if used == ["the"] and not any(train):
        train = [["the"]]
    other = st.lists(st.lists(st.sampled_from(used), max_size=8), min_size=1, max_size=6)
    return {"ptb.train.txt": train, "ptb.valid.txt": draw(other), "ptb.test.txt": draw(other)}


def ptb_text(lines, spaced=True, last_newline=True):
    """PTB's own layout (" w1 w2 \\n"), or words with no space around them at the line ends."""
    text = "".join((f" {' '.join(line)} " if spaced else " ".join(line)) + "\n" for line in lines)
    return text if last_newline else text.removesuffix("\n")


def write_ptb(folder, corpus, spaced=True, last_newline=True):
    """The files of corpus in folder. A train file of one line keeps its newline even without
    last_newline, so that <eos> is in the vocabulary the other files need."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in corpus.items():
        last = last_newline or (name == "ptb.train.txt" and len(lines) < 2)
        text = ptb_text(lines, spaced, last)
        (folder / name).write_text(text, encoding="utf-8", newline="")


def assert_same_ptb(ours, books):
    corpus, word_to_id, id_to_word = ours
    corpus_book, word_to_id_book, id_to_word_book = books
    assert_same_arrays([corpus], [corpus_book])
    assert list(word_to_id.items()) == list(word_to_id_book.items())  # ids and order
    assert id_to_word == id_to_word_book


def compare_with_the_books_ptb(folder, book, data_types=("train", "valid", "val", "test")):
    for cache in itertools.chain(folder.glob("*.npy"), folder.glob("*.pkl")):
        cache.unlink()  # the book's caches from an earlier example
    for data_type in data_types:
        assert_same_ptb(ptb.load_data(data_type), book.load_data(data_type))
    vocab, vocab_book = ptb.load_vocab(), book.load_vocab()
    assert list(vocab[0].items()) == list(vocab_book[0].items()) and vocab[1] == vocab_book[1]


@given(corpus=ptb_corpora(), last_newline=st.booleans())
def test_ptb_on_small_corpora_equals_the_books(tmp_path_factory, corpus, last_newline):
    folder = tmp_path_factory.mktemp("ptb")
    book = book_copy(folder, "ptb.py")  # it reads (and caches) beside itself
    write_ptb(folder, corpus, last_newline=last_newline)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TINYGRAD_KO_DATA", str(folder))  # the three files directly in it
        compare_with_the_books_ptb(folder, book)
        assert ptb.dataset_dir == str(folder)


def test_ptb_splits_lines_as_the_book_does_even_without_spaces_at_their_ends(tmp_path, data):
    corpus = {name: [["a", "b"], ["c", "a"]] for name in PTB_FILES}  # "b<eos>c" is one word
    write_ptb(data / "ptb", corpus, spaced=False)
    book = book_copy(tmp_path / "book", "ptb.py")
    write_ptb(tmp_path / "book", corpus, spaced=False)
    compare_with_the_books_ptb(tmp_path / "book", book, ["train"])
    assert "b<eos>c" in ptb.load_vocab()[0]


@pytest.mark.parametrize("layout", ["ptb/", "directly", "cache"])
def test_ptb_finds_its_files_where_tinygrad_ko_keeps_data(tmp_path, monkeypatch, layout):
    folder = {
        "ptb/": tmp_path / "data" / "ptb",
        "directly": tmp_path / "data",
        "cache": tmp_path / "cache" / "tinygrad_ko" / "ptb",
    }[layout]
    if layout == "cache":
        monkeypatch.delenv("TINYGRAD_KO_DATA")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    else:
        monkeypatch.setenv("TINYGRAD_KO_DATA", str(tmp_path / "data"))
    corpus = {
        "ptb.train.txt": [["no", "it", "was", "n't", "black", "monday"], ["<unk>", "N", "it"]],
        "ptb.valid.txt": [["it", "was", "N"]],
        "ptb.test.txt": [["monday", "<unk>"]],
    }
    write_ptb(folder, corpus)
    corpus_test, word_to_id, id_to_word = ptb.load_data("test")
    assert ptb.dataset_dir == str(folder)
    words = ["no", "it", "was", "n't", "black", "monday", "<eos>", "<unk>", "N"]
    assert word_to_id == {w: i for i, w in enumerate(words)}
    assert [id_to_word[i] for i in corpus_test] == ["monday", "<unk>", "<eos>"]
    assert corpus_test.dtype == np.array([1]).dtype  # as np.array of Python ints


def test_ptb_offline_and_missing_names_the_files_the_folder_and_the_url(data):
    with pytest.raises(FileNotFoundError) as failure:
        ptb.load_data("valid")
    message = str(failure.value)
    folder = data / "ptb"
    assert f"{folder} (from $TINYGRAD_KO_DATA) does not hold ptb.train.txt, ptb.valid.txt;" in (
        message
    )
    assert "TINYGRAD_KO_OFFLINE is set" in message
    for name in PTB_FILES:
        assert name in message
    assert ptb.url_base in message and "https://raw.githubusercontent.com/tomsercu/" in message
    assert "TINYGRAD_KO_DATA to a folder holding ptb/" in message
    assert not data.exists()


def test_ptb_needs_only_the_files_asked_for(data):
    write_ptb(data / "ptb", {"ptb.train.txt": [["a", "b"]]})
    assert ptb.load_vocab()[0] == {"a": 0, "b": 1, "<eos>": 2}
    assert ptb.load_data()[0].tolist() == [0, 1, 2]
    with pytest.raises(FileNotFoundError, match=r"does not hold ptb\.test\.txt;"):
        ptb.load_data("test")


def test_ptb_rejects_an_unknown_data_type(data):
    with pytest.raises(ValueError, match="'train', 'test', 'valid' or 'val', not 'dev'"):
        ptb.load_data("dev")


def test_ptb_uses_a_users_own_files_as_they_are(tmp_path, data):
    """No download check applies to files put there by hand: capitals, no <unk>, tabs, \\r\\n."""
    texts = {
        "ptb.train.txt": " Hello World\tagain \r\n Hello there \n",
        "ptb.valid.txt": "World there \n",
        "ptb.test.txt": " again",
    }
    (data / "ptb").mkdir(parents=True)
    (tmp_path / "book").mkdir()
    for name, text in texts.items():
        for folder in (data / "ptb", tmp_path / "book"):
            (folder / name).write_bytes(text.encode())
    book = book_copy(tmp_path / "book", "ptb.py")
    compare_with_the_books_ptb(tmp_path / "book", book)


def test_ptb_a_file_that_is_not_text_is_named(data):
    write_ptb(data / "ptb", {"ptb.train.txt": [["a"]], "ptb.test.txt": [["a"]]})
    (data / "ptb" / "ptb.test.txt").write_bytes(b"\x93NUMPY\x01\x00v\x00{'descr': '<i8'}")
    with pytest.raises(ValueError, match=r"ptb\.test\.txt is not a text file"):
        ptb.load_data("test")
    (data / "ptb" / "ptb.test.txt").write_bytes(b"a\x00b\n")
    with pytest.raises(ValueError, match="NUL"):
        ptb.load_data("test")


def test_ptb_a_word_missing_from_the_vocabulary_is_named(data):
    write_ptb(data / "ptb", {"ptb.train.txt": [["a"]], "ptb.test.txt": [["a", "zebra"]]})
    with pytest.raises(ValueError, match=r"ptb\.test\.txt holds the word 'zebra'"):
        ptb.load_data("test")


# --- ptb: fake downloads ---------------------------------------------------------------------


def plausible_ptb(words, lines=2000, seed=0):
    """PTB-like text of `words` distinct words (plus <unk> and N), every word used."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(words)] + ["<unk>", "N"]
    tokens = list(vocab) + list(rng.choice(vocab, size=lines * 5))
    return "".join(f" {' '.join(tokens[i : i + 10])} \n" for i in range(0, len(tokens), 10))


@pytest.fixture
def ptb_server(online):
    files = {name: plausible_ptb(50, seed=i).encode() for i, name in enumerate(PTB_FILES)}
    files["ptb.valid.txt"] = files["ptb.test.txt"] = (
        files["ptb.train.txt"][:3000].rsplit(b"\n", 1)[0] + b"\n"
    )  # words of the train file only
    return files, lambda **changed: online(ptb.url_base, files | changed)


def test_ptb_downloads_what_it_needs_checked_and_uses_it(tmp_path, data, ptb_server):
    files, serve = ptb_server
    server = serve()
    ours = ptb.load_data("test")
    assert [url for url, _ in server.requests] == [ptb.url_base + n for n in PTB_FILES[::2]]
    assert sorted(p.name for p in (data / "ptb").iterdir()) == ["ptb.test.txt", "ptb.train.txt"]
    for name in ("ptb.train.txt", "ptb.test.txt"):
        assert (data / "ptb" / name).read_bytes() == files[name]
        (tmp_path / "book").mkdir(exist_ok=True)
        (tmp_path / "book" / name).write_bytes(files[name])
    book = book_copy(tmp_path / "book", "ptb.py")
    assert_same_ptb(ours, book.load_data("test"))
    ptb.load_data("test")  # now from the folder
    assert len(server.requests) == 2


def test_ptb_accepts_a_train_file_of_exactly_ptbs_vocabulary_size(data, ptb_server):
    _, serve = ptb_server
    serve(**{"ptb.train.txt": plausible_ptb(10_000 - 3).encode()})  # + <unk>, N, <eos>
    assert len(ptb.load_vocab()[0]) == 10_000


def bad_ptb(kind):
    """(what the server sends for ptb.train.txt, the reason it is refused)."""
    good = plausible_ptb(50).encode()
    return {
        "html": (b"<!DOCTYPE html>\n<html><head><title>429</title></head></html>\n", "HTML page"),
        "html lower case": (b"\n<html><body><p>too many requests</p></body></html>\n", "HTML"),
        "empty": (b"", "is empty"),
        "cut short": (lambda: Response(good[:4000], length=len(good)), "cut short: 4000 of"),
        "cut mid-line": (good[:4001].rstrip(b"\n"), "middle of a line"),
        "cut off": (lambda: CutOff(good), "IncompleteRead"),
        "huge": (lambda: Endless(good, ptb.DOWNLOAD_LIMIT + 1), "over 10485760 bytes"),
        "not text": (good.replace(b"w1 ", b"\xff\xfe "), "not UTF-8 text"),
        "control": (good.replace(b"w1 ", b"w1\x00 ", 1), "character '\\\\x00' on line"),
        "tab": (good.replace(b" w2 ", b"\tw2\t", 1), "character '\\\\t' on line"),
        "crlf": (good.replace(b"\n", b"\r\n"), "character '\\\\r' on line 1;"),
        "capitals": (good + b" The Wall Street \n", "word 'The' on line"),
        "no unk": (good.replace(b"<unk>", b"unk"), "no <unk>"),
        "vocabulary": (plausible_ptb(10_000 - 2).encode(), "10001 different words"),
    }[kind]


@pytest.mark.parametrize(
    "kind",
    [
        "html",
        "html lower case",
        "empty",
        "cut short",
        "cut mid-line",
        "cut off",
        "huge",
        "not text",
        "control",
        "tab",
        "crlf",
        "capitals",
        "no unk",
        "vocabulary",
    ],
)
def test_ptb_refuses_a_bad_download_and_leaves_nothing(data, ptb_server, kind):
    _, serve = ptb_server
    served, reason = bad_ptb(kind)
    server = serve(**{"ptb.train.txt": served})
    with pytest.raises(FileNotFoundError, match=reason) as failure:
        ptb.load_data()
    message = str(failure.value)
    assert f"{data / 'ptb'} (from $TINYGRAD_KO_DATA) does not hold ptb.train.txt;" in message
    assert f"download them by hand from {ptb.url_base}" in message
    assert len(server.requests) == 1
    assert not data.exists()  # neither the file, nor a .part, nor the folders made for it


def test_ptb_a_failed_download_keeps_the_folder_and_files_that_were_there(data, ptb_server):
    files, serve = ptb_server
    (data / "ptb").mkdir(parents=True)
    (data / "ptb" / "ptb.train.txt").write_bytes(files["ptb.train.txt"])
    serve(**{"ptb.valid.txt": bad_ptb("html")[0]})
    with pytest.raises(
        FileNotFoundError, match=r"does not hold ptb\.valid\.txt; what .* HTML page"
    ):
        ptb.load_data("val")
    assert [p.name for p in (data / "ptb").iterdir()] == ["ptb.train.txt"]
    assert (data / "ptb" / "ptb.train.txt").read_bytes() == files["ptb.train.txt"]


def test_ptb_a_server_error_is_reported(data, online):
    online(ptb.url_base, {})
    with pytest.raises(FileNotFoundError, match=r"ptb\.train\.txt failed \(Not Found\)"):
        ptb.load_vocab()
    assert not data.exists()
