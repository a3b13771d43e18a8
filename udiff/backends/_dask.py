"""The Dask inner backend.

Calls Dask's own functions (never ``map_blocks`` for anything that is not
blockwise), so results stay lazy and chunked.  Functions Dask lacks are
written here where the operation allows it (sorting along one axis needs that
axis in one chunk; every other axis stays chunked).  Nothing here reads
uarray's backend state, which Dask's worker threads do not have.
"""
import numpy as np
import unumpy

from ._base import InnerBackend, register, scatter_add_along_axis


def _along_axis(np_func, out_dtype=None):
    """Lift a NumPy function that works along one axis to Dask."""

    def run(a, *args, axis=-1, **kwargs):
        import dask.array as da

        a = da.asarray(a)
        if axis is None:
            a = a.ravel()
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
        return _take_along_axis(arr.ravel(), indices, 0)
    axis = axis % arr.ndim
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


def _without_newaxes(values, index, ndim):
    """A basic ``index`` without ``None``, and ``values`` without the size-1 axes
    those made (Dask's item assignment rejects ``None`` in the index)."""
    if not any(i is None for i in index):
        return values, index
    consumed = sum(1 for i in index if i is not None and i is not Ellipsis)
    axes, position = [], 0
    for i in index:
        if i is None:
            axes.append(position)
            position += 1
        elif i is Ellipsis:
            position += ndim - consumed
        elif isinstance(i, slice):
            position += 1
    return values.squeeze(axis=tuple(axes)), tuple(i for i in index if i is not None)


def _index_add(values, index, shape):
    import dask.array as da

    values = da.asarray(values)
    index = index if isinstance(index, tuple) else (index,)
    basic = all(isinstance(i, (int, np.integer, slice, type(None), type(Ellipsis))) for i in index)
    if basic:
        out = da.zeros(shape, dtype=values.dtype)
        values, index = _without_newaxes(values, index, len(shape))
        out[index] = values
        return out
    if any(isinstance(i, da.Array) for i in index):
        raise NotImplementedError(
            "the derivative of indexing a Dask array with a Dask index array needs "
            "the index's values; compute the index first (index.compute())"
        )
    if np.isnan(values.shape).any():
        raise ValueError(
            "the derivative of this indexing needs the result's chunk sizes, which Dask "
            "does not know (unknown chunk sizes, NaN, after boolean indexing); call "
            "compute_chunk_sizes() on the indexed array, or index with integer positions"
        )
    size = int(np.prod(shape, dtype=np.int64))
    positions = np.arange(size).reshape(shape)[index]
    flat = values.ravel()
    positions = da.from_array(positions.ravel(), chunks=flat.chunks)
    summed = da.bincount(positions, weights=flat, minlength=size)
    return summed.reshape(shape).astype(values.dtype)


def _dot(a, b):
    import dask.array as da

    # dask.array.dot fails on 0-d operands; NumPy defines dot with a scalar as a product.
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return da.multiply(a, b)
    return da.dot(a, b)


def _reshape(a, newshape, order="C"):
    import dask.array as da

    if order not in ("C", None):
        raise NotImplementedError(f"reshape with order={order!r} on the dask inner backend")
    try:
        return da.reshape(a, newshape)
    except NotImplementedError:
        # Dask reshapes only by merging or splitting axes evenly; flattening first
        # always qualifies (at the price of rechunking).
        return da.reshape(da.reshape(a, (-1,)), newshape)


def _getitem(a, index):
    try:
        return a[index]
    except NotImplementedError:
        # Dask indexes with one integer array at a time; several (x[rows, cols])
        # are NumPy's point-wise indexing, which Dask spells vindex.
        return a.vindex[index]


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


def _column_stack(tup):
    import dask.array as da

    return da.concatenate([a[:, None] if a.ndim == 1 else a for a in map(da.asarray, tup)], axis=1)


_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


def _pad(array, pad_width, mode="constant", **kwargs):
    """``pad``; modes that copy entries gather them axis by axis.

    dask.array.pad gets the shape wrong in reflect mode when a width exceeds
    the axis length - 1; NumPy's positions, gathered with one integer index
    per axis, are right for every width.
    """
    import dask.array as da

    array = da.asarray(array)
    if mode not in _INDEX_MODES or kwargs:
        return da.pad(array, pad_width, mode=mode, **kwargs)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (array.ndim, 2))
    for axis, (before, after) in enumerate(widths.tolist()):
        if before or after:
            positions = np.pad(np.arange(array.shape[axis]), (before, after), mode=mode)
            array = array[(slice(None),) * axis + (positions,)]
    return array


def _einsum(subscripts, *operands, **kwargs):
    """``einsum``; an operand that repeats a letter gets those axes chunked alike.

    Dask contracts block by block and fails when the two axes of ``"ii"`` are
    chunked differently (a diagonal window of a chunked matrix, say).
    """
    import dask.array as da

    terms = subscripts.replace(" ", "").split("->")[0].split(",")
    aligned = []
    for term, op in zip(terms, operands):
        op = da.asarray(op)
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
        name: getattr(np, name)
        for name in unumpy.ufunc_list
        if not hasattr(da, name) and hasattr(np, name)
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
                lambda b, axis: np.sort_complex(b), np.result_type(a.dtype, np.complex64)
            )(a, axis=-1),
            "take_along_axis": _take_along_axis,
            "dot": _dot,
            "reshape": _reshape,
            "getitem": _getitem,
            **{f"fft.{name}": _fft(name) for name in _FFTS},
            # Dask returns the upper factor unless told otherwise; NumPy the lower.
            "linalg.cholesky": lambda a, upper=False: da.linalg.cholesky(a, lower=not upper),
            # Dask's searchsorted needs the sorted array as a Dask array too.
            "searchsorted": lambda a, v, side="left", sorter=None: da.searchsorted(
                da.asarray(a), v, side=side, sorter=sorter),
            "scatter_add_along_axis": _scatter_add_along_axis,
            "index_add": _index_add,
            "in1d": lambda a, b, assume_unique=False, invert=False: da.isin(
                da.ravel(a), b, assume_unique=assume_unique, invert=invert
            ),
            # ufunc.reduce reduces axis 0 by default (uarray drops an explicit axis=0)
            "add.reduce": _reduce(da.sum),
            "multiply.reduce": _reduce(da.prod),
            "maximum.reduce": _reduce(da.max),
            "minimum.reduce": _reduce(da.min),
            "logical_and.reduce": _reduce(da.all),
            "logical_or.reduce": _reduce(da.any),
            "column_stack": _column_stack,
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
    return out


def _modules():
    import dask.array as da

    return {"numpy": da, "numpy.linalg": da.linalg, "numpy.fft": da.fft}


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
