"""The Dask inner backend.

Calls Dask's own functions (never ``map_blocks`` for anything that is not
blockwise), so results stay lazy and chunked.  Functions Dask lacks are
written here where the operation allows it (sorting along one axis needs that
axis in one chunk; every other axis stays chunked).  Nothing here reads
uarray's backend state, which Dask's worker threads do not have.
"""
import operator

import numpy as np

from ._base import InnerBackend, einsum_operands, register, scatter_add_along_axis
from ._special import dask_special


def _along_axis(np_func, out_dtype=None):
    """Lift a NumPy function that works along one axis to Dask."""

    def run(a, *args, axis=-1, **kwargs):
        import dask.array as da

        a = da.asarray(a)
        if axis is None:
            a = _ravel(a)
            axis = 0
        axis = axis % a.ndim if a.ndim else 0
        a = a.rechunk({axis: -1})
        dtype = out_dtype if out_dtype is not None else a.dtype
        return da.map_blocks(np_func, a, *args, axis=axis, dtype=dtype, **kwargs)

    return run


def _take_along_axis(arr, indices, axis):
    import dask.array as da

    arr, indices = da.asarray(arr), da.asarray(indices)
    if axis is None:
        return _take_along_axis(_ravel(arr), indices, 0)
    axis = axis % arr.ndim
    out_shape = np.broadcast_shapes(arr.shape[:axis] + indices.shape[axis:axis + 1]
                                    + arr.shape[axis + 1:], indices.shape)
    if 0 in out_shape:  # Dask's blockwise machinery fails on empty arrays
        return da.zeros(out_shape, dtype=arr.dtype)
    indices = indices.rechunk({axis: -1})
    arr = arr.rechunk(
        {
            i: (-1 if i == axis else indices.chunks[i])
            for i in range(arr.ndim)
            if i == axis or arr.shape[i] == indices.shape[i]
        }
    )
    return da.map_blocks(
        np.take_along_axis,
        arr,
        indices,
        axis=axis,
        dtype=arr.dtype,
        chunks=indices.chunks,
    )


def _scatter_add_along_axis(values, indices, axis, length):
    import dask.array as da

    values = da.asarray(values)
    axis %= values.ndim
    if values.size == 0:
        shape = values.shape[:axis] + (length,) + values.shape[axis + 1:]
        return da.zeros(shape, dtype=values.dtype)
    values = values.rechunk({axis: -1})
    indices = da.broadcast_to(da.asarray(indices), values.shape).rechunk(values.chunks)
    chunks = values.chunks[:axis] + ((length,),) + values.chunks[axis + 1 :]
    return da.map_blocks(
        scatter_add_along_axis(np),
        values,
        indices,
        axis=axis,
        length=length,
        dtype=values.dtype,
        chunks=chunks,
    )


class _IndexPlan:
    """A NumPy index split into a basic index and a gather of its result.

    ``x[index] == gather(x[basic])``: ``basic`` holds slices, ``None`` and
    integers only (Ellipsis spelled out, every axis named), and the gather
    takes the integer ``arrays``, broadcast together, at ``positions`` (axes
    of ``x[basic]``), all other axes whole.  Boolean masks become the integer
    arrays of their ``nonzero()``; a boolean scalar is a new axis (``None``)
    gathered at ``[0]`` (``True``) or ``[]`` (``False``).  ``front`` says
    whether NumPy puts the broadcast axes first (index arrays, integers
    included, not next to each other) instead of where the arrays stand.

    With a single 1-D integer array (``take``, which may be a Dask array of
    known length) the integers stay in ``basic``; otherwise they are gathered
    as 0-d arrays, and every array must have known values (NumPy).
    """

    def __init__(self, index, shape):
        items = [_index_item(i) for i in (index if isinstance(index, tuple) else (index,))]
        consumed = sum(_consumes(i) for i in items)
        if consumed > len(shape):
            raise IndexError(f"too many indices: array is {len(shape)}-dimensional, "
                             f"but {consumed} were indexed")
        if not any(i is Ellipsis for i in items):
            items.append(Ellipsis)
        arrays = [i for i in items if _is_array(i)]
        self.take = (len(arrays) == 1 and not isinstance(arrays[0], bool)
                     and arrays[0].ndim == 1 and arrays[0].dtype != bool)
        self.basic, self.positions, self.arrays, kinds = [], [], [], []
        axis = 0  # the axis of x the next item indexes
        for item in items:
            if item is Ellipsis:
                rest = len(shape) - consumed
                self.basic.extend([slice(None)] * rest)
                axis += rest
            elif item is None or isinstance(item, slice):
                self.basic.append(_canonical(item, shape[axis]) if item is not None else None)
                axis += item is not None
            elif isinstance(item, int) and not isinstance(item, bool) and (self.take or not arrays):
                self.basic.append(item)
                axis += 1
            else:
                for array in _gather_arrays(item, shape[axis:axis + _consumes(item)]):
                    self.basic.append(None if isinstance(item, bool) else slice(None))
                    self.positions.append(sum(not isinstance(i, int) for i in self.basic) - 1)
                    self.arrays.append(array)
                axis += _consumes(item)
            kinds.append("a" if _is_array(item) or (arrays and isinstance(item, int)) else " ")
        if len(self.arrays) > 1:
            self.arrays = np.broadcast_arrays(*self.arrays)
        self.front = len("".join(kinds).split()) > 1

    @property
    def gather(self):
        """The index of the gather, applied to ``x[basic]``."""
        index = [slice(None)] * sum(not isinstance(i, int) for i in self.basic)
        for position, array in zip(self.positions, self.arrays):
            index[position] = array
        return tuple(index)

    def nbroadcast(self):
        """How many axes the broadcast index arrays make."""
        return self.arrays[0].ndim if self.arrays else 0

    def gathered_shape(self, basic_shape):
        """The shape of ``x[index]`` for ``x[basic]`` of ``basic_shape``."""
        if not self.take:
            return _shape_of(basic_shape, self.gather)
        shape = list(basic_shape)
        p = self.positions[0]
        shape[p] = self.arrays[0].shape[0]
        if self.front:
            shape.insert(0, shape.pop(p))
        return tuple(shape)


