"""SciPy's linear algebra, differentiable: import it in place of ``scipy.linalg``.

``solve_triangular``, ``cho_solve``, ``expm``, ``sqrtm``,
``solve_sylvester`` and ``solve_banded`` have SciPy's names, signatures and
defaults.  Each is a uarray multimethod of the domain ``numpy.scipy.linalg``
(a sub-domain of ``numpy``), so that, as with ``udiff.numpy``, under
:class:`udiff.DiffArrayBackend` calls are differentiated, under a plain inner
backend they run, and outside any backend they run on their arguments' own
library: ``scipy.linalg`` for NumPy arrays, ``cupyx.scipy.linalg`` for CuPy
arrays.  On Dask arrays ``solve_triangular`` and ``cho_solve`` run lazily
(one matrix, any chunks); the others raise an error naming the function and
``dask``.

Every derivative is written with these functions themselves (the inverse of
a triangular matrix with ``solve_triangular``, the Frechet derivative of
``expm`` as the corner of ``expm`` of a block matrix, that of ``sqrtm`` with
``solve_sylvester``...), so derivatives of any order exist, in both modes
(see :mod:`udiff.rules.scipy_linalg`).  Complex numbers follow udiff's
convention (a VJP is the transpose of the Jacobian under ``Re sum(a * b)``).

Examples
--------
>>> import numpy, udiff
>>> from udiff.scipy import linalg
>>> a = numpy.array([[2.0, 0.0], [1.0, 4.0]])
>>> linalg.solve_triangular(a, numpy.array([2.0, 5.0]), lower=True)
array([1., 1.])
>>> udiff.grad(lambda a: linalg.expm(a).sum())(numpy.zeros((2, 2)))
array([[1., 1.],
       [1., 1.]])
"""
from uarray import Dispatchable

from ..backends import _scipy  # noqa: F401  (registers the domain on every inner backend)
from ..backends._base import ndarray
from ..numpy._declare import generate as _generate, multimethod as _multimethod

_DOMAIN = "numpy.scipy.linalg"

_DOCS = {}

_DOCS["solve_triangular"] = """Solve ``a x = b`` for ``x``, where ``a`` is triangular: SciPy's
``scipy.linalg.solve_triangular``, differentiable.

Only the triangle of ``a`` that ``lower`` names is read (and, with
``unit_diagonal``, not its diagonal); the derivative with respect to ``a`` is
zero elsewhere.  Derivatives take one matrix ``a`` (values: any batch SciPy
takes).

Parameters
----------
a : (M, M) array_like
    A triangular matrix.
b : (M,) or (M, N) array_like
    The right-hand side.
trans : {0, 1, 2, 'N', 'T', 'C'}, optional
    Solve ``a x = b`` (0, 'N'), ``a^T x = b`` (1, 'T') or ``a^H x = b`` (2, 'C').
lower : bool, optional
    Use the lower triangle of ``a`` (default: the upper one).
unit_diagonal : bool, optional
    Take the diagonal of ``a`` to be ones (its entries are not read).
overwrite_b, check_finite : bool, optional
    As SciPy's (NumPy arrays only).

Returns
-------
x : (M,) or (M, N) ndarray
    The solution, of ``b``'s shape.

Examples
--------
>>> import numpy, udiff
>>> from udiff.scipy.linalg import solve_triangular
>>> a = numpy.array([[2.0, 1.0], [0.0, 4.0]])
>>> solve_triangular(a, numpy.array([4.0, 8.0]))
array([1., 2.])
>>> udiff.grad(lambda b: solve_triangular(a, b).sum())(numpy.array([4.0, 8.0]))
array([0.5  , 0.125])
"""

