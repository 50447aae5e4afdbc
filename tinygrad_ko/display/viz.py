"""Draw the computational graph (5.1) behind a tensor.

    from tinygrad_ko.display.viz import draw_graph, to_dot
    draw_graph(loss)      # a notebook cell ending in this shows the graph (SVG)
    print(to_dot(loss))   # the DOT text, for any Graphviz viewer: dot -Tsvg graph.dot -o graph.svg

Tensors are ovals (name, shape, dtype), ops and layers boxes, edges follow the data forward.
Graphviz's `dot` program draws it where it is installed (Colab has it). Elsewhere the small,
pure-Python grandalf package (pip install grandalf) lays it out in layers, as dot does, and this
module draws it: SVG itself, PNG and PDF through matplotlib. draw_graph(loss, layout="python")
draws that way even where dot is installed. With neither, the DOT text is still there.
"""

from __future__ import annotations

import html
import io
import itertools
import math
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tinygrad_ko.data.files import atomic_write
from tinygrad_ko.engine.autograd import graph_order
from tinygrad_ko.engine.tensor import Tensor

__all__ = ["GRAPHVIZ_INSTALL", "CannotDraw", "Graph", "draw_graph", "render", "to_dot"]

GRAPHVIZ_INSTALL = (
    "install Graphviz's dot program: apt install graphviz (Debian, Ubuntu, Colab), "
    "brew install graphviz (macOS) or conda install graphviz; pip's graphviz package alone "
    "does not bring it"
)


class CannotDraw(RuntimeError):
    """Nothing here can draw the graph: neither Graphviz's dot program nor the grandalf package
    (or not the one asked for). The DOT text can still be saved."""


class Node(NamedTuple):
    """A node of the drawing: its DOT id (t0, t1, ... tensors; f0, f1, ... ops), its label
    (lines joined by \\n), its shape ("ellipse" or "box") and its fill colour or None."""

    id: str
    label: str
    shape: str
    fill: str | None


def draw_graph(tensor, *, values=False, grads=False, max_elements=10, layout="auto"):
    """The graph that produced `tensor` as a Graph: shown as SVG at the end of a notebook cell
    (like torchviz's make_dot), saved with .save(path). layout="auto" draws with Graphviz's dot
    when it is installed and with grandalf otherwise; "dot" or "python" picks one. The other
    arguments as to_dot's."""
    nodes, edges = _parts(tensor, values=values, grads=grads, max_elements=max_elements)
    return Graph(_dot(nodes, edges), nodes, edges, layout=layout)


class Graph:
    """A graph's DOT text (`source`) that draws itself: IPython shows it as SVG, drawn by
    Graphviz's dot program or, from its nodes and edges, by grandalf's layout (see draw_graph);
    with neither, as one line on how to get one, then the DOT text. A Graph of DOT text alone
    draws only with dot."""

    def __init__(self, source, nodes=(), edges=(), *, layout="auto"):
        if layout not in ("auto", "dot", "python"):
            raise ValueError(f"Graph: layout must be 'auto', 'dot' or 'python', not {layout!r}")
        if layout == "python" and not nodes:
            raise ValueError(
                "Graph: layout='python' needs the nodes and edges (draw_graph gives them)"
            )
        self.source, self.nodes, self.edges, self.layout = source, list(nodes), list(edges), layout

    def svg(self):
        """The drawing as SVG text."""
        return self._drawing("svg").decode()

    def save(self, path):
        """Write the graph to path: .dot or .gv the DOT text, .svg, .png or .pdf a drawing."""
        kind = Path(path).suffix.lower()[1:]
        if kind not in ("dot", "gv", "svg", "png", "pdf"):
            raise ValueError(f"Graph.save {path}: the name must end in .dot, .gv, .svg, .png, .pdf")
        data = self.source.encode() if kind in ("dot", "gv") else self._drawing(kind)
        with atomic_write(path) as f:
            f.write(data)

    def _drawing(self, kind):
        """The drawing as the bytes of a `kind` file, by dot or grandalf as self.layout says."""
        python = self.layout == "python" or (
            self.layout == "auto" and self.nodes and shutil.which("dot") is None
        )
        if not python:
            return render(self.source, kind)
        try:
            frame, boxes, paths = _layout(self.nodes, self.edges)
        except ImportError:
            if self.layout == "python":
                raise CannotDraw(
                    "drawing a graph with layout='python' needs the grandalf package: "
                    "pip install grandalf"
                ) from None
            raise CannotDraw(
                "drawing a graph needs Graphviz's dot program or the grandalf package: "
                f"pip install grandalf, or {GRAPHVIZ_INSTALL}"
            ) from None
        if kind == "svg":
            return _svg(frame, boxes, paths).encode()
        return _matplotlib(frame, boxes, paths, kind)

    def _repr_mimebundle_(self, include=None, exclude=None):
        try:
            return {"image/svg+xml": self.svg(), "text/plain": repr(self)}
        except (RuntimeError, OSError) as error:  # nothing to draw with, or dot failed: say so
            return {"text/plain": f"({error})\n{self.source}"}

    def __repr__(self):
        ops = len(re.findall(r"^  f\d+ \[", self.source, re.M))  # op nodes are f0, f1, ...
        return f"<Graph: {ops} ops; .source has the DOT text, .save(path) writes it or a drawing>"


