"""``r_`` and ``c_``: NumPy's index-expression concatenators, written with udiff's functions.

``np.r_[x, 0.0, 1:3]`` concatenates its entries along the first axis and
``np.c_[x, y]`` stacks 1-d entries as columns, as NumPy's do; each piece is
made with ``udiff.numpy`` functions (``asarray``, ``arange``, ``linspace``,
``concatenate``...), so the result is differentiated like any other array
under :class:`udiff.DiffArrayBackend` and runs on the arguments' library
(NumPy, Dask) outside it.  The matrix directives (``'r'``, ``'c'``) and
NumPy's string form (``np.r_['1 2; 3 4']``), which build ``numpy.matrix``
objects, are not supported.
"""
import numpy as _np

from . import _from_signatures as unp
from . import _handwritten as _mm


def _is_array(item):
    return hasattr(item, "shape") and hasattr(item, "dtype")


def _ndmin(a, ndmin):
    """``numpy.array(a, ndmin=ndmin)``: leading axes of length 1 added."""
    shape = tuple(unp.shape(a))
    return a if len(shape) >= ndmin else unp.reshape(a, (1,) * (ndmin - len(shape)) + shape)


class AxisConcatenator:
    """Concatenation along ``axis`` by ``obj[...]`` (``numpy.lib.index_tricks.AxisConcatenator``).

    Entries are arrays, scalars and slices (``start:stop:step`` is ``arange``;
    a complex step ``start:stop:nj`` is ``linspace`` with ``n`` points), after
    an optional directive string ``'axis'`` or ``'axis,ndmin[,trans1d]'``.
    """

    def __init__(self, axis=0, ndmin=1, trans1d=-1):
        self.axis = axis
        self.ndmin = ndmin
        self.trans1d = trans1d

    def __getitem__(self, key):
        if isinstance(key, str):
            raise NotImplementedError(
                "udiff's r_/c_ do not build numpy.matrix objects from strings; use "
                "np.concatenate or np.block")
        if not isinstance(key, tuple):
            key = (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        objs, types = [], []
        for k, item in enumerate(key):
            scalar = False
            if isinstance(item, slice):
                start = 0 if item.start is None else item.start
                step = 1 if item.step is None else item.step
                if isinstance(step, (complex, _np.complexfloating)):
                    new = _mm.linspace(start, item.stop, num=int(abs(step)))
                else:
                    new = unp.arange(start, item.stop, step)
                if ndmin > 1:
                    new = _ndmin(new, ndmin)
                    if trans1d != -1:
                        new = unp.swapaxes(new, -1, trans1d)
            elif isinstance(item, str):
                if k != 0:
                    raise ValueError("special directives must be the first entry.")
                if item in ("r", "c"):
                    raise NotImplementedError(
                        f"udiff's r_/c_ do not build numpy.matrix objects (directive {item!r})")
                try:
                    parts = [int(p) for p in item.split(",")]
                except ValueError as e:
                    raise ValueError(f"unknown special directive {item!r}") from e
                if len(parts) > 3:
                    raise ValueError(f"unknown special directive {item!r}")
                axis = parts[0]
                if len(parts) > 1:
                    ndmin = parts[1]
                if len(parts) > 2:
                    trans1d = parts[2]
                continue
            elif type(item) in _np.ScalarType:
                scalar = True
                new = item
            else:
                new = item if _is_array(item) else unp.asarray(item)
                item_ndim = len(unp.shape(new))
                new = _ndmin(new, ndmin)
                if trans1d != -1 and item_ndim < ndmin:
                    k2 = ndmin - item_ndim
                    k1 = trans1d + k2 + 1 if trans1d < 0 else trans1d
                    axes = list(range(ndmin))
                    new = unp.transpose(new, axes[:k1] + axes[k2:] + axes[k1:k2])
            objs.append(new)
            types.append(item if scalar else _np.dtype(new.dtype))
        if not objs:
            return unp.concatenate((), axis=axis)  # NumPy's error for nothing to join
        dtype = _np.result_type(*types)
        objs = [_ndmin(unp.asarray(o, dtype=dtype), ndmin) if not _is_array(o)
                else o if _np.dtype(o.dtype) == dtype else _mm.astype(o, dtype)
                for o in objs]
        return unp.concatenate(tuple(objs), axis=axis)

    def __len__(self):
        return 0


class RClass(AxisConcatenator):
    """``np.r_``: concatenation along the first axis."""

    def __init__(self):
        super().__init__(0)


class CClass(AxisConcatenator):
    """``np.c_``: concatenation along the last axis, 1-d entries as columns."""

    def __init__(self):
        super().__init__(-1, ndmin=2, trans1d=0)


r_ = RClass()
c_ = CClass()
