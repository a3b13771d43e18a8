"""Rules for functions that select entries: indexing, where, sorting, compress."""
import numpy as np

from ..numpy import _from_signatures as unp
from ..numpy import _handwritten as _mm
from .._machinery.diff_array import DiffArray
from .._machinery.dispatch import call
from .._machinery.registry import defjvp, defnondiff, defvjp
from ._helpers import (
    broadcast_tangent,
    match_chunks,
    nbatch,
    ndim,
    shape,
    unbroadcast,
    zeros_cotangent,
)


def _reshape(a, new_shape):
    return call(unp.reshape, a, new_shape)


def _getitem(a, index):
    """``a[index]`` through the inner backend (Dask needs vindex for point-wise
    fancy indexing), recorded when ``a`` is a DiffArray."""
    return call(_mm.getitem, a, index)


def _value(a):
    """The inner array of a DiffArray (for constants computed from it), else ``a``.

    Only a DiffArray's: a vmap's BatchedArray also has a ``value`` (all examples
    stacked on axis 0), and taking it would drop the batch, so that a permutation
    along axis -1 of one example became one of the stacked values, one rank too
    many for the cotangent it is applied to (``vmap(grad(sort))``).
    """
    return a.value if type(a) is DiffArray else a


def _prefixed(index, nb):
    """``index`` with ``nb`` full slices in front, for arrays with batch axes."""
    index = index if isinstance(index, tuple) else (index,)
    return (slice(None),) * nb + index


def _front_axes(index):
    """How many axes NumPy puts first in ``a[index]``, else 0.

    Index arrays (integers count as such when an array is present, a boolean
    scalar or mask makes one axis) that are not next to each other put their
    broadcast axes first, before any batch axes a prefix of full slices keeps.
    """
    items = [_list_item(i) if isinstance(i, list) else i
             for i in (index if isinstance(index, tuple) else (index,))]
    basic = [i is None or i is Ellipsis or isinstance(i, slice) for i in items]
    arrays = [i for i, b in zip(items, basic) if not b and (ndim(i) or _is_bool(i))]
    if not arrays or len("".join(" " if b else "a" for b in basic).split()) < 2:
        return 0
    return max(1 if _is_bool(i) else ndim(i) for i in arrays)


def _list_item(i):
    """A list in an index as NumPy reads it, for its rank and dtype only.

    A list holding arrays of another kind (a vmap's BatchedArrays, whose examples
    differ, so that they have no NumPy value; Dask arrays, which would be computed)
    becomes a stand-in of that shape and dtype, which holds no data.
    """
    def stand_in(a):
        if isinstance(a, list):
            parts = [stand_in(e) for e in a]
            if not parts:
                return np.asarray(a)
            return np.broadcast_to(np.zeros((), np.result_type(*parts)),
                                   (len(parts),) + np.broadcast_shapes(*(p.shape for p in parts)))
        if hasattr(a, "shape") and not isinstance(a, (np.ndarray, np.generic)):
            return np.broadcast_to(np.zeros((), np.dtype(a.dtype)), shape(a))
        return np.asarray(a)

    def foreign(a):
        if isinstance(a, list):
            return any(map(foreign, a))
        return hasattr(a, "shape") and not isinstance(a, (np.ndarray, np.generic))

    return stand_in(i) if foreign(i) else np.asarray(i)


def _is_bool(i):
    return isinstance(i, (bool, np.bool_)) or getattr(i, "dtype", None) == bool


def _batched_getitem(a, index, nb):
    """``a[index]`` for an ``a`` with ``nb`` leading batch axes, which stay first."""
    out = _getitem(a, _prefixed(index, nb))
    front = _front_axes(index)
    if front and nb:
        out = np.moveaxis(out, tuple(range(front, front + nb)), tuple(range(nb)))
    return out


def _batched_index_add(values, index, nb, out_shape):
    """``index_add`` of ``values`` with ``nb`` leading batch axes, kept first."""
    batch = shape(values)[:nb]
    front = _front_axes(index)
    if front and nb:
        values = np.moveaxis(values, tuple(range(nb)), tuple(range(front, front + nb)))
    return call(_mm.index_add, values, _prefixed(index, nb), batch + tuple(out_shape))


# indexing and its adjoint ---------------------------------------------------------------
def _getitem_vjp(ans, x, index):
    return lambda g: match_chunks(_batched_index_add(g, index, nbatch(g, ans), shape(x)), x)


