"""Quantiles, percentiles and medians, NaN-ignoring ones too, with every method NumPy has.

Each is a composite: the values are sorted along the reduced axis (all the
reduced axes merged into one) and the quantile is ``low + (high - low) *
gamma``, two entries of the sorted values and a weight that depend only on
the number of values and on ``q`` (NumPy's ``_QuantileMethods``, written
here with NumPy's functions so that the count may be an array: the number of
non-NaN values of each slice, for ``nanquantile``).  The derivative is
therefore piecewise linear in the sorted values, and ties follow the
permutation of a stable sort (JAX's convention, ``docs/conventions.md``).

Examples
--------
>>> import numpy, udiff, udiff.numpy as np
>>> x = numpy.array([3.0, numpy.nan, 1.0, 2.0])
>>> float(np.nanquantile(x, 0.25, method="hazen"))
1.25
>>> udiff.grad(lambda x: np.nanquantile(x, 0.75))(x)
array([0.5, 0. , 0. , 0.5])
"""
import numpy as _np

from . import _from_signatures as unp
from . import _handwritten as _mm
from ._declare import array as _array
from ._declare import multimethod
from ._declare import replace_first as _replace_first
from .._machinery.registry import defcomposite

_create = multimethod("numpy")


# -- NumPy's methods: the position of quantile q among n sorted values -----------------------
def _hyndman_fan(alpha, beta):
    return lambda n, q: n * q + (alpha + q * (1 - alpha - beta)) - 1


def _to_boundary(index, at_previous):
    """NumPy's ``_discrete_interpolation_to_boundaries``: an integer position."""
    previous = _np.floor(index)
    return _np.maximum(_np.where(at_previous(index - previous, index), previous, previous + 1), 0)


# Discrete methods: an entry of the sorted values (of the array's own dtype).
_DISCRETE = {
    "inverted_cdf": lambda n, q: _to_boundary(n * q - 1, lambda g, i: g == 0),
    "closest_observation": lambda n, q: _to_boundary(
        n * q - 1.5, lambda g, i: (g == 0) & (_np.floor(i) % 2 == 1)),
    "lower": lambda n, q: _np.floor((n - 1) * q),
    "higher": lambda n, q: _np.ceil((n - 1) * q),
    "nearest": lambda n, q: _np.around((n - 1) * q),
}
# Interpolating methods: (virtual index, the weight from its fractional part, or None).
_CONTINUOUS = {
    "linear": (lambda n, q: (n - 1) * q, None),
    "averaged_inverted_cdf": (lambda n, q: n * q - 1, lambda g, v: _np.where(g == 0, 0.5, 1.0)),
    "midpoint": (lambda n, q: 0.5 * (_np.floor((n - 1) * q) + _np.ceil((n - 1) * q)),
                 lambda g, v: _np.where(v % 1 == 0, 0.0, 0.5)),
    "interpolated_inverted_cdf": (_hyndman_fan(0, 1), None),
    "hazen": (_hyndman_fan(0.5, 0.5), None),
    "weibull": (_hyndman_fan(0, 0), None),
    "median_unbiased": (_hyndman_fan(1 / 3.0, 1 / 3.0), None),
    "normal_unbiased": (_hyndman_fan(3 / 8.0, 3 / 8.0), None),
}
METHODS = tuple(_CONTINUOUS) + tuple(_DISCRETE)


def _positions(n, q, method):
    """``(lo, hi, gamma)``: the quantile is ``s[lo] + (s[hi] - s[lo]) * gamma`` (``gamma``
    None for a discrete method) for ``n`` sorted values ``s`` (``n`` may be an array)."""
    last = _np.maximum(n - 1, 0)
    if method in _DISCRETE:
        return _np.clip(_DISCRETE[method](n, q), 0, last), None, None
    virtual, fix = _CONTINUOUS[method]
    v = virtual(n, q)
    previous = _np.floor(v)
    gamma = v - previous if fix is None else fix(v - previous, v)
    return _np.clip(previous, 0, last), _np.clip(previous + 1, 0, last), gamma


def _check(q, method, weights, name):
    if weights is not None:
        raise NotImplementedError(f"udiff's {name} does not take weights=")
    if method not in METHODS:
        raise ValueError(f"{method!r} is not a valid method. Use one of: {METHODS}")
    if _np.any(q < 0) or _np.any(q > 1):
        raise ValueError("Percentiles must be in the range [0, 100]" if "percentile" in name
                         else "Quantiles must be in the range [0, 1]")


def _result_dtype(a, q, method):
    """NumPy's dtype: the array's own for a discrete method or a Python number ``q``."""
    dtype = _np.dtype(a.dtype)
    if method in _DISCRETE or (type(q) in (int, float) and dtype.kind == "f"):
        return dtype
    return _np.result_type(dtype, _np.asarray(q), 1.0)


# -- the reduced axes, merged into the last one -----------------------------------------------------
def _merged(a, axis):
    """``(a2, axes)``: ``a`` with the reduced ``axes`` merged into its last axis."""
    nd = unp.ndim(a)
    if axis is None:
        return unp.reshape(a, (-1,)), tuple(range(nd))
    axes = tuple(sorted({x % nd for x in (axis if isinstance(axis, (tuple, list)) else (axis,))}))
    if len(axes) == 1:
        return unp.moveaxis(a, axes[0], -1), axes
    kept = [i for i in range(nd) if i not in axes]
    shape = unp.shape(a)
    a = unp.transpose(a, tuple(kept + list(axes)))
    return unp.reshape(a, tuple(shape[i] for i in kept) + (-1,)), axes