def render(source, kind):
    """DOT text drawn by Graphviz's dot program, as the bytes of a `kind` file (svg, png, pdf)."""
    program = shutil.which("dot")
    if program is None:
        raise CannotDraw(f"drawing a graph needs Graphviz: {GRAPHVIZ_INSTALL}")
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
    return _dot(*_parts(tensor, values=values, grads=grads, max_elements=max_elements))


def _parts(tensor, *, values, grads, max_elements):
    """The nodes and the edges (source id, destination id) of the graph behind `tensor`, in
    data-flow order: each op after those making its inputs."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(tensor).__name__}")
    try:
        ops = list(reversed(graph_order(tensor)))
    except RuntimeError:
        raise ValueError(
            "to_dot: backward() has freed this graph; draw it before backward, or call "
            "backward(retain_graph=True)"
        ) from None
    nodes, edges, ids = [], [], {}  # ids: id(tensor) -> its node id, t0, t1, ... as drawn

    def tensor_node(t):
        if id(t) not in ids:
            ids[id(t)] = f"t{len(ids)}"
            parameter = t._creator is None and t.requires_grad  # what backward is for
            label = _label(t, values, grads, max_elements)
            nodes.append(Node(ids[id(t)], label, "ellipse", "lightblue" if parameter else None))
        return ids[id(t)]

    for number, out in enumerate(ops):
        op = f"f{number}"
        nodes.append(Node(op, out._creator.name, "box", "lightgray"))
        edges += [(tensor_node(x), op) for x in out._creator.inputs]
        edges.append((op, tensor_node(out)))
    tensor_node(tensor)  # a leaf on its own is a graph of one tensor
    return nodes, edges


def _dot(nodes, edges):
    lines = [
        "digraph tinygrad_ko {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=11];',
    ]
    for node in nodes:
        fill = f", style=filled, fillcolor={node.fill}" if node.fill else ""
        lines.append(f"  {node.id} [shape={node.shape}{fill}, label={_quote(node.label)}];")
    lines += [f"  {source} -> {destination};" for source, destination in edges]
    return "\n".join([*lines, "}"]) + "\n"


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


# --- without Graphviz: grandalf's layered (Sugiyama) layout, drawn here as SVG or by matplotlib ---

FONT_SIZE, LINE_HEIGHT = 11, 14  # px
GAP, MARGIN, ARROW = 36, 4, 8  # px between layers (a third of it between nodes), around, arrowhead


def _size(node):
    """Width and height of a node that holds its label: a box with a margin, or the ellipse
    through the corners of that box, as dot draws it."""
    lines = node.label.split("\n")
    wide = max(sum(1 + (unicodedata.east_asian_width(c) in "WF") for c in line) for line in lines)
    width, height = wide * 0.62 * FONT_SIZE + 12, len(lines) * LINE_HEIGHT + 8
    return (width, height) if node.shape == "box" else (width * 2**0.5, height * 2**0.5)


class _Path:
    """Where grandalf routes an edge: its ends' centres and a point in each layer between."""

    def setpath(self, points):
        self.points = points


