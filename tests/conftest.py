"""Test settings.

Hypothesis: the profile "ci" (the default) is deterministic, with a fixed example count and no
deadline, so a run is stable on a shared machine and a failure reproduces; "dev" explores more.
Pick one with HYPOTHESIS_PROFILE=dev.

Data: tests never download, nor do the programs they start (TINYGRAD_KO_OFFLINE). Tests marked
`mnist` read the real files from $TINYGRAD_KO_DATA (by default ../shared/datasets beside the
repository, holding mnist/); tests marked `book` use the book's code in ../shared/book, those
marked `book2` book 2's in ../shared/book2; tests marked `graphviz` draw with Graphviz's dot
program. Where one is missing those tests are skipped, saying so, unless TINYGRAD_KO_REQUIRE_DATA
is set (CI sets it), which makes that a failure.
"""

import os

# BLAS on one thread unless set outside, as CI runs the tests: fit's choice of threads is timed
# and BLAS sums in another order on two, so the tests' trainings and the book's scripts they
# start repeat bit for bit only at a fixed count (set before anything imports NumPy)
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from book import BOOK, BOOK2  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
os.environ.setdefault("TINYGRAD_KO_DATA", str(SHARED_DATA))
os.environ["TINYGRAD_KO_OFFLINE"] = "1"


def pytest_runtest_setup(item):
    reason = None
    if item.get_closest_marker("mnist") is not None:
        from tinygrad_ko.datasets import FILES, mnist_dir

        folder = mnist_dir()
        if not all((folder / name).is_file() for name in FILES.values()):
            reason = (
                f"the real MNIST files are not in {folder}; set TINYGRAD_KO_DATA (tests never "
                "download)"
            )
    if item.get_closest_marker("book") is not None and not (BOOK / "common").is_dir():
        reason = f"the book's code is not in {BOOK}"
    if item.get_closest_marker("book2") is not None and not (BOOK2 / "common").is_dir():
        reason = f"book 2's code is not in {BOOK2}"
    if item.get_closest_marker("graphviz") is not None and shutil.which("dot") is None:
        reason = "Graphviz's dot program is not installed (apt install graphviz)"
    if reason is None:
        return
    if os.environ.get("TINYGRAD_KO_REQUIRE_DATA"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch):
    """Even a test that switches offline mode off reaches no real mirror: only a closed port."""
    from tinygrad_ko import datasets

    monkeypatch.setattr(datasets, "MIRRORS", ["http://127.0.0.1:9/"])
