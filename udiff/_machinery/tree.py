"""Containers of arrays (pytrees): flatten them to leaves and build them back.

A *container* is a dict, list, tuple, named tuple or ``None``, or a class
registered with :func:`register_pytree_node`; anything else is a *leaf*.
The functional API differentiates every array leaf of its arguments and
returns derivatives in the same containers, as JAX does: ``grad(f)(params)``
of a dict ``params`` is a dict.  Dicts are flattened in sorted key order
(JAX's order); ``None`` is an empty container (no leaves).
"""
import collections

import numpy as np

__all__ = ["tree_flatten", "tree_unflatten", "tree_map", "tree_leaves", "register_pytree_node"]

# type -> (flatten(obj) -> (children, aux), unflatten(aux, children) -> obj)
_NODES = {}


def register_pytree_node(cls, flatten, unflatten):
    """Make instances of ``cls`` containers whose children are differentiated.

    It only registers ``cls`` and returns ``None``; from then on the
    functional API, :func:`tree_flatten` and :func:`tree_map` look inside its
    instances.

    Parameters
    ----------
    cls : type
        The container class.
    flatten : callable
        ``flatten(obj) -> (children, aux)``: an iterable of children (arrays
        or containers) and hashable data that is not differentiated.
    unflatten : callable
        ``unflatten(aux, children) -> obj``, the inverse.

    Raises
    ------
    ValueError
        If ``cls`` is a container already (registered, or a dict, list,
        tuple or ``None``).

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> class Affine:
    ...     def __init__(self, w, b):
    ...         self.w, self.b = w, b
    >>> udiff.register_pytree_node(
    ...     Affine, lambda a: ((a.w, a.b), None), lambda _, children: Affine(*children))
    >>> g = udiff.grad(lambda p: np.sum(p.w * 3.0 + p.b))(Affine(numpy.ones(2), 1.0))
    >>> g.w, g.b
    (array([3., 3.]), array(2.))
    """
    if cls in _NODES or cls in (dict, list, tuple, type(None)):
        raise ValueError(f"{cls.__qualname__} is already a registered container")
    _NODES[cls] = (flatten, unflatten)


class TreeDef:
    """The structure of a container, without its leaves (see :func:`tree_flatten`)."""

    __slots__ = ("kind", "aux", "children", "num_leaves")

    def __init__(self, kind, aux, children):
        self.kind = kind  # None for a leaf
        self.aux = aux
        self.children = children
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in children)

    def _key(self):
        return (self.kind, self.aux, tuple(c._key() for c in self.children))

    def __eq__(self, other):
        return isinstance(other, TreeDef) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"TreeDef({_describe(self)})"


_LEAF = TreeDef(None, None, ())


def _describe(treedef):
    if treedef.kind is None:
        return "*"
    inner = [_describe(c) for c in treedef.children]
    if treedef.kind is dict:
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(treedef.aux, inner)) + "}"
    if treedef.kind is list:
        return "[" + ", ".join(inner) + "]"
    if treedef.kind is tuple:
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
    if treedef.kind is type(None):
        return "None"
    if treedef.kind not in _NODES and issubclass(treedef.kind, dict):
        keys = _dict_keys(treedef)
        return f"{treedef.kind.__qualname__}(" + "{" + ", ".join(
            f"{k!r}: {v}" for k, v in zip(keys, inner)) + "})"
    return f"{treedef.kind.__qualname__}(" + ", ".join(inner) + ")"


# Dict subclasses are containers: as in JAX, an OrderedDict keeps its keys' order (its
# structure includes it) and a defaultdict its default_factory; other subclasses (leaves
# to JAX) are flattened as dicts (sorted keys).  A subclass is rebuilt without calling its
# constructor (whose signature may be its own), its instance attributes as they were.
def _dict_node(obj):
    kind = type(obj)
    keys = tuple(obj) if isinstance(obj, collections.OrderedDict) else tuple(sorted(obj))
    factory = obj.default_factory if isinstance(obj, collections.defaultdict) else None
    attrs = _Static(getattr(obj, "__dict__", None) or {})
    return kind, (keys, factory, attrs), [obj[k] for k in keys], [f"[{k!r}]" for k in keys]


def _dict_keys(treedef):
    return treedef.aux[0]


