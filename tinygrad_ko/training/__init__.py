"""Training (chapters 4 and 6): the optimizers, the loop with its history, the book's Trainer,
stopping when the loss diverges, and progress bars where a person watches.

- optim: SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam, SparseAdam (both the book's update and
  PyTorch's step)
- train: fit and its History, the book's Trainer
- divergence: TrainingDiverged, raised at the first NaN or inf loss
- progress: progress_bar, watched, write
- threads: BLAS's thread count while training, chosen from measured steps (training_threads)
"""

from tinygrad_ko.training.divergence import TrainingDiverged
from tinygrad_ko.training.optim import (
    SGD,
    AdaGrad,
    Adam,
    Momentum,
    Nesterov,
    Optimizer,
    RMSprop,
    SparseAdam,
)
from tinygrad_ko.training.threads import BlasThreads, training_threads
from tinygrad_ko.training.train import History, Trainer, fit

__all__ = [
    "SGD",
    "AdaGrad",
    "Adam",
    "BlasThreads",
    "History",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "RMSprop",
    "SparseAdam",
    "Trainer",
    "TrainingDiverged",
    "fit",
    "training_threads",
]
