"""Pictures of the recorded graph: ``udiff.graph(y)``.

``graph`` first describes the graph as data (``GraphNode`` and
``GraphEdge`` records, in a :class:`Graph`); the Graphviz DOT text
(``Graph.source``) and the SVG picture (``Graph.svg()``) are both written
from that description.  The SVG is drawn by udiff itself, with a layered
layout from left to right, so the picture shows in Jupyter (and in
documentation built from notebooks) without Graphviz.
"""
from collections import namedtuple
from xml.sax.saxutils import escape as _xml_escape

import numpy as np

from ._machinery.diff_array import LAZY, DiffArray, current_of, parents_of
from ._machinery.registry import key_name

__all__ = ["graph", "Graph", "GraphNode", "GraphEdge"]

GraphNode = namedtuple("GraphNode", "name kind lines output")
GraphNode.__doc__ = """One node of a :class:`Graph`.

Attributes
----------
name : str
    ``"n0"``, ``"n1"``... for operations and variables, ``"c0"``... for constants.
kind : str
    ``"variable"``, ``"operation"``, ``"constant"`` or ``"not-re-derived"``
    (a derivative from a plain sweep, shown as the one node it is until it is
    differentiated again).
lines : tuple of str
    The label, one line each: the function (or ``variable``), shape and
    dtype, and the cotangent when asked for.
output : bool
    Whether the node is one of the outputs ``graph`` was given.

Examples
--------
>>> import uarray as ua, udiff, udiff.numpy as np
>>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
...     x = np.asarray([1.0, 2.0])
...     y = np.sum(x * x)
>>> udiff.graph(y).nodes[-1]
GraphNode(name='n2', kind='operation', lines=('sum', '() float64'), output=True)
"""
GraphEdge = namedtuple("GraphEdge", "tail head label style")
GraphEdge.__doc__ = """One edge of a :class:`Graph`, from an argument to the operation using it.

Attributes
----------
tail, head : str
    The names of the nodes (the argument, the operation).
label : str
    Which argument: ``"arg 1"``, or ``"arg 0[2]"`` for the third array of a
    sequence argument.
style : str
    ``"solid"``, or ``"dashed"`` for a constant's edge.

Examples
--------
>>> import uarray as ua, udiff, udiff.numpy as np
>>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
...     x = np.asarray([1.0, 2.0])
...     y = np.sum(x * 3.0)
>>> for edge in udiff.graph(y).edges:
...     print(edge)
GraphEdge(tail='n0', head='n1', label='arg 0', style='solid')
GraphEdge(tail='c0', head='n1', label='arg 1', style='dashed')
GraphEdge(tail='n1', head='n2', label='arg 0', style='solid')
"""

_DOT_STYLE = {
    "variable": ', shape=box, style=filled, fillcolor="#cfe8ff"',
    "operation": "",
    "not-re-derived": ", style=dashed",
}


