"""NumPy's polynomial functions (``numpy.poly*``, ``vander``, ``roots``), differentiated
through their default implementations; ``polyval`` is in ``_composites.py``.

Coefficients come highest power first, as NumPy's.  ``polyfit`` is a
least-squares solve (``linalg.lstsq``'s derivative); ``roots`` the
eigenvalues of the companion matrix (``linalg.eigvals``'s).

Examples
--------
>>> import numpy, udiff, udiff.numpy as np
>>> x = numpy.array([0.0, 1.0, 2.0, 3.0])
>>> numpy.round(np.polyfit(x, 2 * x + 1, 1), 12)
array([2., 1.])
>>> udiff.grad(lambda p: np.sum(np.polyint(np.polyder(p))))(numpy.array([1.0, 2.0, 3.0]))
array([1., 1., 0.])
"""
import numpy as _np

from . import _from_signatures as unp
from . import _composites as _co
from . import _handwritten as _mm
from ._value_dependent import _replacer, known
from ._declare import array as _array
from ._declare import multimethod
from ._declare import replace_first as _replace_first
from ._declare import replace_first_two as _replace_first_two
from .._machinery.batched_array import BatchedArray
from .._machinery.diff_array import DiffArray
from .._machinery.registry import defcomposite
from ..backends._base import to_numpy

_create = multimethod("numpy")


def _vander(x, N=None, increasing=False):
    if unp.ndim(x) != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    dtype = _np.promote_types(_co._dtype(x), int)
    x = x if _co._dtype(x) == dtype else _mm.astype(x, dtype)
    n = unp.shape(x)[0] if N is None else N
    if n == 0:
        return unp.reshape(x, (-1, 1))[:, :0]
    # NumPy's multiply.accumulate: x**k as a running product, exact at x = 0
    columns = [_mm.ones_like(x)]
    for _ in range(1, n):
        columns.append(columns[-1] * x)
    return unp.stack(columns if increasing else columns[::-1], axis=1)


@_create(_replace_first, default=_vander)
def vander(x, N=None, increasing=False):
    """The Vandermonde matrix, powers of ``x`` in its columns (``numpy.vander``)."""
    return (_array(x),)


def _aligned(a1, a2):
    """``a1`` and ``a2`` (at least 1-D), the shorter padded with leading zeros."""
    a1, a2 = unp.atleast_1d(a1), unp.atleast_1d(a2)
    diff = unp.shape(a2)[0] - unp.shape(a1)[0]
    if diff > 0:
        a1 = unp.pad(a1, (diff, 0))
    elif diff < 0:
        a2 = unp.pad(a2, (-diff, 0))
    return a1, a2


@_create(_replace_first_two, default=lambda a1, a2: unp.add(*_aligned(a1, a2)))
def polyadd(a1, a2):
    """The sum of two polynomials (``numpy.polyadd``)."""
    return (_array(a1), _array(a2))


@_create(_replace_first_two, default=lambda a1, a2: unp.subtract(*_aligned(a1, a2)))
def polysub(a1, a2):
    """The difference of two polynomials (``numpy.polysub``)."""
    return (_array(a1), _array(a2))


def _rows(a):
    """The values of the 1-D ``a`` as a 2-D NumPy array, one row per example where ``a`` is
    a vmap's array under a derivative (its value every example's, stacked), else one row."""
    values = a
    while type(values) in (DiffArray, BatchedArray):
        values = values.value
    values = to_numpy(values)
    return values.reshape(-1, values.shape[-1]) if values.ndim else values.reshape(1, 1)


def _same_start(name, starts):
    """The one start of every example; a clear error where the examples differ (their
    results would have different lengths, which one batched array cannot hold)."""
    if len(set(starts)) > 1:
        raise ValueError(
            f"udiff: {name} inside vmap, under a derivative: the examples' leading zeros "
            f"differ (drop {sorted(set(starts))} entries), so their results have different "
            "lengths, which one batched array cannot hold; trim the coefficients to the same "
            "length before the vmap")
    return starts[0]


def _poly1d(a):
    """``a`` as ``numpy.poly1d`` takes it: 1-D, its leading zeros dropped (``[0]`` if all are
    zero).  The length depends on the values (computed on Dask); a dropped zero's derivative
    is zero, as the shape of the result cannot follow a change of it."""
    a = unp.atleast_1d(a)
    if unp.ndim(a) != 1:
        raise ValueError("Polynomial must be 1d only.")
    starts = []
    for row in _rows(a):
        nonzero = _np.flatnonzero(row)
        starts.append(row.shape[0] - 1 if nonzero.size == 0 else int(nonzero[0]))
    return a[_same_start("polymul", starts):]


@_create(_replace_first_two, default=lambda a1, a2: _co.convolve(_poly1d(a1), _poly1d(a2)))
def polymul(a1, a2):
    """The product of two polynomials (``numpy.polymul``): as NumPy, the leading zeros of
    each factor are dropped first, so the result has none unless it is zero."""
    return (_array(a1), _array(a2))


def _polydiv(u, v):
    # NumPy's long division, with the in-place updates of the remainder as subtractions
    u, v = unp.atleast_1d(u) + 0.0, unp.atleast_1d(v) + 0.0
    m, n = unp.shape(u)[0] - 1, unp.shape(v)[0] - 1
    scale = 1.0 / v[0]
    r, q = u, []
    for k in range(m - n + 1):
        d = scale * r[k]
        q.append(d)
        r = r - unp.pad(d * v, (k, m - n - k))
    dtype = _np.result_type(_co._dtype(u), _co._dtype(v))
    q = unp.stack(q) if q else unp.zeros(1, dtype=dtype)
    starts = []  # NumPy drops the remainder's leading entries that are close to 0
    for values in _rows(r):
        start = 0
        while start < values.shape[0] - 1 and _np.allclose(values[start], 0, rtol=1e-14):
            start += 1
        starts.append(start)
    return q, r[_same_start("polydiv", starts):]


