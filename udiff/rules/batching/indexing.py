"""Batching rules of indexing, and of its adjoints (``index_add``, ``scatter_add_along_axis``).

An index without batched arrays applies to every example: a full slice goes in
front of it.  Index arrays that are themselves batched select differently in
each example: an ``arange`` over the batch joins them as one more index
array, and the axes NumPy's advanced indexing produces are moved to where one
example's indexing would put them.
"""
import numpy as np

from ..._machinery.registry import defbatch
from ..selection import _batched_getitem, _batched_index_add, _is_bool
from ._helpers import axis, call, materialized, ndim, pad, shape
from .elementwise import stacked


def _items(index, mask):
    """The index as a tuple, and which of its entries are batched."""
    if type(index) is tuple:
        return index, mask if isinstance(mask, tuple) else (False,) * len(index)
    return (index,), (mask,)


def _expanded(size, items, mask, nd):
    """Index entries with lists as arrays, boolean masks as the integer arrays they
    select, and the Ellipsis as full slices."""
    out, out_mask = [], []
    for i, b in zip(items, mask):
        if isinstance(i, list) and isinstance(b, tuple):  # a list holding batched indices
            if any(isinstance(e, tuple) for e in b):
                raise NotImplementedError("vmap: nested lists of batched indices; use an array")
            i, b = stacked(size, i, b), True
        elif isinstance(i, list):
            i = np.asarray(i)
        if _is_bool(i):
            if b:
                raise ValueError(
                    "a batched boolean mask selects a different number of entries in each "
                    "example, which vmap cannot batch; use np.where(mask, x, fill)")
            if ndim(i):
                nonzero = call("numpy.nonzero", i)
                out.extend(nonzero)
                out_mask.extend([False] * len(nonzero))
                continue
        out.append(i)
        out_mask.append(b)
    ellipsis = [k for k, i in enumerate(out) if i is Ellipsis]
    if ellipsis:
        used = sum(1 for i in out if i is not None and i is not Ellipsis)
        at = ellipsis[0]
        out[at:at + 1] = [slice(None)] * (nd - used)
        out_mask[at:at + 1] = [False] * (nd - used)
    return out, out_mask


def _plan(size, index, mask, nd, batch_first):
    """``(full, front, count, before)``: the index to apply to the batched (or, with
    ``batch_first`` False, the unbatched) array, and where NumPy puts the
    ``count`` broadcast axes of its index arrays: at ``front`` of the result,
    where one example's indexing puts them ``before`` axes later."""
    items, mask = _expanded(size, *_items(index, mask), nd)
    basic = [i is None or isinstance(i, slice) for i in items]
    advanced = [k for k, b in enumerate(basic) if not b]
    count = max((ndim(i) - 1 if b else ndim(i) for i, b, nb in zip(items, mask, basic)
                 if not nb), default=0)
    items = [pad(i, ndim(i) - 1, count) if b else i for i, b in zip(items, mask)]
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
    before = advanced[0] if adjacent else 0
    if batch_first:
        # The batch index joins the index arrays: their axes, batch first, go to the front.
        batch = np.arange(size).reshape((size,) + (1,) * count)
        return (batch,) + tuple(items), 1, count, before
    # The batched index arrays carry the batch axis: it leads their broadcast axes.
    return tuple(items), before, count + 1, 0


def _getitem(size, batched, a, index):
    a_batched, mask = batched
    if not any(_items(index, mask)[1]):
        return _batched_getitem(a, index, 1)
    nd = ndim(a) - 1 if a_batched else ndim(a)
    full, front, count, before = _plan(size, index, mask, nd, a_batched)
    out = call("numpy.getitem", a, full)
    if a_batched:
        return call("numpy.moveaxis", out, tuple(range(front, front + count)),
                    tuple(range(front + before, front + before + count))) if before else out
    return call("numpy.moveaxis", out, front, 0) if front else out


def _take(size, batched, a, indices, axis=None, out=None, mode="raise"):
    if out is not None or mode != "raise" or any(batched[2:]):
        return NotImplemented
    a_batched, i_batched = batched[:2]
    if axis is None:
        flat = int(np.prod(shape(a)[1:] if a_batched else shape(a), dtype=np.int64))
        a = call("numpy.reshape", a, (size, flat) if a_batched else (flat,))
        axis = 0
    nd = ndim(a) - 1 if a_batched else ndim(a)
    axis = axis % nd if -nd <= axis < nd else axis
    lead = (slice(None),) * axis
    return _getitem(size, (a_batched, (False,) * axis + (i_batched,)), a, lead + (indices,))


def _index_add(size, batched, values, index, out_shape):
    v_batched, mask = batched[:2]
    out_shape = tuple(out_shape)
    if not any(_items(index, mask)[1]):
        return _batched_index_add(values, index, 1, out_shape)
    values = materialized(size, values, v_batched)
    full, front, count, before = _plan(size, index, mask, len(out_shape), True)
    if before:
        values = call("numpy.moveaxis", values, tuple(range(1 + before, 1 + before + count)),
                      tuple(range(1, 1 + count)))
    return call("numpy.index_add", values, full, (size,) + out_shape)


def _scatter_add_along_axis(size, batched, values, indices, ax, length):
    values, indices = (materialized(size, v, b) for v, b in zip((values, indices), batched))
    return call("numpy.scatter_add_along_axis", values, indices, axis(ax, ndim(values) - 1),
                length)


defbatch("numpy.getitem", _getitem)
defbatch("numpy.take", _take)
defbatch("numpy.index_add", _index_add)
defbatch("numpy.scatter_add_along_axis", _scatter_add_along_axis)