def _index_add_vjp(ans, values, index, out_shape):
    return lambda g: _batched_getitem(g, index, ndim(g) - len(out_shape))


defvjp(_mm.getitem, _getitem_vjp)
defjvp(_mm.getitem, lambda t, ans, x, index: _batched_getitem(t, index, nbatch(t, x)))
defvjp(_mm.index_add, _index_add_vjp)
defjvp(
    _mm.index_add,
    lambda t, ans, values, index, out_shape: _batched_index_add(
        t, index, nbatch(t, values), out_shape),
)


# where ----------------------------------------------------------------------------------
def _where_vjp(pick):
    def maker(ans, cond, x, y):
        target = x if pick else y
        return lambda g: unbroadcast(
            np.where(cond, g, 0.0) if pick else np.where(cond, 0.0, g), ans, target
        )

    return maker


def _where_jvp(pick):
    def rule(t, ans, cond, x, y):
        t = broadcast_tangent(t, x if pick else y, ans)
        return np.where(cond, t, 0.0) if pick else np.where(cond, 0.0, t)

    return rule


defvjp(
    unp.where,
    lambda ans, cond, x, y: lambda g: zeros_cotangent(g, ans, cond),
    _where_vjp(True),
    _where_vjp(False),
)
defjvp(
    unp.where,
    lambda t, ans, cond, x, y: np.zeros_like(broadcast_tangent(t, cond, ans), dtype=float),
    _where_jvp(True),
    _where_jvp(False),
)


# gathers along an axis: take_along_axis and its adjoint ------------------------------------
def _expand_index(indices, like):
    """``indices`` broadcast to ``like``'s shape (batch axes included)."""
    return np.broadcast_to(indices, shape(like))


def _take_vjp(ans, arr, indices, axis):
    n = shape(arr)[axis]
    neg = axis % ndim(arr) - ndim(arr)
    return lambda g: call(_mm.scatter_add_along_axis, g, _expand_index(indices, g), neg, n)


def _take_jvp(t, ans, arr, indices, axis):
    neg = axis % ndim(arr) - ndim(arr)
    batch = shape(t)[: nbatch(t, arr)]
    return call(_mm.take_along_axis, t, np.broadcast_to(indices, batch + shape(indices)), neg)


def _scatter_vjp(ans, values, indices, axis, length):
    neg = axis % ndim(values) - ndim(values)

    def vjp(g):
        batch = shape(g)[: nbatch(g, ans)]
        return call(_mm.take_along_axis, g, np.broadcast_to(indices, batch + shape(values)), neg)

    return vjp


def _scatter_jvp(t, ans, values, indices, axis, length):
    neg = axis % ndim(values) - ndim(values)
    return call(_mm.scatter_add_along_axis, t, _expand_index(indices, t), neg, length)


defvjp(_mm.take_along_axis, _take_vjp)
defjvp(_mm.take_along_axis, _take_jvp)
defvjp(_mm.scatter_add_along_axis, _scatter_vjp)
defjvp(_mm.scatter_add_along_axis, _scatter_jvp)


# sorting: a permutation found from the input, then a gather ------------------------------
def _sorting_rules(permutation, default_axis=-1, axis_position=None):
    """Rules for ``f(x) = take_along_axis(x, permutation(x), axis)``.

    ``axis_position`` is the index in ``args`` (the arguments after ``x``)
    where ``axis`` is passed positionally, if it can be.
    """

    def plan(x, args, kwargs):
        if axis_position is not None and len(args) > axis_position:
            axis = args[axis_position]
        else:
            axis = kwargs.get("axis", default_axis)
        return axis, permutation(x, args, kwargs, axis)

    def vjp_maker(ans, x, *args, **kwargs):
        axis, perm = plan(x, args, kwargs)

        def vjp(g):
            batch = shape(g)[: nbatch(g, ans)]
            if axis is None:
                flat = call(_mm.scatter_add_along_axis, g,
                            np.broadcast_to(perm, shape(g)), -1, int(np.prod(shape(x))))
                return _reshape(flat, batch + shape(x))
            neg = axis % ndim(x) - ndim(x)
            return call(_mm.scatter_add_along_axis, g, np.broadcast_to(perm, shape(g)),
                        neg, shape(x)[axis])

        return vjp

    def jvp(t, ans, x, *args, **kwargs):
        axis, perm = plan(x, args, kwargs)
        batch = shape(t)[: nbatch(t, x)]
        if axis is None:
            t = _reshape(t, batch + (-1,))
            neg = -1
        else:
            neg = axis % ndim(x) - ndim(x)
        return call(_mm.take_along_axis, t, np.broadcast_to(perm, batch + shape(perm)), neg)

    return vjp_maker, jvp


