"""The notebooks in examples/notebooks run top to bottom in a real Jupyter kernel, as a learner
runs them, and show what they promise: each cell tagged "graph" an SVG drawing, "figure" a PNG,
"report" an HTML table, "training" a progress widget and a PNG of the curves; nothing on stderr.
They are committed without outputs, so their diffs stay readable."""

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

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
}


def test_there_is_a_notebook_for_each_chapter_listed_and_no_other():
    assert [path.stem for path in NOTEBOOKS] == sorted(CHAPTERS)


@pytest.mark.mnist
@pytest.mark.graphviz
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_notebook_runs_and_shows_what_it_promises(path, tmp_path):
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
    assert CHAPTERS[path.stem] <= shown
    assert list(tmp_path.iterdir()) == []  # a notebook leaves no files behind
