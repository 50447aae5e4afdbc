"""How many threads BLAS (OpenBLAS under NumPy) uses while training, chosen from measured steps.

Two BLAS threads make DeepConvNet's step on two quiet cores 1.5 times faster
(benchmarks/convnet_speed.py); with another process busy on one of the cores, the two threads
wait for each other and SimpleConvNet's step is 2-3.5 times slower than with one
(benchmarks/blas_threads.py). No fixed setting is right for both, and a notebook's machine
changes while it trains, so `fit` measures: it times a few steps at each thread count,
alternating, keeps the faster, and measures again every `every` steps, or at once when steps
get 1.5 times slower than the first five at the chosen count.

It needs threadpoolctl (the `threads` extra; Colab has it), which reads and sets the thread
count of the BLAS NumPy loaded. Without it, or when the count was set by the user
(OPENBLAS_NUM_THREADS and the like), BLAS is left as it is.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import statistics

__all__ = ["ENVIRONMENT", "BlasThreads", "blas_threads", "training_threads"]

# variables through which a user fixes the thread count; one set means: leave BLAS alone
ENVIRONMENT = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "GOTO_NUM_THREADS", "BLIS_NUM_THREADS")  # fmt: skip


class BlasThreads:
    """The thread counts to choose from (1, the powers of 2 and the most: BLAS's own count or
    the cores, whichever is fewer), and the choice so far.

    Call before_step() before each training step and after_step(seconds) after it; restore()
    puts BLAS's own count back. Steps that are not training steps (evaluation) are not timed.
    """

    WARM_UP = 2  # the first steps allocate what the next ones reuse: not timed
    PROBE = 3  # steps timed at each count, alternating
    SLOWER = 1.5  # the last 5 steps' median over the first 5's at the chosen count: measure again

    def __init__(self, libraries, cores=2, every=200):
        self.libraries, self.every = libraries, every
        self.original = [lib.num_threads for lib in libraries]
        most = min(max(self.original), cores)
        self.counts = sorted({1, most} | {2**k for k in range(most.bit_length()) if 2**k < most})
        self.choice, self.typical = most, None
        self.plan, self.times = [], {}
        self.steps, self.since_choice, self.recent = 0, 0, []
        if most < max(self.original):  # more threads than cores to run them: never faster
            self.set(most)

    def set(self, count):
        for lib in self.libraries:
            lib.set_num_threads(count)

    def before_step(self):
        """Sets the count the next step is to be timed at."""
        due = self.steps == self.WARM_UP or (self.times and self.since_choice >= self.every)
        if due and not self.plan and len(self.counts) > 1:
            self.plan = [c for _ in range(self.PROBE) for c in self.counts]  # 1, 2, 1, 2, ...
            self.times = {c: [] for c in self.counts}
        if self.plan:
            self.set(self.plan[0])

    def after_step(self, seconds):
        """Takes the time of the step just run, and chooses when a measurement is complete."""
        self.steps += 1
        if self.plan:
            self.times[self.plan.pop(0)].append(seconds)
            if not self.plan:
                self.choose()
            return
        if not self.times:  # nothing measured yet
            return
        self.since_choice += 1
        self.recent = [*self.recent[-4:], seconds]
        if self.since_choice % 5:  # looked at every fifth step: little work on the others
            return
        if self.typical is None:  # the chosen count's typical step: the 5 after the choice
            self.typical = statistics.median(self.recent)
        elif statistics.median(self.recent) > self.SLOWER * self.typical:
            self.since_choice = self.every  # the machine changed: measure again now

    def choose(self):
        medians = {c: statistics.median(t) for c, t in self.times.items()}
        self.choice = min(medians, key=medians.get)
        self.typical, self.since_choice, self.recent = None, 0, []
        self.set(self.choice)

    def restore(self):
        """Each library's own count again, as before training."""
        for lib, count in zip(self.libraries, self.original):
            lib.set_num_threads(count)


def blas_threads(every=200):
    """A BlasThreads for the BLAS NumPy uses, or None where there is nothing to choose or the
    choice is not ours: threadpoolctl missing, BLAS on one thread, or the count set by the
    user. On one core (a process pinned to it) it keeps BLAS on one thread."""
    if any(os.environ.get(name) for name in ENVIRONMENT):
        return None
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    libraries = ThreadpoolController().select(user_api="blas").lib_controllers
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if not libraries or max(lib.num_threads for lib in libraries) < 2:
        return None
    return BlasThreads(libraries, cores or 1, every)


@contextlib.contextmanager
def training_threads(threads, caller="fit"):
    """BLAS's threads for a training run, put back afterwards: "auto" yields the BlasThreads
    that chooses them (None where blas_threads() gives none), a whole number fixes them for the
    run (it needs threadpoolctl), None leaves them alone. What it yields times the steps."""
    if threads is None:
        yield None
        return
    if threads == "auto":
        chooser = blas_threads()
        try:
            yield chooser
        finally:
            if chooser is not None:
                chooser.restore()
        return
    if not isinstance(threads, numbers.Integral) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f'{caller}: threads must be "auto", None or a count >= 1, got {threads!r}')
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise ImportError(
            f"{caller}: threads={threads} needs threadpoolctl (pip install threadpoolctl), or "
            f"set OPENBLAS_NUM_THREADS={threads} before NumPy is imported"
        ) from None
    with threadpool_limits(limits=int(threads), user_api="blas"):
        yield None
