"""More NumPy functions differentiated through their default implementations:
``real_if_close``, ``diagflat``, ``put_along_axis`` (functional, as JAX's),
``choose``, ``piecewise``, ``trim_zeros`` and ``unwrap``.

Where NumPy's result has a shape or dtype that depends on the values
(``trim_zeros``, ``real_if_close``) or on integer positions (``choose``,
``put_along_axis``, ``piecewise``'s conditions), those are read as constants
(:func:`known`: a Dask array is computed for them); the differentiable
values flow through recorded operations.

Examples
--------
>>> import numpy, udiff, udiff.numpy as np
>>> x = numpy.array([0.5, 3.0, 6.5])
>>> udiff.grad(lambda x: np.sum(np.unwrap(x) ** 2))(x)
array([1.        , 6.        , 0.43362939])
>>> udiff.grad(lambda x: np.sum(np.put_along_axis(x, numpy.array([1]), 2 * x[:1], 0,
...                                               inplace=False)))(x)
array([3., 0., 1.])
"""
import numpy as _np

from . import _from_signatures as unp
from . import _composites as _co
from . import _handwritten as _mm
from .._machinery.diff_array import DiffArray
from ._declare import array as _array
from ._declare import multimethod
from ._declare import replace_first as _replace_first
from .._machinery.registry import defcomposite
from ..backends._base import to_numpy

_create = multimethod("numpy")


def known(a):
    """The values of ``a`` as a NumPy array: constants a result's shape, dtype or
    positions depend on (a DiffArray's value; a Dask array computed; CuPy's copied)."""
    if type(a) is DiffArray:  # not a vmap's BatchedArray's value (every example, stacked):
        a = a.value            # NumPy refuses a BatchedArray, and vmap loops over examples
    return to_numpy(a)


def _as(x, dtype):
    return x if _np.dtype(x.dtype) == dtype else _mm.astype(x, dtype)


# -- real_if_close, diagflat ---------------------------------------------------------------------
def _real_if_close(a, tol=100):
    dtype = _co._dtype(a)
    if dtype.kind != "c":
        return a
    if tol > 1:
        tol = _np.finfo(dtype).eps * tol
    return _mm.real(a) if bool(_np.all(_np.abs(known(a).imag) < tol)) else a


@_create(_replace_first, default=_real_if_close)
def real_if_close(a, tol=100):
    """The real part where every imaginary part is below ``tol`` machine epsilons
    (``numpy.real_if_close``); the dtype depends on the values (computed on Dask)."""
    return (_array(a),)


@_create(_replace_first, default=lambda v, k=0: _co.diag(unp.ravel(v), k))
def diagflat(v, k=0):
    """A matrix with the flattened input on a diagonal (``numpy.diagflat``)."""
    return (_array(v),)


# -- put_along_axis: functional, as jax.numpy's -------------------------------------------------
def _last_writes(index, axis):
    """Which entries of ``index`` (positions along ``axis``) are written last in
    NumPy's C order: the ones no later entry of the same slice repeats."""
    moved = _np.moveaxis(index, axis, -1)
    k = moved.shape[-1]
    later = _np.triu(_np.ones((k, k), dtype=bool), 1)
    repeated = ((moved[..., :, None] == moved[..., None, :]) & later).any(axis=-1)
    return _np.moveaxis(~repeated, -1, axis)


