"""tinygrad_ko: a small, fast and honest autograd framework on NumPy, for "Deep Learning from
Scratch" (밑바닥부터 시작하는 딥러닝) 1, chapters 4 to 8, and 2 (tinygrad_ko.book2).

The package by concept: engine (Tensor, Function, the ops), layers, networks, data, training,
checking (numerical gradients and the gradient check), display (graphs and figures), and the
books' own interfaces (book, book2); the command line in cli and commands.
"""

import importlib
import importlib.abc
import importlib.util
import os
import sys

from tinygrad_ko import layers  # noqa: F401  (layers gives tensors relu() and sigmoid())
from tinygrad_ko.checking.gradient_check import (
    GradcheckError,
    check_gradients,
    gradcheck,
    gradgradcheck,
)
from tinygrad_ko.checking.numerical import gradient_descent, numerical_diff, numerical_gradient
from tinygrad_ko.engine import memory
from tinygrad_ko.engine.autograd import Function, detect_anomaly, enable_grad, grad, no_grad
from tinygrad_ko.engine.tensor import Tensor
from tinygrad_ko.training.divergence import TrainingDiverged

__all__ = [
    "Function",
    "GradcheckError",
    "Tensor",
    "TrainingDiverged",
    "check_gradients",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "gradient_descent",
    "no_grad",
    "numerical_diff",
    "numerical_gradient",
]

__version__ = "0.1.0"

MOVED = {  # the flat layout's import paths (tinygrad_ko.conv, ...): where each module lives now
    "attention": "layers.attention",
    "autograd": "engine.autograd",
    "conv": "layers.conv",
    "convnets": "networks.convnets",
    "datasets": "data.datasets",
    "divergence": "training.divergence",
    "embedding": "layers.embedding",
    "files": "data.files",
    "functions": "engine.functions",
    "gradcheck": "checking.gradient_check",
    "memory": "engine.memory",
    "models": "networks.models",
    "network": "networks.network",
    "normalization": "layers.normalization",
    "numerical": "checking.numerical",
    "ops": "engine.ops",
    "optim": "training.optim",
    "plot": "display.plot",
    "progress": "training.progress",
    "recurrent": "layers.recurrent",
    "rnn": "networks.rnn",
    "tensor": "engine.tensor",
    "train": "training.train",
    "viz": "display.viz",
    "word2vec": "networks.word2vec",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`import tinygrad_ko.conv` and `from tinygrad_ko.conv import Convolution` keep working: the
    old name is the same module object as tinygrad_ko.layers.conv (its names, its state and what
    a test patches in it are shared), imported only when first asked for."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, name = fullname.rpartition(".")
        if package == __name__ and name in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        module = importlib.import_module(f"{__name__}.{MOVED[spec.name.rpartition('.')[2]]}")
        spec.loader_state = module.__spec__  # the import system sets the alias's on it next
        return module

    def exec_module(self, module):
        module.__spec__ = module.__spec__.loader_state  # its own spec back


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):  # once, and first:
    sys.meta_path.insert(0, _MovedModules())  # a stale tinygrad_ko/models.py is never imported
for _old, _new in MOVED.items():  # those already imported need no finder: listed as they were
    if f"{__name__}.{_new}" in sys.modules:  # (so tinygrad_ko.gradcheck stays the function)
        sys.modules.setdefault(f"{__name__}.{_old}", sys.modules[f"{__name__}.{_new}"])


def __getattr__(name):  # tinygrad_ko.conv without an import of it, as before
    if name in MOVED:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if os.environ.get(memory.OPT_OUT) != "0":  # a training step's freed arrays stay for the next
    memory.keep_freed_memory()
