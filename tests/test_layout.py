"""The package's layout: every layer in tinygrad_ko.layers, the modules grouped by concept in
subpackages, and every import path of the flat layout still working."""

import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import tinygrad_ko
import tinygrad_ko.layers

PACKAGE = Path(tinygrad_ko.__file__).parent
SUBPACKAGES = {"engine", "layers", "networks", "data", "training", "checking", "display"}
TOP_LEVEL = {"__init__", "__main__", "cli", "commands", "bench"}  # the command line and the root


def test_a_learners_guess_finds_every_layer_in_tinygrad_ko_layers():
    from tinygrad_ko.layers import (  # the imports of the issue, and of book 2's layers
        Affine,
        Attention,
        BatchNormalization,
        Convolution,
        Dropout,
        Embedding,
        Pooling,
        ReLU,
        SoftmaxWithLoss,
        TimeLSTM,
    )

    assert Convolution.__module__ == "tinygrad_ko.layers.conv"
    layers = [Affine, Attention, BatchNormalization, Convolution, Dropout, Embedding, Pooling]
    assert all(hasattr(layer, "backward") for layer in [*layers, ReLU, SoftmaxWithLoss, TimeLSTM])


def test_every_layer_defined_in_the_layers_package_is_exported_by_it():
    found = []
    for info in pkgutil.iter_modules(tinygrad_ko.layers.__path__):
        module = importlib.import_module(f"tinygrad_ko.layers.{info.name}")
        for name in module.__all__:
            thing = getattr(module, name)
            layer = inspect.isclass(thing) and thing.__module__ == module.__name__
            if layer and callable(getattr(thing, "forward", None)) and hasattr(thing, "backward"):
                found.append(name)
                assert getattr(tinygrad_ko.layers, name, None) is thing, name
                assert name in tinygrad_ko.layers.__all__, name
    assert len(found) >= 28 and {"Convolution", "TimeAttention", "Embedding"} <= set(found)


def test_modules_are_grouped_by_concept():
    modules = {path.stem for path in PACKAGE.glob("*.py")}
    folders = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()}
    assert modules == TOP_LEVEL
    assert folders == SUBPACKAGES | {"book", "book2", "testing"}
    for name in SUBPACKAGES:  # each names what it holds, and what it exports can be imported
        package = importlib.import_module(f"tinygrad_ko.{name}")
        assert package.__doc__ and package.__all__
        assert all(hasattr(package, exported) for exported in package.__all__), name


def test_the_flat_layouts_import_paths_still_work_in_a_fresh_interpreter():
    program = """
import importlib, sys
import tinygrad_ko
for old, new in tinygrad_ko.MOVED.items():
    module = importlib.import_module(f"tinygrad_ko.{old}")
    assert module is importlib.import_module(f"tinygrad_ko.{new}"), old
    assert module.__spec__.name == f"tinygrad_ko.{new}", (old, module.__spec__.name)
    assert getattr(tinygrad_ko, old) is module or old == "gradcheck", old
import tinygrad_ko.gradcheck
from tinygrad_ko.gradcheck import gradcheck
assert tinygrad_ko.gradcheck is gradcheck  # the function, as before, not its module
from tinygrad_ko.conv import Convolution
from tinygrad_ko.layers.conv import Convolution as same
from tinygrad_ko import models, datasets
from tinygrad_ko.models import TwoLayerNet
assert Convolution is same and TwoLayerNet is models.TwoLayerNet
assert datasets.__name__ == "tinygrad_ko.data.datasets"
print("ok", len(tinygrad_ko.MOVED))
"""
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok", "25"]


def test_an_unknown_name_is_still_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'no_such_module'"):
        tinygrad_ko.no_such_module  # noqa: B018
