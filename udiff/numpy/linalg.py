"""``numpy.linalg`` as multimethods of the ``numpy.linalg`` domain.

Each function here is a uarray multimethod named like its NumPy counterpart,
so inner backends resolve it by domain and name (``numpy.linalg.inv``,
``dask.array.linalg.inv``, ``cupy.linalg.inv``).  Under
:class:`udiff.DiffArrayBackend` calls are recorded and differentiated (rules
in :mod:`udiff.rules.linalg`); under a plain inner backend they simply run.
Where an inner library lacks a function the error names the function and the
backend, except for the functions with default implementations written with
others (``multi_dot``, ``matrix_power``, ``cond``, ``tensorsolve``,
``tensorinv``, and NumPy 2's spellings ``matmul``, ``vecdot``, ``trace``...).

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
import numpy as _np

from .._machinery import registry as _registry
from ..backends._base import adjugate_from_svd as _adjugate_from_svd
from . import _composites as _cm
from . import _from_signatures as _np_api
from . import _handwritten as _mm
from ._declare import array as _array
from ._declare import multimethod
from ._declare import replace_first as _replace_first
from ._declare import replace_first_two as _replace_first_two
from ._declare import replace_sequence as _replace_sequence

_create = multimethod("numpy.linalg")

__all__ = [
    "norm", "inv", "pinv", "det", "slogdet", "solve", "cholesky", "qr", "eigh",
    "eigvalsh", "svd", "lstsq", "multi_dot", "matrix_power", "matrix_rank", "cond",
    "vector_norm", "matrix_norm", "svdvals", "eig", "eigvals", "tensorsolve", "tensorinv",
    "matmul", "outer", "tensordot", "vecdot", "matrix_transpose", "cross", "diagonal", "trace",
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
    undefined where the rank changes.  Where ``rcond`` (or ``rtol``) drops a
    singular value that is not zero (larger than 1e-5 times the smallest one
    kept), the derivative raises ``ValueError``: the formula holds only where
    the dropped values are zero, and is off by about that ratio.
    """
    return (_array(a),)


@_create(_replace_first)
def det(a):
    """Determinant (``numpy.linalg.det``).

    The derivative is the transposed adjugate ``adj(A)^T`` (``det(A) A^-T``
    where ``a`` is invertible), computed from an SVD without inverting: finite
    everywhere, singular matrices included, as in JAX.
    """
    return (_array(a),)


@_create(_replace_first)
def slogdet(a):
    """Sign and log of the absolute determinant (``numpy.linalg.slogdet``).

    Returns two outputs.  ``logabsdet`` has derivative ``Re A^-T`` (undefined
    for singular ``a``).  ``sign`` is piecewise constant for real ``a``; for
    complex ``a`` it is the phase ``det(A) / |det(A)|``, differentiable like
    JAX's: ``d sign = sign * i Im(tr(A^-1 dA))``.
    """
    return (_array(a),)


def _svd_reduced_default(a):
    return svd(a, full_matrices=False)


@_create(_replace_first, default=_svd_reduced_default)
def _svd_reduced(a):
    """``svd(a, full_matrices=False)`` for the rules: one node, with ``svd``'s rules.

    A multimethod of its own so that inner backends can run it where their
    ``svd`` cannot (Dask: matrices stacked, each in one chunk).
    """
    return (_array(a),)


def _adjugate_default(a):
    u, s, vh = _svd_reduced(a)
    return _adjugate_from_svd(u, s, vh, det(u) * det(vh))