_DOCS["cho_solve"] = """Solve ``A x = b`` from the Cholesky factor of ``A``: SciPy's
``scipy.linalg.cho_solve``, differentiable.

``c`` holds ``L`` with ``A = L L^H`` (``lower=True``) or ``U`` with ``A = U^H U``;
only that triangle is read, and the derivative with respect to ``c`` is zero in
the other one (which ``scipy.linalg.cho_factor`` leaves filled with whatever was
there).  Derivatives take one matrix ``c``.

Parameters
----------
c_and_lower : tuple (c, lower)
    The factor, as ``scipy.linalg.cho_factor`` returns it: an (M, M) array
    and a bool.
b : (M,) or (M, N) array_like
    The right-hand side.
overwrite_b, check_finite : bool, optional
    As SciPy's (NumPy arrays only).

Returns
-------
x : (M,) or (M, N) ndarray
    The solution of ``A x = b``.

Examples
--------
>>> import numpy, udiff
>>> from udiff.scipy.linalg import cho_solve
>>> c = numpy.array([[2.0, 0.0], [1.0, 1.0]])   # A = c c^T = [[4, 2], [2, 2]]
>>> cho_solve((c, True), numpy.array([6.0, 4.0]))
array([1., 1.])
>>> udiff.grad(lambda b: cho_solve((c, True), b).sum())(numpy.array([6.0, 4.0]))
array([0. , 0.5])
"""

_DOCS["expm"] = """The matrix exponential: SciPy's ``scipy.linalg.expm``, differentiable.

The derivative (the Frechet derivative ``L(A, E)``) is the upper-right block
of ``expm([[A, E], [0, A]])``; the VJP is ``L(A^T, G)``.  Both run ``expm``
again, so higher derivatives exist.

Parameters
----------
A : (..., M, M) array_like
    Square matrices (a stack of them, as SciPy takes).

Returns
-------
eA : (..., M, M) ndarray
    ``exp(A)``, of ``A``'s shape.

Examples
--------
>>> import numpy, udiff
>>> from udiff.scipy.linalg import expm
>>> expm(numpy.zeros((2, 2)))
array([[1., 0.],
       [0., 1.]])
>>> float(udiff.grad(lambda t: expm(t * numpy.array([[0.0, 1.0], [0.0, 0.0]]))[0, 1])(2.0))
1.0
"""

_DOCS["sqrtm"] = """The principal matrix square root: SciPy's ``scipy.linalg.sqrtm``,
differentiable.

The derivative ``dX`` of ``X = sqrtm(A)`` solves the Sylvester equation
``X dX + dX X = dA`` (:func:`solve_sylvester`); it exists where ``X`` and
``-X`` share no eigenvalue (``A`` has no eigenvalue on the closed negative
real axis).

Parameters
----------
A : (..., M, M) array_like
    Square matrices.
**kwargs
    ``disp`` and ``blocksize``, passed to SciPy (which deprecates them).

Returns
-------
sqrtm : (..., M, M) ndarray
    ``X`` with ``X @ X == A``; complex where ``A`` has negative eigenvalues.

Examples
--------
>>> import numpy, udiff
>>> from udiff.scipy.linalg import sqrtm
>>> sqrtm(numpy.array([[4.0, 0.0], [0.0, 9.0]]))
array([[2., 0.],
       [0., 3.]])
>>> udiff.grad(lambda a: sqrtm(a).trace())(numpy.array([[4.0, 0.0], [0.0, 9.0]]))
array([[0.25      , 0.        ],
       [0.        , 0.16666667]])
"""

_DOCS["solve_sylvester"] = """Solve the Sylvester equation ``a x + x b = q``: SciPy's
``scipy.linalg.solve_sylvester``, differentiable in ``a``, ``b`` and ``q``.

With ``x`` the solution, ``dx`` solves ``a dx + dx b = dq - da x - x db``; the
VJP solves the transposed equation ``a^T y + y b^T = g``.

Parameters
----------
a : (..., M, M) array_like
b : (..., N, N) array_like
q : (..., M, N) array_like

Returns
-------
x : (..., M, N) ndarray

Examples
--------
>>> import numpy, udiff
>>> from udiff.scipy.linalg import solve_sylvester
>>> a, b = numpy.array([[1.0, 0.0], [0.0, 2.0]]), numpy.array([[3.0]])
>>> solve_sylvester(a, b, numpy.array([[4.0], [10.0]]))
array([[1.],
       [2.]])
>>> udiff.grad(lambda b: solve_sylvester(a, b, numpy.array([[4.0], [10.0]])).sum())(b)
array([[-0.65]])
"""