def _put_along_axis(arr, indices, values, axis, inplace=True):
    if inplace:
        raise TypeError(
            f"put_along_axis cannot modify a {type(arr).__name__} in place: use "
            "udiff.numpy.put_along_axis(arr, indices, values, axis, inplace=False), which "
            "returns a new array (as jax.numpy.put_along_axis)")
    if axis is None:
        shape = unp.shape(arr)
        flat = _put_along_axis(unp.ravel(arr), unp.ravel(indices), values, 0, inplace=False)
        return unp.reshape(flat, shape)
    nd = unp.ndim(arr)
    axis %= nd
    n = unp.shape(arr)[axis]
    index = known(indices).astype(_np.intp)
    if index.ndim != nd:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    target = list(_np.broadcast_shapes(index.shape, _co._with_axis(arr, axis, 1)))
    target[axis] = index.shape[axis]
    index = _np.broadcast_to(index % max(n, 1), target)
    winners = _last_writes(index, axis)
    values = unp.broadcast_to(_as(unp.asarray(values), _co._dtype(arr)), tuple(target))
    placed = _mm.scatter_add_along_axis(
        unp.where(winners, values, _co._zero(arr)), index, axis - nd, n)
    written = _np.zeros(unp.shape(arr), dtype=bool)
    _np.put_along_axis(written, index, True, axis)
    return unp.where(written, placed, arr)


def _replacer(*names):
    """A replacer for the array parameters ``names``: ``(name, position)`` pairs."""
    def replace(args, kwargs, d):
        args, kwargs = list(args), dict(kwargs)
        for (name, pos), value in zip(names, d):
            if len(args) > pos:
                args[pos] = value
            else:
                kwargs[name] = value
        return tuple(args), kwargs

    return replace


@_create(_replacer(("arr", 0), ("values", 2)), default=_put_along_axis)
def put_along_axis(arr, indices, values, axis, inplace=True):
    """Put values at positions along an axis (``numpy.put_along_axis``).

    As ``jax.numpy.put_along_axis``: ``inplace=False`` returns a new array
    (differentiable in ``arr`` and ``values``; where a position repeats, the
    last value written wins, as NumPy's); NumPy's in-place form works on
    NumPy and CuPy arrays only and raises TypeError on a DiffArray or a Dask
    array, pointing to ``inplace=False``.
    """
    return (_array(arr), _array(values))


# -- choose, piecewise ---------------------------------------------------------------------------
def _choose(a, choices, out=None, mode="raise"):
    if not isinstance(choices, (list, tuple)):
        choices = [choices[i] for i in range(unp.shape(choices)[0])]
    n = len(choices)
    index = known(a)
    if mode == "wrap":
        index = index % n
    elif mode == "clip":
        index = _np.clip(index, 0, n - 1)
    elif (index < 0).any() or (index >= n).any():
        raise ValueError("invalid entry in choice array")
    # NumPy's dtype: Python numbers are weak
    dtype = _np.result_type(*[c if isinstance(c, (int, float, complex)) else _co._dtype(c)
                              for c in choices])
    choices = [_as(c, dtype) for c in unp.broadcast_arrays(*choices, index)[:n]]
    result = choices[0]
    for k in range(1, n):
        result = unp.where(index == k, choices[k], result)
    return result


def _choose_replace(args, kwargs, d):
    choices = args[1] if len(args) > 1 else kwargs["choices"]
    choices = type(choices)(d[1:]) if isinstance(choices, (list, tuple)) else d[1]
    return _replacer(("a", 0), ("choices", 1))(args, kwargs, (d[0], choices))


@_create(_choose_replace, default=_choose)
def choose(a, choices, out=None, mode="raise"):
    """Pick each entry from one of several arrays by index (``numpy.choose``)."""
    return (_array(a),) + tuple(_array(c) for c in (
        choices if isinstance(choices, (list, tuple)) else (choices,)))


def _conditions(x, condlist):
    """NumPy's list of boolean conditions, each shaped like ``x`` (constants)."""
    if not isinstance(condlist, (list, tuple)):
        condlist = known(condlist)  # one condition, or an array of them
    first = condlist if _np.isscalar(condlist) else condlist[0]
    if _np.isscalar(condlist) or (unp.ndim(x) != 0 and not isinstance(first, list)
                                  and _np.ndim(known(first)) == 0):
        condlist = [condlist]
    return [_np.broadcast_to(known(c).astype(bool), unp.shape(x)) for c in condlist]


