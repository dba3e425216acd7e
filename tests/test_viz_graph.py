"""``minigen.viz.build_graph`` / ``draw_graph``: the nodes and edges of small graphs, and
that drawing works without a display (draw_graph uses a ``Figure`` on the Agg canvas, never
pyplot, so no backend needs choosing)."""
import pytest
from matplotlib.colors import to_rgba

import minigen
from minigen import nn, viz


def small_expression():
    """L = (a·b + eˣ)² · 0.5 with scalar leaves a, b and a (2, 3) parameter w summed in."""
    a = minigen.tensor(2.0, requires_grad=True)
    a.name = "a"
    b = minigen.tensor(3.0, requires_grad=True)
    b.name = "b"
    w = nn.Parameter(minigen.ones(2, 3))
    d = a * b + w.sum()
    return (d * d) * 0.5, a, b, w


def test_nodes_follow_the_topological_order_and_graph_summary():
    loss, a, b, w = small_expression()
    graph = viz.build_graph(loss)
    ops = [(n.name, n.label, n.shape) for n in graph.nodes if n.kind == "op"]
    assert ops == [("t1", "Sum", ()), ("t4", "Mul", ()), ("t5", "Add", ()),
                   ("t6", "Mul", ()), ("t7", "Mul", ())]
    # every op line of graph_summary names the same tensors
    summary = loss.graph_summary().splitlines()
    for name, label, _ in ops:
        assert any(line.startswith(f"{name} = {label}(") for line in summary)
    assert graph.kinds() == {"leaf": 2, "parameter": 1, "op": 5, "constant": 1}
    assert graph.root.tensor is loss and graph.root.name == "t7"
    by_tensor = {id(n.tensor): n for n in graph.nodes}
    assert by_tensor[id(a)].label == "a" and by_tensor[id(a)].kind == "leaf"
    assert by_tensor[id(w)].kind == "parameter" and by_tensor[id(w)].shape == (2, 3)
    constant = next(n for n in graph.nodes if n.kind == "constant")
    assert constant.label == "0.5" and constant.shape == ()


def test_edges_are_the_inputs_of_each_op():
    loss, a, b, w = small_expression()
    graph = viz.build_graph(loss)
    names = {n.index: n.name or n.label for n in graph.nodes}
    edges = [(names[e.src], names[e.dst], e.position, e.shape) for e in graph.edges]
    assert edges == [("leaf0", "t1", 0, (2, 3)),
                     ("a", "t4", 0, ()), ("b", "t4", 1, ()),
                     ("t4", "t5", 0, ()), ("t1", "t5", 1, ()),
                     ("t5", "t6", 0, ()), ("t5", "t6", 1, ()),     # d * d: two edges
                     ("t6", "t7", 0, ()), ("0.5", "t7", 1, ())]
    for e in graph.edges:                 # every node comes after its inputs
        assert e.src < e.dst
        assert graph.nodes[e.src].depth < graph.nodes[e.dst].depth


def test_shared_node_is_drawn_once():
    """b = a + a; c = b + b: one node per tensor, two edges into each Add."""
    a = minigen.tensor([1.0, 2.0], requires_grad=True)
    b = a + a
    c = b + b
    graph = viz.build_graph(c)
    assert [(n.kind, n.label) for n in graph.nodes] == [("leaf", "leaf0"), ("op", "Add"),
                                                        ("op", "Add")]
    assert [(e.src, e.dst) for e in graph.edges] == [(0, 1), (0, 1), (1, 2), (1, 2)]
    assert [n.depth for n in graph.nodes] == [0, 1, 2]


def test_names_constants_and_a_model():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    x = minigen.randn(5, 3)
    loss = model(x).sum()
    graph = viz.build_graph(loss, names=dict(model.named_parameters()))
    params = sorted(n.label for n in graph.nodes if n.kind == "parameter")
    assert params == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert [n for n in graph.nodes if n.kind == "constant"][0].tensor is x
    assert "ReLU" in [n.label for n in graph.nodes]
    without = viz.build_graph(loss, constants=False)
    assert without.kinds().get("constant", 0) == 0
    assert len(without.edges) == len(graph.edges) - 1
    assert graph.root.shape == () and graph.root.label == "Sum"


def test_a_tensor_without_graph_is_one_leaf():
    graph = viz.build_graph(minigen.ones(2, 2))
    assert [(n.kind, n.shape) for n in graph.nodes] == [("leaf", (2, 2))]
    assert graph.edges == []


def test_parameter_rule_is_by_class_name():
    assert viz.is_parameter(nn.Parameter(minigen.zeros(2)))
    assert not viz.is_parameter(minigen.zeros(2, requires_grad=True))


def test_drawing_works_headless(tmp_path):
    loss, *_ = small_expression()
    fig, ax, graph = viz.draw_graph(loss)
    assert ax.figure is fig
    texts = [t.get_text() for t in ax.texts]
    assert "t7 = Mul\n()" in texts and "a\n()" in texts and "0.5" in texts
    assert "leaf0\n(2, 3)" in texts
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == len(graph.edges) == 9
    path = tmp_path / "graph.png"
    fig.savefig(path)
    assert path.stat().st_size > 1000


def test_drawing_into_given_axes(tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    given = fig.add_subplot()
    x = minigen.randn(2, 3, requires_grad=True)
    out_fig, ax, graph = viz.draw_graph((x * 2).relu().sum(), ax=given)
    assert ax is given and out_fig is fig
    assert [n.label for n in graph.nodes if n.kind == "op"] == ["Mul", "ReLU", "Sum"]
    fig.savefig(tmp_path / "g.png")


def test_parameter_box_is_highlighted():
    loss, a, b, w = small_expression()
    _, ax, _ = viz.draw_graph(loss)
    colour = {t.get_text(): t.get_bbox_patch().get_facecolor() for t in ax.texts
              if t.get_bbox_patch() is not None}
    assert colour["leaf0\n(2, 3)"] != colour["a\n()"]
    assert colour["leaf0\n(2, 3)"] == pytest.approx(to_rgba(viz._COLOURS["parameter"]))