def _is_array(item):
    """Whether an index entry (after ``_index_item``) is an advanced one."""
    return isinstance(item, bool) or hasattr(item, "ndim")


def _index_item(item):
    """One entry of an index, as ``_IndexPlan`` reads it: an int, a bool, an
    integer or boolean ndarray, an integer Dask array, or a slice, ``None`` or
    Ellipsis unchanged."""
    if item is None or item is Ellipsis or isinstance(item, slice):
        return item
    if hasattr(item, "dask"):  # a single 1-D integer array (see _dask_fallback)
        return item
    array = np.asarray(item)
    if array.dtype == bool:
        return bool(array) if array.ndim == 0 else array
    if array.size == 0 and array.dtype.kind == "f":  # x[[]] selects nothing
        array = array.astype(np.intp)
    if array.dtype.kind not in "iu":
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis "
                         "(`None`) and integer or boolean arrays are valid indices")
    return int(array) if array.ndim == 0 else array


def _canonical(item, n):
    """A slice selecting what ``item`` selects from ``n`` entries, with start and stop
    inside the axis (Dask takes ``x[-7::-1]`` of 5 entries for ``x[::-1]``).  On an
    axis of unknown length (after a mask computed from data) the slice is Dask's."""
    if n != n:  # NaN: the length is not known until computed
        return item
    start, stop, step = item.indices(n)
    count = len(range(start, stop, step))
    if count == 0:
        return slice(0, 0)
    last = start + step * (count - 1)
    if step > 0:
        return slice(start, last + 1, step)
    return slice(start, last - 1 if last else None, step)


def _consumes(item):
    """How many axes of the indexed array an index entry uses up."""
    if item is None or item is Ellipsis or isinstance(item, bool):
        return 0
    if getattr(item, "dtype", None) == bool:
        return item.ndim
    return 1


def _gather_arrays(item, axis_sizes):
    """The integer arrays an advanced index entry gathers with, one per axis it uses,
    with negative positions counted from the end and bounds checked."""
    if isinstance(item, bool):
        return [np.zeros(int(item), dtype=np.intp)]
    if getattr(item, "dtype", None) == bool:
        if item.shape != tuple(axis_sizes):
            raise IndexError(f"boolean index of shape {item.shape} does not match the "
                             f"indexed axes of sizes {tuple(axis_sizes)}")
        return list(item.nonzero())
    n = axis_sizes[0]
    if isinstance(item, np.ndarray) or np.ndim(item) == 0:
        return [_positions(np.asarray(item), n)]
    if n == 0 and item.size:
        raise IndexError("index out of bounds for an axis of size 0")
    return [item.map_blocks(_positions, n=n, dtype=np.intp)]


def _positions(array, n):
    """Integer positions into an axis of length ``n``, negative ones from the end."""
    if array.size and (array.max() >= n or array.min() < -n):
        raise IndexError(f"index out of bounds for axis of size {n}")
    return np.where(array < 0, array + n, array)


def _dask_fallback(index):
    """Whether ``index`` holds Dask arrays other than one 1-D integer array of known
    length beside entries of known values: ``_IndexPlan`` needs those values."""
    items = index if isinstance(index, tuple) else (index,)
    lazy = [i for i in items if hasattr(i, "dask")]
    if not lazy:
        return False
    arrays = [i for i in items if not (i is None or i is Ellipsis or isinstance(i, slice))
              and (isinstance(i, (bool, np.bool_)) or np.ndim(i))]
    single = lazy[0]
    return (len(lazy) > 1 or len(arrays) > 1 or single.ndim != 1
            or single.dtype.kind not in "iu" or np.isnan(single.shape[0]))


def _computed_indices(index):
    """``index`` with its Dask integer arrays computed where ``_IndexPlan`` needs their
    values (several of them, or one that is not 1-D: Dask refuses those) and their
    shapes are known; else ``index`` unchanged (a mask computed from data, whose
    sizes only the data knows, is left to Dask's own indexing).

    Such indices come from vmap: a batched index holds one index per example, so one
    index array per example becomes a 2-D one, and a batched array adds the batch
    positions beside it.
    """
    if not _dask_fallback(index):
        return index
    import dask

    items = index if isinstance(index, tuple) else (index,)
    lazy = [k for k, i in enumerate(items) if hasattr(i, "dask")]
    if any(items[k].dtype.kind not in "iu" or np.isnan(items[k].shape).any() for k in lazy):
        return index
    items = list(items)
    for k, value in zip(lazy, dask.compute(*(items[k] for k in lazy))):
        items[k] = np.asarray(value)
    return tuple(items) if isinstance(index, tuple) else items[0]


