"""``numpy.linalg`` as multimethods of the ``numpy.linalg`` domain.

Each function here is a uarray multimethod named like its NumPy counterpart,
so inner backends resolve it by domain and name (``numpy.linalg.inv``,
``dask.array.linalg.inv``, ``cupy.linalg.inv``).  Under
:class:`udiff.DiffArrayBackend` calls are recorded and differentiated (rules
in :mod:`udiff.rules.linalg`); under a plain inner backend they simply run.
Where an inner library lacks a function the error names the function and the
backend, except for ``multi_dot`` and ``matrix_power``, which have default
implementations written with ``matmul``.

Examples
--------
>>> import uarray as ua, udiff
>>> import udiff.numpy as np
>>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
...     a = np.asarray([[2.0, 1.0], [1.0, 3.0]])
...     d = np.linalg.det(a)
...     print(d.to(a).value)
[[ 3. -1.]
 [-1.  2.]]
"""
import unumpy as _unumpy

from .. import _registry
from .._declare import array as _array
from .._declare import multimethod
from .._declare import replace_first as _replace_first
from .._declare import replace_first_two as _replace_first_two
from .._declare import replace_sequence as _replace_sequence

_create = multimethod("numpy.linalg")

__all__ = [
    "norm", "inv", "pinv", "det", "slogdet", "solve", "cholesky", "qr", "eigh",
    "eigvalsh", "svd", "lstsq", "multi_dot", "matrix_power", "matrix_rank", "cond",
    "vector_norm", "matrix_norm", "svdvals",
]


@_create(_replace_first)
def norm(x, ord=None, axis=None, keepdims=False):
    """Matrix or vector norm (``numpy.linalg.norm``).

    Differentiable for vector orders ``None``/2, ``inf``, ``-inf`` and any
    ``p >= 1`` (``ord=0`` counts non-zeros: a constant), and matrix orders
    ``None``/``'fro'``, ``'nuc'``, ``2``, ``-2``, ``1``, ``-1``, ``inf``,
    ``-inf``.  At a zero input the derivative is the zero subgradient (never
    NaN).  Where the norm is not differentiable (ties among the largest
    entries, row or column sums, repeated extreme singular values) ties
    share the derivative or one subgradient is taken.
    """
    return (_array(x),)


@_create(_replace_first)
def inv(a):
    """Inverse of a (stack of) square matrices (``numpy.linalg.inv``).

    The derivative ``-A^-1 dA A^-1`` is undefined where ``a`` is singular.
    """
    return (_array(a),)


@_create(_replace_first)
def pinv(a, rcond=None, hermitian=False, **kwargs):
    """Moore-Penrose pseudo-inverse (``numpy.linalg.pinv``).

    The derivative is the Golub-Pereyra formula, valid where the rank of
    ``a`` is locally constant (no singular value near the cutoff); it is
    undefined where the rank changes.
    """
    return (_array(a),)


@_create(_replace_first)
def det(a):
    """Determinant (``numpy.linalg.det``).

    The derivative ``det(A) A^-T`` is computed through ``inv`` and fails where
    ``a`` is singular (the derivative exists there but this formula does not
    reach it).
    """
    return (_array(a),)


@_create(_replace_first)
def slogdet(a):
    """Sign and log of the absolute determinant (``numpy.linalg.slogdet``).

    Returns two outputs: ``sign`` (constant, not differentiable) and
    ``logabsdet``, whose derivative ``A^-T`` is undefined for singular ``a``.
    """
    return (_array(a),)


@_create(_replace_first_two)
def solve(a, b):
    """Solve ``a x = b`` (``numpy.linalg.solve``).

    ``b`` is one vector when it is 1-D, else a (stack of) matrices.  The
    derivative is undefined where ``a`` is singular.
    """
    return (_array(a), _array(b))


@_create(_replace_first)
def cholesky(a, upper=False):
    """Cholesky factor of a symmetric positive-definite matrix (``numpy.linalg.cholesky``).

    Like NumPy, only the lower (``upper=False``) or upper triangle of ``a``
    is read, and the derivative is with respect to that triangle (Murray,
    arXiv:1602.07527).  Undefined where ``a`` is not positive definite.
    """
    return (_array(a),)


@_create(_replace_first)
def qr(a, mode="reduced"):
    """QR decomposition (``numpy.linalg.qr``).

    Differentiable in mode ``"reduced"`` (and ``"complete"`` for square
    matrices) when ``a`` has full column rank and at least as many rows as
    columns; undefined for rank-deficient ``a``.
    """
    return (_array(a),)


@_create(_replace_first)
def eigh(a, UPLO="L"):
    """Eigenvalues and eigenvectors of a symmetric matrix (``numpy.linalg.eigh``).

    Like NumPy only the ``UPLO`` triangle is read, and the derivative is with
    respect to it.  The derivative of the eigenvectors is undefined where
    eigenvalues repeat (it divides by their differences); the eigenvectors'
    signs are arbitrary, so differentiate sign-invariant functions of them.
    """
    return (_array(a),)