class Graph:
    """A recorded graph, described node by node; shows as a picture in Jupyter.

    Made by :func:`udiff.graph`.  ``.nodes`` and ``.edges`` describe it
    (``GraphNode`` and ``GraphEdge`` records, each operation after its
    arguments, a constant right after the operation it feeds); ``.svg()`` draws it (udiff's own drawing, nothing to install),
    ``.source`` is the same graph in Graphviz's DOT language, and
    ``.render(format)`` runs Graphviz on it for other formats (PNG, PDF).
    In Jupyter the object shows as the SVG picture.

    Parameters
    ----------
    nodes : sequence of GraphNode
        The nodes, each operation after its arguments.
    edges : sequence of GraphEdge
        The edges, from each argument to the operation using it.

    Attributes
    ----------
    nodes : tuple of GraphNode
        The nodes, as given.
    edges : tuple of GraphEdge
        The edges, as given.
    size : int
        The number of operations and variables (constants not counted).

    Examples
    --------
    >>> import uarray as ua, udiff, udiff.numpy as np
    >>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
    ...     x = np.asarray([1.0, 2.0])
    ...     y = np.sum(np.sin(x) * 2.0)
    >>> g = udiff.graph(y)
    >>> g
    <udiff.Graph of 4 nodes>
    >>> for node in g.nodes:
    ...     print(node.name, node.kind, node.lines, node.output)
    n0 variable ('variable', '(2,) float64') False
    n1 operation ('sin', '(2,) float64') False
    n2 operation ('multiply', '(2,) float64') False
    c0 constant ('constant 2.',) False
    n3 operation ('sum', '() float64') True
    >>> g.edges[2]
    GraphEdge(tail='c0', head='n2', label='arg 1', style='dashed')
    >>> g.svg().startswith("<svg")
    True
    """

    def __init__(self, nodes, edges):
        self.nodes = tuple(nodes)
        self.edges = tuple(edges)
        self.size = sum(node.kind != "constant" for node in self.nodes)
        self._svg = None

    @property
    def source(self):
        """The graph in Graphviz's DOT language (str)."""
        into, out_of = {}, {}
        for edge in self.edges:
            into.setdefault(edge.head, []).append(edge)
            out_of.setdefault(edge.tail, []).append(edge)
        lines = ["digraph udiff {", '  rankdir=LR; node [fontname="Helvetica", fontsize=10];']
        for node in self.nodes:
            label = _escape("\n".join(node.lines))
            if node.kind == "constant":
                lines.append(f'  {node.name} [label="{label}", '
                             'shape=plaintext, fontcolor="#666666"];')
                # a constant's line and its one edge come right after its operation's
                for edge in out_of.get(node.name, ()):
                    lines.append(f'  {node.name} -> {edge.head} [label="{edge.label}", '
                                 'style=dashed, color="#999999"];')
                continue
            extra = _DOT_STYLE[node.kind] + (", penwidth=2" if node.output else "")
            lines.append(f'  {node.name} [label="{label}"{extra}];')
            for edge in into.get(node.name, ()):
                if edge.style == "solid":
                    lines.append(f'  {edge.tail} -> {node.name} [label="{edge.label}"];')
        lines.append("}")
        return "\n".join(lines)

    def __str__(self):
        return self.source

    def __repr__(self):
        return f"<udiff.Graph of {self.size} nodes>"

    def svg(self):
        """The picture, as an SVG document (str), drawn by udiff itself.

        The layout is layered from left to right: each operation one column
        right of its furthest argument, variables and constants just left
        of their first use, the order within a column chosen to reduce edge
        crossings.  Variables are filled light blue, outputs have a thick
        border, constants are grey text, derivatives not yet re-derived
        are dashed; each edge is labelled with the argument it is.  Nothing
        needs installing (Graphviz is not used); the drawing is
        deterministic, and its time grows about linearly with the graph.

        Returns
        -------
        str
            A standalone ``<svg>`` element, sized in pixels.

        Examples
        --------
        >>> import xml.etree.ElementTree as ET
        >>> import uarray as ua, udiff, udiff.numpy as np
        >>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        ...     x1, x2 = np.asarray(2.0), np.asarray(5.0)
        ...     y = np.log(x1) + x1 * x2 - np.sin(x2)
        >>> svg = udiff.graph(y).svg()
        >>> root = ET.fromstring(svg)
        >>> root.tag
        '{http://www.w3.org/2000/svg}svg'
        >>> [g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g")
        ...  if g.get("class").startswith("node")]  # one group, and one box, per node
        ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6']
        """
        if self._svg is None:
            self._svg = _draw_svg(self.nodes, self.edges)
        return self._svg

    def render(self, format="svg"):
        """The picture drawn by Graphviz from :attr:`source`, in any of its formats.

        This is the route to formats other than SVG (PNG, PDF...): it needs
        the ``graphviz`` Python package and Graphviz's ``dot`` program
        (``pip install graphviz``; ``apt install graphviz`` or ``brew install
        graphviz``).  For SVG, :meth:`svg` needs neither.

        Parameters
        ----------
        format : str
            A Graphviz output format: ``"png"``, ``"pdf"``, ``"svg"``...

        Returns
        -------
        bytes
            The picture, as Graphviz's ``dot`` writes it.

        Examples
        --------
        >>> import uarray as ua, udiff, udiff.numpy as np
        >>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        ...     x = np.asarray([1.0, 2.0])
        ...     y = np.sum(np.exp(x))
        >>> png = udiff.graph(y).render("png")  # doctest: +SKIP
        >>> png[:8]  # doctest: +SKIP
        b'\\x89PNG\\r\\n\\x1a\\n'
        """
        import graphviz

        return graphviz.Source(self.source).pipe(format=format)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self.svg(), "text/plain": repr(self)}

    def _repr_svg_(self):
        return self.svg()


