"""NumPy functions udiff differentiates through their default implementations.

Each is an ordinary multimethod of the ``numpy`` domain; inner backends run
the library's own function (``numpy.fliplr``, ``dask.array.roll``...), and a
backend that lacks one runs the default.  Under :class:`DiffArrayBackend`
the default always runs (:func:`udiff._machinery.registry.defcomposite`), so the
derivative is composed from the rules of the operations it records and these
functions need no rules of their own.
"""
import numpy as _np

from . import _from_signatures as unp
from . import _handwritten as _mm
from .._machinery.batched_array import BatchedArray
from ._declare import array as _array
from ._declare import multimethod
from ._declare import replace_first as _replace_first
from ._declare import replace_first_two as _replace_first_two
from ._declare import replace_sequence as _replace_sequence
from ._declare import replace_varargs as _replace_varargs
from .._machinery.registry import defcomposite

_create = multimethod("numpy")


def _axis_index(nd, axis, item):
    """An index tuple applying ``item`` along ``axis`` of an ``nd``-dimensional array."""
    return (slice(None),) * (axis % nd) + (item,)


def _dtype(a):
    """The dtype of ``a`` (a DiffArray, an inner array or a Python number), not computing it."""
    dtype = getattr(a, "dtype", None)
    return _np.dtype(dtype) if dtype is not None else _np.result_type(a)


def _zero(a):
    """A 0-d zero of ``a``'s dtype, so that ``where(mask, a, zero)`` keeps the dtype."""
    return _np.zeros((), dtype=_dtype(a))


def _accumulated(a, dtype=None):
    """``a`` in the dtype NumPy sums and multiplies it in.

    ``dtype`` if given; otherwise booleans and integers narrower than the
    default integer widen to it (``numpy.cumprod`` of int32 is int64).
    """
    have = _dtype(a)
    if dtype is None:
        if have.kind in "bi" and have.itemsize < _np.dtype(_np.int_).itemsize:
            dtype = _np.int_
        elif have.kind == "u" and have.itemsize < _np.dtype(_np.uint).itemsize:
            dtype = _np.uint
        else:
            return a
    return a if _np.dtype(dtype) == have else _mm.astype(a, dtype)


def _nan_as(a, value):
    """``a`` with its NaNs replaced by ``value`` (integers and booleans have none)."""
    return unp.where(unp.isnan(a), value, a) if _dtype(a).kind in "fc" else a


def _count(ok, a, axis, keepdims):
    """How many entries ``ok`` marks, in ``a``'s floating precision (float32 stays float32)."""
    count = unp.sum(ok, axis=axis, keepdims=keepdims)
    dtype = _dtype(a)
    return _mm.astype(count, _np.finfo(dtype).dtype) if dtype.kind in "fc" else count


# -- aliases and simple combinations ---------------------------------------------------
@_create(_replace_first, default=lambda a, axis=None, out=None, keepdims=False: unp.max(
    a, axis=axis, keepdims=keepdims))
def amax(a, axis=None, out=None, keepdims=False):
    """Alias of ``max`` (``numpy.amax``)."""
    return (_array(a),)


@_create(_replace_first, default=lambda a, axis=None, out=None, keepdims=False: unp.min(
    a, axis=axis, keepdims=keepdims))
def amin(a, axis=None, out=None, keepdims=False):
    """Alias of ``min`` (``numpy.amin``)."""
    return (_array(a),)


def _ptp(a, axis=None, out=None, keepdims=False):
    return unp.max(a, axis=axis, keepdims=keepdims) - unp.min(a, axis=axis, keepdims=keepdims)


@_create(_replace_first, default=_ptp)
def ptp(a, axis=None, out=None, keepdims=False):
    """Peak to peak, ``max - min`` (``numpy.ptp``)."""
    return (_array(a),)


def _average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    if weights is None:
        avg = _mm.mean(a, axis=axis, keepdims=keepdims)
        total = avg * 0 + _np.prod([unp.shape(a)[i] for i in _axes(a, axis)])
    else:
        nd = unp.ndim(a)
        if unp.ndim(weights) == 1 and nd > 1:
            if axis is None or isinstance(axis, tuple):
                raise TypeError("1-D weights need an integer axis, as in numpy.average")
            shape = [1] * nd
            shape[axis % nd] = unp.shape(weights)[0]
            weights = unp.reshape(weights, tuple(shape))
        total = unp.sum(unp.broadcast_to(weights, unp.shape(a)), axis=axis, keepdims=keepdims)
        avg = unp.sum(a * weights, axis=axis, keepdims=keepdims) / total
    return (avg, unp.broadcast_to(total, unp.shape(avg))) if returned else avg


def _axes(a, axis):
    nd = unp.ndim(a)
    if axis is None:
        return tuple(range(nd))
    return tuple(x % nd for x in (axis if isinstance(axis, tuple) else (axis,)))


