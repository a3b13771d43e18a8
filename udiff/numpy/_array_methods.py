"""NumPy's array methods and JAX-style functional updates (``x.at[i].set(v)``), for
DiffArray and vmap's BatchedArray.

Every method records through the same machinery as the multimethod it
stands for, so ``x.sum(axis=0)`` and ``np.sum(x, axis=0)`` give the same
graph, inside or outside the ``with`` block.
"""
import numpy as np

from . import _from_signatures as _api
from . import _composites as _cm
from . import _handwritten as _mm
from ._array_api import check_device
from .._machinery.batched_array import BatchedArray
from .._machinery.diff_array import DiffArray, _index_value, assign, current_of
from .._machinery.dispatch import bind
from ..backends import backend_for_value
from ..backends._base import to_numpy


def _call(func, self, *args, **kwargs):
    return bind(func.key, (self,) + args, kwargs)


def _reduction(key, extra=()):
    def method(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        if out is not None:
            raise TypeError("DiffArray methods do not write to out=")
        kw = {"axis": axis, "keepdims": keepdims}
        if dtype is not None:
            kw["dtype"] = dtype
        kw.update((k, v) for k, v in kwargs.items() if k in extra)
        return _call(key, self, **kw)

    method.__name__ = key.__name__
    method.__doc__ = f"``np.{key.__name__}(self, ...)`` with NumPy's method signature."
    return method


def _shape_arg(args):
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)


def _reshape(self, *shape, order="C"):
    """``np.reshape(self, shape)``; the shape may be given as separate integers."""
    shape = _shape_arg(shape)
    kwargs = {} if order == "C" else {"order": order}  # Dask's reshape takes no order=
    return _call(_api.reshape, self, shape[0] if len(shape) == 1 else shape, **kwargs)


def _transpose(self, *axes):
    """``np.transpose(self, axes)``; the axes may be given as separate integers."""
    axes = _shape_arg(axes)
    return _call(_api.transpose, self, axes) if axes else _call(_api.transpose, self)


def _cumulative(key):
    def method(self, axis=None, dtype=None, out=None):
        return _call(key, self, axis=axis) if dtype is None else _call(key, self, axis=axis, dtype=dtype)

    method.__name__ = key.__name__
    return method


def _arg(key):
    def method(self, axis=None, out=None, **kwargs):
        return _call(key, self, axis=axis)

    method.__name__ = key.__name__
    return method


def _astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True, *, device=None):
    check_device("astype", device, self)
    return _call(_mm.astype, self, dtype)


_METHODS = {
    "sum": _reduction(_api.sum),
    "prod": _reduction(_api.prod),
    "max": _reduction(_api.max),
    "min": _reduction(_api.min),
    "mean": _reduction(_mm.mean),
    "std": _reduction(_api.std, ("ddof",)),
    "var": _reduction(_api.var, ("ddof",)),
    "any": _reduction(_api.any),
    "all": _reduction(_api.all),
    "ptp": lambda self, axis=None, out=None, keepdims=False: _call(
        _cm.ptp, self, axis=axis, keepdims=keepdims),
    "cumsum": _cumulative(_mm.cumsum),
    "cumprod": _cumulative(_cm.cumprod),
    "argmax": _arg(_api.argmax),
    "argmin": _arg(_api.argmin),
    "reshape": _reshape,
    "transpose": _transpose,
    "ravel": lambda self, order="C": _call(_api.ravel, self),
    "flatten": lambda self, order="C": _call(_api.ravel, self),
    "squeeze": lambda self, axis=None: _call(_mm.squeeze, self, axis=axis),
    "swapaxes": lambda self, axis1, axis2: _call(_api.swapaxes, self, axis1, axis2),
    "dot": lambda self, b, out=None: _call(_mm.dot, self, b),
    "astype": _astype,
    "copy": lambda self, order="C": _call(_mm.copy, self),
    "clip": lambda self, min=None, max=None, out=None, **kw: _call(_cm.clip, self, min, max),
    "round": lambda self, decimals=0, out=None: _call(_mm.round, self, decimals),
    "conj": lambda self: _call(_api.conj, self),
    "conjugate": lambda self: _call(_api.conj, self),
    "diagonal": lambda self, offset=0, axis1=0, axis2=1: _call(_mm.diagonal, self, offset, axis1, axis2),
    "trace": lambda self, offset=0, axis1=0, axis2=1, dtype=None, out=None: _call(
        _mm.trace, self, offset, axis1, axis2),
    "take": lambda self, indices, axis=None, out=None, mode="raise": _call(
        _cm.take, self, indices, axis=axis, mode=mode),
    "repeat": lambda self, repeats, axis=None: _call(_cm.repeat, self, repeats, axis=axis),
    "nonzero": lambda self: _call(_api.nonzero, self),
    "argsort": lambda self, axis=-1, kind=None, order=None: _call(_api.argsort, self, axis=axis),
}
for _cls in (DiffArray, BatchedArray):
    for _name, _method in _METHODS.items():
        setattr(_cls, _name, _method)
    _cls.real = property(lambda self: _call(_mm.real, self), doc="The real part.")
    _cls.imag = property(lambda self: _call(_mm.imag, self), doc="The imaginary part.")


