"""Rules for functions that move, join or pad entries without arithmetic.

All of them are linear, so each JVP applies the function itself to the
tangent (with batch axes kept in front) and each VJP is its adjoint.
"""
import numpy as np

from ..numpy import _from_signatures as unp
from ..numpy import _handwritten as _mm
from .._machinery.dispatch import call
from .._machinery.registry import defjvp, defnondiff, defvjp
from ._helpers import broadcast_tangent, nbatch, ndim, shape, unbroadcast, zeros_cotangent


def _batch(t, x):
    return shape(t)[: ndim(t) - ndim(x)]


def _reshape(a, new_shape):
    """``reshape`` through the inner backend's implementation (Dask's needs a fallback
    that NumPy's protocol would bypass), recorded when ``a`` is a DiffArray."""
    return call(unp.reshape, a, new_shape)


# reshape-like: the entries keep their order ------------------------------------------
def _reshape_vjp(ans, x, *args, **kwargs):
    if kwargs.get("order", "C") not in ("C", "A") or (args[1:2] and args[1] not in ("C", "A")):
        raise NotImplementedError("udiff differentiates reshape with order='C' only")
    return lambda g: _reshape(g, _batch(g, ans) + shape(x))


def _reshape_jvp(t, ans, x, *args, **kwargs):
    return _reshape(t, _batch(t, x) + shape(ans))


for _func in (unp.reshape, unp.ravel, _mm.expand_dims):
    defvjp(_func, _reshape_vjp)
    defjvp(_func, _reshape_jvp)


# asarray/array of a DiffArray: the identity (up to dtype) -----------------------------
def _identity_vjp(ans, x, *args, **kwargs):
    return lambda g: g


# ... and of a (nested) list of DiffArrays and constants, ``np.array([x, y])``: the
# cotangent of each element is its slice of the result's (after the batch axes), and
# the tangent is the elements' tangents stacked, zeros for the constants.
def _sequence_vjp(ans, x):
    def vjp(g):
        nb = nbatch(g, ans)

        def part(seq, path):
            return [part(a, path + (i,)) if type(a) in (list, tuple)
                    else g[(slice(None),) * nb + path + (i,)] for i, a in enumerate(seq)]

        return part(x, ())

    return vjp


def _sequence_jvp(t, ans, x):
    leaves = []

    def find(tree, seq):
        for v, a in zip(tree, seq):
            if type(v) is list:
                find(v, a)
            elif v is not None:
                leaves.append((v, a))

    find(t, x)
    some, like = leaves[0]
    batch = _batch(some, like)
    nb = len(batch)
    dtype = np.result_type(*[v.dtype for v, _ in leaves])

    def stacked(tree, depth):
        pieces = [stacked(v, depth + 1) if type(v) is list
                  else np.zeros_like(some, dtype=dtype, shape=batch + shape(ans)[depth + 1:])
                  if v is None else v for v in tree]
        return np.stack(pieces, axis=nb)

    return stacked(t, 0)


def _array_vjp(ans, x, *args, **kwargs):
    return _sequence_vjp(ans, x) if type(x) in (list, tuple) else lambda g: g


def _array_jvp(t, ans, x, *args, **kwargs):
    return _sequence_jvp(t, ans, x) if type(x) in (list, tuple) else t


for _func in (unp.asarray, unp.array):
    defvjp(_func, _array_vjp)
    defjvp(_func, _array_jvp)


