"""Batching rules of functions that rearrange axes: the batch axis stays first."""
import numpy as np
from numpy.exceptions import AxisError

from ..._machinery.registry import defbatch
from . import _helpers as h
from ._helpers import call, materialized, ndim, pad


def _resolved(new, n):
    """A shape with its ``-1`` worked out for ``n`` elements."""
    new = tuple(int(d) for d in (new if np.ndim(new) else (new,)))
    if -1 in new:
        known = int(np.prod([d for d in new if d != -1], dtype=np.int64))
        new = tuple(n // known if known and d == -1 else (0 if d == -1 else d) for d in new)
    return new


def _reshape(size, batched, a, shape=None, *rest, newshape=None, **kwargs):
    if shape is None:
        shape = newshape
    if rest or kwargs.get("order", "C") != "C":
        return NotImplemented
    n = int(np.prod(h.shape(a)[1:], dtype=np.int64))
    new = _resolved(shape, n)
    if int(np.prod(new, dtype=np.int64)) != n:
        raise ValueError(f"cannot reshape an array of size {n} into shape {new}")
    return call("numpy.reshape", a, (size,) + new)


def _ravel(size, batched, a, order="C"):
    if order != "C":
        return NotImplemented
    return call("numpy.reshape", a, (size, int(np.prod(h.shape(a)[1:], dtype=np.int64))))


def _transpose(size, batched, a, axes=None):
    nd = ndim(a) - 1
    order = range(nd, 0, -1) if axes is None else h.axes(tuple(axes), nd)
    return call("numpy.transpose", a, (0,) + tuple(order))


def _swapaxes(size, batched, a, axis1, axis2):
    nd = ndim(a) - 1
    return call("numpy.swapaxes", a, h.axis(axis1, nd), h.axis(axis2, nd))


def _moveaxis(size, batched, a, source, destination):
    nd = ndim(a) - 1
    return call("numpy.moveaxis", a, h.axes(source, nd), h.axes(destination, nd))


def _rollaxis(size, batched, a, axis, start=0):
    nd = ndim(a) - 1
    if not -nd <= start <= nd:
        raise AxisError(f"start={start} is out of range for {nd} dimensions")
    return call("numpy.rollaxis", a, h.axis(axis, nd), (start + nd if start < 0 else start) + 1)


def _expand_dims(size, batched, a, axis):
    count = len(axis) if isinstance(axis, (tuple, list)) else 1
    return call("numpy.expand_dims", a, h.axes(axis, ndim(a) - 1 + count))


def _squeeze(size, batched, a, axis=None):
    if axis is None:
        axis = tuple(i for i, n in enumerate(h.shape(a)[1:]) if n == 1)
    return call("numpy.squeeze", a, h.axes(axis, ndim(a) - 1))


def _all_batched(size, batched, arrays):
    return [materialized(size, a, b) for a, b in zip(arrays, batched)]


def _concatenate(size, batched, arrays, axis=0, *rest, **kwargs):
    arrays = _all_batched(size, batched[0], arrays)
    if axis is None:
        arrays = [_ravel(size, None, a) for a in arrays]
        return call("numpy.concatenate", arrays, 1, *rest, **kwargs)
    return call("numpy.concatenate", arrays, h.axis(axis, ndim(arrays[0]) - 1), *rest, **kwargs)


def _stack(size, batched, arrays, axis=0, *rest, **kwargs):
    arrays = _all_batched(size, batched[0], arrays)
    return call("numpy.stack", arrays, h.axis(axis, ndim(arrays[0])), *rest, **kwargs)


def _broadcast_to(size, batched, a, shape, subok=False):
    shape = tuple(shape) if np.ndim(shape) else (shape,)
    return call("numpy.broadcast_to", pad(a, ndim(a) - 1, len(shape)), (size,) + shape)


def _broadcast_arrays(size, batched, *args, subok=False):
    target = np.broadcast_shapes(*[h.shape(a)[1:] if b else h.shape(a)
                                   for a, b in zip(args, batched)])
    return tuple(_broadcast_to(size, None, materialized(size, a, b), target)
                 for a, b in zip(args, batched))


_AT_LEAST = {
    1: lambda s: s or (1,),
    2: lambda s: s if len(s) >= 2 else (1,) * (2 - len(s)) + s,
    3: lambda s: s if len(s) >= 3 else {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)],
}


def _at_least(size, a, b, n):
    a = materialized(size, a, b)
    return call("numpy.reshape", a, (size,) + _AT_LEAST[n](h.shape(a)[1:]))


def atleast(n):
    def rule(size, batched, *arys):
        out = tuple(_at_least(size, a, b, n) for a, b in zip(arys, batched))
        return out[0] if len(out) == 1 else out

    return rule