def _shape_of(shape, index):
    """The shape of ``x[index]`` for ``x`` of ``shape``, found by NumPy (which also
    checks the index) on a broadcast view that holds no data."""
    return np.broadcast_to(np.zeros((), dtype=np.bool_), shape)[index].shape


def _getitem(a, index):
    """``a[index]`` with NumPy's semantics.

    Dask gets some indices wrong (``x[0, :, [1, 3]]`` puts the gathered axis
    last, ``x[True]`` drops the new axis, ``x[-7::-1]`` of 5 entries takes
    them all) and refuses others (several or multi-dimensional index arrays,
    ``None`` next to an array); here the slices, ``None`` and integers are
    applied first, then the index arrays with one ``take`` or a point-wise
    ``vindex``.
    """
    import dask.array as da

    index = _computed_indices(index)
    if _dask_fallback(index):
        return a[index]  # Dask's own (a mask computed from data: sizes unknown)
    plan = _IndexPlan(index, a.shape)
    basic = a[tuple(plan.basic)]
    if not plan.arrays:
        return basic
    if 0 in basic.shape or 0 in plan.arrays[0].shape:
        return da.zeros(plan.gathered_shape(basic.shape), dtype=a.dtype)
    if plan.take:
        out = basic[plan.gather]
        return da.moveaxis(out, plan.positions[0], 0) if plan.front else out
    out = basic.vindex[plan.gather]  # broadcast axes first
    if plan.front:
        return out
    nb, first = plan.nbroadcast(), plan.positions[0]
    return da.moveaxis(out, tuple(range(nb)), tuple(range(first, first + nb)))


def _extract(condition, arr):
    """``extract``: with a condition of known values, a gather of known size
    (Dask's own leaves the size unknown)."""
    import dask.array as da

    if isinstance(condition, da.Array):
        return da.extract(condition, arr)
    return _getitem(_ravel(arr), np.flatnonzero(condition))


def _index_add(values, index, shape):
    """Zeros of ``shape`` with ``values`` added at ``index``: the adjoint of ``getitem``.

    Dask's item assignment is not used: it stores ``x[::-1] = v`` unreversed
    and fails on several empty selections.  The gather's adjoint scatters the
    values with ``scatter_add_along_axis``; each slice is undone by padding
    with zeros (step 1) or by a scatter along its axis, each integer by a new
    axis padded with zeros, each ``None`` by dropping its axis.
    """
    import dask.array as da

    values = da.asarray(values)
    index = _computed_indices(index)
    if _dask_fallback(index):
        raise NotImplementedError(
            "the derivative of indexing a Dask array with this Dask index (a mask, or "
            "index arrays other than a single 1-D one) needs the index's values; compute "
            "the index first (index.compute())"
        )
    if np.isnan(values.shape).any():
        raise ValueError(
            "the derivative of this indexing needs the result's chunk sizes, which Dask "
            "does not know (unknown chunk sizes, NaN, after boolean indexing); call "
            "compute_chunk_sizes() on the indexed array, or index with integer positions"
        )
    shape = tuple(shape)
    plan = _IndexPlan(index, shape)
    basic_shape = _shape_of(shape, tuple(plan.basic))
    if values.size == 0 or 0 in shape:
        return da.zeros(shape, dtype=values.dtype)
    if plan.arrays:
        values = _ungather(values, plan, basic_shape)
    return _unbasic(values, plan.basic, shape)


def _ungather(values, plan, basic_shape):
    """The adjoint of ``basic[plan.gather]``: ``values`` summed into ``basic_shape``."""
    import dask.array as da

    positions, nb = plan.positions, plan.nbroadcast()
    if plan.take:
        p = positions[0]
        if plan.front:
            values = da.moveaxis(values, 0, p)
        index = plan.arrays[0].reshape((1,) * p + (-1,) + (1,) * (len(basic_shape) - p - 1))
        return _scatter_add_along_axis(values, index, p, basic_shape[p])
    if not plan.front:  # the broadcast axes to the front, where vindex puts them
        first = positions[0]
        values = da.moveaxis(values, tuple(range(first, first + nb)), tuple(range(nb)))
    gathered = tuple(basic_shape[p] for p in positions)
    rest = tuple(n for p, n in enumerate(basic_shape) if p not in positions)
    flat = np.ravel_multi_index(tuple(plan.arrays), gathered).reshape((-1,) + (1,) * len(rest))
    values = _reshape(values, (flat.shape[0],) + rest)
    out = _scatter_add_along_axis(values, flat, 0, int(np.prod(gathered)))
    out = _reshape(out, gathered + rest)
    return da.moveaxis(out, tuple(range(len(positions))), tuple(positions))