def _layout(nodes, edges):
    """grandalf's layered layout, its layers from left to right as dot's rankdir=LR: the frame
    (left, top, right, bottom), each node's box (centre x, centre y, width, height), and each
    edge's path as ("M" | "L" | "C", points...) steps. Raises ImportError without grandalf."""
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout, VertexViewer

    vertices = {node.id: Vertex(node) for node in nodes}
    for vertex in vertices.values():
        width, height = _size(vertex.data)
        vertex.view = VertexViewer(height, width)  # turned: grandalf stacks its layers top-down
    links = [Edge(vertices[source], vertices[destination]) for source, destination in edges]
    for link in links:
        link.view = _Path()
    (part,) = Graph(list(vertices.values()), links).C  # connected: all leads to one tensor
    sugiyama = SugiyamaLayout(part)
    sugiyama.xspace, sugiyama.yspace = GAP / 3, GAP
    sugiyama.dw = sugiyama.dh = 2  # an edge passing a layer takes a thin slot in it
    sugiyama.init_all(optimize=True)  # optimize: an input sits beside its op, not in layer 0
    sugiyama.draw(3)  # rounds of reordering the layers to cut crossings
    for layer in sugiyama.layers:  # grandalf's mean of four placements can overlap neighbours
        for above, below in itertools.pairwise(layer):
            low = above.view.xy[0] + (above.view.w + below.view.w) / 2 + sugiyama.xspace
            below.view.xy = (max(below.view.xy[0], low), below.view.xy[1])
    sugiyama.draw_edges()  # again, through the points as moved
    boxes = {v.data: (*v.view.xy[::-1], v.view.h, v.view.w) for v in vertices.values()}
    halves = [max(v.view.h for v in layer) / 2 for layer in sugiyama.layers]
    ends = {}  # (link, 0 or -1): how far below its node's centre it leaves or arrives
    for vertex in vertices.values():  # spread along the side, in the order of where they go
        for end, near, group in ((0, 1, vertex.e_out()), (-1, -2, vertex.e_in())):
            step = min(vertex.view.w / (len(group) + 1), LINE_HEIGHT / 2)
            group = sorted(group, key=lambda link: link.view.points[near][0])
            for i, link in enumerate(group):
                ends[link, end] = (i - (len(group) - 1) / 2) * step
    paths = [_path(link, boxes, halves[sugiyama.grx[link.v[0]].rank :], ends) for link in links]
    xs = [x + side * w / 2 for x, _, w, _ in boxes.values() for side in (-1, 1)]
    ys = [y for _, path in paths for step in path for _, y in step[1:]]
    ys += [y + side * h / 2 for _, y, _, h in boxes.values() for side in (-1, 1)]
    frame = (min(xs) - MARGIN, min(ys) - MARGIN, max(xs) + MARGIN, max(ys) + MARGIN)
    return frame, boxes, paths


def _path(link, boxes, halves, ends):
    """An edge's path: out of its source's right side, an S-curve across each gap between
    layers, straight through each layer it passes, into its destination's left side."""
    source, destination = (v.data for v in link.v)
    points = [(x, y) for y, x in link.view.points]
    (x, y), last = points[0], len(points) - 1
    y += ends[link, 0]
    steps = [("M", (x + _side(boxes[source], source.shape, y), y)), ("L", (x + halves[0], y))]
    for i, (x, y) in enumerate(points[1:], 1):
        if i == last:  # the last stretch straight, for the arrowhead to point along
            y += ends[link, -1]
            side = _side(boxes[destination], destination.shape, y)
            reach, out = max(halves[i], side + ARROW), x - side
        else:
            reach, out = halves[i], x + halves[i]
        before, entry = steps[-1][-1], (x - reach, y)
        middle = (before[0] + entry[0]) / 2
        steps += [("C", (middle, before[1]), (middle, y), entry), ("L", (out, y))]
    return (source, destination), steps