def graph(y, variables=None, cotangents=False, names=None):
    """The graph that computed ``y``, as a :class:`Graph` (a picture in Jupyter).

    One node per operation, labelled with its function, shape and dtype, with
    an edge from each parent; variables (parentless DiffArrays) are marked,
    and so are constant arrays and numbers the operations were given.
    ``.svg()`` draws it (nothing to install), ``.source`` is its Graphviz
    DOT text.

    Parameters
    ----------
    y : DiffArray, or a sequence of DiffArrays
        The output(s).
    variables : sequence of DiffArray, optional
        Draw only the operations between these and ``y`` (default: every
        operation ``y`` depends on).
    cotangents : bool
        Also show each node's cotangent from a reverse sweep seeded with ones
        (the gradient of ``sum(y)`` with respect to that node).
    names : dict of str to DiffArray, optional
        Labels for nodes, e.g. ``{"x1": x1, "y": y}``: a named node's label
        starts with its name (``x1 = variable``, ``y = add``).

    Returns
    -------
    Graph
        The nodes and edges, with ``.svg()``, ``.source`` and ``.render()``.

    Raises
    ------
    TypeError
        If ``y`` is not a DiffArray (or a sequence of them), or ``names``
        does not map strings to DiffArrays.

    Examples
    --------
    >>> import uarray as ua, udiff, udiff.numpy as np
    >>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
    ...     x1, x2 = np.asarray(2.0), np.asarray(5.0)
    ...     y = np.log(x1) + x1 * x2 - np.sin(x2)
    >>> g = udiff.graph(y, [x1, x2], cotangents=True)
    >>> [node.lines for node in g.nodes if node.kind == "variable"]
    [('variable', '() float64', 'cotangent 5.5'), ('variable', '() float64', 'cotangent 1.7163')]
    >>> print(g.source.splitlines()[2].replace(", ", ",\\n    "))
      n0 [label="variable\\n() float64\\ncotangent 5.5",
        shape=box,
        style=filled,
        fillcolor="#cfe8ff"];
    """
    ys = list(y) if isinstance(y, (list, tuple)) else [y]
    for out in ys:
        if type(out) is not DiffArray:
            raise TypeError(f"udiff.graph draws DiffArrays, not {type(out).__name__}")
    ys = [current_of(out) for out in ys]  # (an array updated by x[i] = v: its new node)
    labels = {}
    for label, node in (names or {}).items():
        if not isinstance(label, str) or type(node) is not DiffArray:
            raise TypeError("udiff.graph's names= maps names (str) to DiffArrays, "
                            f"not {type(label).__name__} to {type(node).__name__}")
        labels[id(node)] = label
    order = _nodes(ys, variables)
    adjoints = _cotangents(ys, order, variables) if cotangents else {}
    names = {node: f"n{i}" for i, node in enumerate(order)}
    outputs = set(ys)
    nodes, edges, constants = [], [], 0
    for node in order:
        name = names[node]
        kind, lines = _describe(node, adjoints.get(node), labels.get(id(node)))
        nodes.append(GraphNode(name, kind, lines, node in outputs))
        parents = parents_of(node)
        taken = {argnum for argnum, _, _ in parents}
        for argnum, path, parent in parents:
            if parent in names:
                where = f"arg {argnum}" + "".join(f"[{i}]" for i in path)
                edges.append(GraphEdge(names[parent], name, where, "solid"))
        for argnum, value in enumerate(node._args or ()):
            if argnum in taken or node._fn is LAZY or not _is_constant(value):
                continue
            constant = f"c{constants}"
            constants += 1
            nodes.append(GraphNode(constant, "constant", (_describe_constant(value),), False))
            edges.append(GraphEdge(constant, name, f"arg {argnum}", "dashed"))
    return Graph(nodes, edges)


