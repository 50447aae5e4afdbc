"""Book 2's LSTM language model step (ch06/train_rnnlm.py: batches of 20 sequences of 35 words,
100 dimensions, a vocabulary of 10,000, SGD lr 20 with gradients clipped at 0.25): the book's
own code, tinygrad_ko.book2 run the book's way (import-only: the book's numbers),
tinygrad_ko.rnn's LSTMLanguageModel (the LSTM cell in Tensor ops, autograd's BPTT) and, where
torch is installed, PyTorch's nn.LSTM in the same model.

    python benchmarks/rnnlm_speed.py [--repeats 3] [--steps 20] [--loss-steps 200] [--smoke]

The corpus: 929,589 words with Zipf's frequencies over 10,000 (PTB's sizes; word2vec_speed's).
Each measurement runs in a fresh process, the contenders alternating: milliseconds a step
(forward, backward, the book's remove_duplicate, clipping, the update) over `--steps` steps
after 3 to warm up, medians over `--repeats` rounds, and the peak resident memory. Then each
trains `--loss-steps` steps from the same weights (np.random.seed(0)): the perplexity of the
last 20. Run with OPENBLAS_NUM_THREADS=1.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from processes import contenders, in_a_process, speed_table, timed_steps
from word2vec_speed import BOOK2, corpus

BATCH, TIME, HIDDEN, LR, MAX_GRAD = 20, 35, 100, 20.0, 0.25
CONTENDERS = ("book", "import-only", "tinygrad_ko graph", "pytorch")


def book_way(Rnnlm, SGD, remove_duplicate, clip_grads):
    model, optimizer = Rnnlm(10_000, HIDDEN, HIDDEN), SGD(LR)

    def step(xs, ts):
        loss = model.forward(xs, ts)
        model.backward()
        params, grads = remove_duplicate(model.params, model.grads)
        clip_grads(grads, MAX_GRAD)
        optimizer.update(params, grads)
        return float(loss)

    return step


def stepper(name):
    np.random.seed(0)
    if name == "book":
        sys.path.insert(0, str(BOOK2))
        from ch06.rnnlm import Rnnlm
        from common.optimizer import SGD
        from common.trainer import remove_duplicate
        from common.util import clip_grads

        return book_way(Rnnlm, SGD, remove_duplicate, clip_grads)
    if name == "import-only":
        from tinygrad_ko.book2 import SGD, clip_grads, remove_duplicate
        from tinygrad_ko.book2.ch06 import Rnnlm

        return book_way(Rnnlm, SGD, remove_duplicate, clip_grads)
    if name == "tinygrad_ko graph":
        from tinygrad_ko.book2 import clip_grads
        from tinygrad_ko.optim import SGD
        from tinygrad_ko.rnn import LSTMLanguageModel

        model = LSTMLanguageModel(10_000, HIDDEN, HIDDEN)
        optimizer = SGD(model.parameters(), lr=LR)

        def step(xs, ts):
            optimizer.zero_grad()
            loss = model(xs, ts)
            loss.backward()
            clip_grads([p.grad for p in model.parameters()], MAX_GRAD)
            optimizer.step()
            return float(loss.data)

        return step
    import torch_rnnlm

    return torch_rnnlm.stepper(HIDDEN, LR, MAX_GRAD)


def batches(words, steps):
    """RnnlmTrainer's batches: BATCH sequences read from evenly spaced places, TIME words on."""
    xs, ts = words[:-1], words[1:]
    jump = len(xs) // BATCH
    for i in range(steps):
        positions = (np.arange(BATCH)[:, None] * jump + i * TIME + np.arange(TIME)) % len(xs)
        yield xs[positions].astype("i"), ts[positions].astype("i")


def run(name, steps, warm_up):
    """In this process: (ms a step, losses, peak MB)."""
    return timed_steps(stepper(name), batches(corpus(), warm_up + steps), warm_up)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--loss-steps", type=int, default=200)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--smoke", action="store_true", help="tiny settings: does it run?")
    args = parser.parse_args()
    if args.smoke:
        args.repeats, args.steps, args.loss_steps = 1, 2, 20
    from tinygrad_ko.bench import machine

    figures = {"machine": machine(), "ms_per_step": {}, "peak_mb": {}, "perplexity": {}}
    print(f"machine: {figures['machine']}")
    print(f"BLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    names = contenders(CONTENDERS)
    heading = "LSTM language model step (20 x 35 words)"
    speed_table("rnnlm_speed", names, args.repeats, args.steps, 3, heading, figures)
    if args.loss_steps:
        last = min(20, args.loss_steps)
        print(f"\nperplexity of the last {last} of {args.loss_steps} steps, same start:")
        for name in names:
            _, losses, _ = in_a_process("rnnlm_speed", "run", name, args.loss_steps, 0)
            figures["perplexity"][name] = ppl = float(np.exp(np.mean(losses[-last:])))
            print(f"  {name}: {ppl:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