@_create(_replace_first_two, default=_polydiv)
def polydiv(u, v):
    """The quotient and remainder of the division of two polynomials (``numpy.polydiv``):
    NumPy's long division; the remainder's leading entries within ``1e-8`` of zero are
    dropped, as NumPy drops them (its length depends on the values, computed on Dask)."""
    return (_array(u), _array(v))


def _polyder(p, m=1):
    m = int(m)
    if m < 0:
        raise ValueError("Order of derivative must be positive (see polyint)")
    p = unp.atleast_1d(p)
    for _ in range(m):
        n = unp.shape(p)[0] - 1
        p = p[:-1] * _np.arange(n, 0, -1)
    return p


@_create(_replace_first, default=_polyder)
def polyder(p, m=1):
    """The ``m``-th derivative of a polynomial (``numpy.polyder``)."""
    return (_array(p),)


def _polyint(p, m=1, k=None):
    m = int(m)
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    k = unp.zeros(m) if k is None else unp.atleast_1d(k)
    if unp.shape(k)[0] == 1 and m > 1:
        k = k[0] * _np.ones(m)
    if unp.shape(k)[0] < m:
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
    p = unp.asarray(p)
    for i in range(m):
        p = unp.concatenate([p / _np.arange(unp.shape(p)[0], 0, -1), k[i:i + 1]])
    return p


@_create(_replacer(("p", 0), ("k", 2)), default=_polyint)
def polyint(p, m=1, k=None):
    """The ``m``-th antiderivative of a polynomial (``numpy.polyint``), differentiable in
    ``p`` and the integration constants ``k``."""
    return (_array(p), _array(k))


def _polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    from . import linalg  # noqa: PLC0415 - udiff.numpy imports this module

    order = int(deg) + 1
    x, y = x + 0.0, y + 0.0
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if unp.ndim(x) != 1:
        raise TypeError("expected 1D vector for x")
    if unp.shape(x)[0] == 0:
        raise TypeError("expected non-empty vector for x")
    if unp.ndim(y) < 1 or unp.ndim(y) > 2:
        raise TypeError("expected 1D or 2D array for y")
    if unp.shape(x)[0] != unp.shape(y)[0]:
        raise TypeError("expected x and y to have same length")
    n = unp.shape(x)[0]
    if rcond is None:
        rcond = n * _np.finfo(_co._dtype(x)).eps
    lhs, rhs = _vander(x, order), y
    if w is not None:
        w = w + 0.0
        lhs = lhs * unp.reshape(w, (-1, 1))
        rhs = rhs * (unp.reshape(w, (-1, 1)) if unp.ndim(rhs) == 2 else w)
    scale = unp.sqrt(unp.sum(lhs * lhs, axis=0))
    lhs = lhs / scale
    c, resids, rank, s = linalg.lstsq(lhs, rhs, rcond)
    c = unp.transpose(unp.transpose(c) / scale)
    if full:
        return c, resids, rank, s, rcond
    if not cov:
        return c
    base = linalg.inv(_mm.dot(unp.transpose(lhs), lhs)) / _mm.outer(scale, scale)
    if cov == "unscaled":
        fac = 1.0
    else:
        if n <= order:
            raise ValueError("the number of data points must exceed order to scale the "
                             "covariance matrix")
        # lstsq's residuals, recomputed so that they differentiate
        fac = unp.sum((rhs - _mm.dot(lhs, c * unp.reshape(scale, (-1,) + (1,) * (unp.ndim(c) - 1))))
                      ** 2, axis=0) / (n - order)
    return c, (base * fac if unp.ndim(y) == 1 else unp.reshape(base, (order, order, 1)) * fac)


@_create(_replacer(("x", 0), ("y", 1), ("w", 5)), default=_polyfit)
def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """Least-squares polynomial fit (``numpy.polyfit``), differentiable in ``x``, ``y``
    and the weights ``w`` (``full=True``'s residuals, rank and singular values come
    from ``linalg.lstsq``, whose only derivative is that of the solution)."""
    return (_array(x), _array(y), _array(w))


def _roots(p):
    from . import linalg  # noqa: PLC0415 - udiff.numpy imports this module

    p = unp.atleast_1d(p)
    if unp.ndim(p) != 1:
        raise ValueError("Input must be a rank-1 array.")
    nonzero = _np.flatnonzero(known(p))
    if nonzero.size == 0:
        return unp.asarray(_np.array([]))
    trailing = unp.shape(p)[0] - nonzero[-1] - 1
    p = p[int(nonzero[0]):int(nonzero[-1]) + 1]
    if _co._dtype(p).kind not in "fc":
        p = _mm.astype(p, float)
    n = unp.shape(p)[0]
    if n > 1:
        below = _np.eye(n - 2, n - 1, dtype=_co._dtype(p))
        companion = unp.concatenate([unp.reshape(-p[1:] / p[0], (1, n - 1)), below], axis=0)
        roots = linalg.eigvals(companion)
    else:
        roots = unp.asarray(_np.array([]))
    if trailing:
        roots = unp.concatenate([roots, _np.zeros(trailing, _co._dtype(roots))])
    return roots


@_create(_replace_first, default=_roots)
def roots(p):
    """The roots of a polynomial (``numpy.roots``): the eigenvalues of its companion
    matrix (``linalg.eigvals``: real where NumPy's are, complex on Dask)."""
    return (_array(p),)


MULTIMETHODS = {f.__name__: f for f in (vander, polyadd, polysub, polymul, polydiv, polyder,
                                        polyint, polyfit, roots)}
defcomposite(*MULTIMETHODS.values())