_DOCS["solve_banded"] = """Solve ``A x = b`` where ``A`` is banded: SciPy's
``scipy.linalg.solve_banded``, differentiable in ``ab`` and ``b``.

``ab[u + i - j, j] == A[i, j]`` (SciPy's diagonal ordered form); the entries
of ``ab`` outside the matrix (the corners SciPy does not read) get derivative
zero.  The VJP solves with the transposed band matrix, itself banded
(``(u, l)`` diagonals).  Derivatives take one matrix.

Parameters
----------
l_and_u : (int, int)
    The numbers of nonzero lower and upper diagonals.
ab : (l + u + 1, M) array_like
    The band of ``A``.
b : (M,) or (M, K) array_like
    The right-hand side.
overwrite_ab, overwrite_b, check_finite : bool, optional
    As SciPy's.

Returns
-------
x : (M,) or (M, K) ndarray

Examples
--------
>>> import numpy, udiff
>>> from udiff.scipy.linalg import solve_banded
>>> ab = numpy.array([[0.0, 1.0, 1.0], [4.0, 4.0, 4.0], [1.0, 1.0, 0.0]])  # tridiagonal
>>> solve_banded((1, 1), ab, numpy.array([5.0, 6.0, 5.0]))
array([1., 1., 1.])
>>> udiff.grad(lambda b: solve_banded((1, 1), ab, b).sum())(numpy.array([5.0, 6.0, 5.0]))
array([0.21428571, 0.14285714, 0.21428571])
"""


def _replace_cho(args, kwargs, dispatchables):
    c, b = dispatchables
    args, kwargs = list(args), dict(kwargs)
    if args:
        args[0] = (c, args[0][1])
    else:
        kwargs["c_and_lower"] = (c, kwargs["c_and_lower"][1])
    if len(args) > 1:
        args[1] = b
    else:
        kwargs["b"] = b
    return tuple(args), kwargs


def _cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    c, lower = c_and_lower
    return (Dispatchable(c, ndarray), Dispatchable(b, ndarray))


def _declare():
    names = {
        "solve_triangular": _generate(
            "solve_triangular", "a b",
            "(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, "
            "check_finite=True)", domain=_DOMAIN, doc=_DOCS["solve_triangular"]),
        "expm": _generate("expm", "A", "(A)", domain=_DOMAIN, doc=_DOCS["expm"]),
        "sqrtm": _generate("sqrtm", "A", "(A, **kwargs)", domain=_DOMAIN, doc=_DOCS["sqrtm"]),
        "solve_sylvester": _generate("solve_sylvester", "a b q", "(a, b, q)", domain=_DOMAIN,
                                     doc=_DOCS["solve_sylvester"]),
        "solve_banded": _generate(
            "solve_banded", "ab b",
            "(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True)",
            domain=_DOMAIN, doc=_DOCS["solve_banded"]),
    }
    _cho_solve.__name__ = "cho_solve"
    _cho_solve.__doc__ = _DOCS["cho_solve"]
    names["cho_solve"] = _multimethod(_DOMAIN)(_replace_cho)(_cho_solve)
    for func in names.values():
        func.__module__ = __name__
    return names


_NAMES = _declare()
globals().update(_NAMES)
__all__ = sorted(_NAMES)
# The functions are multimethod objects, which doctest's finder skips: their examples are
# collected from here by --doctest-modules.
__test__ = {name: func.__doc__ for name, func in _NAMES.items()}