# -- functional updates: x.at[index].set(v) ------------------------------------------------------
class _At:
    """``x.at``: index it to get an update that returns a new array."""

    __slots__ = ("_x",)

    def __init__(self, x):
        self._x = x

    def __getitem__(self, index):
        return _Update(self._x, index)


class _Update:
    """Functional updates of ``x[index]``, differentiable in ``x`` and in the values.

    As in JAX, the result has ``x``'s dtype and shape whatever the values';
    ``add`` sums repeated indices, the other updates refuse them.

    Examples
    --------
    >>> import uarray as ua, udiff, udiff.numpy as np
    >>> with ua.set_backend(udiff.DiffArrayBackend(), coerce=True):
    ...     x = np.zeros(3)
    ...     print(x.at[1].set(5.0).value, x.at[[0, 0]].add(1.0).value)
    [0. 5. 0.] [2. 0. 0.]
    """

    __slots__ = ("_x", "_index")

    def __init__(self, x, index):
        self._x = x
        self._index = index

    def _apply(self, func, *args):
        return bind(func.key, args, {})

    def _counts(self):
        """How often ``index`` selects each entry (a NumPy constant)."""
        counts = np.zeros(self._x.shape, dtype=np.intp)
        index = _index_value(self._index)
        if any(hasattr(i, "compute") for i in (index if isinstance(index, tuple) else (index,))):
            raise NotImplementedError("x.at[...] needs an index of known values, not a Dask array")
        np.add.at(counts, index, 1)
        return counts

    def _batched_counts(self):
        """How often ``index``, which differs between the examples of a vmap, selects each
        entry of each example: an integer array of the vmap (scattered by the rules)."""
        x = self._x
        ones = self._apply(_mm.ones_like, x[self._index], np.intp)
        return self._apply(_mm.index_add, ones, _index_value(self._index), x.shape)

    def _spread(self, values):
        """``values`` broadcast to ``x[index]``, cast to ``x``'s dtype and scattered
        into ``x``'s shape (zeros elsewhere)."""
        x = self._x
        values = self._apply(_api.broadcast_to, values, x[self._index].shape)
        if values.dtype != x.dtype:
            values = self._apply(_mm.astype, values, x.dtype)
        return self._apply(_mm.index_add, values, _index_value(self._index), x.shape)

    def _mask(self, name):
        """Where ``index`` selects, refusing repeated indices."""
        if _holds_batched(_index_value(self._index)):
            counts = self._batched_counts()
            if _known(counts).max(initial=0) > 1:  # in any example, as a loop would find
                raise ValueError(
                    f"x.at[index].{name} with repeated indices is ambiguous; use .add")
            return counts > 0
        counts = self._counts()
        if counts.max(initial=0) > 1:
            raise ValueError(f"x.at[index].{name} with repeated indices is ambiguous; use .add")
        return _constant_like(self._x, counts > 0)

    def _filled(self, values, name, fill):
        """``values`` at ``index`` and ``fill`` elsewhere, and the mask of ``index``."""
        mask = self._mask(name)
        return self._apply(_api.where, mask, self._spread(values), fill), mask

    def get(self):
        """``x[index]``."""
        return self._x[self._index]

    def add(self, values):
        """``x`` with ``values`` added at ``index`` (repeated indices add up)."""
        return self._x + self._spread(values)

    def set(self, values):
        """``x`` with the entries at ``index`` replaced by ``values``."""
        mask = self._mask("set")
        return self._apply(_api.where, mask, self._spread(values), self._x)

    def multiply(self, values):
        """``x`` with the entries at ``index`` multiplied by ``values``."""
        return self._x * self._filled(values, "multiply", 1)[0]

    def divide(self, values):
        """``x`` with the entries at ``index`` divided by ``values``."""
        return self._x / self._filled(values, "divide", 1)[0]

    def power(self, values):
        """``x`` with the entries at ``index`` raised to ``values``.

        Elsewhere the base is 1, so that no derivative there is NaN (``log`` of a
        negative entry) before the final ``where`` drops it.
        """
        exponent, mask = self._filled(values, "power", 1)
        base = self._apply(_api.where, mask, self._x, 1)
        return self._apply(_api.where, mask, base ** exponent, self._x)

    def min(self, values):
        """``x`` with the entries at ``index`` replaced by their minimum with ``values``."""
        return self._extremum(_api.minimum, values, "min")

    def max(self, values):
        """``x`` with the entries at ``index`` replaced by their maximum with ``values``."""
        return self._extremum(_api.maximum, values, "max")

    def _extremum(self, ufunc, values, name):
        mask = self._mask(name)
        both = self._apply(ufunc, self._x, self._spread(values))
        return self._apply(_api.where, mask, both, self._x)


