"""Test settings.

Hypothesis: the profile "ci" (the default) is deterministic, with a fixed example count and no
deadline, so a run is stable on a shared machine and a failure reproduces; "dev" explores more.
Pick one with HYPOTHESIS_PROFILE=dev.

Data: tests never download. They read MNIST from $TINYGRAD_KO_DATA/mnist, by default
../shared/datasets/mnist beside the repository, and every mirror is replaced by a closed port.
"""

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
os.environ.setdefault("TINYGRAD_KO_DATA", str(SHARED_DATA))


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch):
    """Any download a test did not set up itself fails at once, as if offline."""
    from tinygrad_ko import datasets

    monkeypatch.setattr(datasets, "MIRRORS", ["http://127.0.0.1:9/"])