def _piecewise(x, condlist, funclist, *args, **kw):
    conds = _conditions(x, condlist)
    if len(conds) == len(funclist) - 1:  # the "otherwise" function
        conds.append(~_np.any(conds, axis=0))
    elif len(conds) != len(funclist):
        raise ValueError(f"with {len(conds)} condition(s), either {len(conds)} or "
                         f"{len(conds) + 1} functions are expected")
    dtype = _co._dtype(x)
    flat = unp.ravel(x)
    y = _mm.zeros_like(x)
    for cond, func in zip(conds, funclist):
        where = _np.flatnonzero(cond)
        if not callable(func):
            vals = unp.asarray(func)
        elif where.size:
            vals = func(flat[where], *args, **kw)
        else:
            continue
        vals = unp.broadcast_to(_as(unp.asarray(vals), dtype), where.shape)
        placed = unp.reshape(_mm.index_add(vals, where, (cond.size,)), unp.shape(x))
        y = unp.where(cond, placed, y)
    return y


@_create(_replace_first, default=_piecewise)
def piecewise(x, condlist, funclist, *args, **kw):
    """A function defined piece by piece (``numpy.piecewise``): each function gets the
    entries of ``x`` where its condition holds, as NumPy's; the conditions are constants."""
    return (_array(x),)


# -- trim_zeros, unwrap --------------------------------------------------------------------------
def _trim_zeros(filt, trim="fb", axis=None):
    trim = trim.lower()
    if trim not in {"fb", "bf", "f", "b"}:
        raise ValueError(f"unexpected character(s) in `trim`: {trim!r}")
    nd = unp.ndim(filt)
    axes = range(nd) if axis is None else [x % nd for x in (axis if isinstance(axis, (tuple, list)) else (axis,))]
    nonzero = _np.argwhere(known(filt))
    if nonzero.size == 0:
        start = stop = [0] * nd
    else:
        start = nonzero.min(axis=0) if "f" in trim else [None] * nd
        stop = nonzero.max(axis=0) + 1 if "b" in trim else [None] * nd
    return filt[tuple(slice(start[i], stop[i]) if i in axes else slice(None) for i in range(nd))]


@_create(_replace_first, default=_trim_zeros)
def trim_zeros(filt, trim="fb", axis=None):
    """Trim leading and/or trailing zeros (``numpy.trim_zeros``); the shape depends on the
    values (computed on Dask)."""
    return (_array(filt),)


def _unwrap(p, discont=None, axis=-1, *, period=2 * _np.pi):
    dtype = _np.result_type(_co._dtype(p), period)  # a Python period is weak, as in NumPy
    p = _as(p, dtype)
    # NumPy's corrections, whole periods: constants, computed (lazily on Dask) from the values
    # by NumPy's functions, which dispatch to the library of the array
    value = p.value if type(p) is DiffArray else p  # a BatchedArray computes batched
    dd = _np.diff(value, axis=axis)
    discont = period / 2 if discont is None else discont
    if _np.issubdtype(dtype, _np.integer):
        high, rem = divmod(period, 2)
        ambiguous = rem == 0
    else:
        high, ambiguous = period / 2, True
    ddmod = _np.mod(dd + high, period) - high
    if ambiguous:
        ddmod = _np.where((ddmod == -high) & (dd > 0), high, ddmod)
    correct = _np.where(_np.abs(dd) < discont, 0, ddmod - dd).astype(dtype)
    first = _np.zeros_like(value[_co._axis_index(unp.ndim(p), axis, slice(0, 1))])
    return p + _np.concatenate([first, _np.cumsum(correct, axis=axis)], axis=axis)


@_create(_replace_first, default=_unwrap)
def unwrap(p, discont=None, axis=-1, *, period=2 * _np.pi):
    """Unwrap jumps greater than ``discont`` into whole periods (``numpy.unwrap``); the
    derivative is the identity (the corrections are constants)."""
    return (_array(p),)


MULTIMETHODS = {f.__name__: f for f in (real_if_close, diagflat, put_along_axis, choose, piecewise,
                                        trim_zeros, unwrap)}
defcomposite(*MULTIMETHODS.values())