@_create(_replace_first, default=_adjugate_default)
def _adjugate(a):
    """The adjugate ``adj(A)`` (``det(A) A^-1`` for invertible ``A``) of (stacks of) matrices.

    The derivative of ``det``; differentiable everywhere (its derivative is
    also written in the SVD basis, without inverting).
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
    zero; their signs (for complex matrices, their phases: ``U Phi`` and ``V Phi``
    for any diagonal unitary ``Phi``) are arbitrary, so differentiate functions
    invariant under them (``abs(u) ** 2``, ``u @ vh``, ``u @ diag(s) @ vh``),
    as in JAX.
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
        result = _np_api.matmul(result, a)
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
        shape = _np_api.shape(a)
        eye = _np_api.eye(shape[-1], dtype=_np_api.asarray(a).dtype)
        return _np_api.broadcast_to(eye, tuple(shape))
    result = None
    power = a
    while n:
        if n & 1:
            result = power if result is None else _np_api.matmul(result, power)
        n >>= 1
        if n:
            power = _np_api.matmul(power, power)
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


def _cond_default(x, p=None):
    shape = _np_api.shape(x)
    if len(shape) >= 2 and shape[-1] * shape[-2] == 0:
        raise _np.linalg.LinAlgError("cond is not defined on empty arrays")  # as NumPy
    if p is None or p in (2, -2):
        s = svd(x, compute_uv=False)
        big, small = s[..., 0], s[..., -1]
        return big / small if p != -2 else small / big
    return (norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1)))


@_create(_replace_first, default=_cond_default)
def cond(x, p=None):
    """Condition number (``numpy.linalg.cond``).

    Differentiated as ``s_max / s_min`` of the singular values (``p`` None, 2;
    ``s_min / s_max`` for -2) or ``norm(x, p) * norm(inv(x), p)`` (other
    ``p``), so its derivative is that of :func:`svd` or :func:`norm` and
    :func:`inv` (undefined where ``x`` is singular or the extreme singular
    values repeat).
    """
    return (_array(x),)


# -- the array-API spellings, differentiated through norm and svd ----------------------------
def _vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    nd = _np_api.ndim(x)
    axes = tuple(range(nd)) if axis is None else tuple(
        a % nd for a in (axis if isinstance(axis, tuple) else (axis,)))
    rest = [a for a in range(nd) if a not in axes]
    shape = _np_api.shape(x)
    flat = _np_api.reshape(
        _np_api.transpose(x, tuple(rest) + axes), tuple(shape[a] for a in rest) + (-1,))
    result = norm(flat, ord, axis=-1)
    if keepdims:
        result = _np_api.reshape(result, tuple(1 if a in axes else shape[a] for a in range(nd)))
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


@_create(_replace_first)
def eig(a):
    """Eigenvalues and right eigenvectors of a general square matrix (``numpy.linalg.eig``).

    Values are NumPy's: real when ``a`` is real and every eigenvalue of the
    stack is real, complex otherwise (on Dask, whose dtype must be known
    before computing, always complex, as JAX's); the eigenvectors have unit
    2-norm and their largest-magnitude component real (LAPACK's ``geev``).
    The derivative is JAX's (``jax.lax.linalg.eig`` with
    ``enable_eigvec_derivs=True``): that of this normalisation, so the
    eigenvectors themselves are differentiable.  It is undefined where
    eigenvalues repeat (it divides by their differences: infinities or NaN)
    and, for the eigenvectors, where two components tie for the largest
    magnitude (the normalisation jumps there).  A real ``a`` gets the real
    part of a complex cotangent's pull-back.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> a = numpy.array([[2.0, 1.0], [0.0, 3.0]])
    >>> udiff.grad(lambda a: np.sum(np.real(np.linalg.eigvals(a)) * [1.0, 2.0]))(a)
    array([[1., 0.],
           [1., 2.]])
    """
    return (_array(a),)


@_create(_replace_first)
def eigvals(a):
    """Eigenvalues of a general square matrix (``numpy.linalg.eigvals``).

    Dtypes as :func:`eig`'s.  The derivative ``V^-T diag(g) V^T`` (from the
    eigenvectors ``V``; ``diag(V^-1 dA V)`` forward) is undefined where
    eigenvalues repeat.
    """
    return (_array(a),)


def _tensorsolve(a, b, axes=None):  # numpy.linalg.tensorsolve, with udiff's functions
    an, bn = _np_api.ndim(a), _np_api.ndim(b)
    if axes is not None:
        order = list(range(an))
        for k in axes:
            order.remove(k)
            order.insert(an, k)
        a = _np_api.transpose(a, order)
    shape = tuple(_np_api.shape(a))[-(an - bn):]
    n = int(_np.prod(shape, dtype=_np.int64))
    if int(_np.prod(_np_api.shape(a), dtype=_np.int64)) != n ** 2:
        raise _np.linalg.LinAlgError(
            "Input arrays must satisfy the requirement "
            "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    x = solve(_np_api.reshape(a, (n, n)), _np_api.reshape(b, (-1,)))
    return _np_api.reshape(x, shape)


@_create(_replace_first_two, default=_tensorsolve)
def tensorsolve(a, b, axes=None):
    """Solve the tensor equation ``tensordot(a, x, x.ndim) = b`` (``numpy.linalg.tensorsolve``).

    Differentiated as :func:`solve` of ``a`` reshaped to a square matrix
    (undefined where that matrix is singular).

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> a = numpy.eye(6).reshape(6, 2, 3) * 2.0
    >>> udiff.grad(lambda b: np.sum(np.linalg.tensorsolve(a, b)))(numpy.ones(6))
    array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    """
    return (_array(a), _array(b))


def _tensorinv(a, ind=2):  # numpy.linalg.tensorinv, with udiff's functions
    shape = tuple(_np_api.shape(a))
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    n = int(_np.prod(shape[ind:], dtype=_np.int64))
    return _np_api.reshape(inv(_np_api.reshape(a, (n, -1))), shape[ind:] + shape[:ind])


@_create(_replace_first, default=_tensorinv)
def tensorinv(a, ind=2):
    """The inverse of ``a`` for ``tensordot(., ., ind)`` (``numpy.linalg.tensorinv``).

    Differentiated as :func:`inv` of ``a`` reshaped to a square matrix
    (undefined where that matrix is singular).
    """
    return (_array(a),)


# -- NumPy 2's array-API spellings of core functions, on the last axes --------------------------
@_create(_replace_first_two, default=lambda x1, x2, /: _np_api.matmul(x1, x2))
def matmul(x1, x2, /):
    """Matrix product (``numpy.linalg.matmul``, ``numpy.matmul`` without its options)."""
    return (_array(x1), _array(x2))


def _outer(x1, x2, /):
    n1, n2 = _np_api.ndim(x1), _np_api.ndim(x2)
    if n1 != 1 or n2 != 1:
        raise ValueError(
            f"Input arrays must be one-dimensional, but they are x1.ndim={n1} and x2.ndim={n2}.")
    return _mm.outer(x1, x2)


@_create(_replace_first_two, default=_outer)
def outer(x1, x2, /):
    """Outer product of two vectors (``numpy.linalg.outer``: 1-D arrays only)."""
    return (_array(x1), _array(x2))


@_create(_replace_first_two, default=lambda x1, x2, /, *, axes=2: _mm.tensordot(x1, x2, axes))
def tensordot(x1, x2, /, *, axes=2):
    """Tensor dot product (``numpy.linalg.tensordot``)."""
    return (_array(x1), _array(x2))


def _vecdot(x1, x2, /, *, axis=-1):
    """``sum(conj(x1) * x2)`` over each operand's own ``axis``, as NumPy's gufunc (never Dask's
    gufunc, which needs the summed axis in one chunk), in the product's dtype: integers keep
    theirs (``sum`` alone would widen ``uint8`` to ``uint64``)."""
    _cm.check_vector_lengths("vecdot", x1, x2, axis)
    x1, x2 = (_np_api.moveaxis(x, axis, -1) for x in (x1, x2))
    product = _np_api.conj(x1) * x2
    return _np_api.sum(product, axis=-1, dtype=product.dtype)


@_create(_replace_first_two, default=_vecdot)
def vecdot(x1, x2, /, *, axis=-1):
    """Dot product of vectors along ``axis``, conjugating ``x1`` (``numpy.linalg.vecdot``)."""
    return (_array(x1), _array(x2))


def _matrix_transpose(x, /):
    if _np_api.ndim(x) < 2:
        raise ValueError(
            f"Input array must be at least 2-dimensional, but it is {_np_api.ndim(x)}")
    return _np_api.swapaxes(x, -1, -2)


@_create(_replace_first, default=_matrix_transpose)
def matrix_transpose(x, /):
    """Transpose of the last two axes (``numpy.linalg.matrix_transpose``)."""
    return (_array(x),)


def _cross(x1, x2, /, *, axis=-1):
    n1, n2 = _np_api.shape(x1)[axis], _np_api.shape(x2)[axis]
    if n1 != 3 or n2 != 3:
        raise ValueError(
            "Both input arrays must be (arrays of) 3-dimensional vectors, "
            f"but they are {n1} and {n2} dimensional instead.")
    return _cm.cross(x1, x2, axis=axis)


@_create(_replace_first_two, default=_cross)
def cross(x1, x2, /, *, axis=-1):
    """Cross product of 3-element vectors along ``axis`` (``numpy.linalg.cross``)."""
    return (_array(x1), _array(x2))


@_create(_replace_first, default=lambda x, /, *, offset=0: _mm.diagonal(x, offset, -2, -1))
def diagonal(x, /, *, offset=0):
    """Diagonals of the last two axes (``numpy.linalg.diagonal``)."""
    return (_array(x),)


@_create(_replace_first, default=lambda x, /, *, offset=0, dtype=None: _mm.trace(
    x, offset, -2, -1, dtype))
def trace(x, /, *, offset=0, dtype=None):
    """Sums of the diagonals of the last two axes (``numpy.linalg.trace``)."""
    return (_array(x),)


MULTIMETHODS = {name: globals()[name] for name in __all__}
_registry.register_namespace(MULTIMETHODS)
_registry.defcomposite(vector_norm, matrix_norm, svdvals, cond, tensorsolve, tensorinv, matmul,
                       outer, tensordot, vecdot, matrix_transpose, cross, diagonal, trace)
# doctest finds examples only in plain functions and classes: these are run through __test__.
__test__ = {name: f.__doc__ for name, f in MULTIMETHODS.items() if ">>>" in (f.__doc__ or "")}
