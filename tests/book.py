"""The book's own code (../shared/book/ beside the repository) as reference material for tests
and benchmarks: its modules imported from where they are, never copied into the project, and
its scripts run from temporary copies, as the book ships them and with only their import lines
rewritten by the import rule. Tests that use it are marked `book`."""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BOOK = Path(__file__).resolve().parents[2] / "shared" / "book"
BOOK2 = BOOK.with_name("book2")
BOOK2_EDITS = {  # ../shared/book2/SOURCE.md: what its code needs to run on today's NumPy
    "dataset/spiral.py": [("dtype=np.int)", "dtype=int)")],
    "dataset/sequence.py": [("dtype=numpy.int)", "dtype=int)")],
    "ch07/rnnlm_gen.py": [("int(x)", "int(x[0])")],
}
RUNNER = Path(__file__).with_name("run_book_script.py")
NUMBER = r"-?\d+\.?\d*(?:[eE][-+]?\d+)?"


def book_module(path):
    """The book's module at `path` (relative to the book's folder, e.g. "common/optimizer.py"),
    imported with the book's folder on sys.path, as its scripts expect."""
    name = "book." + path.removesuffix(".py").replace("/", ".")
    if name in sys.modules:
        return sys.modules[name]
    if str(BOOK) not in sys.path:
        sys.path.append(str(BOOK))
    spec = importlib.util.spec_from_file_location(name, BOOK / path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def import_rule(source, chapter, own_modules, package="book"):
    """README.ko.md's rule, on import lines only: the book's common/ and dataset/ modules come
    from tinygrad_ko.<package> (book, or book2 for the second book), a chapter's own modules
    from tinygrad_ko.<package>.<chapter> (named alone, or as chNN.module)."""

    def replace(match):
        indent, module = match[1], match[2]
        first = module.split(".")[0]
        if first in ("common", "dataset"):
            return f"{indent}from tinygrad_ko.{package} import"
        if module in own_modules:
            return f"{indent}from tinygrad_ko.{package}.{chapter} import"
        if re.fullmatch(r"ch\d\d", first) and "." in module:
            return f"{indent}from tinygrad_ko.{package}.{first} import"
        return match[0]

    return re.sub(r"^(\s*)from ([\w.]+) import", replace, source, flags=re.M)


def stand_in_picture(path, size=(48, 64)):
    """A grayscale PNG where ch07/apply_filter.py expects the book's cactus_gray.png, which
    ../shared/book leaves out with the book's other pictures: a disc on a gradient, so its
    filters have edges to find."""
    from PIL import Image

    y, x = np.mgrid[: size[0], : size[1]]
    disc = (y - size[0] / 2) ** 2 + (x - size[1] / 2) ** 2 < (size[0] / 3) ** 2
    pixels = (x * 255 // size[1] // 2 + 120 * disc).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, mode="L").save(path)


def make_copies(root, chapters, shrink, prepare, book=BOOK, package="book", edits=None):
    """Two copies under root: the book's (the whole of `book`, with `edits`, {file: [(old,
    new)]}, made in it: what SOURCE.md says its code needs on today's NumPy) and ours (the
    chapters only, import lines rewritten by the import rule for tinygrad_ko.<package>, with
    the chapter's pickles as a reader has them). prepare(book copy, our copy) puts in the data
    each needs. shrink maps a script to (old, new) substitutions made in both. Returns (book
    folder, our folder)."""
    theirs, ours = root / "book", root / "ours"
    shutil.copytree(book, theirs, ignore=shutil.ignore_patterns("__pycache__"))
    ours.mkdir()
    _substitute(theirs, edits or {})
    prepare(theirs, ours)
    for chapter in chapters:
        own = {p.stem for p in (book / chapter).glob("*.py")}
        (ours / chapter).mkdir(parents=True)
        for script in (book / chapter).glob("*.py"):
            text = import_rule(script.read_text(encoding="utf-8"), chapter, own, package)
            (ours / chapter / script.name).write_text(text, encoding="utf-8")
        for weights in (book / chapter).glob("*.pkl"):  # the chapter's weights, as a reader has
            shutil.copy(weights, ours / chapter / weights.name)
    for copy in (theirs, ours):
        _substitute(copy, shrink)
    return theirs, ours


def _substitute(folder, changes):
    """Each (old, new) of changes[file] made in folder/file (every occurrence), in order; old
    must be there."""
    for name, pairs in changes.items():
        path = folder / name
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        for old, new in pairs:
            assert old in text, (name, old)
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")


def mnist_data(mnist_folder):
    """prepare for make_copies of book 1: the book's copy gets the MNIST files where its loader
    looks (and its pickle made), both a stand-in for the picture ch07 reads."""

    def prepare(book, ours):
        for copy in (book, ours):
            stand_in_picture(copy / "dataset" / "cactus_gray.png")
        for data in Path(mnist_folder).glob("*.gz"):
            (book / "dataset" / data.name).symlink_to(data)
        # the book's loader makes its pickle (printing as it goes) the first time: now, not in a
        # run
        init = "from dataset.mnist import init_mnist; init_mnist()"
        subprocess.run([sys.executable, "-c", init], cwd=book, check=True, capture_output=True)

    return prepare


# words the scripts look up (show_ptb.py, count_method_big.py), and more to make a vocabulary
NAMED = "you year car toyota happy lexus king man queen take took go good better bad cars child $"
WORDS = NAMED.split() + [f"w{i}" for i in range(120)] + ["<unk>", "N", "the", "a", "of"]


ZIPF = 1 / np.arange(1, len(WORDS) + 1)
ZIPF /= ZIPF.sum()


def small_ptb(folder, rng, vocabulary=None):
    """ptb.train/valid/test.txt in the Penn Treebank's format: a sentence a line, words
    separated by spaces, each line starting with a space. With `vocabulary` (words in id
    order), the train file opens with all of them, so the loader gives them those ids."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in (("train", 400), ("valid", 80), ("test", 80)):
        sentences = []
        for _ in range(lines):
            words = rng.choice(WORDS, size=rng.integers(4, 16), p=ZIPF)
            sentences.append(" " + " ".join(words) + " \n")
        if name == "train":  # every word at least once, so the vocabulary is all of WORDS
            sentences.insert(0, " " + " ".join(WORDS) + " \n")
            if vocabulary is not None:
                sentences.insert(0, " " + " ".join(vocabulary) + " \n")
        (folder / f"ptb.{name}.txt").write_text("".join(sentences), encoding="utf-8")


def book2_data(data, vocabulary=None):
    """prepare for make_copies of book 2: a small corpus in PTB's format for both copies (the
    book's loader reads it from its dataset/ folder, ours from data/ptb, where
    $TINYGRAD_KO_DATA must point), and the book's addition.txt and date.txt in data/sequence.
    vocabulary: as small_ptb's."""

    def prepare(book, ours):
        small_ptb(data / "ptb", np.random.default_rng(0), vocabulary)
        for name in ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"):
            shutil.copy(data / "ptb" / name, book / "dataset" / name)
        (data / "sequence").mkdir()
        for name in ("addition.txt", "date.txt"):
            shutil.copy(BOOK2 / "dataset" / name, data / "sequence" / name)

    return prepare


def run_script(script):
    """Run a script in its own folder: (what it printed, the numbers in it, what it plotted,
    seconds taken). An error is raised with the end of its stderr."""
    return run_scripts([script])[0]


def run_scripts(scripts):
    """run_script for each script, all at once (each in a process of its own, with one BLAS
    thread when there are several: threads of two processes spinning on 2 cores slow both)."""
    env = os.environ | {"MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    if len(scripts) > 1:
        env |= {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    start = time.perf_counter()
    runs = [
        subprocess.Popen(
            [sys.executable, str(RUNNER), script.name],
            cwd=script.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for script in scripts
    ]
    results = []
    for script, run in zip(scripts, runs):
        out, err = run.communicate()
        if run.returncode != 0:
            raise RuntimeError(f"{script} failed:\n{err[-3000:]}")
        printed, _, plotted = out.rpartition("RESULTS\n")
        numbers = [float(n) for n in re.findall(NUMBER, printed)]
        results.append((printed, numbers, json.loads(plotted), time.perf_counter() - start))
    return results