def _unbasic(values, basic, shape):
    """The adjoint of ``x[basic]`` for ``x`` of ``shape`` (no item selects nothing)."""
    import dask.array as da

    axis = 0  # axes before it are already in ``shape``'s form
    for item in basic:
        if item is None:
            values = da.squeeze(values, axis=axis)
            continue
        n = shape[axis]
        if isinstance(item, slice):
            start, stop, step = item.indices(n)
            count = len(range(start, stop, step))
            if step == 1:
                values = _pad_axis(values, axis, start, n - start - count)
            else:
                positions = (start + step * np.arange(count)).reshape(
                    (-1,) + (1,) * (values.ndim - axis - 1))
                values = _scatter_add_along_axis(values, positions, axis, n)
        else:
            values = _pad_axis(da.expand_dims(values, axis), axis, item % n, n - item % n - 1)
        axis += 1
    return values


def _pad_axis(a, axis, before, after):
    """``a`` with ``before`` and ``after`` zeros around ``axis``."""
    import dask.array as da

    if not (before or after):
        return a
    widths = [(0, 0)] * a.ndim
    widths[axis] = (before, after)
    return da.pad(a, widths, mode="constant")


def _no_empty_chunks(a):
    """Dask ``a`` without chunks of length 0, but one on each empty axis.

    Dask's contractions misread them: ``matmul`` over an axis chunked
    ``(0, 0)`` in one operand and ``(0,)`` in the other adds task keys
    (strings) to values, and over ``(0, 2, 2)`` against ``(2, 2)`` it squeezes
    an axis that is not there.  ``concatenate`` makes them from empty pieces.
    """
    import dask.array as da

    a = da.asarray(a)
    chunks = {axis: tuple(c for c in sizes if c) or (0,)
              for axis, sizes in enumerate(a.chunks)
              if 0 in sizes and len(sizes) > 1 and not np.isnan(sizes).any()}
    return a.rechunk(chunks) if chunks else a


def _concatenate(arrays, axis=0, **kwargs):
    """``concatenate`` leaving no chunks of length 0 (see ``_no_empty_chunks``)."""
    import dask.array as da

    return _no_empty_chunks(da.concatenate(arrays, axis=axis, **kwargs))


def _dot(a, b):
    import dask.array as da

    # dask.array.dot fails on 0-d operands; NumPy defines dot with a scalar as a product.
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return da.multiply(a, b)
    return da.dot(_no_empty_chunks(a), _no_empty_chunks(b))


def _matmul(a, b, **kwargs):
    """``matmul`` without chunks of length 0 (see ``_no_empty_chunks``)."""
    import dask.array as da

    return da.matmul(_no_empty_chunks(a), _no_empty_chunks(b), **kwargs)


def _tensordot(a, b, axes=2):
    """``tensordot`` without chunks of length 0 (see ``_no_empty_chunks``)."""
    import dask.array as da

    return da.tensordot(_no_empty_chunks(a), _no_empty_chunks(b), axes=axes)


def _shape_tuple(shape):
    """``shape`` as NumPy reads a reshape's shape: an integer (a Python or NumPy integer,
    a 0-d integer array) or a sequence of them, as a tuple of Python ints.  Dask's own
    reshape wants a tuple and fails on an integer (``'int' object is not iterable``)."""
    if getattr(shape, "ndim", None) == 0 or not hasattr(shape, "__iter__"):
        return (operator.index(shape),)
    return tuple(operator.index(n) for n in shape)


def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    import dask.array as da

    if order not in ("C", None):
        raise NotImplementedError(f"reshape with order={order!r} on the dask inner backend")
    if shape is None:  # NumPy < 2.1 called it newshape
        shape = newshape
    newshape = _shape_tuple(shape)
    a = da.asarray(a)
    if a.size == 0:  # Dask's reshape fails on empty arrays; their reshape has no data to move
        return da.zeros(np.empty(a.shape, dtype=bool).reshape(newshape).shape, dtype=a.dtype)
    try:
        return da.reshape(a, newshape)
    except NotImplementedError:
        # Dask reshapes only by merging or splitting axes evenly; flattening first
        # always qualifies (at the price of rechunking).
        return da.reshape(da.reshape(a, (-1,)), newshape)


_FFTS = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
         "fftn", "ifftn", "rfftn", "irfftn")


def _fft(name):
    """Dask's ``fft.<name>`` with the transformed axes first put in one chunk each."""

    def run(a, *args, **kwargs):
        import dask.array as da

        a = da.asarray(a)
        if name.endswith("2"):
            axes = kwargs.get("axes", args[1] if len(args) > 1 else (-2, -1))
        elif name.endswith("n"):
            axes = kwargs.get("axes", args[1] if len(args) > 1 else None)
            if axes is None:
                s = kwargs.get("s", args[0] if args else None)
                axes = range(a.ndim - len(s), a.ndim) if s is not None else range(a.ndim)
        else:
            axes = (kwargs.get("axis", args[1] if len(args) > 1 else -1),)
        a = a.rechunk({ax % a.ndim: -1 for ax in axes})
        return getattr(da.fft, name)(a, *args, **kwargs)

    return run


def _reduce(func):
    def reduce(a, axis=0, dtype=None, out=None, keepdims=False):
        kwargs = {"dtype": dtype} if dtype is not None else {}
        return func(a, axis=axis, keepdims=keepdims, **kwargs)

    return reduce


