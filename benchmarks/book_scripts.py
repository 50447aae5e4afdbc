"""The book's scripts at their full sizes, as the book ships them and on tinygrad_ko with only their
imports changed: the time of each, and whether they print and plot the same numbers.

    python benchmarks/book_scripts.py [--chapters ch04 ch05 ch06] [--scripts ch07/train_convnet.py]
                                      [--book 2] [--json FILE]

Both copies run from the same np.random seed in fresh processes (tests/run_book_script.py),
the book's first and ours second for odd-numbered scripts, the other way round for even ones.
The import rule and the copies are the tests' (tests/book.py). Data: $TINYGRAD_KO_DATA.
Expect about 15 minutes for chapters 4-6 on a 2-core machine, most of it the book's;
ch07/train_convnet.py alone takes the book's code about 17 minutes. --scripts runs only the
scripts named, instead of whole chapters (ch08/train_deepnet.py would take the book's code most
of a day). --book 2 runs book 2's scripts (chapters 1-4 by default) on a small corpus in the
Penn Treebank's format (PTB is not here; the tests' corpus, tests/book.py), so ch02's and ch04's
PTB scripts run at the book's sizes but on that corpus.
"""

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from book import (
    BOOK,
    BOOK2,
    BOOK2_EDITS,
    NUMBER,
    book2_data,
    make_copies,
    mnist_data,
    run_script,
)

from tinygrad_ko.bench import machine
from tinygrad_ko.datasets import mnist_dir


def summary(printed):
    """The last line a script printed, shortened: its result, for the table."""
    lines = [line.strip() for line in printed.splitlines() if line.strip()]
    return (lines[-1][:60] if lines else "(plots only)").replace("|", "/")


def agreement(a, b):
    """The largest relative difference between two runs' numbers (printed and plotted)."""
    numbers_a = a[1] + [v for line in a[2] for v in line]
    numbers_b = b[1] + [v for line in b[2] for v in line]
    if len(numbers_a) != len(numbers_b) or re.sub(NUMBER, "#", a[0]) != re.sub(NUMBER, "#", b[0]):
        return float("inf")
    worst = 0.0
    for x, y in zip(numbers_a, numbers_b):
        if x != y and not (x != x and y != y):
            worst = max(worst, abs(x - y) / max(abs(x), abs(y)))
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", nargs="+", default=["ch04", "ch05", "ch06"])
    parser.add_argument("--scripts", nargs="+", metavar="CHAPTER/SCRIPT.py", help="only these")
    parser.add_argument("--book", type=int, choices=(1, 2), default=1)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    if args.book == 2 and args.chapters == parser.get_default("chapters"):
        args.chapters = ["ch01", "ch02", "ch03", "ch04"]
    if args.scripts:
        args.chapters = sorted({name.split("/")[0] for name in args.scripts})
    print(f"machine: {machine()}")
    rows = []
    with tempfile.TemporaryDirectory() as root:
        if args.book == 2:
            data = Path(root) / "data"
            os.environ["TINYGRAD_KO_DATA"] = str(data)
            book, ours = make_copies(
                Path(root), args.chapters, {}, book2_data(data), BOOK2, "book2", BOOK2_EDITS
            )
        else:
            book, ours = make_copies(Path(root), args.chapters, {}, mnist_data(mnist_dir()))
        source = BOOK2 if args.book == 2 else BOOK
        own = {"two_layer_net", "simple_cbow", "simple_skip_gram", "cbow", "skip_gram",
               "negative_sampling_layer"} if args.book == 2 else set()  # fmt: skip
        scripts = args.scripts or [
            f"{c}/{p.name}"
            for c in args.chapters
            for p in sorted((source / c).glob("*.py"))
            if p.stem not in own
        ]
        for i, name in enumerate(scripts):
            order = [("book", book), ("ours", ours)]
            runs = dict(
                (way, run_script(folder / name)) for way, folder in order[:: 1 - 2 * (i % 2)]
            )
            rows.append(
                {
                    "script": name,
                    "result": summary(runs["book"][0]),
                    "book_seconds": runs["book"][3],
                    "ours_seconds": runs["ours"][3],
                    "largest_difference": agreement(runs["book"], runs["ours"]),
                }
            )
            row = rows[-1]
            print(
                f"{name}: book {row['book_seconds']:.1f} s, ours {row['ours_seconds']:.1f} s, "
                f"largest difference {row['largest_difference']:.1e}",
                flush=True,
            )
    print("\n| script | the book's result (last line printed) | book | tinygrad_ko | ratio | "
          "largest relative difference |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['script']} | {row['result']} | {row['book_seconds']:.1f} s | "
            f"{row['ours_seconds']:.1f} s | {row['book_seconds'] / row['ours_seconds']:.1f} | "
            f"{row['largest_difference']:.1e} |"
        )
    total = {way: sum(row[f"{way}_seconds"] for row in rows) for way in ("book", "ours")}
    print(f"\ntotal: the book's {total['book']:.0f} s, tinygrad_ko's {total['ours']:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "scripts": rows}, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