def _average_replace(args, kwargs, d):
    # weights goes positionally: differentiable arrays are never passed by keyword.
    kwargs = dict(kwargs)
    axis = args[1] if len(args) > 1 else kwargs.pop("axis", None)
    kwargs.pop("weights", None)
    return (d[0], axis, d[1]) + tuple(args[3:]), kwargs


@_create(_average_replace, default=_average)
def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Weighted average (``numpy.average``)."""
    return (_array(a), _array(weights))


# -- reordering ----------------------------------------------------------------------------
def _flip(m, axis=None):
    nd = unp.ndim(m)
    axes = range(nd) if axis is None else [x % nd for x in (axis if isinstance(axis, (tuple, list)) else (axis,))]
    index = [slice(None)] * nd
    for x in axes:
        index[x] = slice(None, None, -1)
    return m[tuple(index)]


@_create(_replace_first, default=_flip)
def flip(m, axis=None):
    """Reverse the order of entries along axes (``numpy.flip``)."""
    return (_array(m),)


@_create(_replace_first, default=lambda m: flip(m, 1))
def fliplr(m):
    """Flip along axis 1 (``numpy.fliplr``)."""
    return (_array(m),)


@_create(_replace_first, default=lambda m: flip(m, 0))
def flipud(m):
    """Flip along axis 0 (``numpy.flipud``)."""
    return (_array(m),)


def _rot90(m, k=1, axes=(0, 1)):
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, axes[0]), axes[1])
    perm = list(range(unp.ndim(m)))
    perm[axes[0]], perm[axes[1]] = perm[axes[1]], perm[axes[0]]
    if k == 1:
        return unp.transpose(flip(m, axes[1]), tuple(perm))
    return flip(unp.transpose(m, tuple(perm)), axes[1])


@_create(_replace_first, default=_rot90)
def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees in the plane of ``axes`` (``numpy.rot90``)."""
    return (_array(m),)


def _roll(a, shift, axis=None):
    if axis is None:
        if 0 in unp.shape(a):
            return a
        return unp.reshape(_roll(unp.ravel(a), shift, 0), unp.shape(a))
    shifts = shift if isinstance(shift, (tuple, list)) else (shift,)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    shifts, axes = _np.broadcast_arrays(_np.asarray(shifts), _np.asarray(axes))
    nd = unp.ndim(a)
    for s, x in zip(shifts.tolist(), axes.tolist()):
        n = unp.shape(a)[x]
        s = s % n if n else 0
        if s:
            a = unp.concatenate(
                [a[_axis_index(nd, x, slice(n - s, None))], a[_axis_index(nd, x, slice(0, n - s))]],
                axis=x,
            )
    return a


@_create(_replace_first, default=_roll)
def roll(a, shift, axis=None):
    """Roll entries along axes (``numpy.roll``)."""
    return (_array(a),)


# -- repetition and selection ---------------------------------------------------------------
def _tile(A, reps):
    reps = tuple(reps) if isinstance(reps, (tuple, list)) else (reps,)
    nd = unp.ndim(A)
    if nd < len(reps):
        A = unp.reshape(A, (1,) * (len(reps) - nd) + tuple(unp.shape(A)))
    reps = (1,) * (unp.ndim(A) - len(reps)) + reps
    for axis, r in enumerate(reps):
        if r != 1:
            A = unp.concatenate([A] * r, axis=axis)
    return A


@_create(_replace_first, default=_tile)
def tile(A, reps):
    """Repeat a whole array (``numpy.tile``)."""
    return (_array(A),)


def _repeat(a, repeats, axis=None):
    if axis is None:
        a, axis = unp.ravel(a), 0
    n = unp.shape(a)[axis]
    index = _np.repeat(_np.arange(n), repeats)
    return a[_axis_index(unp.ndim(a), axis, index)]


@_create(_replace_first, default=_repeat)
def repeat(a, repeats, axis=None):
    """Repeat each entry (``numpy.repeat``)."""
    return (_array(a),)


def _take(a, indices, axis=None, out=None, mode="raise"):
    if axis is None:
        a, axis = unp.ravel(a), 0
    n = unp.shape(a)[axis]
    if type(indices) is not BatchedArray:  # whose examples differ: no one NumPy value, and
        indices = _np.asarray(indices)      # a[..., indices] batches them (vmap(grad(f)))
    if n == 0 and indices.size:  # NumPy's error in every mode (clip and wrap have no entry)
        raise IndexError("cannot do a non-empty take from an empty axes.")
    if mode == "wrap":
        indices = indices % n
    elif mode == "clip":
        indices = _np.clip(indices, 0, n - 1)
    return a[_axis_index(unp.ndim(a), axis, indices)]


