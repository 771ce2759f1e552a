"""The graph drawing: SVG parsed as XML, checked against the values and the notes' labels."""

import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygrad_notes as tn
from tinygrad_notes import Tape, Value, models
from tinygrad_notes.cli import main
from tinygrad_notes.viz import draw, equation_label, render_svg

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed "
                               "(make test installs it as root: apt-get install graphviz)")
SVG = "{http://www.w3.org/2000/svg}"


def svg_nodes(path):
    """{node id: [text lines]} of a Graphviz SVG."""
    root = ET.parse(path).getroot()
    nodes = {}
    for g in root.iter(SVG + "g"):
        if g.get("class") in ("node", "edge", "cluster"):
            title = g.find(SVG + "title").text
            # Graphviz writes a run of spaces as no-break spaces
            nodes[(g.get("class"), title)] = [(t.text or "").replace("\xa0", " ") for t in g.iter(SVG + "text")]
    return nodes


def test_equation_labels_are_compacted():
    assert equation_label("matmul") == "BP2-3"
    assert equation_label("tanh") == "BP1-2"
    assert equation_label("add") == ""


@needs_dot
def test_scalar_graph_shows_data_and_grad_like_micrograd(tmp_path):
    a, b = Value(2.0, name="a"), Value(-3.0, name="b")
    c = a * b
    d = (c + 1.0).tanh()
    d.backward()
    path = render_svg(draw(d), tmp_path / "g.svg")
    nodes = svg_nodes(path)
    texts = {k[1]: v for k, v in nodes.items() if k[0] == "node"}
    assert texts[f"v{id(a)}"] == ["a", f"data {a.data:.4g}", f"grad {a.grad:.4g}"]
    assert texts[f"v{id(b)}"] == ["b", f"data {b.data:.4g}", f"grad {b.grad:.4g}"]
    assert texts[f"v{id(d)}"] == [f"data {d.data:.4g}", "grad 1"]
    assert texts[f"op{id(c)}"] == ["mul"]
    assert texts[f"op{id(d)}"] == ["tanh  BP1-2"]
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


@needs_dot
def test_tensor_graph_lists_every_op_with_shapes_and_equations(tmp_path):
    x = Value(np.ones((4, 3), dtype=np.float32), requires_grad=False, name="x")
    w = Value(np.full((3, 2), 0.5, dtype=np.float32), name="w")
    with Tape() as tape:
        y = tn.cross_entropy((x @ w).sigmoid(), np.array([0, 1, 0, 1]))
    y.backward()
    path = render_svg(draw(tape), tmp_path / "t.svg")
    nodes = svg_nodes(path)
    op_labels = sorted(v[0] for (kind, title), v in nodes.items() if kind == "node" and title.startswith("op"))
    assert op_labels == ["cross_entropy  BP1", "matmul  BP2-3", "sigmoid  BP1-2"]
    w_lines = nodes[("node", f"v{id(w)}")]
    assert w_lines[:2] == ["w", "(3, 2) float32"]
    assert w_lines[2] == "data 0.5 / 0.5 / 0.5"
    g = w.grad
    assert w_lines[3] == f"grad {g.min():.4g} / {g.mean():.4g} / {g.max():.4g}"
    edge_labels = [v for (kind, _), v in nodes.items() if kind == "edge" and v]
    assert ["(4, 3)"] in edge_labels and ["(3, 2)"] in edge_labels and ["(4, 2)"] in edge_labels


def test_forward_only_view_has_no_gradients():
    x = Value(np.ones(3))
    y = (x * 2).sum()
    y.backward()
    source = draw(y, show_grad=False).source
    assert "\ngrad " not in source and "dashed" not in source
    assert "\ngrad " in draw(y).source


def test_model_parameters_get_their_paths_and_clusters():
    model = models.build("mlp", (2,), 2, bn=False)
    loss = tn.cross_entropy(model(Value(np.ones((4, 2), dtype=np.float32), requires_grad=False)),
                            np.array([0, 1, 0, 1]))
    loss.backward()
    source = draw(loss, model=model).source
    for name, _ in model.named_parameters():
        assert f'label="{name}\n' in source
    for path in ("0 (Linear)", "1 (ReLU)", "2 (Linear)", "3 (ReLU)", "4 (Linear)"):
        assert f'label="{path}"' in source
    collapsed = draw(loss, model=model, collapse="modules").source
    assert collapsed.count("subgraph cluster_") == 5
    assert collapsed.count("box3d") == 5


@needs_dot
def test_big_graphs_are_cut_with_a_visible_more_node(tmp_path):
    x = Value(np.ones((2, 2)))
    y = x
    for _ in range(5000):
        y = y * 1.0
    graph = draw(y, max_nodes=300)
    path = render_svg(graph, tmp_path / "big.svg")
    texts = [t for v in svg_nodes(path).values() for t in v]
    assert any(t and t.startswith("... ") and t.endswith(" more") for t in texts)
    hidden = int(next(t for t in texts if t and t.startswith("... ")).split()[1])
    assert hidden == (5000 * 2 + 1) - 300


def test_missing_dot_keeps_the_source_and_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    y = Value(2.0) * 3
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        render_svg(draw(y), tmp_path / "g.svg")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert not (tmp_path / "g.svg").exists()


def test_bad_arguments():
    y = Value(1.0) * 2
    with pytest.raises(ValueError, match="collapse"):
        draw(y, collapse="layers")
    with pytest.raises(ValueError, match="rankdir"):
        draw(y, rankdir="XY")


@needs_dot
def test_graph_command_writes_svg_and_dot(tmp_path, capsys):
    out = tmp_path / "xor.svg"
    assert main(["graph", "--model", "xor", "-o", str(out)]) == 0
    assert ET.parse(out).getroot().tag == SVG + "svg"
    assert out.with_suffix(".dot").exists()


@needs_dot
def test_cnn_graph_collapsed_has_one_cluster_per_module(tmp_path):
    model = models.build("cnn", (1, 28, 28), 10, bn=True)
    x = Value(np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32), requires_grad=False)
    loss = tn.cross_entropy(model(x), np.array([3, 7]))
    loss.backward()
    path = render_svg(draw(loss, model=model, collapse="modules"), tmp_path / "cnn.svg")
    clusters = {k[1]: v for k, v in svg_nodes(path).items() if k[0] == "cluster"}
    modules = [(name, m) for name, m in model.named_modules() if name]
    assert len(clusters) == len(modules) == 13
    labels = sorted(v[0] for v in clusters.values())
    assert labels == sorted(f"{name} ({type(m).__name__})" for name, m in modules)
    boxes = [v for (kind, title), v in svg_nodes(path).items() if kind == "node" and title.startswith("m_")]
    conv_boxes = [b for b in boxes if b[0] == "Conv2d"]
    assert len(conv_boxes) == 2 and all("CONV-BP2-4, eq. 3.14, eq. 3.15" in b for b in conv_boxes)
    assert any(b[0] == "BatchNorm2d" and "eq. 3.22, eq. 3.23" in b for b in boxes)


def test_nested_modules_give_nested_clusters():
    model = models.build("resnet", (1, 28, 28), 10, bn=True)
    x = Value(np.zeros((2, 1, 28, 28), dtype=np.float32), requires_grad=False)
    loss = tn.cross_entropy(model(x), np.array([0, 1]))
    source = draw(loss, model=model).source
    residual = source.index('label="4 (Residual)"')
    body = source.index('label="4.body (Sequential)"')
    conv = source.index('label="4.body.0 (Conv2d)"')
    assert residual < body < conv, "the body's clusters sit inside the residual block's"
