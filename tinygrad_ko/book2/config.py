"""book 2's common/config.py: GPU says whether the book's code runs on CuPy. tinygrad_ko runs on
NumPy only: `config.GPU = True` says so in one line, and the script goes on on the CPU (its
to_gpu and to_cpu give arrays back as they are)."""

import sys
import types

GPU = False


class _Config(types.ModuleType):
    def __setattr__(self, name, value):
        if name == "GPU" and value and not self.__dict__.get("GPU"):
            print("config.GPU = True: tinygrad_ko는 NumPy로만 계산하므로 CPU에서 계속합니다")
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Config
