"""to_dot: the DOT text is parsed (pydot) and its nodes, edges and labels checked; the drawing
made without Graphviz (grandalf's layout, layout="python") is parsed as XML and checked against
that DOT text: the same nodes, labels and edges, laid out in layers from left to right."""

import itertools
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pydot
import pytest

from tinygrad_ko import Tensor
from tinygrad_ko.models import TwoLayerNet
from tinygrad_ko.viz import draw_graph, to_dot

SVG = "{http://www.w3.org/2000/svg}"


def parse(text):
    """{node id: label lines} and the edges (source, destination) in the order written."""
    (graph,) = pydot.graph_from_dot_data(text)
    labels = {}
    for node in graph.get_nodes():
        if node.get_name() in ("node", "edge", "graph"):  # default attribute statements
            continue
        escaped = node.get_label()[1:-1]  # DOT's quoted string, its escapes undone
        label = re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], escaped)
        labels[node.get_name()] = {"shape": node.get_shape(), "lines": label.split("\n")}
    edges = [(e.get_source(), e.get_destination()) for e in graph.get_edges()]
    return labels, edges


def network_graph(activation="relu"):
    net = TwoLayerNet(6, 4, 3, activation=activation, weight_init_std=1.0, seed=0)
    x = Tensor(np.random.default_rng(0).random((2, 6)), name="x")
    loss = net.forward(x, np.array([0, 2]))
    loss.name = "loss"
    return net, loss


@pytest.mark.parametrize("activation, layer", [("relu", "ReLU"), ("sigmoid", "Sigmoid")])
def test_the_network_is_four_layer_nodes_between_named_tensors(activation, layer):
    _, loss = network_graph(activation)
    labels, edges = parse(to_dot(loss))
    ops = [n for n, d in labels.items() if d["shape"] == "box"]
    assert [labels[n]["lines"] for n in ops] == [
        ["Affine"],
        [layer],
        ["Affine"],
        ["SoftmaxWithLoss"],
    ]
    tensors = {d["lines"][0]: d["lines"] for d in labels.values() if d["shape"] == "ellipse"}
    assert tensors["W1"] == ["W1", "(6, 4) float32"] and tensors["b2"] == ["b2", "(3,) float32"]
    assert tensors["x"] == ["x", "(2, 6) float64"] and tensors["loss"][0] == "loss"
    # every op: its inputs flow in, one output flows out, to the next op
    first, last = ops[0], ops[-1]
    ids = {d["lines"][0]: n for n, d in labels.items()}
    assert {s for s, d in edges if d == first} == {ids["x"], ids["W1"], ids["b1"]}
    assert [d for s, d in edges if s == last] == [ids["loss"]]
    for op, next_op in itertools.pairwise(ops):
        (out,) = [d for s, d in edges if s == op]
        assert (out, next_op) in edges


def test_edges_are_written_in_data_flow_order():
    _, loss = network_graph()
    labels, edges = parse(to_dot(loss))
    written = [n for edge in edges for n in edge]
    for source, destination in edges:  # whatever feeds a node is written before it leaves it
        leaving = [i for i, (s, _) in enumerate(edges) if s == destination]
        arriving = edges.index((source, destination))
        assert all(arriving < i for i in leaving)
    assert written[0] in labels and written[-1] == next(
        n for n, d in labels.items() if d["lines"][0] == "loss"
    )


def test_values_and_gradients_are_shown_for_small_tensors_only():
    net, loss = network_graph()
    loss.backward(retain_graph=True)
    labels, _ = parse(to_dot(loss, values=True, grads=True, max_elements=3))
    by_name = {d["lines"][0]: d["lines"] for d in labels.values()}
    b2 = by_name["b2"]
    assert b2[2].startswith("data [0., 0., 0.]")
    shown = np.array([float(v) for v in b2[3].removeprefix("grad [").rstrip("]").split(",")])
    np.testing.assert_allclose(shown, net.tensors["b2"].grad, rtol=1e-3, atol=1e-4)
    assert len(by_name["W1"]) == 2  # 24 elements: name and shape only
    assert by_name["loss"][2] == f"data {float(loss.data):.4f}"
    plain, _ = parse(to_dot(loss))
    assert all(len(d["lines"]) <= 2 for d in plain.values())


