"""``udiff.vmap``: a function of one example, run on a batch of them."""
import functools
import warnings

import numpy as np
import uarray as ua

from .._machinery import batched_array as _batched
from .._machinery.batched_array import BatchedArray
from .batching import Frame
from .._machinery.diff_array import DiffArray
from .._machinery.dispatch import call
from .._machinery.tree import (
    _node_of,
    describe,
    tree_flatten,
    tree_flatten_with_paths,
    tree_unflatten,
)
from .batching_inner import batching_backend


def vmap(f, in_axes=0, out_axes=0, axis_size=None):
    """``f`` vectorized over a batch axis of its arguments, with JAX's semantics.

    ``vmap(f)(xs)`` equals ``stack([f(x) for x in xs])`` but runs each
    operation of ``f`` once on the whole batch, through the operation's
    batching rule (:func:`udiff.defbatch`); a function without one runs once
    per example (and says so once, with a :class:`udiff.BatchingFallbackWarning`).
    ``f`` is written with ``udiff.numpy`` (or NumPy's functions, or unumpy's)
    and sees arrays of one example.  ``vmap`` nests with itself and with
    ``grad``, ``jacfwd``, ``vjp`` and the other operators in any order, on
    NumPy, Dask and CuPy.

    Parameters
    ----------
    f : callable
        A function of arrays (or containers of arrays).
    in_axes : int, None, or a tuple with one entry per positional argument
        The batch axis of each argument (negative counts from the end), or
        ``None`` for an argument that is the same for every example.  An entry
        may be a container matching its argument's structure (a prefix of
        it), giving an axis per leaf.  Keyword arguments are batched along
        axis 0 (their array leaves), as in JAX.
    out_axes : int, None, or a container matching the output's structure
        Where the batch axis goes in each output.  An output that does not
        depend on the batch is broadcast along it; ``None`` leaves an
        unbatched output as it is.
    axis_size : int, optional
        The batch size, needed only when no argument is batched.

    Returns
    -------
    callable
        The batched function.

    Raises
    ------
    ValueError
        Naming the argument (by its path, as ``params['w']``), its axis and
        the sizes: when ``in_axes`` does not match the arguments' structure,
        an axis is out of range, or batch sizes differ.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> w = numpy.array([1.0, -1.0])
    >>> xs = numpy.array([[1.0, 2.0], [3.0, 5.0], [0.5, 0.5]])
    >>> udiff.vmap(lambda w, x: np.dot(w, x), in_axes=(None, 0))(w, xs)
    array([-1., -2.,  0.])

    Per-example gradients:

    >>> loss = lambda w, x: np.sum(np.tanh(w * x))
    >>> udiff.vmap(udiff.grad(loss), in_axes=(None, 0))(w, xs).shape
    (3, 2)
    """
    _check_spec(in_axes, "in_axes")
    _check_spec(out_axes, "out_axes")
    if axis_size is not None and (not _is_int(axis_size) or axis_size < 0):
        raise ValueError(f"vmap: axis_size must be a non-negative int, not {axis_size!r}")

    names = {}  # the parameter names for error messages, per number of arguments

    @functools.wraps(f)
    def vmapped(*args, **kwargs):
        if len(args) not in names:
            from .functional import _parameter_name

            names[len(args)] = [_parameter_name(f, i) for i in range(len(args))]
        items = _inputs(f, names[len(args)], args, kwargs, in_axes)
        size = _batch_size(items, axis_size)
        frame = Frame(_batched.active_level() + 1, size)
        leaves = [leaf if axis is None else _to_batched(leaf, axis, frame)
                  for leaf, _, axis in items]
        args, kwargs = _rebuild(args, kwargs, leaves)
        stack = _batched.frames()
        stack.append(frame)
        try:
            with _quiet(batching_backend):
                out = f(*args, **kwargs)
        finally:
            stack.pop()
        return _outputs(out, out_axes, frame)

    return vmapped


def _quiet(backend):
    # uarray 0.9 warns on every set_backend call, about its own internals.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return ua.set_backend(backend, coerce=True)


def _is_int(a):
    return isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))


def _check_spec(spec, what):
    if spec is None or _is_int(spec):
        return
    node = _node_of(spec)
    if node is None:
        raise ValueError(
            f"vmap: {what} must be an int, None, or a container of them, not {spec!r}"
        )
    for child in node[2]:
        _check_spec(child, what)


# -- arguments ----------------------------------------------------------------------------
def _inputs(f, names, args, kwargs, in_axes):
    """``(leaf, path, axis)`` for every leaf of the arguments, positional then keyword."""
    if isinstance(in_axes, (tuple, list)) and not hasattr(in_axes, "_fields"):
        if len(in_axes) != len(args):
            raise ValueError(
                f"vmap: in_axes has {len(in_axes)} entries but {_qualname(f)} was called "
                f"with {len(args)} positional arguments; give one entry per argument "
                "(None for an unbatched one)"
            )
        specs = list(in_axes)
    elif in_axes is None or _is_int(in_axes):
        specs = [in_axes] * len(args)
    else:
        raise ValueError(
            f"vmap: in_axes must be an int, None, or a tuple with one entry per positional "
            f"argument, not a {type(in_axes).__name__}"
        )
    items = []
    for arg, spec, name in zip(args, specs, names):
        leaves, paths, _ = tree_flatten_with_paths(arg, name)
        items.extend(zip(leaves, paths, _leaf_axes(spec, arg, name, "in_axes")))
    for name in kwargs:
        leaves, paths, _ = tree_flatten_with_paths(kwargs[name], name)
        items.extend((leaf, path, 0 if hasattr(leaf, "shape") else None)
                     for leaf, path in zip(leaves, paths))
    return items


