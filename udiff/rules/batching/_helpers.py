"""Helpers the batching rules share.

A rule sees each batched argument as its values stacked on axis 0; an axis
``a`` of one example is axis ``a + 1`` of those values (negative axes are the
same).  Every function is called through :func:`call`, which runs it on the
values' own kind of array (NumPy, Dask, CuPy, DiffArray, an outer vmap's
BatchedArray) whatever uarray backend is set.
"""
import numpy as np
from numpy.exceptions import AxisError

from ..._machinery.dispatch import call as _call
from ...backends import numpy_backend
from .._helpers import ndim, shape

__all__ = ["call", "ndim", "shape", "axis", "axes", "rank", "aligned", "materialized",
           "batched_first"]


_OPTIONS = {int, float, complex, bool, str, slice, type(None), type(Ellipsis), np.dtype}


def _plain(a):
    """Whether ``a`` is a NumPy array or an option (no array of another kind inside)."""
    t = type(a)
    if t is np.ndarray or t in _OPTIONS or isinstance(a, (np.generic, type)):
        return True
    return (t is tuple or t is list) and all(map(_plain, a))


_PLAIN_TYPES = _OPTIONS | {np.ndarray}


def call(key, *args, **kwargs):
    """Run function ``key`` on its arguments' kind of array (``udiff._machinery.dispatch.call``), taking
    NumPy's function directly when every argument is a NumPy array or an option."""
    for a in args:  # (the hot path: most arguments are NumPy arrays or numbers)
        if type(a) not in _PLAIN_TYPES and not _plain(a):
            return _call(key, *args, **kwargs)
    if kwargs and not all(map(_plain, kwargs.values())):
        return _call(key, *args, **kwargs)
    return numpy_backend.impl(key)(*args, **kwargs)


def axis(a, nd):
    """Axis ``a`` of an example of rank ``nd`` as an axis of the batched values."""
    if not -nd <= a < nd:
        raise AxisError(a, nd)
    return a % nd + 1


def axes(a, nd):
    """:func:`axis` for an int or a sequence of them; ``None`` stays ``None``."""
    if a is None:
        return None
    if isinstance(a, (tuple, list)):
        return tuple(axis(i, nd) for i in a)
    return axis(a, nd)


def rank(value, is_batched):
    """The rank of one example of an argument (0 for options: dtypes, strings, numbers)."""
    if is_batched:
        return ndim(value) - 1
    return ndim(value) if hasattr(value, "shape") and not isinstance(value, type) \
        else np.ndim(value) if isinstance(value, (list, tuple)) else 0


def pad(value, r, to):
    """Batched values of example rank ``r``, size-1 axes added after the batch axis
    up to example rank ``to``."""
    if r >= to:
        return value
    return call("numpy.expand_dims", value, tuple(range(1, 1 + to - r)))


_SCALARS = {int, float, complex, bool}


def aligned(batched, args):
    """Batched arrays padded to the highest example rank, so that they broadcast with
    each other and with the unbatched arguments (which broadcast from the right)."""
    if len(args) <= 2:  # the common cases need no padding: one array and numbers, or
        # two batched arrays of one rank
        a = args[0]
        b = args[1] if len(args) == 2 else 0.0
        if (batched[0] if len(args) == 1 or type(b) in _SCALARS
                else type(a) in _SCALARS and batched[1]
                or batched[0] is True and batched[-1] is True and ndim(a) == ndim(b)):
            return args
    ranks = [rank(a, b) for a, b in zip(args, batched)]
    top = max(ranks, default=0)
    return [pad(a, r, top) if b else a for a, b, r in zip(args, batched, ranks)]


def materialized(size, value, is_batched):
    """``value`` batched: unbatched values broadcast along a new axis 0 of ``size``."""
    if is_batched:
        return value
    value = value if hasattr(value, "shape") else np.asarray(value)
    return call("numpy.broadcast_to", call("numpy.expand_dims", value, 0),
                (size,) + shape(value))


def batched_first(out, front, count):
    """``out`` with its ``count`` axes starting at ``front`` moved to the front."""
    if not front:
        return out
    return call("numpy.moveaxis", out, tuple(range(front, front + count)), tuple(range(count)))