def _log_add_reduce(name, exp, log):
    """``logaddexp.reduce`` (``name``; or ``logaddexp2``'s) with Dask's reductions.

    NumPy folds ``logaddexp`` pairwise, which Dask cannot do across chunks:
    here the exponentials are summed after shifting by the largest entry (so
    none overflows), as ``scipy.special.logsumexp`` does.  An empty array gives
    NumPy's own result (the identity, ``-inf``).
    """

    def reduce(a, axis=0, dtype=None, out=None, keepdims=False, initial=np._NoValue,
               where=True):
        import dask.array as da

        a = da.asarray(a) if dtype is None else da.asarray(a).astype(dtype)
        if a.size == 0:
            empty = np.empty(a.shape, dtype=a.dtype)
            return da.asarray(getattr(np, name).reduce(
                empty, axis=axis, keepdims=keepdims, initial=initial, where=np.asarray(where)))
        if where is not True:
            a = da.where(where, a, -np.inf)
        m = da.max(a, axis=axis, keepdims=True)
        m = da.where(da.isfinite(m), m, 0)
        r = log(da.sum(exp(a - m), axis=axis, keepdims=True)) + m
        if initial is not np._NoValue:
            r = getattr(np, name)(r, initial)
        return r if keepdims else da.squeeze(r, axis=axis)

    return reduce


def _extremum(name):
    """Dask's ``max``-like reduction ``name``, with NumPy's result when that is empty.

    Dask fails on ``max`` along a non-empty axis of an array with an empty
    other axis, and computes a ``(1, 0)`` array for the ``(0, 0)`` maximum
    over axis 0 of a ``(1, 0, 0)`` array.  An empty result holds no data:
    NumPy's, found on an empty stand-in, gives its shape and dtype (and the
    error NumPy raises where a reduced axis is empty).
    """

    def run(a, *args, **kwargs):
        import dask.array as da

        a = da.asarray(a)
        if a.size == 0:
            out = getattr(np, name)(np.empty(a.shape, dtype=a.dtype), *args, **kwargs)
            if np.size(out) == 0:
                return da.zeros(np.shape(out), dtype=np.result_type(out))
        return getattr(da, name)(a, *args, **kwargs)

    return run


def _column_stack(tup):
    """``column_stack``: 0-d and 1-d arrays become columns (Dask's fails on 0-d ones)."""
    import dask.array as da

    return _concatenate([da.atleast_2d(a).T if a.ndim < 2 else a
                         for a in map(da.asarray, tup)], axis=1)


def _hstack(tup):
    """``hstack``: NumPy makes 0-d arrays 1-d first (Dask's fails on them)."""
    import dask.array as da

    arrays = [da.atleast_1d(a) for a in tup]
    return _concatenate(arrays, axis=0 if arrays[0].ndim == 1 else 1)


def _count_nonzero(a, axis=None, *, keepdims=False):
    """``count_nonzero`` with ``keepdims`` (Dask's takes none), as NumPy counts: a sum
    of ``a != 0`` in ``intp``."""
    import dask.array as da

    return da.sum(da.asarray(a).astype(bool), axis=axis, dtype=np.intp, keepdims=keepdims)


def _cumsum(a, axis=None, dtype=None, out=None):
    """``cumsum``; ``axis=None`` flattens first, as NumPy (Dask's fails on 0-d arrays)."""
    import dask.array as da

    a = da.asarray(a)
    if axis is None:
        a, axis = _ravel(a), 0
    return da.cumsum(a, axis=axis, dtype=dtype)


def _moment(func):
    """Dask's ``var`` or ``std`` divided by ``max(n - ddof, 0)`` as NumPy's: inf (or NaN
    where the sum of squares is 0) when ``ddof >= n``, where Dask's gives NaN."""

    def run(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        import dask.array as da

        a = da.asarray(a)
        axes = range(a.ndim) if axis is None else np.atleast_1d(axis) % max(a.ndim, 1)
        n = int(np.prod([a.shape[ax] for ax in axes], dtype=np.int64))
        kwargs = {"axis": axis, "dtype": dtype, "keepdims": keepdims}
        if n - ddof > 0:
            return func(a, ddof=ddof, **kwargs)
        return func(a, ddof=0, **kwargs) / 0.0

    return run


def _nonzero(a):
    """``nonzero``: of a size-0 array, empty index arrays of known length (Dask's fails)."""
    import dask.array as da

    a = da.asarray(a)
    if a.size == 0:
        return tuple(da.zeros(0, dtype=np.intp) for _ in range(a.ndim))
    return da.nonzero(a)


def _argwhere(a):
    """``argwhere``: a 0-d array is one entry with no coordinates, as NumPy's (shape (1, 0)
    or (0, 0)); a size-0 array has no entries (Dask's fails on both)."""
    import dask.array as da

    a = da.asarray(a)
    if a.ndim == 0:
        return da.argwhere(a.reshape(1))[:, :0]
    if a.size == 0:
        return da.zeros((0, a.ndim), dtype=np.intp)
    return da.argwhere(a)


def _flatnonzero(a):
    """``flatnonzero``: of a size-0 array, an empty index array (Dask's fails)."""
    import dask.array as da

    a = da.asarray(a)
    return da.zeros(0, dtype=np.intp) if a.size == 0 else da.flatnonzero(a)


def _searchsorted(a, v, side="left", sorter=None):
    """``searchsorted``: Dask's needs the sorted array as a Dask array and ``v`` of at
    least one dimension (a scalar ``v`` raised AttributeError)."""
    import dask.array as da

    v = da.asarray(v)
    found = da.searchsorted(da.asarray(a), v.reshape(v.shape or (1,)), side=side, sorter=sorter)
    return found.reshape(v.shape)


def _unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None,
            **kwargs):
    """``unique``; Dask's has no ``axis``: that raises naming the function."""
    import dask.array as da

    if axis is not None:
        raise NotImplementedError(
            "unique with axis= (unique rows or slices) is not available on the dask inner "
            "backend")
    return da.unique(ar, return_index=return_index, return_inverse=return_inverse,
                     return_counts=return_counts, **kwargs)