def _side(box, shape, y):
    """How far right (or left) of its centre a box, or the ellipse in it, reaches at height y."""
    centre_y, width, height = box[1:]
    if shape == "box":
        return width / 2
    return width / 2 * math.sqrt(max(0.0, 1 - ((y - centre_y) / (height / 2)) ** 2))


def _svg(frame, boxes, paths):
    """SVG text, grouped as dot's: per node a <g class="node"> with its id as <title>, a rect or
    an ellipse and a <text> per label line; per edge a <g class="edge"> with a path and an
    arrowhead."""
    left, top, right, bottom = frame
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{right - left:.0f}pt" '
        f'height="{bottom - top:.0f}pt" viewBox="{left:.1f} {top:.1f} {right - left:.1f} '
        f'{bottom - top:.1f}">',
        '<defs><marker id="tinygrad_ko-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        f'markerWidth="{ARROW}" markerHeight="{ARROW}" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
        f'<g font-family="Helvetica,Arial,sans-serif" font-size="{FONT_SIZE}" '
        'text-anchor="middle" stroke="black">',
    ]
    for (source, destination), steps in paths:
        line = " ".join(
            step[0] + " ".join(f"{x:.1f},{y:.1f}" for x, y in step[1:]) for step in steps
        )
        out.append(
            f'<g class="edge"><title>{source.id}-&gt;{destination.id}</title><path d="{line}" '
            'fill="none" marker-end="url(#tinygrad_ko-arrow)"/></g>'
        )
    for node, (x, y, w, h) in boxes.items():
        paint = f'fill="{node.fill or "white"}"'
        if node.shape == "box":
            shape = (
                f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}"'
            )
        else:
            shape = f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{w / 2:.1f}" ry="{h / 2:.1f}"'
        out.append(f'<g class="node"><title>{node.id}</title>{shape} {paint}/>')
        lines = node.label.split("\n")
        for i, text in enumerate(lines):
            line_y = y + (i - (len(lines) - 1) / 2) * LINE_HEIGHT
            out.append(
                f'<text x="{x:.1f}" y="{line_y:.1f}" dominant-baseline="central" stroke="none">'
                f"{html.escape(text)}</text>"
            )
        out.append("</g>")
    return "\n".join([*out, "</g>", "</svg>"]) + "\n"


def _matplotlib(frame, boxes, paths, kind):
    """The same drawing as the bytes of a PNG or PDF file, by matplotlib."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import Ellipse, FancyArrowPatch, Rectangle
        from matplotlib.path import Path as Line
    except ImportError:
        raise RuntimeError(
            f"drawing a graph as {kind.upper()} without Graphviz needs matplotlib: "
            "pip install matplotlib; or save it as .svg"
        ) from None
    left, top, right, bottom = frame
    figure = Figure(figsize=((right - left) / 72, (bottom - top) / 72))  # a unit a pt, as in SVG
    axes = figure.add_axes((0, 0, 1, 1), xlim=(left, right), ylim=(bottom, top))
    axes.set_axis_off()
    codes = {"M": [Line.MOVETO], "L": [Line.LINETO], "C": [Line.CURVE4] * 3}
    for _, steps in paths:
        points = [point for _, *step in steps for point in step]
        line = Line(points, [code for letter, *_ in steps for code in codes[letter]])
        axes.add_patch(FancyArrowPatch(path=line, arrowstyle="-|>", mutation_scale=10))
    for node, (x, y, w, h) in boxes.items():
        box = node.shape == "box"
        shape = Rectangle((x - w / 2, y - h / 2), w, h) if box else Ellipse((x, y), w, h)
        axes.add_patch(shape).set(facecolor=node.fill or "white", edgecolor="black")
        axes.text(x, y, node.label, ha="center", va="center", fontsize=FONT_SIZE, linespacing=1.1)
    data = io.BytesIO()
    figure.savefig(data, format=kind, dpi=144)
    return data.getvalue()
