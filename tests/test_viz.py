"""to_dot: the DOT text is parsed (pydot) and its nodes, edges and labels checked."""

import itertools
import re

import numpy as np
import pydot
import pytest

from tinygrad_ko import Tensor
from tinygrad_ko.models import TwoLayerNet
from tinygrad_ko.viz import to_dot


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