def _holds_batched(index):
    """Whether an index holds a vmap's BatchedArray (then it differs between examples)."""
    items = index if type(index) is tuple else (index,)
    return any(type(i) is BatchedArray or type(i) is list and _holds_batched(tuple(i))
               for i in items)


def _innermost(a):
    """The library array under a BatchedArray's and DiffArray's values."""
    while type(a) in (BatchedArray, DiffArray):
        a = a.value
    return a


def _known(a):
    """The values of ``a`` (all examples of a vmap, stacked) as a NumPy array: for an
    error check, never for a result."""
    return to_numpy(_innermost(a))


def _constant_like(x, value):
    """The NumPy constant ``value`` as an array of ``x``'s library (CuPy's, Dask's)."""
    while type(x) is BatchedArray:
        x = x.value
    if type(x) is DiffArray:
        return x._backend.inner.asarray(value)
    return backend_for_value(x).asarray(value)


def _setitem(self, index, value):
    """``x[index] = value``, recorded as the functional update ``x.at[index].set(value)``.

    From then on ``x`` stands for the updated array; what was computed from ``x``
    before keeps the value it had, and derivatives flow through ``value`` and through
    the entries of ``x`` that ``index`` does not select.  ``value`` is broadcast to
    ``x[index]`` and cast to ``x``'s dtype, as NumPy does.
    """
    current = current_of(self) if type(self) is DiffArray else self
    updated = _updated(current, index, value)
    if type(updated) is not type(self) or (type(self) is BatchedArray
                                           and updated.frame is not self.frame):
        raise TypeError(
            f"x[index] = value: x is a {type(self).__name__}, and the update a "
            f"{type(updated).__name__} of another transformation, which x cannot stand "
            "for: the value is traced by a transformation running inside the one that "
            "made x; make x inside it, or use x2 = x.at[index].set(value)")
    if type(self) is DiffArray:
        assign(self, updated)
    else:  # a vmap's array is no graph node: what was computed from it keeps its values
        self.value = updated.value


def _updated(current, index, value):
    """``current`` with ``value`` at ``index`` (a new array)."""
    mask = _index_value(index)
    if (getattr(mask, "dtype", None) == np.bool_ and tuple(mask.shape) == tuple(current.shape)
            and np.ndim(value) == 0):
        # x[mask] = scalar: where(mask, scalar, x), which needs no mask values (a Dask mask
        # stays lazy)
        value = value if hasattr(value, "dtype") else np.asarray(value)
        if value.dtype != current.dtype:
            value = bind(_mm.astype.key, (value, current.dtype), {})
        return bind(_api.where.key, (index, value, current), {})
    try:
        return _Update(current, index).set(value)
    except ValueError as e:
        if "repeated indices" not in str(e):
            raise
        raise ValueError(
            "x[index] = value with an index that selects an entry more than once: which "
            "write wins is not differentiable; select each entry once, or add with "
            "x = x.at[index].add(value)") from None


DiffArray.__setitem__ = BatchedArray.__setitem__ = _setitem


for _cls in (DiffArray, BatchedArray):
    _cls.at = property(_At, doc="Functional updates: ``x.at[index].set(v)``, ``.add``, "
                                "``.multiply``, ``.divide``, ``.power``, ``.min``, ``.max``.")