def _vstack(size, batched, tup, *rest, **kwargs):
    arrays = [_at_least(size, a, b, 2) for a, b in zip(tup, batched[0] or [False] * len(tup))]
    return call("numpy.concatenate", arrays, 1, *rest, **kwargs)


def _hstack(size, batched, tup, *rest, **kwargs):
    arrays = [_at_least(size, a, b, 1) for a, b in zip(tup, batched[0] or [False] * len(tup))]
    return call("numpy.concatenate", arrays, 1 if ndim(arrays[0]) == 2 else 2, *rest, **kwargs)


def _column_stack(size, batched, tup):
    arrays = []
    for a, b in zip(tup, batched[0] or [False] * len(tup)):
        a = materialized(size, a, b)
        s = h.shape(a)[1:]
        # as NumPy: a 0-d example is a 1 x 1 column, a vector a column, matrices as they are
        column = (1, 1) if not s else s + (1,) if len(s) == 1 else s
        arrays.append(call("numpy.reshape", a, (size,) + column))
    return call("numpy.concatenate", arrays, 2)


def _pad(size, batched, array, pad_width, mode="constant", **kwargs):
    nd = ndim(array) - 1

    def widths(w):  # Python ints: Dask's pad takes no NumPy integers
        return ((0, 0),) + tuple((int(b), int(e)) for b, e in np.broadcast_to(w, (nd, 2)))

    for name in ("constant_values", "end_values", "stat_length"):
        if name in kwargs and np.ndim(kwargs[name]) == 2:
            kwargs[name] = widths(kwargs[name])
    return call("numpy.pad", array, widths(pad_width), mode, **kwargs)


def _diagonal(size, batched, a, offset=0, axis1=0, axis2=1):
    nd = ndim(a) - 1
    return call("numpy.diagonal", a, offset, h.axis(axis1, nd), h.axis(axis2, nd))


def _trace(size, batched, a, offset=0, axis1=0, axis2=1, *rest, **kwargs):
    nd = ndim(a) - 1
    return call("numpy.trace", a, offset, h.axis(axis1, nd), h.axis(axis2, nd), *rest, **kwargs)


def _take_along_axis(size, batched, arr, indices, axis):
    arr, indices = (materialized(size, v, b) for v, b in zip((arr, indices), batched))
    if axis is None:
        arr, indices = _ravel(size, None, arr), _ravel(size, None, indices)
        axis = -1
    else:
        axis = h.axis(axis, ndim(arr) - 1)
    return call("numpy.take_along_axis", arr, indices, axis)


def along(key, default=-1, options=0):
    """The rule of ``key(a, *options, axis=default, ...)``: sorting, partitioning."""

    def rule(size, batched, a, *args, **kwargs):
        if not batched[0] or any(batched[1:]):
            return NotImplemented
        args = list(args)
        if len(args) > options:
            axis = args.pop(options)
        else:
            axis = kwargs.pop("axis", default)
        if axis is None:
            a, axis = _ravel(size, None, a), -1
        else:
            axis = h.axis(axis, ndim(a) - 1)
        return call(key, a, *args[:options], axis, *args[options:], **kwargs)

    return rule


for _key, _rule in {
    "reshape": _reshape, "ravel": _ravel, "transpose": _transpose, "swapaxes": _swapaxes,
    "moveaxis": _moveaxis, "rollaxis": _rollaxis, "expand_dims": _expand_dims,
    "squeeze": _squeeze, "concatenate": _concatenate, "stack": _stack,
    "broadcast_to": _broadcast_to, "broadcast_arrays": _broadcast_arrays,
    "atleast_1d": atleast(1), "atleast_2d": atleast(2), "atleast_3d": atleast(3),
    "vstack": _vstack, "hstack": _hstack, "column_stack": _column_stack, "pad": _pad,
    "diagonal": _diagonal, "trace": _trace, "take_along_axis": _take_along_axis,
    "sort": along("numpy.sort"), "argsort": along("numpy.argsort"),
    "partition": along("numpy.partition", options=1),
    "argpartition": along("numpy.argpartition", options=1),
    "msort": lambda size, batched, a: call("numpy.sort", a, h.axis(0, ndim(a) - 1)),
    "shape": lambda size, batched, a: tuple(h.shape(a)[1:]),
    "ndim": lambda size, batched, a: ndim(a) - 1,
    "size": lambda size, batched, a, axis=None: (
        int(np.prod(h.shape(a)[1:], dtype=np.int64)) if axis is None else h.shape(a)[1:][axis]),
    "nbytes": lambda size, batched, a: int(np.prod(h.shape(a)[1:], dtype=np.int64))
    * np.dtype(a.dtype).itemsize,
}.items():
    defbatch("numpy." + _key, _rule)