def test_shared_inputs_are_drawn_once():
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = (x * x + x.exp()).sum()
    labels, edges = parse(to_dot(y))
    assert sum(d["lines"][0] == "x" for d in labels.values()) == 1
    (x_id,) = [n for n, d in labels.items() if d["lines"][0] == "x"]
    ops = {n: d["lines"][0] for n, d in labels.items() if d["shape"] == "box"}
    assert sorted(ops[d] for s, d in edges if s == x_id) == ["exp", "mul", "mul"]


def test_a_leaf_is_a_graph_of_one_node_and_names_are_escaped():
    labels, edges = parse(to_dot(Tensor(3.0, name='a "quoted" \\ name')))
    assert [d["lines"] for d in labels.values()] == [['a "quoted" \\ name', "() float64"]]
    assert edges == []


def test_a_freed_graph_or_a_non_tensor_is_refused():
    _, loss = network_graph()
    loss.backward()
    with pytest.raises(ValueError, match="backward\\(\\) has freed this graph"):
        to_dot(loss)
    with pytest.raises(TypeError, match="to_dot: expected a Tensor, got ndarray"):
        to_dot(np.ones(2))


# --- the drawing without Graphviz --------------------------------------------------------------


def parse_svg(text):
    """{node id: {"shape": "ellipse" or "rect", "box": (left, top, right, bottom), "lines"}}, per
    edge (source id, destination id, its path's d, the points in it), and how many ellipses,
    rects and paths there are in all."""
    root = ET.fromstring(text)
    nodes, edges = {}, []
    for group in root.iter(f"{SVG}g"):
        title = group.findtext(f"{SVG}title")
        if group.get("class") == "node":
            (shape,) = [e for e in group if e.tag in (f"{SVG}ellipse", f"{SVG}rect")]
            if shape.tag == f"{SVG}rect":
                x, y, width, height = (float(shape.get(k)) for k in ("x", "y", "width", "height"))
                box = (x, y, x + width, y + height)
            else:
                x, y, rx, ry = (float(shape.get(k)) for k in ("cx", "cy", "rx", "ry"))
                box = (x - rx, y - ry, x + rx, y + ry)
            lines = [t.text for t in group.iter(f"{SVG}text")]
            nodes[title] = {"shape": shape.tag.removeprefix(SVG), "box": box, "lines": lines}
        elif group.get("class") == "edge":
            source, destination = title.split("->")
            d = group.find(f"{SVG}path").get("d")
            points = [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", d)]
            edges.append((source, destination, d, points))
    counts = {tag: len(list(root.iter(f"{SVG}{tag}"))) for tag in ("ellipse", "rect", "path")}
    return nodes, edges, counts


def centre(box):
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def on_outline(point, node):
    """Whether a point lies on the node's rect or ellipse (to a tenth of a pixel as written)."""
    (x, y), (left, top, right, bottom) = point, node["box"]
    if node["shape"] == "rect":
        return abs(x - left) < 0.2 and top <= y <= bottom
    (cx, cy), rx, ry = centre(node["box"]), (right - left) / 2, (bottom - top) / 2
    return abs(math.hypot((x - cx) / rx, (y - cy) / ry) - 1) < 0.02


def along(d):
    """Points along an SVG path of M, L and C steps, 20 per line or curve."""
    points, here = [], None
    for letter, numbers in re.findall(r"([MLC])([^MLC]*)", d):
        xy = [tuple(map(float, p.split(","))) for p in numbers.split()]
        if letter == "M":
            here = xy[0]
            continue
        controls = [here, *xy] if letter == "C" else [here, here, xy[0], xy[0]]
        for t in np.linspace(0, 1, 20):  # a cubic Bezier curve (a line: its controls at its ends)
            weights = [(1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t**2 * (1 - t), t**3]
            points.append(tuple(sum(w * c[i] for w, c in zip(weights, controls)) for i in (0, 1)))
        here = xy[-1]
    return points


def long_edges():
    """x feeds the first op and the last, three layers of ops apart: grandalf routes that edge
    through the layers between."""
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    return (x.exp().sin().exp() * x).sum()


@pytest.mark.parametrize("make", [lambda: network_graph()[1], long_edges], ids=["network", "long"])
def test_without_dot_the_nodes_labels_and_edges_are_the_dot_texts(make):
    tensor = make()
    tensor.backward(retain_graph=True)
    kwargs = {"values": True, "grads": True, "max_elements": 3}  # labels of one to four lines
    labels, dot_edges = parse(to_dot(tensor, **kwargs))
    nodes, edges, counts = parse_svg(draw_graph(tensor, layout="python", **kwargs).svg())
    shapes = {"ellipse": "ellipse", "box": "rect"}
    assert {n: (shapes[d["shape"]], d["lines"]) for n, d in labels.items()} == {
        n: (d["shape"], d["lines"]) for n, d in nodes.items()
    }
    assert counts["ellipse"] == sum(d["shape"] == "ellipse" for d in labels.values())
    assert counts["rect"] == sum(d["shape"] == "box" for d in labels.values())
    assert sorted((s, d) for s, d, *_ in edges) == sorted(dot_edges)
    assert counts["path"] == len(dot_edges) + 1  # and the arrowhead's


@pytest.mark.parametrize(
    "make, layers", [(lambda: network_graph()[1], 9), (long_edges, 11)], ids=["network", "long"]
)
def test_without_dot_the_layers_go_left_to_right_and_edges_go_around_nodes(make, layers):
    nodes, edges, _ = parse_svg(draw_graph(make(), layout="python").svg())
    for source, destination, d, points in edges:  # from a right side to a left side, forward
        assert centre(nodes[source]["box"])[0] < points[0][0] < points[-1][0]
        assert points[-1][0] < centre(nodes[destination]["box"])[0]
        assert on_outline(points[-1], nodes[destination])  # the arrowhead touches the node
        for x, y in along(d):  # and on the way crosses no node
            for name, node in nodes.items():
                left, top, right, bottom = node["box"]
                inside = left + 0.5 < x < right - 0.5 and top + 0.5 < y < bottom - 0.5
                assert not inside or name in (source, destination)
    for a, b in itertools.combinations(nodes.values(), 2):  # and no two nodes overlap
        (l1, t1, r1, b1), (l2, t2, r2, b2) = a["box"], b["box"]
        assert r1 <= l2 or r2 <= l1 or b1 <= t2 or b2 <= t1
    # tensors and ops alternate, an input beside its op: the network's W2 with the ReLU's output
    assert len({centre(node["box"])[0] for node in nodes.values()}) == layers


def test_without_dot_an_input_used_twice_is_two_edges_and_text_is_escaped():
    x = Tensor([1.0, 2.0], requires_grad=True, name='x <"a"> & b')
    nodes, edges, _ = parse_svg(draw_graph(x * x, layout="python").svg())
    assert nodes["t0"]["lines"] == ['x <"a"> & b', "(2,) float64"]
    (first, second) = [points for s, d, _, points in edges if (s, d) == ("t0", "f0")]
    assert first[0] != second[0] and first[-1] != second[-1]  # side by side, not on top
    leaf, edges, _ = parse_svg(draw_graph(Tensor(3.0, name="가격"), layout="python").svg())
    assert [d["lines"] for d in leaf.values()] == [["가격", "() float64"]] and edges == []