_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


def _pad(array, pad_width, mode="constant", **kwargs):
    """``pad``; modes that copy entries gather them axis by axis.

    dask.array.pad gets the shape wrong in reflect mode when a width exceeds
    the axis length - 1; NumPy's positions, gathered with one integer index
    per axis, are right for every width.
    """
    import dask.array as da

    array = da.asarray(array)
    if array.size == 0:
        return _pad_empty(array, pad_width, mode, **kwargs)
    if mode not in _INDEX_MODES or kwargs:
        return da.pad(array, pad_width, mode=mode, **kwargs)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (array.ndim, 2))
    for axis, (before, after) in enumerate(widths.tolist()):
        if before or after:
            positions = np.pad(np.arange(array.shape[axis]), (before, after), mode=mode)
            array = array[(slice(None),) * axis + (positions,)]
    return array


def _pad_empty(array, pad_width, mode, **kwargs):
    """``pad`` of a size-0 array: NumPy's, which needs no data, on an empty stand-in.

    Dask's divides by the empty axis's chunk size (constant mode), reduces
    over nothing (``maximum``) or invents entries (``linear_ramp``, ``mean``)
    where NumPy refuses to extend an empty axis.  The result is empty unless
    constant padding extends the empty axes; then it holds only the constants.
    """
    import dask.array as da

    out = np.pad(np.empty(array.shape, dtype=array.dtype), pad_width, mode=mode, **kwargs)
    return da.zeros(out.shape, dtype=out.dtype) if out.size == 0 else da.asarray(out)


def _ravel(a, order="C"):
    """``ravel`` through ``_reshape`` (Dask's own fails on size-0 arrays of several chunks)."""
    return _reshape(a, (-1,), order=order)


def _outer(a, b):
    """``outer`` as NumPy computes it, from the flattened operands."""
    return _ravel(a)[:, None] * _ravel(b)[None, :]


def _vdot(a, b):
    """``vdot`` as NumPy computes it: the dot product of the flattened operands, the
    first conjugated."""
    import dask.array as da

    return _dot(da.conj(_ravel(a)), _ravel(b))


def _einsum(subscripts, *operands, **kwargs):
    """``einsum``; an operand that repeats a letter gets those axes chunked alike,
    and no chunks of length 0 (see ``_no_empty_chunks``).

    Dask contracts block by block and fails when the two axes of ``"ii"`` are
    chunked differently (a diagonal window of a chunked matrix, say).
    """
    import dask.array as da

    subscripts, operands, _ = einsum_operands((subscripts,) + operands)
    terms = subscripts.replace(" ", "").split("->")[0].split(",")
    aligned = []
    for term, op in zip(terms, operands):
        op = _no_empty_chunks(op)
        head, _, tail = term.partition("...")
        positions = {}
        for k, c in enumerate(head):
            positions.setdefault(c, []).append(k)
        for k, c in enumerate(tail):
            positions.setdefault(c, []).append(op.ndim - len(tail) + k)
        for first, *others in positions.values():
            if others:
                op = op.rechunk({k: op.chunks[first] for k in others})
        aligned.append(op)
    return da.einsum(subscripts, *aligned, **kwargs)