@_create(_replace_first, default=_take)
def take(a, indices, axis=None, out=None, mode="raise"):
    """Take entries at integer positions along an axis (``numpy.take``)."""
    return (_array(a),)


def _split_points(n, sections, even):
    if isinstance(sections, (int, _np.integer)):
        if even and n % sections:
            raise ValueError("array split does not result in an equal division")
        each, extra = divmod(n, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        return _np.cumsum([0] + sizes).tolist()
    return [0] + [min(max(int(i), 0), n) for i in sections] + [n]


def _splitter(even, fixed_axis=None):
    def split_default(ary, indices_or_sections, axis=0):
        if fixed_axis is not None:
            axis = fixed_axis(ary)
        nd = unp.ndim(ary)
        points = _split_points(unp.shape(ary)[axis], indices_or_sections, even)
        return [ary[_axis_index(nd, axis, slice(a, max(a, b)))] for a, b in zip(points[:-1], points[1:])]

    return split_default


@_create(_replace_first, default=_splitter(True))
def split(ary, indices_or_sections, axis=0):
    """Split into equal parts or at positions (``numpy.split``)."""
    return (_array(ary),)


@_create(_replace_first, default=_splitter(False))
def array_split(ary, indices_or_sections, axis=0):
    """Split into nearly equal parts (``numpy.array_split``)."""
    return (_array(ary),)


@_create(_replace_first, default=lambda ary, ios: _splitter(True, lambda a: 1 if unp.ndim(a) > 1 else 0)(ary, ios))
def hsplit(ary, indices_or_sections):
    """Split along the second axis (the first for 1-D arrays) (``numpy.hsplit``)."""
    return (_array(ary),)


@_create(_replace_first, default=lambda ary, ios: _splitter(True, lambda a: 0)(ary, ios))
def vsplit(ary, indices_or_sections):
    """Split along the first axis (``numpy.vsplit``)."""
    return (_array(ary),)


@_create(_replace_first, default=lambda ary, ios: _splitter(True, lambda a: 2)(ary, ios))
def dsplit(ary, indices_or_sections):
    """Split along the third axis (``numpy.dsplit``)."""
    return (_array(ary),)


def _dstack(tup):
    return unp.concatenate([unp.atleast_3d(a) for a in tup], axis=2)


@_create(_replace_sequence, default=_dstack)
def dstack(tup):
    """Stack along the third axis (``numpy.dstack``)."""
    return tuple(_array(a) for a in tup)


def _append(arr, values, axis=None):
    if axis is None:
        return unp.concatenate([unp.ravel(arr), unp.ravel(values)], axis=0)
    return unp.concatenate([arr, values], axis=axis)


@_create(_replace_first_two, default=_append)
def append(arr, values, axis=None):
    """Append values at the end (``numpy.append``)."""
    return (_array(arr), _array(values))


def _meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    nd = len(xi)
    out = []
    for i, x in enumerate(xi):
        shape = [1] * nd
        shape[i] = -1
        out.append(unp.reshape(x, tuple(shape)))
    if indexing == "xy" and nd > 1:
        out = [unp.swapaxes(x, 0, 1) for x in out]
    if not sparse:
        out = list(unp.broadcast_arrays(*out))
    return tuple(out)


@_create(_replace_varargs, default=_meshgrid)
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate matrices from coordinate vectors (``numpy.meshgrid``)."""
    return tuple(_array(x) for x in xi)


# -- triangles and diagonals ----------------------------------------------------------------
def _tri_mask(m, k, lower):
    shape = unp.shape(m)
    n, mm = shape[-2:] if len(shape) > 1 else shape * 2  # NumPy: a vector is each row
    rows = unp.reshape(unp.arange(n), (n, 1))
    cols = unp.reshape(unp.arange(mm), (1, mm))
    return (cols - rows <= k) if lower else (cols - rows >= k)


@_create(_replace_first, default=lambda m, k=0: unp.where(_tri_mask(m, k, True), m, _zero(m)))
def tril(m, k=0):
    """Lower triangle (``numpy.tril``)."""
    return (_array(m),)


@_create(_replace_first, default=lambda m, k=0: unp.where(_tri_mask(m, k, False), m, _zero(m)))
def triu(m, k=0):
    """Upper triangle (``numpy.triu``)."""
    return (_array(m),)


def _diag(v, k=0):
    if unp.ndim(v) == 1:
        n = unp.shape(v)[0] + abs(k)
        w = unp.pad(v, (k, 0) if k >= 0 else (0, -k), "constant")
        return unp.eye(n, k=k, dtype=_dtype(v)) * unp.reshape(w, (1, n))
    v = v[:, k:] if k >= 0 else v[-k:, :]
    m = min(unp.shape(v))
    return _mm.diagonal(v[:m, :m])


@_create(_replace_first, default=_diag)
def diag(v, k=0):
    """Extract a diagonal or build a diagonal matrix (``numpy.diag``)."""
    return (_array(v),)


def _kron(a, b):
    nd = max(unp.ndim(a), unp.ndim(b))
    sa = (1,) * (nd - unp.ndim(a)) + tuple(unp.shape(a))
    sb = (1,) * (nd - unp.ndim(b)) + tuple(unp.shape(b))
    a = unp.reshape(a, tuple(x for n in sa for x in (n, 1)))
    b = unp.reshape(b, tuple(x for n in sb for x in (1, n)))
    return unp.reshape(a * b, tuple(p * q for p, q in zip(sa, sb)))


@_create(_replace_first_two, default=_kron)
def kron(a, b):
    """Kronecker product (``numpy.kron``)."""
    return (_array(a), _array(b))


def _cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = unp.moveaxis(a, axisa, -1), unp.moveaxis(b, axisb, -1)
    na, nb = unp.shape(a)[-1], unp.shape(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product (dimension must be 2 or 3)")
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    z = a0 * b1 - a1 * b0
    if na == 2 and nb == 2:
        return z
    a2 = a[..., 2] if na == 3 else a0 * 0.0
    b2 = b[..., 2] if nb == 3 else b0 * 0.0
    c = unp.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, z], axis=-1)
    return unp.moveaxis(c, -1, axisc)


@_create(_replace_first_two, default=_cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 2- or 3-vectors (``numpy.cross``)."""
    return (_array(a), _array(b))


# -- statistics (quantiles, percentiles and medians are in _quantiles.py) ---------------------
def _nanmean(a, axis=None, dtype=None, out=None, keepdims=False):
    ok = unp.logical_not(unp.isnan(a))
    return unp.nansum(a, axis=axis, keepdims=keepdims) / _count(ok, a, axis, keepdims)


@_create(_replace_first, default=_nanmean)
def nanmean(a, axis=None, dtype=None, out=None, keepdims=False):
    """Mean ignoring NaNs (``numpy.nanmean``)."""
    return (_array(a),)


def _diff(a, n=1, axis=-1, prepend=None, append=None):
    nd = unp.ndim(a)
    if prepend is not None or append is not None:
        pieces = []
        if prepend is not None:
            pieces.append(unp.broadcast_to(prepend, _with_axis(a, axis, 1)) if unp.ndim(prepend) == 0 else prepend)
        pieces.append(a)
        if append is not None:
            pieces.append(unp.broadcast_to(append, _with_axis(a, axis, 1)) if unp.ndim(append) == 0 else append)
        a = unp.concatenate(pieces, axis=axis)
    op = unp.not_equal if _dtype(a).kind == "b" else unp.subtract
    for _ in range(n):
        a = op(a[_axis_index(nd, axis, slice(1, None))], a[_axis_index(nd, axis, slice(None, -1))])
    return a


def _with_axis(a, axis, size):
    shape = list(unp.shape(a))
    shape[axis] = size
    return tuple(shape)


@_create(_replace_first, default=_diff)
def diff(a, n=1, axis=-1, prepend=None, append=None):
    """n-th discrete difference along an axis (``numpy.diff``)."""
    return (_array(a),)


def _cumprod(a, axis=None, dtype=None, out=None):
    a = _accumulated(a, dtype)
    if axis is None:
        a, axis = unp.ravel(a), 0
    nd = unp.ndim(a)
    n = unp.shape(a)[axis]
    # An explicit running product: exact with zeros, at one node per step.
    running = [a[_axis_index(nd, axis, slice(0, 1))]]
    for i in range(1, n):
        running.append(running[-1] * a[_axis_index(nd, axis, slice(i, i + 1))])
    return unp.concatenate(running, axis=axis) if running else a


@_create(_replace_first, default=_cumprod)
def cumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product (``numpy.cumprod``); its derivative is exact with zeros."""
    return (_array(a),)


# -- elementwise combinations --------------------------------------------------------------------
def _clip(a, a_min=None, a_max=None, out=None, **kwargs):
    if a_min is not None:
        a = unp.maximum(a, a_min)
    if a_max is not None:
        a = unp.minimum(a, a_max)
    return a


# NumPy's defaults (no value): a bound given as None is passed on, not dropped as a default
# (uarray drops trailing arguments that are their defaults, and NumPy's clip needs a_max
# where a_min is given by position).
@_create(_replace_first, default=_clip)
def clip(a, a_min=_np._NoValue, a_max=_np._NoValue, out=None, **kwargs):
    """Limit values to an interval (``numpy.clip``); at a bound the derivative is 1/2."""
    return (_array(a),)


def _nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    dtype = _dtype(x)
    if dtype.kind == "c":
        real, imag = (_nan_to_num(p, nan=nan, posinf=posinf, neginf=neginf)
                      for p in (_mm.real(x), _mm.imag(x)))
        return real + 1j * imag
    if dtype.kind != "f":
        return x
    big = float(_np.finfo(dtype).max)
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    x = unp.where(unp.isnan(x), nan, x)
    x = unp.where(unp.isinf(x) & (x > 0), posinf, x)
    return unp.where(unp.isinf(x) & (x < 0), neginf, x)


@_create(_replace_first, default=_nan_to_num)
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """Replace NaN and infinities by numbers (``numpy.nan_to_num``)."""
    return (_array(x),)


def _select(condlist, choicelist, default=0):
    result = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        result = unp.where(cond, choice, result)
    return result


def _select_replace(args, kwargs, d):
    k = len(args[0]) if args else len(kwargs["condlist"])
    return (list(d[:k]), list(d[k:])) + tuple(args[2:]), {
        n: v for n, v in kwargs.items() if n not in ("condlist", "choicelist")}


@_create(_select_replace, default=_select)
def select(condlist, choicelist, default=0):
    """Choose from arrays by conditions (``numpy.select``)."""
    return tuple(_array(c) for c in condlist) + tuple(_array(c) for c in choicelist)


# -- more statistics and scans -------------------------------------------------------------
def _nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    ok = unp.logical_not(unp.isnan(a))
    count = _count(ok, a, axis, True)
    centered = unp.where(ok, a - unp.nansum(a, axis=axis, keepdims=True) / count, 0.0)
    dof = _count(ok, a, axis, keepdims) - ddof
    # |centered|**2: real for complex input, as NumPy's (and var's)
    squared = (_mm.real(centered * unp.conj(centered)) if _dtype(a).kind == "c"
               else centered * centered)
    # NaN where ddof leaves no degrees of freedom, as NumPy's value and var's derivative
    return unp.sum(squared, axis=axis, keepdims=keepdims) / unp.where(
        dof > 0, dof, _np.nan)


@_create(_replace_first, default=_nanvar)
def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Variance ignoring NaNs (``numpy.nanvar``)."""
    return (_array(a),)


@_create(_replace_first, default=lambda a, axis=None, dtype=None, out=None, ddof=0,
         keepdims=False: unp.sqrt(nanvar(a, axis=axis, ddof=ddof, keepdims=keepdims)))
def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Standard deviation ignoring NaNs (``numpy.nanstd``)."""
    return (_array(a),)


@_create(_replace_first, default=lambda a, axis=None, dtype=None, out=None: _mm.cumsum(
    _nan_as(a, 0.0), axis=axis, dtype=dtype))
def nancumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum treating NaNs as zero (``numpy.nancumsum``)."""
    return (_array(a),)


@_create(_replace_first, default=lambda a, axis=None, dtype=None, out=None: cumprod(
    _nan_as(a, 1.0), axis=axis, dtype=dtype))
def nancumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product treating NaNs as one (``numpy.nancumprod``)."""
    return (_array(a),)


def _cumulative(scan, identity):
    def default(x, axis=None, dtype=None, out=None, include_initial=False):
        if axis is None:
            if unp.ndim(x) > 1:
                raise ValueError("axis must be given for arrays of more than one dimension")
            axis = 0
        result = scan(x, axis=axis, dtype=dtype)
        if include_initial:
            first = unp.full(_with_axis(x, axis, 1), identity, dtype=_dtype(result))
            result = unp.concatenate([first, result], axis=axis)
        return result

    return default


@_create(_replace_first, default=_cumulative(_mm.cumsum, 0))
def cumulative_sum(x, axis=None, dtype=None, out=None, include_initial=False):
    """Cumulative sum, array-API style (``numpy.cumulative_sum``)."""
    return (_array(x),)


@_create(_replace_first, default=_cumulative(cumprod, 1))
def cumulative_prod(x, axis=None, dtype=None, out=None, include_initial=False):
    """Cumulative product, array-API style (``numpy.cumulative_prod``)."""
    return (_array(x),)


def _ediff1d(ary, to_end=None, to_begin=None):
    flat = unp.ravel(ary)
    dtype = _dtype(flat)
    ends = [unp.ravel(unp.asarray(e)) if e is not None else None for e in (to_begin, to_end)]
    ends = [e if e is None or _dtype(e) == dtype else _mm.astype(e, dtype) for e in ends]
    pieces = [ends[0], diff(flat), ends[1]]
    return unp.concatenate([p for p in pieces if p is not None], axis=0)


@_create(_replace_first, default=_ediff1d)
def ediff1d(ary, to_end=None, to_begin=None):
    """Differences of the flattened array (``numpy.ediff1d``)."""
    return (_array(ary),)


def _trapezoid(y, x=None, dx=1.0, axis=-1):
    nd = unp.ndim(y)
    lo, hi = y[_axis_index(nd, axis, slice(None, -1))], y[_axis_index(nd, axis, slice(1, None))]
    if x is None:
        return unp.sum((lo + hi) * (dx / 2.0), axis=axis)
    widths = diff(x, axis=axis if unp.ndim(x) == nd else -1)
    return unp.sum((lo + hi) * widths / 2.0, axis=axis)


@_create(_replace_first_two, default=_trapezoid)
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral by the trapezoidal rule (``numpy.trapezoid``)."""
    return (_array(y), _array(x))


def _interp(x, xp, fp, left=None, right=None, period=None):
    if period is not None:
        raise NotImplementedError("udiff's interp does not take period=")
    # NumPy interpolates in float64 (complex128 for complex fp)
    x, xp = (v if _dtype(v) == _np.float64 else _mm.astype(v, _np.float64) for v in (x, xp))
    real = _dtype(fp).kind != "c"
    if _dtype(fp) != (_np.float64 if real else _np.complex128):
        fp = _mm.astype(fp, _np.float64 if real else _np.complex128)
    n = unp.shape(xp)[0]
    # a constant index, flat: Dask gathers lazily with one 1-D index array only
    i = unp.ravel(clip(unp.searchsorted(xp, x, side="right") - 1, 0, n - 2))
    x0, x1, f0, f1 = (unp.reshape(v, unp.shape(x)) for v in (xp[i], xp[i + 1], fp[i], fp[i + 1]))
    y = f0 + (f1 - f0) * (x - x0) / (x1 - x0)
    y = unp.where(x < xp[0], fp[0] if left is None else left, y)
    return unp.where(x > xp[n - 1], fp[n - 1] if right is None else right, y)


def _interp_replace(args, kwargs, d):
    return tuple(d) + tuple(args[3:]), kwargs


@_create(_interp_replace, default=_interp)
def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation (``numpy.interp``), differentiable in x, xp and fp."""
    return (_array(x), _array(xp), _array(fp))


def _polyval(p, x):
    result = x * 0
    for k in range(unp.shape(p)[0]):
        result = result * x + p[k]
    return result


@_create(_replace_first_two, default=_polyval)
def polyval(p, x):
    """Evaluate a polynomial by Horner's scheme (``numpy.polyval``)."""
    return (_array(p), _array(x))


def _correlate_full(a, v):
    """``sum_k a[i + k - (m - 1)] v[k]`` for every shift (zero padded)."""
    n, m = unp.shape(a)[0], unp.shape(v)[0]
    padded = unp.pad(a, (m - 1, m - 1), "constant")
    windows = _np.arange(n + m - 1)[:, None] + _np.arange(m)[None, :]
    # index with a flat array: Dask takes one-dimensional integer indices only
    return _mm.dot(unp.reshape(padded[windows.ravel()], windows.shape), v)


def _trim(full, n, m, mode):
    if mode == "full":
        return full
    if mode == "same":
        length = max(n, m)
        start = (n + m - 1 - length) // 2
        return full[start:start + length]
    if mode == "valid":
        return full[min(n, m) - 1: max(n, m)]
    raise ValueError(f"mode must be 'full', 'same' or 'valid', not {mode!r}")


def _convolve(a, v, mode="full"):
    n, m = unp.shape(a)[0], unp.shape(v)[0]
    return _trim(_correlate_full(a, flip(v, 0)), n, m, mode)


def _correlate(a, v, mode="valid"):
    n, m = unp.shape(a)[0], unp.shape(v)[0]
    return _trim(_correlate_full(a, unp.conj(v)), n, m, mode)


@_create(_replace_first_two, default=_convolve)
def convolve(a, v, mode="full"):
    """Discrete linear convolution of 1-D arrays (``numpy.convolve``)."""
    return (_array(a), _array(v))


@_create(_replace_first_two, default=_correlate)
def correlate(a, v, mode="valid"):
    """Cross-correlation of 1-D arrays (``numpy.correlate``)."""
    return (_array(a), _array(v))


# -- array-API products and shapes --------------------------------------------------------------
def check_vector_lengths(name, x1, x2, axis):
    """Raise ``ValueError`` unless ``x1`` and ``x2`` have as many entries along ``axis``.

    The vectors' axis of ``vecdot`` is not broadcast (as in NumPy's gufunc): a length-1
    axis against a longer one is an error, not a product with the one entry repeated.  A
    length unknown until computed (a Dask array's NaN) is not checked.
    """
    s1, s2 = unp.shape(x1), unp.shape(x2)
    if not (-len(s1) <= axis < len(s1) and -len(s2) <= axis < len(s2)):
        return  # out of range: the product says so
    n1, n2 = s1[axis], s2[axis]
    if n1 == n1 and n2 == n2 and n1 != n2:  # NaN != NaN: unknown lengths pass
        raise ValueError(
            f"{name}: x1 has {n1} entries along axis {axis} and x2 has {n2}; the vectors "
            "must have one length (their axis is not broadcast)")


def _vecdot(x1, x2, axis=-1):
    """``sum(conj(x1) * x2)`` in the product's dtype: integers keep theirs, as in NumPy's
    ``vecdot`` (``sum`` alone would widen ``uint8`` to ``uint64``)."""
    check_vector_lengths("vecdot", x1, x2, axis)
    product = unp.conj(x1) * x2
    return unp.sum(product, axis=axis, dtype=product.dtype)


@_create(_replace_first_two, default=_vecdot)
def vecdot(x1, x2, axis=-1):
    """Vector dot product along an axis, conjugating the first (``numpy.vecdot``)."""
    return (_array(x1), _array(x2))


@_create(_replace_first_two, default=lambda x1, x2: _mm.einsum("...ij,...j->...i", x1, x2))
def matvec(x1, x2):
    """Matrix-vector product over stacks (``numpy.matvec``)."""
    return (_array(x1), _array(x2))


@_create(_replace_first_two, default=lambda x1, x2: _mm.einsum("...j,...ji->...i", unp.conj(x1), x2))
def vecmat(x1, x2):
    """Vector-matrix product over stacks, conjugating the vector (``numpy.vecmat``)."""
    return (_array(x1), _array(x2))


@_create(_replace_first, default=lambda x: unp.swapaxes(x, -1, -2))
def matrix_transpose(x):
    """Transpose the last two axes (``numpy.matrix_transpose``)."""
    return (_array(x),)


@_create(_replace_first, default=lambda x, axis=0: tuple(
    x[_axis_index(unp.ndim(x), axis, i)] for i in range(unp.shape(x)[axis])))
def unstack(x, axis=0):
    """Split into a tuple of arrays along an axis (``numpy.unstack``)."""
    return (_array(x),)


def _delete(arr, obj, axis=None):
    if axis is None:
        arr, axis = unp.ravel(arr), 0
    n = unp.shape(arr)[axis]
    keep = _np.ones(n, dtype=bool)
    keep[_np.arange(n)[obj]] = False
    return arr[_axis_index(unp.ndim(arr), axis, _np.nonzero(keep)[0])]


@_create(_replace_first, default=_delete)
def delete(arr, obj, axis=None):
    """Remove entries along an axis (``numpy.delete``)."""
    return (_array(arr),)


def _insert(arr, obj, values, axis=None):
    if axis is None:
        arr, axis = unp.ravel(arr), 0
    nd = unp.ndim(arr)
    n = unp.shape(arr)[axis]
    piece = unp.asarray(values)
    if _dtype(piece) != _dtype(arr):
        piece = _mm.astype(piece, _dtype(arr))
    index = None if isinstance(obj, slice) else _np.asarray(obj)
    if index is not None and index.size == 1:
        # one position: values get leading axes up to arr's; for a scalar position the
        # first of them becomes the inserted axis (numpy.insert)
        piece = unp.reshape(piece, (1,) * (nd - unp.ndim(piece)) + tuple(unp.shape(piece)))
        if index.ndim == 0:
            piece = unp.moveaxis(piece, 0, axis)
        count = unp.shape(piece)[axis]
    else:
        count = len(range(*obj.indices(n))) if index is None else index.size
    piece = unp.broadcast_to(piece, _with_axis(arr, axis, count))
    # where each entry of arr and of the inserted values goes: NumPy's insert of their labels
    order = _np.insert(_np.arange(n), obj, _np.arange(n, n + count))
    return unp.concatenate([arr, piece], axis=axis)[_axis_index(nd, axis, order)]


def _insert_replace(args, kwargs, d):
    return (d[0], args[1], d[1]) + tuple(args[3:]), kwargs


@_create(_insert_replace, default=_insert)
def insert(arr, obj, values, axis=None):
    """Insert values before a position along an axis (``numpy.insert``)."""
    return (_array(arr), _array(values))


# -- a few more ---------------------------------------------------------------------------------
def _float_power(x1, x2):
    # NumPy computes in float64 or complex128 at least (float32 gives float64)
    dtype = _np.result_type(_dtype(x1), _dtype(x2), _np.float64)
    if not hasattr(x1, "dtype"):
        return unp.power(unp.asarray(x1, dtype=dtype), x2)
    return unp.power(x1 if _dtype(x1) == dtype else _mm.astype(x1, dtype), x2)


@_create(_replace_first_two, default=_float_power)
def float_power(x1, x2):
    """``x1 ** x2`` in floating point (``numpy.float_power``)."""
    return (_array(x1), _array(x2))


def _resize(a, new_shape):
    new_shape = tuple(new_shape) if isinstance(new_shape, (tuple, list)) else (new_shape,)
    total = int(_np.prod(new_shape, dtype=_np.int64))
    flat = unp.ravel(a)
    size = unp.shape(flat)[0]
    if size == 0 or total == 0:
        return unp.zeros(new_shape)
    repeats = -(-total // size)
    return unp.reshape(tile(flat, repeats)[:total], new_shape)


@_create(_replace_first, default=_resize)
def resize(a, new_shape):
    """A new array of a given shape, repeating ``a`` as needed (``numpy.resize``)."""
    return (_array(a),)


def _gradient(f, *varargs, axis=None, edge_order=1):
    if edge_order != 1:
        raise NotImplementedError("udiff's gradient takes edge_order=1")
    nd = unp.ndim(f)
    axes = list(range(nd)) if axis is None else [
        x % nd for x in (axis if isinstance(axis, (tuple, list)) else (axis,))]
    spacing = list(varargs) if len(varargs) == len(axes) else [varargs[0] if varargs else 1.0] * len(axes)
    out = []
    for ax, h in zip(axes, spacing):
        if not isinstance(h, (int, float)):
            raise NotImplementedError("udiff's gradient takes scalar spacings")

        def part(sl):
            return f[_axis_index(nd, ax, sl)]

        inner = (part(slice(2, None)) - part(slice(None, -2))) / (2.0 * h)
        first = (part(slice(1, 2)) - part(slice(0, 1))) / h
        last = (part(slice(-1, None)) - part(slice(-2, -1))) / h
        out.append(unp.concatenate([first, inner, last], axis=ax))
    return out[0] if len(out) == 1 else tuple(out)


@_create(_replace_first, default=_gradient)
def gradient(f, *varargs, axis=None, edge_order=1):
    """Central differences inside, one-sided at the edges (``numpy.gradient``)."""
    return (_array(f),)


def _cov(m, y=None, rowvar=True, bias=False, ddof=None):
    def rows(a):  # as NumPy: observations along axis 1, 1-D input is one variable
        a = unp.atleast_2d(a)
        return a if rowvar or unp.shape(a)[0] == 1 else unp.transpose(a)

    x = rows(m) if y is None else unp.concatenate([rows(m), rows(y)], axis=0)
    dtype = _np.result_type(_dtype(x), _np.float64)
    if _dtype(x) != dtype:
        x = _mm.astype(x, dtype)
    n = unp.shape(x)[1]
    ddof = (0 if bias else 1) if ddof is None else ddof
    centered = x - _mm.mean(x, axis=1, keepdims=True)
    c = _mm.dot(centered, unp.transpose(unp.conj(centered))) / (n - ddof)
    return _mm.squeeze(c) if unp.shape(c) == (1, 1) else c


@_create(_replace_first_two, default=_cov)
def cov(m, y=None, rowvar=True, bias=False, ddof=None):
    """Covariance matrix (``numpy.cov``)."""
    return (_array(m), _array(y))


def _corrcoef(x, y=None, rowvar=True):
    c = _cov(x, y, rowvar)
    if unp.ndim(c) == 0:
        return c / c
    d = unp.sqrt(_mm.diagonal(c))
    return c / unp.reshape(d, (-1, 1)) / unp.reshape(d, (1, -1))


@_create(_replace_first_two, default=_corrcoef)
def corrcoef(x, y=None, rowvar=True):
    """Pearson correlation coefficients (``numpy.corrcoef``)."""
    return (_array(x), _array(y))


@_create(_replace_first, default=lambda a, dtype=None: unp.atleast_1d(unp.asarray(a, dtype=dtype)))
def ascontiguousarray(a, dtype=None):
    """``a`` in C order (``numpy.ascontiguousarray``); the same values."""
    return (_array(a),)


@_create(_replace_first, default=lambda a, dtype=None: unp.atleast_1d(unp.asarray(a, dtype=dtype)))
def asfortranarray(a, dtype=None):
    """``a`` in Fortran order (``numpy.asfortranarray``); the same values."""
    return (_array(a),)


MULTIMETHODS = {
    f.__name__: f
    for f in (
        float_power, resize, gradient, cov, corrcoef, ascontiguousarray, asfortranarray,
        nanvar, nanstd, nancumsum, nancumprod, cumulative_sum, cumulative_prod, ediff1d, trapezoid,
        interp, polyval, convolve, correlate, vecdot, matvec, vecmat, matrix_transpose, unstack,
        delete, insert,
        amax, amin, ptp, average, flip, fliplr, flipud, rot90, roll, tile, repeat, take, split,
        array_split, hsplit, vsplit, dsplit, dstack, append, meshgrid, tril, triu, diag, kron,
        cross, nanmean, diff, cumprod, clip, nan_to_num, select,
    )
}
defcomposite(*MULTIMETHODS.values())