@_create(_replace_first)
def eigvalsh(a, UPLO="L"):
    """Eigenvalues of a symmetric matrix (``numpy.linalg.eigvalsh``).

    The derivative ``V diag(g) V^T`` is defined where eigenvalues are distinct
    (at repeated eigenvalues only symmetric functions of them are
    differentiable).
    """
    return (_array(a),)


@_create(_replace_first)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Singular value decomposition (``numpy.linalg.svd``).

    Differentiable with ``full_matrices=False`` (or for square matrices) and
    with ``compute_uv=False``.  The derivative of the singular vectors is
    undefined where singular values repeat or (for non-square matrices) are
    zero; their signs are arbitrary, so differentiate sign-invariant functions
    of them.
    """
    return (_array(a),)


@_create(_replace_first_two)
def lstsq(a, b, rcond=None):
    """Least-squares solution of ``a x = b`` (``numpy.linalg.lstsq``).

    Output 0 (the solution) is differentiable where ``a`` has full rank (the
    derivative of the pseudo-inverse needs a locally constant rank); the
    residuals, rank and singular values are not.
    """
    return (_array(a), _array(b))


def _multi_dot_default(arrays, *, out=None):
    if out is not None:
        raise TypeError("multi_dot: out= is not supported")
    result = arrays[0]
    for a in arrays[1:]:
        result = _unumpy.matmul(result, a)
    return result


@_create(_replace_sequence, default=_multi_dot_default)
def multi_dot(arrays, *, out=None):
    """Product of a chain of matrices (``numpy.linalg.multi_dot``).

    The first array may be 1-D (a row vector) and the last 1-D (a column
    vector).  Where the inner library lacks it, it is a chain of ``matmul``.
    """
    return tuple(_array(a) for a in arrays)


def _matrix_power_default(a, n):
    import operator

    n = operator.index(n)
    if n < 0:
        a = inv(a)
        n = -n
    if n == 0:
        shape = _unumpy.shape(a)
        eye = _unumpy.eye(shape[-1], dtype=_unumpy.asarray(a).dtype)
        return _unumpy.broadcast_to(eye, tuple(shape))
    result = None
    power = a
    while n:
        if n & 1:
            result = power if result is None else _unumpy.matmul(result, power)
        n >>= 1
        if n:
            power = _unumpy.matmul(power, power)
    return result


@_create(_replace_first, default=_matrix_power_default)
def matrix_power(a, n):
    """Integer power of a (stack of) square matrices (``numpy.linalg.matrix_power``).

    Negative ``n`` inverts first (undefined for singular ``a``).  Where the
    inner library lacks it, it is repeated squaring with ``matmul``.
    """
    return (_array(a),)


@_create(_replace_first)
def matrix_rank(A, tol=None, hermitian=False, **kwargs):
    """Rank of a matrix (``numpy.linalg.matrix_rank``): an integer, not differentiable."""
    return (_array(A),)


@_create(_replace_first)
def cond(x, p=None):
    """Condition number (``numpy.linalg.cond``): declared non-differentiable."""
    return (_array(x),)


# -- the array-API spellings, differentiated through norm and svd ----------------------------
def _vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    nd = _unumpy.ndim(x)
    axes = tuple(range(nd)) if axis is None else tuple(
        a % nd for a in (axis if isinstance(axis, tuple) else (axis,)))
    rest = [a for a in range(nd) if a not in axes]
    shape = _unumpy.shape(x)
    flat = _unumpy.reshape(
        _unumpy.transpose(x, tuple(rest) + axes), tuple(shape[a] for a in rest) + (-1,))
    result = norm(flat, ord, axis=-1)
    if keepdims:
        result = _unumpy.reshape(result, tuple(1 if a in axes else shape[a] for a in range(nd)))
    return result


@_create(_replace_first, default=_vector_norm)
def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """Vector norm over ``axis`` (all axes by default) (``numpy.linalg.vector_norm``)."""
    return (_array(x),)


@_create(_replace_first, default=lambda x, /, *, keepdims=False, ord="fro": norm(
    x, ord, axis=(-2, -1), keepdims=keepdims))
def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """Matrix norm of the last two axes (``numpy.linalg.matrix_norm``)."""
    return (_array(x),)


@_create(_replace_first, default=lambda x, /: svd(x, compute_uv=False))
def svdvals(x, /):
    """Singular values (``numpy.linalg.svdvals``)."""
    return (_array(x),)


MULTIMETHODS = {name: globals()[name] for name in __all__}
_registry.register_namespace(MULTIMETHODS)
_registry.defcomposite(vector_norm, matrix_norm, svdvals)