def _finish(result, a, q_shape, axes, keepdims):
    """``result`` (the kept axes, then the quantiles) as ``q.shape`` + the kept axes."""
    result = unp.moveaxis(result, -1, 0)
    shape = unp.shape(a)
    if keepdims:
        kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    else:
        kept = tuple(n for i, n in enumerate(shape) if i not in axes)
    return unp.reshape(result, q_shape + kept)


def _astype(x, dtype):
    return x if _np.dtype(x.dtype) == dtype else _mm.astype(x, dtype)


def _quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False,
              *, weights=None, nan_aware=False, empty_is_nan=False, name="quantile"):
    qs = _np.asanyarray(q)
    _check(qs, method, weights, name)
    dtype = _result_dtype(a, q, method)
    a2, axes = _merged(a, axis)
    n = unp.shape(a2)[-1]
    qflat = qs.ravel().astype(_np.result_type(qs.dtype, 1.0))
    if nan_aware and 0 in unp.shape(a):  # NumPy gives nanmean's NaNs, without q's axes
        return _nanmean(a, axis, keepdims)
    if n == 0:  # NumPy: NaN for median and the nan-functions, an IndexError for quantile
        if not (empty_is_nan or nan_aware):
            raise IndexError(f"index -1 is out of bounds for axis {axes[0] if axes else 0} with size 0")
        nans = unp.sum(a2, axis=-1, keepdims=True) * _np.nan + _np.zeros(qflat.shape)
        return _finish(_astype(nans, dtype), a, qs.shape, axes, keepdims)
    s = unp.sort(a2, axis=-1)  # NaNs last
    if nan_aware and _np.dtype(a.dtype).kind in "fc":
        count = unp.sum(unp.logical_not(unp.isnan(a2)), axis=-1, keepdims=True)
        result = _interpolate(s, count, qflat, method, dtype, _take_along)
    else:
        result = _interpolate(s, n, qflat, method, dtype, _take_constant)
        if _np.dtype(a.dtype).kind in "fc":  # NumPy: a slice with a NaN has NaN quantiles
            result = unp.where(unp.isnan(s[..., -1:]), _np.asarray(_np.nan, dtype), result)
    return _finish(result, a, qs.shape, axes, keepdims)


def _take_constant(s, index):
    return s[..., index.astype(_np.intp)]


def _take_along(s, index):
    return _mm.take_along_axis(s, _mm.astype(index, _np.intp), axis=-1)


def _interpolate(s, n, q, method, dtype, take):
    lo, hi, gamma = _positions(n, q, method)
    low = take(s, lo)
    if gamma is None:
        return low
    # as NumPy's _lerp: the difference in the array's dtype, the interpolation in the
    # result's, from the nearer end
    high = take(s, hi)
    step = _astype(high - low, dtype)
    gamma = gamma.astype(dtype) if isinstance(gamma, _np.ndarray) else _mm.astype(gamma, dtype)
    upper = gamma >= 0.5
    if isinstance(upper, _np.ndarray) and not upper.any():
        return _astype(low, dtype) + step * gamma
    if isinstance(upper, _np.ndarray) and upper.all():
        return _astype(high, dtype) - step * (1 - gamma)
    return unp.where(upper, _astype(high, dtype) - step * (1 - gamma),
                     _astype(low, dtype) + step * gamma)


def _nanmean(a, axis, keepdims):
    """NaNs shaped and typed as ``numpy.nanmean``'s over an empty array."""
    total = unp.sum(a, axis=axis, keepdims=keepdims)
    dtype = _np.result_type(a.dtype, 1.0) if _np.dtype(a.dtype).kind in "biu" else a.dtype
    return _astype(total, dtype) * _np.asarray(_np.nan, dtype)


def _percentile(a, q, *args, name="percentile", **kwargs):
    # A Python number stays one (its quantiles keep the array's dtype), an array keeps its own.
    q = q / 100 if type(q) in (int, float) else _np.true_divide(_np.asanyarray(q), 100)
    return _quantile(a, q, *args, name=name, **kwargs)


@_create(_replace_first, default=_quantile)
def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False,
             *, weights=None):
    """Quantiles, by any of NumPy's methods (``numpy.quantile``)."""
    return (_array(a),)


@_create(_replace_first, default=_percentile)
def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False,
               *, weights=None):
    """Percentiles, by any of NumPy's methods (``numpy.percentile``)."""
    return (_array(a),)


@_create(_replace_first, default=lambda a, axis=None, out=None, overwrite_input=False,
         keepdims=False: _quantile(a, 0.5, axis=axis, keepdims=keepdims, empty_is_nan=True))
def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The median (``numpy.median``)."""
    return (_array(a),)


@_create(_replace_first, default=lambda a, q, *args, **kwargs: _quantile(
    a, q, *args, nan_aware=True, name="nanquantile", **kwargs))
def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None):
    """Quantiles ignoring NaNs (``numpy.nanquantile``); NaN for a slice of NaNs only."""
    return (_array(a),)


@_create(_replace_first, default=lambda a, q, *args, **kwargs: _percentile(
    a, q, *args, nan_aware=True, name="nanpercentile", **kwargs))
def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None):
    """Percentiles ignoring NaNs (``numpy.nanpercentile``)."""
    return (_array(a),)


@_create(_replace_first, default=lambda a, axis=None, out=None, overwrite_input=False,
         keepdims=False: _quantile(a, 0.5, axis=axis, keepdims=keepdims, nan_aware=True))
def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The median ignoring NaNs (``numpy.nanmedian``)."""
    return (_array(a),)


MULTIMETHODS = {f.__name__: f for f in (quantile, percentile, median, nanquantile, nanpercentile,
                                        nanmedian)}
defcomposite(*MULTIMETHODS.values())
