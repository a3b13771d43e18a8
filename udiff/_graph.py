"""Pictures of the recorded graph: ``udiff.graph(y)`` describes it in Graphviz's DOT."""
import numpy as np

from ._core import LAZY, DiffArray
from ._registry import key_name

__all__ = ["graph", "Graph"]


class Graph:
    """A recorded graph as Graphviz DOT text (``.source``), drawn in Jupyter.

    Rendering needs the ``graphviz`` Python package and Graphviz's ``dot``
    program (``pip install graphviz``; ``apt install graphviz`` or
    ``brew install graphviz``); without them ``.source`` still holds the text.
    """

    def __init__(self, source, size):
        self.source = source
        self.size = size  # the number of operations and variables drawn

    def __str__(self):
        return self.source

    def __repr__(self):
        return f"<udiff.Graph of {self.size} nodes>"

    def render(self, format="svg"):
        """The picture, as bytes in ``format`` (needs ``graphviz`` and ``dot``)."""
        import graphviz

        return graphviz.Source(self.source).pipe(format=format)

    def _repr_mimebundle_(self, include=None, exclude=None):
        try:
            return {"image/svg+xml": self.render("svg").decode()}
        except Exception:  # no graphviz package or no dot program: show the text
            return {"text/plain": self.source}


def graph(y, variables=None, cotangents=False):
    """The graph that computed ``y``, as Graphviz DOT text (a :class:`Graph`).

    One node per operation, labelled with its function, shape and dtype, with
    an edge from each parent; variables (parentless DiffArrays) are marked,
    and so are constant arrays and numbers the operations were given.

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

    Examples
    --------
    >>> import uarray as ua, udiff, udiff.numpy as np
    >>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
    ...     x1, x2 = np.asarray(2.0), np.asarray(5.0)
    ...     y = np.log(x1) + x1 * x2 - np.sin(x2)
    >>> print(udiff.graph(y, [x1, x2]).source.splitlines()[2])
      n0 [label="variable\\n() float64", shape=box, style=filled, fillcolor="#cfe8ff"];
    """
    ys = list(y) if isinstance(y, (list, tuple)) else [y]
    for out in ys:
        if type(out) is not DiffArray:
            raise TypeError(f"udiff.graph draws DiffArrays, not {type(out).__name__}")
    nodes = _nodes(ys, variables)
    adjoints = _cotangents(ys, nodes, variables) if cotangents else {}
    names = {node: f"n{i}" for i, node in enumerate(nodes)}
    outputs = set(ys)
    lines = ["digraph udiff {", '  rankdir=LR; node [fontname="Helvetica", fontsize=10];']
    constants = 0
    for node in nodes:
        lines.append(f"  {names[node]} [{_style(node, adjoints.get(node), node in outputs)}];")
        taken = {argnum for argnum, _, _ in node._parents}
        for argnum, path, parent in node._parents:
            if parent in names:
                where = f"arg {argnum}" + "".join(f"[{i}]" for i in path)
                lines.append(f'  {names[parent]} -> {names[node]} [label="{where}"];')
        for argnum, value in enumerate(node._args or ()):
            if argnum in taken or node._fn is LAZY or not _is_constant(value):
                continue
            name = f"c{constants}"
            constants += 1
            lines.append(f'  {name} [label="{_escape(_describe_constant(value))}", '
                         'shape=plaintext, fontcolor="#666666"];')
            lines.append(f'  {name} -> {names[node]} [label="arg {argnum}", style=dashed, '
                         'color="#999999"];')
    lines.append("}")
    return Graph("\n".join(lines), len(nodes))


def _nodes(ys, variables):
    """The nodes to draw, parents before children."""
    if variables is not None:
        from ._sweeps import _toposort

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
        stack.extend((p, False) for _, _, p in reversed(node._parents) if p not in seen)
    return order


def _cotangents(ys, nodes, variables):
    from ._sweeps import reverse_sweep_many

    kept = {}
    seeds = [np.ones_like(y.value, dtype=np.result_type(y.value, 1.0)) for y in ys]
    xs = list(variables) if variables is not None else [n for n in nodes if not n._parents]
    reverse_sweep_many(ys, xs, seeds, False, keep=kept)
    return kept


def _style(node, cotangent, is_output):
    what = f"{node.shape} {node.dtype}"
    if node._fn is LAZY:
        label, extra = "derivative (not re-derived)", ', style=dashed'
    elif not node._parents:
        label, extra = "variable", ', shape=box, style=filled, fillcolor="#cfe8ff"'
    else:
        label, extra = key_name(node._fn), ""
    if is_output:
        extra += ', penwidth=2'
    text = f"{label}\n{what}"
    if cotangent is not None:
        text += f"\ncotangent {_summary(cotangent)}"
    return f'label="{_escape(text)}"{extra}'


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
    if np.size(value) <= 4 and not hasattr(value, "dask"):
        return np.array2string(np.asarray(value), precision=4, separator=", ")
    return f"{tuple(np.shape(value))} array"


def _escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