# permutations of axes ----------------------------------------------------------------
def _perm_of(func, nd, args, kwargs):
    """The axis permutation ``func`` applies to an ``nd``-dimensional array."""
    if func is unp.transpose:
        axes = args[0] if args else kwargs.get("axes")
        return tuple(range(nd))[::-1] if axes is None else tuple(a % nd for a in axes)
    if func is unp.swapaxes:
        a1, a2 = args if len(args) == 2 else (args[0] if args else kwargs["axis1"], kwargs["axis2"])
        perm = list(range(nd))
        perm[a1 % nd], perm[a2 % nd] = perm[a2 % nd], perm[a1 % nd]
        return tuple(perm)
    if func is unp.moveaxis:
        src, dst = args if len(args) == 2 else (kwargs["source"], kwargs["destination"])
        src = [s % nd for s in np.atleast_1d(src).tolist()]
        dst = [d % nd for d in np.atleast_1d(dst).tolist()]
        rest = [a for a in range(nd) if a not in src]
        for d, s in sorted(zip(dst, src)):
            rest.insert(d, s)
        return tuple(rest)
    # rollaxis(a, axis, start=0), as NumPy implements it
    axis = (args[0] if args else kwargs["axis"]) % nd
    start = args[1] if len(args) > 1 else kwargs.get("start", 0)
    start = start + nd if start < 0 else start
    if axis < start:
        start -= 1
    perm = list(range(nd))
    perm.remove(axis)
    perm.insert(start, axis)
    return tuple(perm)


def _batched(perm, nb):
    return tuple(range(nb)) + tuple(p + nb for p in perm)


def _def_permutation(func):
    def vjp_maker(ans, x, *args, **kwargs):
        perm = _perm_of(func, ndim(x), args, kwargs)
        inverse = tuple(np.argsort(perm).tolist())
        return lambda g: np.transpose(g, _batched(inverse, nbatch(g, ans)))

    def jvp(t, ans, x, *args, **kwargs):
        perm = _perm_of(func, ndim(x), args, kwargs)
        return np.transpose(t, _batched(perm, nbatch(t, x)))

    defvjp(func, vjp_maker)
    defjvp(func, jvp)


for _func in (unp.transpose, unp.swapaxes, unp.moveaxis, unp.rollaxis):
    _def_permutation(_func)


# broadcasting ------------------------------------------------------------------------
defvjp(unp.broadcast_to, lambda ans, x, *a, **k: lambda g: unbroadcast(g, ans, x))
defjvp(unp.broadcast_to, lambda t, ans, x, *a, **k: broadcast_tangent(t, x, ans))

_MAX_ARRAYS = 32  # rules are registered per output for up to this many arrays


def _def_per_output(func, vjp_of, jvp_of):
    """Rules for a function whose output ``i`` depends only on input ``i``."""
    for i in range(_MAX_ARRAYS):
        defvjp((func, i), *(vjp_of(i, j) for j in range(_MAX_ARRAYS)))
        defjvp((func, i), *(jvp_of(i, j) for j in range(_MAX_ARRAYS)))


def _bcast_vjp(i, j):
    def maker(ans, *xs, **kwargs):
        return lambda g: unbroadcast(g, ans, xs[j]) if i == j else zeros_cotangent(g, ans, xs[j])

    return maker


def _bcast_jvp(i, j):
    def rule(t, ans, *xs, **kwargs):
        t = broadcast_tangent(t, xs[j], ans)
        return t if i == j else np.zeros_like(t)

    return rule


_def_per_output(unp.broadcast_arrays, _bcast_vjp, _bcast_jvp)


# atleast_Nd: reshapes ----------------------------------------------------------------------
def _atleast_vjp(i, j):
    """Output ``i`` of ``atleast_Nd(*arrays)`` reshapes input ``i`` only."""

    def maker(ans, *arrays):
        if i != j:
            return lambda g: zeros_cotangent(g, ans, arrays[j])
        return lambda g: _reshape(g, _batch(g, ans) + shape(arrays[j]))

    return maker


def _atleast_jvp(i, j):
    def rule(t, ans, *arrays):
        target = _batch(t, arrays[j]) + shape(ans)
        return _reshape(t, target) if i == j else np.zeros_like(t, shape=target)

    return rule


