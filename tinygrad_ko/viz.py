"""Draw the computational graph (5.1) behind a tensor, with Graphviz.

    from tinygrad_ko.viz import draw_graph, to_dot
    draw_graph(loss)      # a notebook cell ending in this shows the graph (SVG)
    print(to_dot(loss))   # the DOT text, for any Graphviz viewer: dot -Tsvg graph.dot -o graph.svg

Tensors are ovals (name, shape, dtype), ops and layers boxes, edges follow the data forward.
Drawing needs Graphviz's `dot` program (Colab has it); without it the DOT text is still there.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from tinygrad_ko.autograd import graph_order
from tinygrad_ko.files import atomic_write
from tinygrad_ko.tensor import Tensor

__all__ = ["GRAPHVIZ_INSTALL", "Graph", "draw_graph", "render", "to_dot"]

GRAPHVIZ_INSTALL = (
    "install Graphviz's dot program: apt install graphviz (Debian, Ubuntu, Colab), "
    "brew install graphviz (macOS) or conda install graphviz; pip's graphviz package alone "
    "does not bring it"
)


def draw_graph(tensor, *, values=False, grads=False, max_elements=10):
    """The graph that produced `tensor` as a Graph: shown as SVG at the end of a notebook cell
    (like torchviz's make_dot), saved with .save(path). Arguments as to_dot's."""
    return Graph(to_dot(tensor, values=values, grads=grads, max_elements=max_elements))


class Graph:
    """A graph's DOT text (`source`) that draws itself: IPython shows it as SVG when Graphviz's
    dot program is installed, and otherwise as one line on how to get it, then the DOT text."""

    def __init__(self, source):
        self.source = source

    def svg(self):
        """The drawing as SVG text (needs the dot program)."""
        return render(self.source, "svg").decode()

    def save(self, path):
        """Write the graph to path: .dot or .gv the DOT text, .svg, .png or .pdf a drawing."""
        kind = Path(path).suffix.lower()[1:]
        if kind not in ("dot", "gv", "svg", "png", "pdf"):
            raise ValueError(f"Graph.save {path}: the name must end in .dot, .gv, .svg, .png, .pdf")
        data = self.source.encode() if kind in ("dot", "gv") else render(self.source, kind)
        with atomic_write(path) as f:
            f.write(data)

    def _repr_mimebundle_(self, include=None, exclude=None):
        try:
            return {"image/svg+xml": self.svg(), "text/plain": repr(self)}
        except (RuntimeError, OSError) as error:  # no dot, or a dot that failed: say so
            return {"text/plain": f"({error})\n{self.source}"}

    def __repr__(self):
        ops = len(re.findall(r"^  f\d+ \[", self.source, re.M))  # op nodes are f0, f1, ...
        return f"<Graph: {ops} ops; .source has the DOT text, .save(path) writes it or a drawing>"


def render(source, kind):
    """DOT text drawn by Graphviz's dot program, as the bytes of a `kind` file (svg, png, pdf)."""
    program = shutil.which("dot")
    if program is None:
        raise RuntimeError(f"drawing a graph needs Graphviz: {GRAPHVIZ_INSTALL}")
    result = subprocess.run([program, f"-T{kind}"], input=source.encode(), capture_output=True)
    if result.returncode != 0:
        raise OSError(f"dot failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def to_dot(tensor, *, values=False, grads=False, max_elements=10):
    """DOT text of the graph that produced `tensor`: one box per op or layer call, one oval per
    tensor, an edge from each input to the op and from the op to its output.

    values=True / grads=True add the data / the .grad of tensors with at most max_elements
    elements. Gradients exist after backward(); to draw them, call backward(retain_graph=True),
    since backward frees the graph it walked.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(tensor).__name__}")
    try:
        ops = list(reversed(graph_order(tensor)))
    except RuntimeError:
        raise ValueError(
            "to_dot: backward() has freed this graph; draw it before backward, or call "
            "backward(retain_graph=True)"
        ) from None
    lines = [
        "digraph tinygrad_ko {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=11];',
    ]
    ids = {}  # id(tensor) -> its DOT node: t0, t1, ... in the order they are drawn

    def tensor_node(t):
        if id(t) not in ids:
            ids[id(t)] = f"t{len(ids)}"
            label = _quote(_label(t, values, grads, max_elements))
            lines.append(f"  {ids[id(t)]} [{_tensor_style(t)}, label={label}];")
        return ids[id(t)]

    for number, out in enumerate(ops):  # data-flow order: each op after those making its inputs
        node = out._creator
        op = f"f{number}"
        lines.append(
            f"  {op} [shape=box, style=filled, fillcolor=lightgray, label={_quote(node.name)}];"
        )
        for x in node.inputs:
            lines.append(f"  {tensor_node(x)} -> {op};")
        lines.append(f"  {op} -> {tensor_node(out)};")
    tensor_node(tensor)  # a leaf on its own is a graph of one tensor
    lines.append("}")
    return "\n".join(lines) + "\n"


def _tensor_style(t):
    if t._creator is None and t.requires_grad:  # a parameter: what backward is for
        return "shape=ellipse, style=filled, fillcolor=lightblue"
    return "shape=ellipse"


def _label(t, values, grads, max_elements):
    lines = [str(t.name)] if t.name is not None else []
    lines.append(f"{t.shape} {t.dtype}")
    if values and t.size <= max_elements:
        lines.append(f"data {_numbers(t.data)}")
    if grads and t.grad is not None and t.grad.size <= max_elements:
        lines.append(f"grad {_numbers(t.grad)}")
    return "\n".join(lines)


def _numbers(array):
    return np.array2string(np.asarray(array), precision=4, separator=", ", max_line_width=60)


def _quote(text):
    """A DOT string: backslashes and quotes escaped, line breaks as DOT's centred \\n."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'