def _overrides():
    import dask.array as da

    out = {
        # Ufuncs Dask has no wrapper for: NumPy's ufunc dispatches on Dask arrays.
        # Not the generalized ones (vecdot, matvec...): Dask runs those on whole
        # blocks and refuses a core axis split into chunks; udiff's defaults run.
        name: getattr(np, name)
        for name, ufunc in vars(np).items()
        if isinstance(ufunc, np.ufunc) and ufunc.signature is None and not hasattr(da, name)
    }
    out.update(
        {
            "sort": lambda a, axis=-1, kind=None, order=None: _along_axis(np.sort)(
                a, axis=axis, kind=kind, order=order),
            "argsort": lambda a, axis=-1, kind=None, order=None: _along_axis(np.argsort, np.intp)(
                a, axis=axis, kind=kind, order=order),
            "partition": lambda a, kth, axis=-1, **kw: _along_axis(np.partition)(
                a, kth, axis=axis, **kw
            ),
            "argpartition": lambda a, kth, axis=-1, **kw: _along_axis(
                np.argpartition, np.intp
            )(a, kth, axis=axis, **kw),
            "msort": lambda a: _along_axis(np.sort)(a, axis=0),
            "sort_complex": lambda a: _along_axis(
                lambda b, axis: np.sort_complex(b), _sort_complex_dtype(a.dtype)
            )(a, axis=-1),
            "take_along_axis": _take_along_axis,
            "eye": _eye,
            "full": _full,
            "full_like": _full_like,
            "linspace": _linspace,
            "logspace": _logspace,
            "geomspace": _geomspace,
            "arange": _arange,
            "dot": _dot,
            "concatenate": _concatenate,
            "matmul": _matmul,
            "tensordot": _tensordot,
            "reshape": _reshape,
            "ravel": _ravel,
            "outer": _outer,
            "vdot": _vdot,
            "getitem": _getitem,
            "extract": _extract,
            **{f"fft.{name}": _fft(name) for name in _FFTS},
            "searchsorted": _searchsorted,
            "scatter_add_along_axis": _scatter_add_along_axis,
            "index_add": _index_add,
            "in1d": lambda a, b, assume_unique=False, invert=False: da.isin(
                _ravel(a), b, assume_unique=assume_unique, invert=invert
            ),
            # ufunc.reduce reduces axis 0 by default (uarray drops an explicit axis=0)
            "add.reduce": _reduce(da.sum),
            "multiply.reduce": _reduce(da.prod),
            "maximum.reduce": _reduce(_extremum("max")),
            "minimum.reduce": _reduce(_extremum("min")),
            **{name: _extremum(name) for name in ("max", "min", "nanmax", "nanmin", "ptp")},
            "logaddexp.reduce": _log_add_reduce("logaddexp", np.exp, np.log),
            "logaddexp2.reduce": _log_add_reduce("logaddexp2", np.exp2, np.log2),
            "logical_and.reduce": _reduce(da.all),
            "logical_or.reduce": _reduce(da.any),
            "column_stack": _column_stack,
            "hstack": _hstack,
            "count_nonzero": _count_nonzero,
            "cumsum": _cumsum,
            "var": _moment(da.var),
            "std": _moment(da.std),
            "nonzero": _nonzero,
            "argwhere": _argwhere,
            "flatnonzero": _flatnonzero,
            "unique": _unique,
            "einsum": _einsum,
            "pad": _pad,
            "add.accumulate": lambda a, axis=0, dtype=None, out=None, keepdims=False: da.cumsum(
                a, axis=axis, dtype=dtype
            ),
            "multiply.accumulate": lambda a, axis=0, dtype=None, out=None, keepdims=False: da.cumprod(
                a, axis=axis, dtype=dtype
            ),
        }
    )
    from ._dask_linalg import overrides as linalg_overrides  # every numpy.linalg function

    out.update(linalg_overrides())
    return out


# -- creation from values: Dask's own take Python scalars only ------------------------------
def _is_lazy_or_array(value):
    """Whether ``value`` is a Dask array or has axes (Dask's ``full`` takes neither)."""
    return hasattr(value, "dask") or np.ndim(value) > 0


def _full(shape, fill_value, dtype=None, order="C"):
    """``full``; an array fill value (a Dask array stays lazy) is broadcast."""
    import dask.array as da

    if not _is_lazy_or_array(fill_value):
        return da.full(shape, fill_value, dtype=dtype)
    fill = da.asarray(fill_value)
    shape = tuple(shape) if np.iterable(shape) else (shape,)
    return da.broadcast_to(fill.astype(fill.dtype if dtype is None else dtype), shape)


def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None):
    """``full_like``; an array fill value (a Dask array stays lazy) is broadcast."""
    import dask.array as da

    if not _is_lazy_or_array(fill_value):
        return da.full_like(a, fill_value, dtype=dtype, shape=shape)
    a = da.asarray(a)
    shape = a.shape if shape is None else tuple(shape) if np.iterable(shape) else (shape,)
    fill = da.asarray(fill_value).astype(a.dtype if dtype is None else dtype)
    return da.broadcast_to(fill, shape)


def _linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``linspace`` as NumPy computes it, from ``arange``: array ends (Dask arrays stay
    lazy), ``axis``, and NumPy's dtype (float32 ends give float32 samples; Dask's own
    takes scalars only, and gives float64)."""
    import dask.array as da

    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = num - 1 if endpoint else num
    # NumPy's dtype: Python scalars are weak, integers become float64
    dt = np.result_type(*(v if type(v) in (int, float, complex) else da.asarray(v).dtype
                          for v in (start, stop)), 0.0)
    start, stop = da.asarray(start).astype(dt), da.asarray(stop).astype(dt)
    delta = stop - start
    y = da.arange(num, dtype=dt).reshape((-1,) + (1,) * delta.ndim)
    if div > 0:
        step = delta / div
        # NumPy scales by delta / div, or by delta and then / div where the step is 0
        y = da.where(step == 0, y / div * delta, y * step)
    else:
        step = np.nan
        y = y * delta
    y = y + start
    if endpoint and num > 1:
        last = da.broadcast_to(stop, y.shape[1:])[None]
        y = da.concatenate([y[:-1], last], axis=0)
    y = da.moveaxis(y, 0, axis)
    if dtype is None:
        dtype = dt
    elif np.issubdtype(dtype, np.integer):
        y = da.floor(y)
    y = y.astype(dtype)
    return (y, step) if retstep else y


def _logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``logspace`` as NumPy computes it: ``base ** linspace(start, stop)``, an array
    ``base`` broadcast with the ends (Dask's own takes scalars only)."""
    import dask.array as da

    if np.ndim(base):
        nd = len(np.broadcast_shapes(np.shape(start), np.shape(stop), np.shape(base)))
        start, stop, base = (_with_ndim(da.asarray(v), nd) for v in (start, stop, base))
        base = da.expand_dims(base, axis)
    y = da.power(base, _linspace(start, stop, num=num, endpoint=endpoint, axis=axis))
    return y if dtype is None else y.astype(dtype)