for _func in (unp.atleast_1d, unp.atleast_2d, unp.atleast_3d):
    defvjp(_func, _atleast_vjp(0, 0))  # one array in, one out
    defjvp(_func, _atleast_jvp(0, 0))
    _def_per_output(_func, _atleast_vjp, _atleast_jvp)


# joining: reshape each array, then concatenate along one axis --------------------------
def _join_plan(func, arrays, args, kwargs):
    """``(shapes, axis)``: each array's shape after reshaping and the axis of
    concatenation (a non-negative axis of the result), or ``axis=None`` for
    ``concatenate(..., axis=None)`` (everything flattened)."""
    shapes = [shape(a) for a in arrays]
    if func is unp.concatenate:
        axis = args[0] if args else kwargs.get("axis", 0)
        if axis is None:
            return [(int(np.prod(s, dtype=np.int64)),) for s in shapes], 0
        return shapes, axis % len(shapes[0])
    if func is unp.stack:
        axis = args[0] if args else kwargs.get("axis", 0)
        axis %= len(shapes[0]) + 1
        return [s[:axis] + (1,) + s[axis:] for s in shapes], axis
    if func is unp.hstack:  # as NumPy: atleast_1d, then axis 0 if the first is 1-d
        shapes = [s if s else (1,) for s in shapes]
        return shapes, 0 if len(shapes[0]) == 1 else 1
    if func is unp.vstack:
        return [(1,) * (2 - len(s)) + s if len(s) < 2 else s for s in shapes], 0
    if func is unp.column_stack:
        return [(int(np.prod(s, dtype=np.int64)), 1) if len(s) < 2 else s for s in shapes], 1
    raise NotImplementedError(func)


def _def_join(func):
    def vjp_maker(ans, arrays, *args, **kwargs):
        shapes, axis = _join_plan(func, arrays, args, kwargs)

        def vjp(g):
            batch = _batch(g, ans)
            g = _reshape(g, batch + _joined_shape(shapes, axis))
            out, start = [], 0
            for a, s in zip(arrays, shapes):
                stop = start + s[axis]
                piece = g[(Ellipsis, slice(start, stop)) + (slice(None),) * (len(s) - axis - 1)]
                out.append(_reshape(piece, batch + shape(a)))
                start = stop
            return out

        return vjp

    def jvp(t, ans, arrays, *args, **kwargs):
        shapes, axis = _join_plan(func, arrays, args, kwargs)
        some = next(i for i, v in enumerate(t) if v is not None)
        batch = _batch(t[some], arrays[some])
        pieces = [
            _reshape(v, batch + s) if v is not None
            else np.zeros_like(t[some], shape=batch + s)
            for v, s in zip(t, shapes)
        ]
        joined = np.concatenate(pieces, axis=axis - len(shapes[0]))
        return _reshape(joined, batch + shape(ans))

    defvjp(func, vjp_maker)
    defjvp(func, jvp)


def _joined_shape(shapes, axis):
    first = shapes[0]
    return first[:axis] + (sum(s[axis] for s in shapes),) + first[axis + 1:]


for _func in (unp.concatenate, unp.stack, unp.hstack, unp.vstack, unp.column_stack):
    _def_join(_func)


# block: nested concatenation ---------------------------------------------------------
def _leaves(nested, path=()):
    if isinstance(nested, list):
        for i, item in enumerate(nested):
            yield from _leaves(item, path + (i,))
    else:
        yield path, nested


def _block_layout(arrays):
    """For each leaf of ``block``'s nested list: its path, its shape padded to
    the result's rank, and its offset along each concatenated axis."""
    leaves = list(_leaves(arrays))
    depth = len(leaves[0][0])
    rank = max(depth, max(len(shape(a)) for _, a in leaves))
    padded = {p: (1,) * (rank - len(shape(a))) + shape(a) for p, a in leaves}

    def extent(node, path, level):
        # size of a sub-block along axis rank - depth + level = that of its first leaf
        while isinstance(node, list):
            node, path = node[0], path + (0,)
        return padded[path][rank - depth + level]

    layout = []
    for p, a in leaves:
        offsets, node = [], arrays
        for level, i in enumerate(p):
            offsets.append(sum(extent(node[k], p[:level] + (k,), level) for k in range(i)))
            node = node[i]
        layout.append((p, a, padded[p], offsets))
    return rank, depth, layout


