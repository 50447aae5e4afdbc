"""The notebooks in examples/notebooks run top to bottom in a real Jupyter kernel, as a learner
runs them, and show what they promise: each cell tagged "graph" an SVG drawing, "figure" a PNG,
"report" an HTML table, "training" a progress widget and a PNG of the curves; nothing on stderr.
They are committed without outputs, so their diffs stay readable. The notebooks that draw graphs
run twice: with Graphviz's dot, and with only this venv's programs on PATH, as on a machine
without Graphviz, where their graph cells must still show SVG (drawn by grandalf).

The kernels read their data from a folder made for the run ($TINYGRAD_KO_DATA): the real MNIST
files (a link to the folder the other tests use) and book 2's date.txt and addition.txt in
sequence/. BOOK2_DIR points to book 2's code (../shared/book2 beside the repository), where the
RNN notebook finds the book's trained AttentionSeq2seq.pkl."""

import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tinygrad_ko.datasets import mnist_dir

pytestmark = pytest.mark.slow

BOOK2 = Path(__file__).resolve().parents[2] / "shared" / "book2"
BOOK2_FILES = ["ch08/AttentionSeq2seq.pkl", "dataset/date.txt", "dataset/addition.txt"]
NOTEBOOKS = sorted((Path(__file__).parents[1] / "examples" / "notebooks").glob("*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"
PROMISES = {
    "graph": {"image/svg+xml"},
    "figure": {"image/png"},
    "report": {"text/html"},
    "training": {WIDGET, "image/png"},
}
CHAPTERS = {  # what each chapter's notebook must show at least
    "ch04_learning": {"figure", "training"},
    "ch05_backprop": {"graph", "report", "training"},
    "ch06_training_techniques": {"figure", "report", "training"},
    "ch07_cnn": {"figure", "report", "training"},
    "book2_ch03_04_word2vec": {"figure", "report"},
    "book2_ch06_08_rnn": {"graph", "figure", "report"},
}
NEEDS_BOOK2 = {"book2_ch06_08_rnn"}  # its 8.3 reads the book's weights and date.txt
RUNS = [  # (notebook, whether dot is on PATH)
    *(pytest.param(path, True, marks=pytest.mark.graphviz, id=path.stem) for path in NOTEBOOKS),
    *(
        pytest.param(path, False, id=f"{path.stem}-without-dot")
        for path in NOTEBOOKS
        if "graph" in CHAPTERS[path.stem]
    ),
]


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory):
    """What the kernels see as $TINYGRAD_KO_DATA: mnist/ (a link to the real files) and
    sequence/ with book 2's addition.txt and date.txt (copies, when ../shared/book2 has them)."""
    folder = tmp_path_factory.mktemp("data")
    (folder / "mnist").symlink_to(mnist_dir().resolve(), target_is_directory=True)
    (folder / "sequence").mkdir()
    for name in ("addition.txt", "date.txt"):
        if (BOOK2 / "dataset" / name).is_file():
            shutil.copy(BOOK2 / "dataset" / name, folder / "sequence" / name)
    return folder


def test_there_is_a_notebook_for_each_chapter_listed_and_no_other():
    assert [path.stem for path in NOTEBOOKS] == sorted(CHAPTERS)


@pytest.mark.mnist
@pytest.mark.parametrize(("path", "dot"), RUNS)
def test_the_notebook_runs_and_shows_what_it_promises(
    path, dot, tmp_path, data_folder, monkeypatch
):
    missing = [name for name in BOOK2_FILES if not (BOOK2 / name).is_file()]
    if path.stem in NEEDS_BOOK2 and missing:
        reason = f"book 2's code is not in {BOOK2} (missing {', '.join(missing)})"
        if os.environ.get("TINYGRAD_KO_REQUIRE_DATA"):
            pytest.fail(reason)
        pytest.skip(reason)
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(data_folder))  # the kernel inherits these
    monkeypatch.setenv("BOOK2_DIR", str(BOOK2))
    if not dot:
        monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # the venv's programs only
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    notebook.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"))
    where = {"metadata": {"path": str(tmp_path)}}  # the kernel's working folder
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources=where).execute()
    assert notebook.cells[-1].outputs[0].text.strip() == sys.executable  # this venv's kernel
    shown = set()
    for number, cell in enumerate(code):
        streams = {output.get("name") for output in cell.outputs}
        assert "stderr" not in streams, f"cell {number} wrote to stderr:\n{cell.source}"
        kinds = {kind for output in cell.outputs for kind in output.get("data", {})}
        for tag in cell.metadata.get("tags", []):
            assert PROMISES[tag] <= kinds, f"cell {number} ({tag}) showed only {kinds}"
            shown.add(tag)
        drawings = [
            o.data["image/svg+xml"] for o in cell.outputs if "image/svg+xml" in o.get("data", {})
        ]
        drawn_by_dot = ["generated by graphviz" in svg.lower() for svg in drawings]
        assert dot or not any(drawn_by_dot), f"cell {number} was drawn by dot without dot"
    assert CHAPTERS[path.stem] <= shown
    assert list(tmp_path.iterdir()) == []  # a notebook leaves no files behind