def _with_ndim(a, nd):
    """``a`` with leading size-1 axes up to ``nd`` axes."""
    return a.reshape((1,) * (nd - a.ndim) + a.shape)


def _geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``geomspace`` as NumPy computes it (Dask has none): the samples of ``logspace``
    between the ends' logarithms (in float64 unless ``dtype`` is a narrower float), after
    turning ``start`` to the positive reals (NumPy's way with negative and complex ends),
    with the ends exact.
    A zero end raises ValueError when computed, as NumPy's does at once."""
    import dask.array as da

    start, stop = (da.asarray(v) for v in (start, stop))
    start, stop = (v.map_blocks(_no_zero_end, dtype=v.dtype) for v in (start, stop))
    dt = np.result_type(start.dtype, stop.dtype, float(num), np.zeros((), dtype))
    start, stop = start.astype(dt), stop.astype(dt)
    sign = da.sign(start)
    start, stop = start / sign, stop / sign
    y = _logspace(da.log10(start), da.log10(stop), num=num, endpoint=endpoint, dtype=dt)
    if num > 0:  # the ends exactly, not exp(log(end))
        last = [da.broadcast_to(stop, y.shape[1:])[None]] if num > 1 and endpoint else []
        first = da.broadcast_to(start, y.shape[1:])[None]
        y = da.concatenate([first, y[1:num - len(last)]] + last, axis=0)
    y = da.moveaxis(y * sign, 0, axis)
    return y if dtype is None else y.astype(dtype)


def _no_zero_end(block):
    """A block of an end of ``geomspace``, which must not hold a zero."""
    if np.any(block == 0):
        raise ValueError("Geometric sequence cannot include zero")
    return block


def _arange(start, stop=None, step=None, dtype=None):
    """``arange``; Dask arrays among the arguments are computed first: the number of
    entries depends on their values (Dask's own takes Python scalars only)."""
    import dask.array as da

    start, stop, step = (v.compute()[()] if hasattr(v, "dask") else v for v in (start, stop, step))
    args = (start,) if stop is None else (start, stop)
    return da.arange(*args, **({} if step is None else {"step": step}), dtype=dtype)


def _eye(N, M=None, k=0, dtype=float, order="C"):
    """``numpy.eye``: Dask's takes ``chunks`` second (``eye(3, 4)`` was 3x3), and its
    non-square ``eye`` builds a graph with missing blocks; a square one, sliced, is right."""
    import dask.array as da

    M = N if M is None else M
    return da.eye(max(N, M, 1), k=k, dtype=dtype)[:N, :M]


def _sort_complex_dtype(dtype):
    """The dtype of ``numpy.sort_complex``: complex64 for small integers, else complex128."""
    if dtype.kind == "c":
        return dtype
    if dtype.char == "g":
        return np.dtype(np.clongdouble)
    return np.dtype(np.complex64 if dtype.char in "bhBH" else np.complex128)


def _modules():
    import dask.array as da

    return {"numpy": da, "numpy.linalg": da.linalg, "numpy.fft": da.fft,
            "numpy.scipy.special": dask_special()}


def _types():
    import dask.array as da

    return (da.Array,)


class _DaskBackend(InnerBackend):
    def one_hot(self, n, like, dtype):
        import dask.array as da

        return da.eye(n, dtype=dtype).reshape((n,) + tuple(like.shape))

    def asarray(self, value, dtype=None):
        import dask.array as da

        return da.asarray(value, dtype=dtype)


dask_backend = register(
    _DaskBackend("dask", _modules, _overrides, _types), "unumpy.dask_backend"
)
dask_backend.__doc__ = """The inner backend that runs every multimethod with Dask.

Results and derivatives are lazy, chunked Dask arrays, computed when you
call ``.compute()``.  Functions Dask lacks (``sort``, ``take_along_axis``,
``linalg.det``...) are written with Dask's own operations, never by
computing the array.  Give it to :class:`udiff.DiffArrayBackend`, or as
``inner=`` to the functional API.  Dask is imported on first use, and must
be installed.

Examples
--------
>>> import dask.array as da, udiff, udiff.numpy as np
>>> x = da.arange(4.0, chunks=2)
>>> g = udiff.grad(lambda x: np.sum(x * x), inner=udiff.dask_backend)(x)
>>> type(g).__module__, g.chunks
('dask.array.core', ((2, 2),))
>>> g.compute()
array([0., 2., 4., 6.])
"""
# The docstring of the instance (not of its class): --doctest-modules runs its examples.
__test__ = {"dask_backend": dask_backend.__doc__}
