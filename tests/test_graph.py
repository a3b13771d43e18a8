"""udiff.graph: the recorded graph described as data, written as Graphviz DOT text and
drawn as SVG by udiff itself (rendering through Graphviz skips without Graphviz)."""
import re
import shutil
import time
import xml.etree.ElementTree as ET

import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as np
from conftest import chunked


def _example(inner=udiff.numpy_backend):
    with ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True):
        x1, x2 = np.asarray(chunked(2.0, inner)), np.asarray(chunked(5.0, inner))
        y = np.log(x1) + x1 * x2 - np.sin(x2)
    return x1, x2, y


def _labels(source):
    return dict(re.findall(r'^  (n\d+) \[label="([^"]*)"', source, flags=re.M))


def _edges(source):
    return re.findall(r"^  (n\d+) -> (n\d+) \[label=\"([^\"]*)\"", source, flags=re.M)


def test_the_graph_of_y_equals_ln_x1_plus_x1_x2_minus_sin_x2(inner):
    x1, x2, y = _example(inner)
    g = udiff.graph(y, [x1, x2])
    labels = _labels(g.source)
    assert g.size == len(labels) == 7
    names = sorted(label.split("\\n")[0] for label in labels.values())
    assert names == ["add", "log", "multiply", "sin", "subtract", "variable", "variable"]
    assert all(label.endswith("\\n() float64") for label in labels.values())
    by_name = {label.split("\\n")[0]: n for n, label in labels.items() if "variable" not in label}
    edges = {(a, b) for a, b, _ in _edges(g.source)}
    assert (by_name["log"], by_name["add"]) in edges and (by_name["multiply"], by_name["add"]) in edges
    assert (by_name["add"], by_name["subtract"]) in edges and (by_name["sin"], by_name["subtract"]) in edges
    assert len(edges) == 8
    assert g.source.startswith("digraph udiff {") and g.source.endswith("}")
    assert [line for line in g.source.splitlines() if "penwidth=2" in line] == [
        line for line in g.source.splitlines() if line.startswith(f"  {by_name['subtract']} [")]


def test_cotangents_are_the_gradient_of_the_output():
    x1, x2, y = _example()
    labels = _labels(udiff.graph(y, [x1, x2], cotangents=True).source)
    variables = sorted(label for label in labels.values() if label.startswith("variable"))
    # dy/dx1 = 1/x1 + x2 = 5.5, dy/dx2 = x1 - cos(x2)
    assert variables == [f"variable\\n() float64\\ncotangent {numpy.round(2.0 - numpy.cos(5.0), 4)}",
                         "variable\\n() float64\\ncotangent 5.5"]


def test_constants_and_only_the_path_from_the_variables():
    with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        x, z = np.asarray([1.0, 2.0]), np.asarray([3.0, 4.0])
        w = np.exp(z)
        y = np.sum(x * 2.5 + numpy.ones(2) * w)
    full = udiff.graph(y)
    assert 'label="constant 2.5"' in full.source
    assert 'label="constant (2,) float64"' in full.source
    assert "exp" in full.source
    only_x = udiff.graph(y, [x])
    assert "exp" not in only_x.source and only_x.size < full.size


def test_a_derivative_not_yet_re_derived_and_several_outputs():
    with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        x = np.asarray([1.0, 2.0])
        y = np.sin(x)
        d = y.to(x)
    assert "derivative (not re-derived)" in udiff.graph(d).source
    both = udiff.graph([y, x * 3.0])
    assert both.source.count("penwidth=2") == 2


def test_bad_input_and_repr():
    with pytest.raises(TypeError, match="draws DiffArrays, not ndarray"):
        udiff.graph(numpy.ones(2))
    x1, x2, y = _example()
    g = udiff.graph(y)
    assert repr(g) == "<udiff.Graph of 7 nodes>" and str(g) == g.source


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_renders_with_graphviz():  # pragma: no cover - needs Graphviz
    pytest.importorskip("graphviz")
    x1, x2, y = _example()
    svg = udiff.graph(y).render("svg")
    assert svg.startswith(b"<?xml") and b"subtract" in svg


# -- the SVG drawing -----------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def _drawing(g):
    """The parsed SVG: boxes by node name, and the edge groups."""
    root = ET.fromstring(g.svg())
    assert root.tag == SVG + "svg"
    boxes, texts, kinds = {}, {}, {}
    for group in root.iter(SVG + "g"):
        classes = group.get("class").split()
        if classes[0] == "node":
            (rect,) = group.findall(SVG + "rect")  # one box per node
            boxes[group.get("id")] = tuple(float(rect.get(k))
                                           for k in ("x", "y", "width", "height"))
            texts[group.get("id")] = tuple(t.text for t in group.findall(SVG + "text"))
            kinds[group.get("id")] = (classes[1:], rect)
    edges = [group for group in root.iter(SVG + "g") if group.get("class") == "edge"]
    return root, boxes, texts, kinds, edges


