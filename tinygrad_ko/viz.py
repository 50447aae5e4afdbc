"""Draw the computational graph (5.1) behind a tensor as Graphviz DOT text.

    from tinygrad_ko.viz import to_dot
    print(to_dot(loss))  # paste into any Graphviz viewer, or: dot -Tsvg graph.dot -o graph.svg

Tensors are ovals (name, shape, dtype), ops and layers boxes, edges follow the data forward.
"""

from __future__ import annotations

import numpy as np

from tinygrad_ko.autograd import graph_order
from tinygrad_ko.tensor import Tensor

__all__ = ["to_dot"]


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
        ops = list(reversed(graph_order(tensor))) if tensor._creator is not None else []
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
