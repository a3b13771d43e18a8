"""udiff.graph: the recorded graph as Graphviz DOT text (rendering skips without Graphviz)."""
import re
import shutil

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