def _dict_build(treedef, children):
    kind = treedef.kind
    keys, factory, attrs = treedef.aux
    pairs = zip(keys, children)
    if kind is collections.OrderedDict:
        return collections.OrderedDict(pairs)
    if kind is collections.defaultdict:
        return collections.defaultdict(factory, pairs)
    out = kind.__new__(kind)
    if isinstance(out, collections.defaultdict):
        out.default_factory = factory
    (collections.OrderedDict if isinstance(out, collections.OrderedDict) else dict).update(
        out, pairs)
    if attrs.items:
        out.__dict__.update(attrs.items)
    return out


class _Static:
    """A dict subclass's instance attributes, kept as they are (not differentiated): equal
    when the names are, so that two instances with the same keys have one structure."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = dict(items)

    def __eq__(self, other):
        return isinstance(other, _Static) and self.items.keys() == other.items.keys()

    def __hash__(self):
        return hash(tuple(sorted(map(str, self.items))))


def _children_of(obj):
    """``(kind, aux, children)`` of a container, or None for a leaf."""
    kind = type(obj)
    if kind in _LEAF_TYPES:
        return None
    if kind is dict:
        keys = sorted(obj)
        return kind, tuple(keys), [obj[k] for k in keys]
    if kind is list or kind is tuple:
        return kind, None, list(obj)
    if obj is None:
        return kind, None, []
    if kind in _NODES:
        children, aux = _NODES[kind][0](obj)
        return kind, aux, list(children)
    if isinstance(obj, tuple) and hasattr(kind, "_fields"):  # a named tuple
        return kind, None, list(obj)
    if isinstance(obj, dict):
        kind, aux, children, _ = _dict_node(obj)
        return kind, aux, children
    return None


def _names_of(obj, kind, aux, children):
    """The path suffixes of a container's children (``['w']``, ``[0]``, ``.field``)."""
    if kind is dict or (kind is not None and kind not in _NODES and issubclass(kind, dict)):
        return [f"[{k!r}]" for k in aux] if kind is dict else _dict_node(obj)[3]
    if kind is list or kind is tuple or kind is type(None):
        return [f"[{i}]" for i in range(len(children))]
    if kind in _NODES:
        return [f"<{i}>" for i in range(len(children))]
    return [f".{f}" for f in kind._fields]  # a named tuple


def _node_of(obj):
    """``(kind, aux, children, child names)`` of a container, or None for a leaf."""
    node = _children_of(obj)
    if node is None:
        return None
    kind, aux, children = node
    return kind, aux, children, _names_of(obj, kind, aux, children)


# Types that are always leaves, answered before any container check (the hot path:
# arrays and numbers).  udiff's array classes (DiffArray, BatchedArray) add themselves.
_LEAF_TYPES = {float, int, complex, bool, str, np.ndarray, np.float64, np.float32,
               np.int64, np.complex128}


def register_leaf_type(cls):
    """Mark ``cls`` as a leaf type: its instances are never containers (internal: a
    shortcut for array classes, which flattening would otherwise test one by one)."""
    _LEAF_TYPES.add(cls)


def tree_flatten(tree):
    """The leaves of ``tree`` (depth first, dicts by sorted key) and its structure.

    Parameters
    ----------
    tree : object
        A container (dict, list, tuple, named tuple, ``None``, or a class
        registered with :func:`register_pytree_node`) of leaves, nested to
        any depth; anything else is a single leaf.

    Returns
    -------
    leaves : list
        The leaves, depth first; a dict's entries in sorted key order.
    treedef : TreeDef
        The structure without its leaves, for :func:`tree_unflatten`.
        Structures compare equal when their containers, keys and nesting
        are equal.

    Examples
    --------
    >>> import udiff
    >>> leaves, treedef = udiff.tree_flatten({"b": [1.0, 2.0], "a": (3.0, None)})
    >>> leaves
    [3.0, 1.0, 2.0]
    >>> udiff.tree_unflatten(treedef, [x * 10 for x in leaves])
    {'a': (30.0, None), 'b': [10.0, 20.0]}
    """
    leaves = []
    if type(tree) in _LEAF_TYPES:
        leaves.append(tree)
        return leaves, _LEAF
    return leaves, _flatten_leaves(tree, leaves)


def tree_flatten_with_paths(tree, root=""):
    """``(leaves, paths, treedef)``: each leaf's path reads like ``params['w'][1]``."""
    leaves, paths = [], []
    treedef = _flatten(tree, leaves, paths, root)
    return leaves, paths, treedef


