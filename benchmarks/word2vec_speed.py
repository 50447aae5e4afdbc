"""Book 2's CBOW step (ch04/train.py: window 5, 100 dimensions, batches of 100, negative
sampling with 5 examples, Adam) on a corpus of the Penn Treebank's size: the book's own code,
tinygrad_ko.book2 run the book's way (import-only: the book's numbers), tinygrad_ko's own CBOW
(graph mode, SparseAdam) and, where torch is installed, PyTorch (nn.Embedding(sparse=True),
the same negative examples, SparseAdam).

    python benchmarks/word2vec_speed.py [--repeats 3] [--steps 100] [--loss-steps 2000]
                                        [--smoke]

The corpus: 929,589 words over a vocabulary of 10,000 with Zipf's frequencies (PTB's sizes:
the real text is not needed for timing; every id occurs). Each measurement runs in a fresh
process of its own, the contenders alternating: milliseconds a step (forward, backward, the
book's remove_duplicate where the model has shared weights, the update) over `--steps` steps
after 5 to warm up, medians over `--repeats` rounds, and the peak resident memory (VmHWM).
Then each trains `--loss-steps` steps from the same start: the mean loss of the last 100,
to show the faster ones reach the book's loss. Run with OPENBLAS_NUM_THREADS=1.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from processes import contenders, in_a_process, speed_table, timed_steps

ROOT = Path(__file__).resolve().parents[1]
BOOK2 = ROOT.parent / "shared" / "book2"
VOCAB, WORDS, WINDOW, HIDDEN, BATCH = 10_000, 929_589, 5, 100, 100
CONTENDERS = ("book", "import-only", "tinygrad_ko", "pytorch")


def corpus(seed=0):
    rng = np.random.default_rng(seed)
    p = 1 / np.arange(1, VOCAB + 1)
    words = rng.choice(VOCAB, WORDS, p=p / p.sum())
    words[:VOCAB] = np.arange(VOCAB)  # every word at least once, as a vocabulary has it
    return words


def batches(contexts, target, steps, seed=1):
    order = np.random.default_rng(seed).permutation(len(target))
    for i in range(steps):
        take = order[i * BATCH : (i + 1) * BATCH]
        yield contexts[take], target[take]


def book_way(module):
    """A step of the book's Trainer with a book-2 style CBOW from `module` (the book's or ours)."""
    model = module.CBOW(VOCAB, HIDDEN, WINDOW, CORPUS)
    optimizer = module.Adam()

    def step(contexts, target):
        loss = model.forward(contexts, target)
        model.backward()
        params, grads = module.remove_duplicate(model.params, model.grads)
        optimizer.update(params, grads)
        return float(loss)

    return step


def stepper(name):
    np.random.seed(0)
    if name == "book":
        sys.path.insert(0, str(BOOK2))
        from ch04.cbow import CBOW
        from common.optimizer import Adam
        from common.trainer import remove_duplicate

        return book_way(argparse.Namespace(CBOW=CBOW, Adam=Adam, remove_duplicate=remove_duplicate))
    if name == "import-only":
        from tinygrad_ko.book2 import Adam, remove_duplicate
        from tinygrad_ko.book2.ch04 import CBOW

        return book_way(argparse.Namespace(CBOW=CBOW, Adam=Adam, remove_duplicate=remove_duplicate))
    if name == "tinygrad_ko":
        from tinygrad_ko.optim import SparseAdam
        from tinygrad_ko.word2vec import CBOW

        model = CBOW(VOCAB, HIDDEN, WINDOW, CORPUS, seed=0)
        optimizer = SparseAdam(model.parameters(), lr=0.001)

        def step(contexts, target):
            optimizer.zero_grad()
            loss = model(contexts, target)
            loss.backward()
            optimizer.step()
            return float(loss.data)

        return step
    import torch_word2vec

    return torch_word2vec.stepper(CORPUS, VOCAB, HIDDEN)


def run(name, steps, warm_up):
    """In this process: (ms a step, losses, peak MB)."""
    global CORPUS
    CORPUS = corpus()
    from tinygrad_ko.book2 import create_contexts_target

    contexts, target = create_contexts_target(CORPUS, WINDOW)
    return timed_steps(stepper(name), batches(contexts, target, warm_up + steps), warm_up)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--loss-steps", type=int, default=2000)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--smoke", action="store_true", help="tiny settings: does it run?")
    args = parser.parse_args()
    if args.smoke:
        args.repeats, args.steps, args.loss_steps = 1, 3, 100
    from tinygrad_ko.bench import machine

    figures = {"machine": machine(), "ms_per_step": {}, "peak_mb": {}, "loss": {}}
    print(f"machine: {figures['machine']}")
    print(f"BLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    names = contenders(CONTENDERS)
    heading = "CBOW step (batch 100, PTB's sizes)"
    speed_table("word2vec_speed", names, args.repeats, args.steps, 5, heading, figures)
    if args.loss_steps:
        print(f"\nmean loss of steps {args.loss_steps - 99}-{args.loss_steps}, same start:")
        for name in names:
            _, losses, _ = in_a_process("word2vec_speed", "run", name, args.loss_steps, 0)
            first = np.mean(losses[:100])
            print(f"  {name}: {np.mean(losses[-100:]):.3f} (first 100 steps: {first:.3f})")
            figures["loss"][name] = float(np.mean(losses[-100:]))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