def _points(d, samples=12):
    """Points along an SVG path made of M, L and C commands."""
    tokens = re.findall(r"[MLC]|-?\d+(?:\.\d+)?", d)
    points, at, i = [], None, 0
    while i < len(tokens):
        command, i = tokens[i], i + 1
        count = {"M": 1, "L": 1, "C": 3}[command]
        coords = [float(t) for t in tokens[i:i + 2 * count]]
        i += 2 * count
        ps = list(zip(coords[::2], coords[1::2]))
        if command == "C":
            for k in range(1, samples + 1):
                t = k / samples
                weights = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3)
                points.append(tuple(sum(w * c for w, c in zip(weights, coords))
                                    for coords in zip(at, *ps)))
        elif command == "L":
            for k in range(1, samples + 1):
                points.append(tuple(a + (b - a) * k / samples for a, b in zip(at, ps[0])))
        else:
            points.append(ps[0])
        at = ps[-1]
    return points


def _check_drawing(g):
    """The properties every drawing has; returns the parsed parts."""
    root, boxes, texts, kinds, edges = _drawing(g)
    assert set(boxes) == {node.name for node in g.nodes}
    assert {name: lines for name, lines in texts.items()} == {n.name: n.lines for n in g.nodes}
    assert len(edges) == len(g.edges) == len(root.findall(f".//{SVG}path"))
    for group, edge in zip(edges, g.edges):
        assert (group.get("data-tail"), group.get("data-head")) == (edge.tail, edge.head)
        assert len(group.findall(SVG + "path")) == 1
        assert [t.text for t in group.findall(SVG + "text")] == [edge.label]
        tail, head = boxes[edge.tail], boxes[edge.head]
        assert tail[0] + tail[2] < head[0]  # parents are left of children
    width, height = float(root.get("width")), float(root.get("height"))
    for x, y, w, h in boxes.values():
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
    by_left = sorted(boxes.values())
    for i, (x, y, w, h) in enumerate(by_left):  # no two boxes overlap
        for x2, y2, w2, h2 in by_left[i + 1:]:
            if x2 >= x + w:
                break
            assert y2 >= y + h or y >= y2 + h2, ((x, y, w, h), (x2, y2, w2, h2))
    # edges go around the boxes, not through them
    for group in edges:
        for px, py in _points(group.find(SVG + "path").get("d")):
            for x, y, w, h in boxes.values():
                assert not (x + 0.5 < px < x + w - 0.5 and y + 0.5 < py < y + h - 0.5)
    return root, boxes, texts, kinds, edges


def test_the_drawing_of_y_equals_ln_x1_plus_x1_x2_minus_sin_x2(inner):
    x1, x2, y = _example(inner)
    g = udiff.graph(y)
    root, boxes, texts, kinds, edges = _check_drawing(g)
    assert len(boxes) == 7 and len(edges) == 8
    firsts = sorted(lines[0] for lines in texts.values())
    assert firsts == ["add", "log", "multiply", "sin", "subtract", "variable", "variable"]
    by_first = {lines[0]: name for name, lines in texts.items() if lines[0] != "variable"}
    # the columns: variables, then log, multiply and sin, then add, then subtract
    x_of = {name: boxes[name][0] + boxes[name][2] / 2 for name in boxes}
    variables = [name for name in boxes if texts[name][0] == "variable"]
    assert x_of[variables[0]] == x_of[variables[1]]
    assert x_of[by_first["log"]] == x_of[by_first["multiply"]] == x_of[by_first["sin"]]
    assert (x_of[variables[0]] < x_of[by_first["log"]] < x_of[by_first["add"]]
            < x_of[by_first["subtract"]])
    for name in variables:
        classes, rect = kinds[name]
        assert classes == ["variable"] and rect.get("fill") == "#cfe8ff"
    classes, rect = kinds[by_first["subtract"]]
    assert classes == ["operation", "output"] and rect.get("stroke-width") == "2.5"
    assert all(kinds[name][1].get("stroke-width") is None
               for name in boxes if name != by_first["subtract"])
    labels = sorted(t.text for group in edges for t in group.findall(SVG + "text"))
    assert labels == ["arg 0"] * 5 + ["arg 1"] * 3
    # the arrows into a box do not share a port
    into = {}
    for group in edges:
        head, points = group.get("data-head"), _points(group.find(SVG + "path").get("d"))
        into.setdefault(head, []).append(points[-1][1])
    assert all(len(set(ys)) == len(ys) for ys in into.values())


def test_the_svg_is_what_jupyter_shows_and_is_deterministic():
    x1, x2, y = _example()
    g = udiff.graph(y)
    bundle = g._repr_mimebundle_()
    assert bundle == {"image/svg+xml": g.svg(), "text/plain": "<udiff.Graph of 7 nodes>"}
    assert g._repr_svg_() == g.svg()
    assert udiff.graph(y).svg() == g.svg()  # drawn again from scratch: the same
    x1, x2, y = _example()  # a new graph of the same computation
    assert udiff.graph(y).svg() == g.svg()