def _nodes(ys, variables):
    """The nodes to draw, parents before children."""
    if variables is not None:
        from ._machinery.sweeps import _toposort

        return _toposort(ys, list(variables))
    order, seen, stack = [], set(), [(y, False) for y in reversed(ys)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        stack.extend((p, False) for _, _, p in reversed(parents_of(node)) if p not in seen)
    return order


def _cotangents(ys, nodes, variables):
    from ._machinery.sweeps import reverse_sweep_many

    kept = {}
    seeds = [np.ones_like(y.value, dtype=np.result_type(y.value, 1.0)) for y in ys]
    xs = list(variables) if variables is not None else [n for n in nodes if not n._parents]
    reverse_sweep_many(ys, xs, seeds, False, keep=kept)
    return kept


def _describe(node, cotangent, name=None):
    """The node's kind and label lines (the first starting with ``name =``)."""
    if node._fn is LAZY:
        kind, label = "not-re-derived", "derivative (not re-derived)"
    elif not node._parents:
        kind, label = "variable", "variable"
    else:
        kind, label = "operation", key_name(node._fn)
    if name is not None:
        label = f"{name} = {label}"
    text = f"{label}\n{node.shape} {node.dtype}"
    if cotangent is not None:
        text += f"\ncotangent {_summary(cotangent)}"
    return kind, tuple(text.split("\n"))


def _is_constant(value):
    return isinstance(value, (float, complex, np.floating, np.complexfloating)) or (
        hasattr(value, "shape") and hasattr(value, "dtype"))


def _describe_constant(value):
    if hasattr(value, "shape") and np.ndim(value):
        return f"constant {tuple(value.shape)} {value.dtype}"
    return f"constant {_summary(value)}"


def _summary(value):
    """A short text for an array: its values if it has a few, else its shape."""
    value = getattr(value, "value", value)
    if not hasattr(value, "dask") and np.size(value) <= 4:  # np.size warns on Dask arrays
        return np.array2string(np.asarray(value), precision=4, separator=", ")
    return f"{tuple(np.shape(value))} array"


def _escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# -- the SVG drawing -----------------------------------------------------------------
#
# A layered ("Sugiyama") layout from left to right:
# 1. columns: an operation's column is one more than its furthest argument's (the
#    longest path from the sources); a parentless node (variable, constant) sits
#    just left of its first use;
# 2. an edge spanning several columns passes through a waypoint in each column
#    between (a "dummy"), so that it takes part in the ordering and goes around
#    boxes; the edges of one node share their dummies (a trunk they branch off), so
#    a variable used all along a loop costs one dummy per column, not one per use;
# 3. the order within each column: sweeps right and left, ordering by the
#    barycentre of the neighbours in the column just fixed, keeping the order
#    with the fewest crossings;
# 4. heights: each column is placed as close as possible (least squares, by
#    pool-adjacent-violators) to its neighbours' heights, keeping its order and
#    spacing; a few passes alternate between directions;
# 5. edges leave a box's right side and enter the left side at ports spread along
#    it, sorted by the other end's height (so edges do not cross at a box), as
#    cubic Bézier curves with horizontal ends; the last stretch before a column is
#    straight and carries the edge's label, one label per port (a box is tall
#    enough for its ports).

_FONT = 11.0  # px, node text
_EDGE_FONT = 9.0  # px, edge labels
_CHAR = 0.62  # a monospace character's width, in units of the font size
_LINE = 14.0  # px between lines of text
_PAD_X, _PAD_Y = 8.0, 6.0  # px inside a box around the text
_PORT = 16.0  # px between two edges entering a box (room for a label each)
_CURVE = 44.0  # px of a column gap taken by the curves
_STRAIGHT = 52.0  # px before a column where edges run straight (and carry labels)
_ARROW = 7.0  # px, the arrowhead's length
_GAP_NODES = 18.0  # px between two boxes of a column
_GAP_DUMMY = 10.0  # px between an edge passing through a column and its neighbours
_MARGIN = 12.0
_SWEEPS = 4  # crossing-reduction sweeps (alternately rightwards and leftwards)
_PASSES = 5  # height-placement passes

_FILL = {"variable": "#cfe8ff", "operation": "#ffffff", "not-re-derived": "#ffffff",
         "constant": "none"}


def _is_dummy(item):
    return isinstance(item, tuple)


def _ranks(names, parents, children):
    """Each node's column; ``names`` lists parents before children."""
    rank = {}
    for name in names:
        rank[name] = 1 + max((rank[p] for p in parents[name]), default=-1)
    for name in names:  # a source just left of its first use
        if not parents[name] and children[name]:
            rank[name] = min(rank[c] for c in children[name]) - 1
    low = min(rank.values(), default=0)
    return {name: r - low for name, r in rank.items()}


def _crossings(upper, lower, up):
    """The number of crossings between two adjacent columns (an inversion count)."""
    upper_pos = {item: i for i, item in enumerate(upper)}
    pairs = sorted((upper_pos[a], j) for j, b in enumerate(lower) for a in up[b])
    tree = [0] * (len(lower) + 1)  # a Fenwick tree over the lower positions
    count = 0
    for seen, (_, j) in enumerate(pairs):
        i, at_or_before = j + 1, 0
        while i > 0:
            at_or_before += tree[i]
            i -= i & -i
        count += seen - at_or_before
        i = j + 1
        while i <= len(lower):
            tree[i] += 1
            i += i & -i
    return count


def _order(columns, up, down):
    """Reorder each column by barycentres, a few sweeps; the fewest crossings win."""
    def total(cols):
        return sum(_crossings(cols[r], cols[r + 1], up) for r in range(len(cols) - 1))

    cols = [list(c) for c in columns]
    best, best_count = [list(c) for c in cols], total(cols)
    for sweep in range(_SWEEPS):
        if best_count == 0:
            break
        rightwards = sweep % 2 == 0
        indices = range(1, len(cols)) if rightwards else range(len(cols) - 2, -1, -1)
        neighbours = up if rightwards else down
        for r in indices:
            fixed = {item: i for i, item in enumerate(cols[r - 1 if rightwards else r + 1])}
            keys = {}
            for i, item in enumerate(cols[r]):
                near = neighbours[item]
                centre = sum(fixed[n] for n in near) / len(near) if near else i
                keys[item] = (centre, i)
            cols[r].sort(key=keys.__getitem__)
        count = total(cols)
        if count < best_count:
            best, best_count = [list(c) for c in cols], count
    return best


def _isotonic(targets, gaps):
    """Least-squares positions closest to ``targets`` with ``y[i+1] - y[i] >= gaps[i]``."""
    offsets = [0.0]
    for g in gaps:
        offsets.append(offsets[-1] + g)
    blocks = []  # [mean, weight] of pooled targets, less the offsets
    for t, o in zip(targets, offsets):
        blocks.append([t - o, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2 = blocks.pop()
            m1, w1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2])
    placed = []
    for mean, weight in blocks:
        placed.extend([mean] * weight)
    return [z + o for z, o in zip(placed, offsets)]


class _Layout:
    """Where everything goes, in pixels (see the comment above)."""

    def __init__(self, nodes, edges):
        names = [node.name for node in nodes]
        parents = {name: [] for name in names}
        children = {name: [] for name in names}
        for edge in edges:
            parents[edge.head].append(edge.tail)
            children[edge.tail].append(edge.head)
        # ``nodes`` lists parents first, except that a constant follows its operation
        in_order = [n.name for n in nodes if n.kind == "constant"] + [
            n.name for n in nodes if n.kind != "constant"]
        self.rank = rank = _ranks(in_order, parents, children)
        size = {}
        for node in nodes:
            width = max(len(line) for line in node.lines) * _FONT * _CHAR + 2 * _PAD_X
            height = max(len(node.lines) * _LINE + 2 * _PAD_Y, len(parents[node.name]) * _PORT)
            size[node.name] = (width, height)

        ncols = 1 + max(rank.values(), default=0)
        columns = [[] for _ in range(ncols)]
        for name in names:  # first appearance decides the first order
            columns[rank[name]].append(name)
        up = {name: [] for name in names}  # the linked items in the column to the left
        down = {name: [] for name in names}  # ... and to the right
        self.routes = []  # per edge: the items it passes, tail first
        for edge in edges:
            route = [edge.tail]
            for r in range(rank[edge.tail] + 1, rank[edge.head]):
                dummy = (edge.tail, r)  # shared by the tail's edges passing column r
                if dummy not in up:
                    columns[r].append(dummy)
                    up[dummy], down[dummy] = [], []
                route.append(dummy)
            route.append(edge.head)
            for a, b in zip(route, route[1:]):
                if a not in up[b]:
                    up[b].append(a)
                    down[a].append(b)
            self.routes.append(route)
        self.columns = columns = _order(columns, up, down)

        def height(item):
            return 0.0 if _is_dummy(item) else size[item][1]

        def gap(a, b):
            space = _GAP_DUMMY if _is_dummy(a) or _is_dummy(b) else _GAP_NODES
            return (height(a) + height(b)) / 2 + space

        y = {}
        for column in columns:
            at = 0.0
            for i, item in enumerate(column):
                at += gap(column[i - 1], item) if i else height(item) / 2
                y[item] = at
        for p in range(_PASSES):
            if p == _PASSES - 1:  # the last pass: between both sides
                indices, near_of = range(ncols), (lambda item: up[item] + down[item])
            elif p % 2 == 0:
                indices, near_of = range(1, ncols), up.__getitem__
            else:
                indices, near_of = range(ncols - 2, -1, -1), down.__getitem__
            for r in indices:
                column = columns[r]
                targets = []
                for item in column:
                    near = near_of(item)
                    targets.append(sum(y[n] for n in near) / len(near) if near else y[item])
                gaps = [gap(a, b) for a, b in zip(column, column[1:])]
                y.update(zip(column, _isotonic(targets, gaps)))

        shift = _MARGIN - min((y[i] - height(i) / 2 for i in y), default=0.0)
        self.y = {item: v + shift for item, v in y.items()}
        self.widths = [max((size[i][0] for i in c if not _is_dummy(i)), default=0.0)
                       for c in columns]
        self.left, x = [], _MARGIN
        for r in range(ncols):
            x += (_CURVE + _STRAIGHT) if r else 0.0
            self.left.append(x)
            x += self.widths[r]
        self.boxes = {}
        for name in names:
            w, h = size[name]
            r = rank[name]
            self.boxes[name] = (self.left[r] + (self.widths[r] - w) / 2,
                                self.y[name] - h / 2, w, h)
        self.width = x + _MARGIN
        self.height = max((self.y[i] + height(i) / 2 for i in self.y), default=0.0) + _MARGIN
        self._ports()

    def _ports(self):
        """The height where each edge leaves its tail (``.out``) and enters its head (``.into``).

        A box's edges are spread along its side in the order of the heights of
        the items at their other ends; edges to the same next item share a port.
        """
        leaving = {}
        for route in self.routes:
            nexts = leaving.setdefault(route[0], [])
            if route[1] not in nexts:
                nexts.append(route[1])
        self.out = {}
        for name, nexts in leaving.items():
            _, top, _, h = self.boxes[name]
            nexts.sort(key=lambda item: self.y[item])  # a stable sort: ties keep edge order
            for k, item in enumerate(nexts):
                self.out[name, item] = top + h * (k + 0.5) / len(nexts)
        entering = {}
        for i, route in enumerate(self.routes):
            before = route[-2]
            at = self.y[before] if _is_dummy(before) else self.out[before, route[-1]]
            entering.setdefault(route[-1], []).append((at, i))
        self.into = {}
        for name, ends in entering.items():
            _, top, _, h = self.boxes[name]
            ends.sort()
            for k, (_, i) in enumerate(ends):
                self.into[i] = top + h * (k + 0.5) / len(ends)


def _num(v):
    text = f"{v:.1f}"
    return "0" if text == "-0.0" else text[:-2] if text.endswith(".0") else text


def _edge_paths(layout):
    """Per edge, its SVG path data, from where it leaves the edges drawn before it.

    The edges of a node share their trunk through the columns they pass: each
    edge is drawn from the last item it shares with one drawn before, so the
    picture's size grows with the graph's, not with the lengths of its edges.
    """
    drawn, paths = set(), []
    rank, left, widths, boxes, y = (layout.rank, layout.left, layout.widths,
                                    layout.boxes, layout.y)

    def right_end(item):
        r = item[1] if _is_dummy(item) else rank[item]
        return left[r] + widths[r]

    for i, route in enumerate(layout.routes):
        segments = [(a, b if _is_dummy(b) else i) for a, b in zip(route, route[1:])]
        start = next(k for k, s in enumerate(segments) if s not in drawn)
        drawn.update(segments)
        first = route[start]
        if _is_dummy(first):
            at_x, at_y = right_end(first), y[first]
            d = f"M{_num(at_x)},{_num(at_y)}"
        else:
            bx, _, bw, _ = boxes[first]
            at_x, at_y = bx + bw, layout.out[first, route[1]]
            d = f"M{_num(at_x)},{_num(at_y)}"
            if at_x < right_end(first):
                at_x = right_end(first)
                d += f" L{_num(at_x)},{_num(at_y)}"
        for item in route[start + 1:]:
            dummy = _is_dummy(item)
            to_y = y[item] if dummy else layout.into[i]
            to_x = left[item[1] if dummy else rank[item]] - _STRAIGHT
            mid = (at_x + to_x) / 2
            d += (f" C{_num(mid)},{_num(at_y)} {_num(mid)},{_num(to_y)} "
                  f"{_num(to_x)},{_num(to_y)}")
            at_x, at_y = (right_end(item) if dummy else boxes[item][0] - _ARROW), to_y
            d += f" L{_num(at_x)},{_num(at_y)}"
        paths.append(d)
    return paths


def _draw_svg(nodes, edges):
    layout = _Layout(nodes, edges)
    width, height = _num(layout.width), _num(layout.height)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" '
        'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
        f'font-size="{_num(_FONT)}">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for i, (edge, d) in enumerate(zip(edges, _edge_paths(layout))):
        dashed = edge.style == "dashed"
        colour = "#999999" if dashed else "#333333"
        hx, hy = layout.boxes[edge.head][0], layout.into[i]
        parts += [
            f'<g class="edge" data-tail="{edge.tail}" data-head="{edge.head}">',
            f"<title>{_xml_escape(f'{edge.tail} -> {edge.head} ({edge.label})')}</title>",
            f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.2"'
            + (' stroke-dasharray="5,3"' if dashed else "") + "/>",
            f'<polygon points="{_num(hx)},{_num(hy)} {_num(hx - _ARROW)},{_num(hy - 3.5)} '
            f'{_num(hx - _ARROW)},{_num(hy + 3.5)}" fill="{colour}"/>',
            f'<text x="{_num(layout.left[layout.rank[edge.head]] - 3)}" y="{_num(hy - 3)}" '
            f'font-size="{_num(_EDGE_FONT)}" text-anchor="end" fill="#555555">'
            f"{_xml_escape(edge.label)}</text>",
            "</g>",
        ]
    for node in nodes:
        bx, by, bw, bh = layout.boxes[node.name]
        kind = node.kind
        parts.append(f'<g class="node {kind}' + (' output' if node.output else '')
                     + f'" id="{node.name}">')
        parts.append(f"<title>{_xml_escape(' / '.join(node.lines))}</title>")
        attrs = (f'x="{_num(bx)}" y="{_num(by)}" width="{_num(bw)}" height="{_num(bh)}" '
                 f'fill="{_FILL[kind]}" stroke="{"none" if kind == "constant" else "#333333"}"')
        if kind in ("operation", "not-re-derived"):
            attrs += ' rx="7"'
        if node.output:
            attrs += ' stroke-width="2.5"'
        if kind == "not-re-derived":
            attrs += ' stroke-dasharray="5,3"'
        parts.append(f"<rect {attrs}/>")
        first = by + bh / 2 - (len(node.lines) - 1) * _LINE / 2 + _FONT * 0.35
        colour = "#666666" if kind == "constant" else "#111111"
        for k, line in enumerate(node.lines):
            bold = ' font-weight="bold"' if k == 0 and kind != "constant" else ""
            parts.append(f'<text x="{_num(bx + bw / 2)}" y="{_num(first + k * _LINE)}" '
                         f'text-anchor="middle" fill="{colour}"{bold} '
                         f'style="white-space:pre">{_xml_escape(line)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)