def _qualname(f):
    return getattr(f, "__qualname__", None) or repr(f)


def _leaf_axes(spec, tree, path, what):
    """The axis of every leaf of ``tree`` given by ``spec``, a prefix of its structure."""
    if spec is None or _is_int(spec):
        return [spec] * tree_flatten(tree)[1].num_leaves
    s_node, t_node = _node_of(spec), _node_of(tree)
    if (t_node is None or s_node[0] is not t_node[0] or s_node[1] != t_node[1]
            or len(s_node[2]) != len(t_node[2])):
        raise ValueError(
            f"vmap: {what} {spec!r} for {path} does not match its structure: {path} is "
            f"{describe(tree_flatten(tree)[1])}; give an int or None for all of it, or a "
            "container of the same structure"
        )
    axes = []
    for s, t, name in zip(s_node[2], t_node[2], t_node[3]):
        axes.extend(_leaf_axes(s, t, path + name, what))
    return axes


def _shape(leaf):
    shape = getattr(leaf, "shape", None)
    return tuple(np.shape(leaf)) if shape is None else tuple(shape)


def _check_axis(axis, shape, path, what):
    if not -len(shape) <= axis < len(shape):
        raise ValueError(
            f"vmap: {what} {axis} is out of range for {path}, of shape {shape} "
            f"(rank {len(shape)}): a batch axis must be in [-{len(shape)}, {len(shape)})"
        )
    return axis % len(shape)


def _batch_size(items, axis_size):
    sizes = []
    for leaf, path, axis in items:
        if axis is not None:
            shape = _shape(leaf)
            axis = _check_axis(axis, shape, path, "in_axes")
            sizes.append((path, axis, shape[axis]))
    found = {n for _, _, n in sizes}
    if axis_size is not None:
        found.add(axis_size)
    if len(found) > 1:
        listed = "; ".join(f"{p} has size {n} on axis {a}" for p, a, n in sizes)
        extra = f"; axis_size is {axis_size}" if axis_size is not None else ""
        raise ValueError(f"vmap: the batch sizes differ: {listed}{extra}")
    if not found:
        raise ValueError(
            "vmap: no argument is batched (every in_axes is None); give axis_size")
    return found.pop()


def _to_batched(leaf, axis, frame):
    axis %= len(_shape(leaf))
    value = leaf if axis == 0 else call("numpy.moveaxis", leaf, axis, 0)
    return BatchedArray(value, frame.level, frame)


def _rebuild(args, kwargs, leaves):
    leaves = iter(leaves)
    new_args = []
    for arg in args:
        treedef = tree_flatten(arg)[1]
        new_args.append(tree_unflatten(treedef, [next(leaves) for _ in range(treedef.num_leaves)]))
    new_kwargs = {}
    for name, value in kwargs.items():
        treedef = tree_flatten(value)[1]
        new_kwargs[name] = tree_unflatten(
            treedef, [next(leaves) for _ in range(treedef.num_leaves)])
    return tuple(new_args), new_kwargs


# -- outputs ---------------------------------------------------------------------------------
def _outputs(out, out_axes, frame):
    leaves, paths, treedef = tree_flatten_with_paths(out, "output")
    axes = _leaf_axes(out_axes, out, "output", "out_axes")
    return tree_unflatten(treedef, [_unbatched(leaf, path, axis, frame)
                                    for leaf, path, axis in zip(leaves, paths, axes)])


def _unbatched(leaf, path, axis, frame):
    """An output leaf with the batch axis at ``axis`` (broadcast along it if unbatched)."""
    t = type(leaf)
    if t is BatchedArray and leaf.frame is frame:
        value = leaf.value
        if axis is None:
            raise ValueError(
                f"vmap: out_axes is None for {path}, but {path} differs between examples; "
                "give it a batch axis")
    elif (t is BatchedArray and leaf.level >= frame.level
          or t is DiffArray and getattr(leaf._backend.inner, "level", 0) >= frame.level):
        raise ValueError(
            f"vmap: {path} is an array of a transformation that ran inside this vmap "
            "and was not undone (a batched value escaped its vmap, or a traced value its "
            "grad); return plain results from inner transformations")
    elif axis is None:
        return leaf
    else:
        if not hasattr(leaf, "shape"):
            if not isinstance(leaf, (int, float, complex, np.generic)):
                raise TypeError(
                    f"vmap: {path} is a {type(leaf).__name__}; vmap's function must return "
                    "arrays or numbers (or containers of them)")
            leaf = np.asarray(leaf)
        shape = _shape(leaf)
        value = call("numpy.broadcast_to", call("numpy.expand_dims", leaf, 0),
                     (frame.size,) + shape)
    axis = _check_axis(axis, (frame.size,) + _shape(value)[1:], path, "out_axes")
    return value if axis == 0 else call("numpy.moveaxis", value, 0, axis)