def test_the_text_is_escaped():
    def weird(x):
        return x * 2.0

    weird.__name__ = weird.__qualname__ = 'a<b & "c">'
    weird = udiff.checkpoint(weird)
    tricky = udiff.custom_jvp(lambda x: np.sin(x))
    tricky.defjvp(lambda p, t: (tricky(p[0]), t[0] * np.cos(p[0])))
    with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        x = np.asarray([1.0])
        y = weird(tricky(x))
    g = udiff.graph(y)
    assert [node.lines[0] for node in g.nodes] == ["variable", "<lambda>", 'a<b & "c">']
    assert "&lt;lambda&gt;" in g.svg() and "a&lt;b &amp; \"c\"&gt;" in g.svg()
    _, _, texts, _, _ = _check_drawing(g)  # the parsed text is the label again
    assert texts["n2"][0] == 'a<b & "c">'


def test_cotangents_constants_and_a_derivative_not_re_derived_are_drawn():
    with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        x = np.asarray([1.0, 2.0])
        m = np.asarray([[1.0, 2.0], [3.0, 4.0]])
        d = np.sin(x).to(x)
        outs = [np.sum(m * m), d * x, np.stack([x, x * 2.5])]
    g = udiff.graph(outs, cotangents=True)
    root, boxes, texts, kinds, edges = _check_drawing(g)
    # the cotangent of m in sum(m * m) is 2 m, over two lines
    m_name = next(n.name for n in g.nodes if n.kind == "variable" and "(2, 2)" in n.lines[1])
    assert texts[m_name][2:] == ("cotangent [[2., 4.],", " [6., 8.]]")
    assert sum("output" in classes for classes, _ in kinds.values()) == 3
    (constant,) = [name for name, (classes, _) in kinds.items() if classes == ["constant"]]
    assert texts[constant] == ("constant 2.5",)
    assert kinds[constant][1].get("stroke") == "none"
    (dashed,) = [group for group in edges if group.get("data-tail") == constant]
    assert dashed.find(SVG + "path").get("stroke-dasharray") == "5,3"
    (lazy,) = [name for name, (classes, _) in kinds.items() if classes[0] == "not-re-derived"]
    assert texts[lazy][0] == "derivative (not re-derived)"
    assert kinds[lazy][1].get("stroke-dasharray") == "5,3"
    labels = [t.text for group in edges for t in group.findall(SVG + "text")]
    assert "arg 0[1]" in labels  # the second array of stack's sequence


def test_dask_graphs_are_drawn_without_computing():
    import dask.array as da

    with ua.set_backend(udiff.DiffArrayBackend(udiff.dask_backend), coerce=True):
        a = np.asarray(da.ones((4, 4), chunks=2))
        y = np.sum(np.tanh(a @ a))
    g = udiff.graph(y, cotangents=True)
    _, boxes, texts, _, edges = _check_drawing(g)
    assert len(boxes) == 4 and len(edges) == 4
    assert texts["n0"] == ("variable", "(4, 4) float64", "cotangent (4, 4) array")


def test_a_200_step_chain_and_a_variable_used_all_along():
    with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        x = np.asarray(1.0)
        v = x
        for _ in range(200):
            v = np.sin(v)
        w = np.asarray(0.5)
        u = x
        for _ in range(100):
            u = np.sin(u) * w + u
    chain = udiff.graph(v)
    start = time.perf_counter()
    root, boxes, _, _, edges = _check_drawing(chain)
    assert len(boxes) == 201 and len(edges) == 200
    # a chain is a straight line: every box at the same height, one column each
    assert len({y + h / 2 for x, y, w, h in boxes.values()}) == 1
    assert len({x for x, y, w, h in boxes.values()}) == 201
    # w feeds 100 multiplications spread over 300 columns: its edges share one
    # trunk, so the drawing grows with the graph, not with the edges' lengths
    loop = udiff.graph(u)
    svg = loop.svg()
    assert len(loop.nodes) == 302 and len(svg) < 2000 * len(loop.nodes)
    _check_drawing(loop)
    assert time.perf_counter() - start < 60  # a generous bound; about a second here


def test_a_variable_alone_and_variables_given():
    with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        x = np.asarray([1.0, 2.0])
        z = np.exp(np.asarray(3.0))
        y = np.sum(x * z)
    _, boxes, texts, kinds, edges = _check_drawing(udiff.graph(x))
    assert list(texts.values()) == [("variable", "(2,) float64")] and not edges
    assert kinds["n0"][0] == ["variable", "output"]
    _, boxes, texts, _, edges = _check_drawing(udiff.graph(y, [x]))
    assert [lines[0] for lines in texts.values()] == ["variable", "multiply", "sum"]


def test_names_label_the_nodes_they_name():
    with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        x1, x2 = np.asarray(2.0), np.asarray(5.0)
        y = np.log(x1) + x1 * x2 - np.sin(x2)
    g = udiff.graph(y, names={"x1": x1, "x2": x2, "y": y})
    firsts = [node.lines[0] for node in g.nodes]
    assert firsts[0] == "x1 = variable" and "x2 = variable" in firsts
    assert firsts[-1] == "y = subtract"
    assert "x1 = variable" in g.source and "x1 = variable" in g.svg()
    with pytest.raises(TypeError, match="names="):
        udiff.graph(y, names={x1: "x1"})