# The permutations are constants: computed from the values, through the inner backend
# (Dask has no argsort of its own).
def _argsort_perm(x, args, kwargs, axis):
    return call(unp.argsort, _value(x), axis=axis)


def _argpartition_perm(x, args, kwargs, axis):
    kth = args[0] if args else kwargs["kth"]
    return call(unp.argpartition, _value(x), kth, axis=axis)


for _func, _perm, _axis, _position in [
    (unp.sort, _argsort_perm, -1, 0),  # sort(a, axis, kind, order)
    (unp.msort, _argsort_perm, 0, None),
    (unp.partition, _argpartition_perm, -1, 1),  # partition(a, kth, axis, kind, order)
]:
    _v, _j = _sorting_rules(_perm, _axis, _position)
    defvjp(_func, _v)
    defjvp(_func, _j)
    if _func is unp.sort:
        # sort_complex sorts along the last axis and returns complex numbers.
        defvjp(unp.sort_complex, lambda ans, x, _v=_v: lambda g: (
            np.real(_v(ans, x)(g)) if np.dtype(x.dtype).kind != "c" else _v(ans, x)(g)))
        defjvp(unp.sort_complex, lambda t, ans, x, _j=_j: _j(t, ans, x) + 0j)


# compress / extract: a gather with indices known from the condition ------------------------
def _compress_positions(cond):
    return np.nonzero(np.ravel(np.asarray(cond)))[0]


def _compress_vjp(ans, cond, a, *args, **kwargs):
    axis = args[0] if args else kwargs.get("axis")
    pos = _compress_positions(cond)

    def vjp(g):
        batch = shape(g)[: nbatch(g, ans)]
        if axis is None:
            flat = call(_mm.scatter_add_along_axis, g, np.broadcast_to(pos, shape(g)), -1,
                        int(np.prod(shape(a))))
            return _reshape(flat, batch + shape(a))
        ax = axis % ndim(a)
        index = _reshape(pos, (len(pos),) + (1,) * (ndim(a) - ax - 1))
        return call(_mm.scatter_add_along_axis, g, np.broadcast_to(index, shape(g)),
                    ax - ndim(a), shape(a)[ax])

    return vjp


def _compress_jvp(t, ans, cond, a, *args, **kwargs):
    axis = args[0] if args else kwargs.get("axis")
    batch = shape(t)[: nbatch(t, a)]
    if axis is None:
        return np.compress(np.ravel(np.asarray(cond)), _reshape(t, batch + (-1,)), axis=-1)
    return np.compress(np.asarray(cond), t, axis=axis % ndim(a) - ndim(a))


defvjp(unp.compress, None, _compress_vjp)
defjvp(unp.compress, None, _compress_jvp)


def _extract_vjp(ans, cond, arr):
    return _compress_vjp(ans, np.ravel(np.asarray(cond)), arr)


def _extract_jvp(t, ans, cond, arr):
    return _compress_jvp(t, ans, np.ravel(np.asarray(cond)), arr)


defvjp(unp.extract, None, _extract_vjp)
defjvp(unp.extract, None, _extract_jvp)

# Integer indices and boolean masks.
defnondiff(
    unp.argsort, unp.argpartition, unp.lexsort, unp.nonzero, unp.argwhere, unp.flatnonzero,
    unp.searchsorted, unp.in1d, unp.isin,
)
# The set functions return entries of their inputs (sorted, deduplicated): not constants.
# udiff has no rules for them, so differentiating one raises an error naming it.
for _func in (unp.unique, unp.intersect1d, unp.setdiff1d, unp.setxor1d, unp.union1d):
    defvjp(_func, None, None)
    defjvp(_func, None, None)
# So do the array API's: their values (output 0) have no rule; the indices, inverse
# indices and counts are constants (piecewise constant in the input).
defvjp(unp.unique_values, None)
defjvp(unp.unique_values, None)
for _func, _nout in ((unp.unique_all, 4), (unp.unique_counts, 2), (unp.unique_inverse, 2)):
    defvjp((_func, 0), None)
    defjvp((_func, 0), None)
    defnondiff(*((_func, _i) for _i in range(1, _nout)))