def _flatten(tree, leaves, paths, path):
    node = _children_of(tree)
    if node is None:
        leaves.append(tree)
        paths.append(path)
        return _LEAF
    kind, aux, children = node
    names = _names_of(tree, kind, aux, children)
    return TreeDef(kind, aux, tuple(
        _flatten(c, leaves, paths, path + n) for c, n in zip(children, names)))


def _flatten_leaves(tree, leaves):
    """:func:`_flatten` without the paths (the hot path)."""
    if type(tree) in _LEAF_TYPES:
        leaves.append(tree)
        return _LEAF
    node = _children_of(tree)
    if node is None:
        leaves.append(tree)
        return _LEAF
    kind, aux, children = node
    return TreeDef(kind, aux, tuple([_flatten_leaves(c, leaves) for c in children]))


def tree_unflatten(treedef, leaves):
    """The container of structure ``treedef`` holding ``leaves`` (the inverse of flattening).

    Parameters
    ----------
    treedef : TreeDef
        A structure, as :func:`tree_flatten` returns it.
    leaves : iterable
        As many leaves as ``treedef`` holds, in :func:`tree_flatten`'s order.

    Returns
    -------
    object
        The container, built anew (registered classes by their
        ``unflatten``).

    Raises
    ------
    ValueError
        If the number of leaves is not the structure's.

    Examples
    --------
    >>> import udiff
    >>> _, treedef = udiff.tree_flatten({"w": [0, 0], "b": 0})
    >>> udiff.tree_unflatten(treedef, [1, 2, 3])
    {'b': 1, 'w': [2, 3]}
    """
    if treedef is _LEAF and type(leaves) is list and len(leaves) == 1:
        return leaves[0]
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"the structure {_describe(treedef)} holds {treedef.num_leaves} leaves, "
            f"but {len(leaves)} were given"
        )
    it = iter(leaves)
    return _build(treedef, it)


def _build(treedef, it):
    kind = treedef.kind
    if kind is None:
        return next(it)
    children = [_build(c, it) for c in treedef.children]
    if kind is dict:
        return dict(zip(treedef.aux, children))
    if kind is list:
        return children
    if kind is tuple:
        return tuple(children)
    if kind is type(None):
        return None
    if kind in _NODES:
        return _NODES[kind][1](treedef.aux, children)
    if issubclass(kind, dict):
        return _dict_build(treedef, children)
    return kind(*children)  # a named tuple


def tree_leaves(tree):
    """The leaves of ``tree``, in :func:`tree_flatten`'s order.

    Parameters
    ----------
    tree : object
        A container of leaves (see :func:`tree_flatten`).

    Returns
    -------
    list
        The leaves, depth first; a dict's entries in sorted key order.

    Examples
    --------
    >>> import udiff
    >>> udiff.tree_leaves({"w": [1.0, 2.0], "b": 3.0, "none": None})
    [3.0, 1.0, 2.0]
    """
    return tree_flatten(tree)[0]


def tree_map(f, tree, *rest):
    """``tree``'s structure holding ``f(leaf, *leaves of rest at the same place)``.

    Parameters
    ----------
    f : callable
        Called on each leaf of ``tree`` and the leaves at the same place in
        ``rest``.
    tree : object
        A container of leaves (see :func:`tree_flatten`).
    *rest : object
        Containers with the same structure as ``tree``.

    Returns
    -------
    object
        A new container of ``tree``'s structure holding ``f``'s results.

    Raises
    ------
    ValueError
        If a container of ``rest`` has another structure.

    Examples
    --------
    >>> import udiff
    >>> udiff.tree_map(lambda a, b: a + b, {"x": 1, "y": [2]}, {"x": 10, "y": [20]})
    {'x': 11, 'y': [22]}
    """
    leaves, treedef = tree_flatten(tree)
    others = []
    for r in rest:
        r_leaves, r_def = tree_flatten(r)
        check_structure(r_def, treedef, "every container given to tree_map")
        others.append(r_leaves)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])


def check_structure(treedef, expected, what):
    """Raise a ValueError naming ``what`` unless ``treedef`` is ``expected``."""
    if treedef != expected:
        raise ValueError(
            f"{what} must have the structure {_describe(expected)}, got {_describe(treedef)}")


def describe(treedef):
    """A short readable form of a structure, for error messages."""
    return _describe(treedef)

