"""The training steps of book 2's chapter 6-8 scripts, the book's own code against
tinygrad_ko.book2 run the book's way (import-only: the book's numbers): ch07/train_seq2seq.py
(Seq2seq on addition.txt: 16 dimensions, 128 hidden, batches of 128, Adam, clipping at 5),
ch08/train.py (AttentionSeq2seq on date.txt: 256 hidden) and ch06/train_better_rnnlm.py
(BetterRnnlm: 650 dimensions, two LSTM layers, dropout 0.5, tied weights, 20 x 35 words of a
corpus of PTB's size, SGD lr 20, clipping at 0.25). benchmarks/rnnlm_speed.py has Rnnlm's.

    python benchmarks/book2_steps.py [--repeats 3] [--steps 10] [--models seq2seq attention better]
                                     [--json FILE] [--smoke]

The data come from ../shared/book2/dataset (addition.txt, date.txt), read by tinygrad_ko's
loader for both (the book's own needs np.int). Each measurement runs in a fresh process, the two
alternating; medians of the milliseconds a step after 2 to warm up. Run with
OPENBLAS_NUM_THREADS=1.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from processes import speed_table, timed_steps
from word2vec_speed import BOOK2, corpus

MODELS = {  # script: (model's module, class, its arguments beyond the vocabulary, optimizer)
    "seq2seq": ("ch07.seq2seq", "Seq2seq", (16, 128), ("Adam", {}), 5.0, "addition.txt"),
    "attention": (
        "ch08.attention_seq2seq",
        "AttentionSeq2seq",
        (16, 256),
        ("Adam", {}),
        5.0,
        "date.txt",
    ),
    "better": (
        "ch06.better_rnnlm",
        "BetterRnnlm",
        (650, 650, 0.5),
        ("SGD", {"lr": 20.0}),
        0.25,
        None,
    ),
}


def data(file_name):
    """(batches, vocabulary size): 20 batches of 128 questions and answers of a sequence file,
    or, without one, 20 of the language model's 20 x 35 words of a corpus of PTB's size."""
    if file_name is None:
        from rnnlm_speed import batches

        return list(batches(corpus(), 20)), 10_000
    os.environ["TINYGRAD_KO_DATA"] = str(BOOK2 / "dataset")
    from tinygrad_ko.book2 import sequence

    (x, t), _ = sequence.load_data(file_name)
    return [(x[i : i + 128], t[i : i + 128]) for i in range(0, 128 * 20, 128)], len(
        sequence.get_vocab()[0]
    )


def run(name, steps, warm_up, model):
    """In this process: (ms a step, losses, peak MB) of `name` (book or import-only)."""
    module, cls, args, (optimizer, options), max_grad, file_name = MODELS[model]
    batches, vocab = data(file_name)
    np.random.seed(0)
    if name == "book":
        sys.path.insert(0, str(BOOK2))
        from common import optimizer as optimizers
        from common.trainer import remove_duplicate
        from common.util import clip_grads

        net = getattr(__import__(module, fromlist=[cls]), cls)(vocab, *args)
    else:
        from tinygrad_ko import book2 as optimizers
        from tinygrad_ko.book2 import clip_grads, remove_duplicate

        chapter = module.split(".")[0]
        net = getattr(__import__(f"tinygrad_ko.book2.{chapter}", fromlist=[cls]), cls)(vocab, *args)
    update = getattr(optimizers, optimizer)(**options)

    def step(x, t):
        loss = net.forward(x, t)
        net.backward()
        params, grads = remove_duplicate(net.params, net.grads)
        clip_grads(grads, max_grad)
        update.update(params, grads)
        return float(loss)

    return timed_steps(step, (batches[i % len(batches)] for i in range(warm_up + steps)), warm_up)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--smoke", action="store_true", help="tiny settings: does it run?")
    args = parser.parse_args()
    if args.smoke:
        args.repeats, args.steps, args.models = 1, 1, ["seq2seq"]
    from tinygrad_ko.bench import machine

    results = {"machine": machine()}
    print(f"machine: {results['machine']}")
    print(f"BLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    for model in args.models:
        figures = results[model] = {"ms_per_step": {}, "peak_mb": {}}
        heading = f"{MODELS[model][1]} step"
        speed_table("book2_steps", ["book", "import-only"], args.repeats, args.steps, 2, heading,
                    figures, model)  # fmt: skip
        print()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