def _block_vjp(ans, arrays):
    rank, depth, layout = _block_layout(arrays)

    def vjp(g):
        batch = _batch(g, ans)
        out = _nested_like(arrays)
        for p, a, padded, offsets in layout:
            index = [slice(None)] * rank
            for level, off in enumerate(offsets):
                ax = rank - depth + level
                index[ax] = slice(off, off + padded[ax])
            piece = g[(Ellipsis,) + tuple(index)]
            _set(out, p, _reshape(piece, batch + shape(a)))
        return out

    return vjp


def _block_jvp(t, ans, arrays):
    rank, depth, layout = _block_layout(arrays)
    given = [(_at(t, p), a) for p, a, _, _ in layout if _at(t, p) is not None]
    batch = _batch(*given[0])
    like = given[0][0]
    pieces = _nested_like(arrays)
    for p, a, padded, _ in layout:
        v = _at(t, p)
        _set(pieces, p, _reshape(v, batch + padded) if v is not None
             else np.zeros_like(like, shape=batch + padded))
    return np.block(pieces)


def _nested_like(nested):
    return [_nested_like(n) for n in nested] if isinstance(nested, list) else None


def _at(nested, path):
    for i in path:
        nested = nested[i]
    return nested


def _set(nested, path, value):
    _at(nested, path[:-1])[path[-1]] = value


defvjp(unp.block, _block_vjp)
defjvp(unp.block, _block_jvp)


# pad ---------------------------------------------------------------------------------
_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


def _pad_widths(pad_width, nd):
    return [tuple(int(v) for v in row) for row in np.broadcast_to(np.asarray(pad_width), (nd, 2))]


def _pad_mode(args, kwargs):
    return args[0] if args else kwargs.get("mode", "constant")


def _pad_vjp(ans, x, pad_width, *args, **kwargs):
    mode = _pad_mode(args, kwargs)
    widths = _pad_widths(pad_width, ndim(x))
    if mode == "constant":
        index = tuple(slice(b, b + n) for (b, _), n in zip(widths, shape(x)))
        return lambda g: g[(Ellipsis,) + index]
    if mode not in _INDEX_MODES:
        raise NotImplementedError(f"udiff cannot differentiate pad with mode={mode!r}")
    size = int(np.prod(shape(x), dtype=np.int64))
    positions = np.pad(np.arange(size).reshape(shape(x)), widths, mode=mode).ravel()

    def vjp(g):
        batch = _batch(g, ans)
        flat = _reshape(g, batch + (positions.size,))
        summed = _scatter(flat, positions, size)
        return _reshape(summed, batch + shape(x))

    return vjp


def _scatter(flat, positions, size):
    return call(_mm.scatter_add_along_axis, flat, positions, -1, size)


def _pad_jvp(t, ans, x, pad_width, *args, **kwargs):
    mode = _pad_mode(args, kwargs)
    widths = [(0, 0)] * nbatch(t, x) + _pad_widths(pad_width, ndim(x))
    if mode != "constant" and mode not in _INDEX_MODES:
        raise NotImplementedError(f"udiff cannot differentiate pad with mode={mode!r}")
    return call(unp.pad, t, widths, mode)  # through the inner backend: Dask's own pad errs


defvjp(unp.pad, _pad_vjp)
defjvp(unp.pad, _pad_jvp)

# Independent of every input's values (arange and full: rules/elementwise.py).
defnondiff(
    unp.zeros, unp.ones, unp.eye, _mm.zeros_like, _mm.ones_like,
    unp.shape, unp.ndim, unp.size, unp.nbytes,
)
