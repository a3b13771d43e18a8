"""Rules for SciPy's linear algebra (``udiff.scipy.linalg``).

Every derivative is written with the functions of ``udiff.scipy.linalg``
themselves, called through ``udiff._machinery.dispatch.call`` (which runs them
on the arrays' own library, or records them on DiffArrays), and NumPy's
functions (which reach DiffArrays, Dask and CuPy through NumPy's protocols),
so every rule differentiates again:

* ``solve_triangular``: ``x = M^-1 b`` with ``M = op(a)`` (``a``, ``a^T`` or
  ``a^H``): ``dx = M^-1 (db - dM x)``; the VJP solves with the transpose,
  ``gb = M^-T g``, and ``ga`` is ``-gb x^T`` mapped back through ``op`` and
  restricted to the triangle that is read (strictly, with
  ``unit_diagonal``).
* ``cho_solve``: ``A = L L^H`` (or ``U^H U``): ``dx = -A^-1 dA x``;
  ``gL = -tril((G + G^H) conj(L))`` with ``G = gb x^T`` (``gU = -triu(conj(U)
  (G + G^H))``).
* ``expm``: the Frechet derivative ``L(A, E)`` is the upper-right block of
  ``expm([[A, E], [0, A]])``; the VJP is ``L(A^T, G)``.
* ``sqrtm``: ``X dX + dX X = dA`` (``solve_sylvester(X, X, dA)``); the VJP
  ``solve_sylvester(X^T, X^T, G)``.
* ``solve_sylvester``: ``a dx + dx b = dq - da x - x db``; the VJP solves
  ``a^T y + y b^T = g``: ``gq = y``, ``ga = -y x^T``, ``gb = -x^T y``.
* ``solve_banded``: ``dx = -A^-1 (dA x)``, ``dA x`` summed diagonal by
  diagonal from ``d ab``; the VJP solves with the transposed band (itself in
  diagonal ordered form, ``(u, l)`` diagonals), and ``g ab[r, j] = -sum_k
  gb[j + r - u, k] x[j, k]`` (zero on the corners of ``ab`` outside the
  matrix).

Complex numbers follow udiff's convention (a VJP is the transpose of the
Jacobian under ``Re sum(a * b)``): the holomorphic functions use
transposes; the parts that depend on ``conj(a)`` (``trans='C'``, the
Cholesky factor) conjugate their cotangents.  Cotangents and tangents may
carry leading batch axes: the solves that take one matrix fold them into
columns of the right-hand side.  ``solve_triangular``, ``cho_solve`` and
``solve_banded`` are differentiated for one matrix (a stack of them raises
an error naming the function).
"""
import numpy as np

from .._machinery.dispatch import call
from .._machinery.registry import defjvp, defvjp
from ..backends._scipy import trans_code
from ..scipy import linalg as sla
from ._helpers import ndim, shape, unbroadcast_to
from .linalg import _tril_mask, _triu_mask


# -- helpers --------------------------------------------------------------------------------
def _T(x):
    return np.swapaxes(x, -1, -2)


def _is_complex(x):
    return np.dtype(x.dtype).kind == "c"


def _cj(x):
    return np.conj(x) if _is_complex(x) else x


def _cast(value, like):
    """``value`` in ``like``'s dtype (its real part for a real ``like``): a float32
    variable gets a float32 derivative, a real one a real derivative."""
    dtype = np.dtype(like.dtype)
    if dtype.kind not in "fc":
        return value
    if dtype.kind == "f" and _is_complex(value):
        value = np.real(value)
    return value if np.dtype(value.dtype) == dtype else value.astype(dtype)


def _one_matrix(name, a):
    if ndim(a) != 2:
        raise NotImplementedError(
            f"udiff differentiates scipy.linalg.{name} for one matrix, not a stack of shape "
            f"{shape(a)}")


def _mv(m, v, vector):
    """``m @ v`` for a matrix ``v`` (``(..., n, k)``) or a vector ``v`` (``(..., n)``)."""
    return (m @ v[..., None])[..., 0] if vector else m @ v


def _outer(u, v, vector):
    """``u v^T`` for vectors (``(..., n)``), ``u @ v^T`` for matrices."""
    return u[..., :, None] * v[..., None, :] if vector else u @ _T(v)


def _columns(solve, y, vector):
    """``solve(rhs)`` (a solve with one matrix, ``rhs`` of shape ``(n,)`` or ``(n, k)``) on ``y``
    with leading batch axes: they are folded into the columns of one right-hand side."""
    nb = ndim(y) - (1 if vector else 2)
    if nb == 0:
        return solve(y)
    moved = np.moveaxis(y, nb, 0)  # (n, batch..., [k])
    n, rest = shape(moved)[0], shape(moved)[1:]
    out = solve(np.reshape(moved, (n, -1)))
    return np.moveaxis(np.reshape(out, (n,) + rest), 0, nb)


# -- solve_triangular -------------------------------------------------------------------------
def _tril(x, k=0):
    """``tril(x, k)`` as a product with a mask in ``x``'s real dtype (Dask's ``tril`` of a
    complex array warns that it discards imaginary parts)."""
    return x * _tril_mask(x, shape(x)[-1], k)


def _triu(x, k=0):
    return x * _triu_mask(x, shape(x)[-1], k)


def _tri(x, lower, unit):
    """The part of ``x`` in the triangle that is read (without the diagonal if ``unit``)."""
    return _tril(x, -1 if unit else 0) if lower else _triu(x, 1 if unit else 0)


def _st(a, b, trans, lower, unit):
    return call(sla.solve_triangular, a, b, trans=trans, lower=lower, unit_diagonal=unit)


def _st_transposed(a, g, code, lower, unit, vector):
    """``op(a)^-T g``: the cotangent of ``b``."""
    if code == 0:
        return _columns(lambda y: _st(a, y, 1, lower, unit), g, vector)
    return _columns(lambda y: _st(_cj(a) if code == 2 else a, y, 0, lower, unit), g, vector)


def _st_vjp_a(ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
              check_finite=True):
    _one_matrix("solve_triangular", a)
    code, vector = trans_code(trans), ndim(b) == 1

    def vjp(g):
        gb = _st_transposed(a, g, code, lower, unit_diagonal, vector)
        gm = -_outer(gb, ans, vector)  # the cotangent of op(a)
        ga = gm if code == 0 else _T(gm) if code == 1 else _cj(_T(gm))
        return _cast(_tri(ga, lower, unit_diagonal), a)

    return vjp


def _st_vjp_b(ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
              check_finite=True):
    _one_matrix("solve_triangular", a)
    code, vector = trans_code(trans), ndim(b) == 1
    return lambda g: _cast(_st_transposed(a, g, code, lower, unit_diagonal, vector), b)


def _st_jvp_a(t, ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
              check_finite=True):
    _one_matrix("solve_triangular", a)
    code, vector = trans_code(trans), ndim(b) == 1
    dm = _tri(t, lower, unit_diagonal)
    dm = dm if code == 0 else _T(dm) if code == 1 else _cj(_T(dm))
    rhs = _mv(dm, ans, vector)
    return -_columns(lambda y: _st(a, y, code, lower, unit_diagonal), rhs, vector)


def _st_jvp_b(t, ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
              check_finite=True):
    _one_matrix("solve_triangular", a)
    code, vector = trans_code(trans), ndim(b) == 1
    return _columns(lambda y: _st(a, y, code, lower, unit_diagonal), t, vector)


defvjp(sla.solve_triangular, _st_vjp_a, _st_vjp_b)
defjvp(sla.solve_triangular, _st_jvp_a, _st_jvp_b)


# -- cho_solve --------------------------------------------------------------------------------
def _cs(c, lower, b):
    return call(sla.cho_solve, (c, lower), b)


def _factor(c, lower):
    """The triangle of ``c`` that ``cho_solve`` reads (the other may hold anything)."""
    return _tril(c) if lower else _triu(c)


def _cho_vjp_c(ans, c_and_lower, b, overwrite_b=False, check_finite=True):
    c, lower = c_and_lower
    _one_matrix("cho_solve", c)
    vector = ndim(b) == 1

    def vjp(g):
        gb = _columns(lambda y: _cs(_cj(c), lower, y), g, vector)  # A^-T g
        s = _outer(gb, ans, vector)
        s = s + _cj(_T(s))
        f = _cj(_factor(c, lower))
        gc = -_tril(s @ f) if lower else -_triu(f @ s)
        return [_cast(gc, c), None]

    return vjp


def _cho_vjp_b(ans, c_and_lower, b, overwrite_b=False, check_finite=True):
    c, lower = c_and_lower
    _one_matrix("cho_solve", c)
    vector = ndim(b) == 1
    return lambda g: _cast(_columns(lambda y: _cs(_cj(c), lower, y), g, vector), b)


def _cho_jvp_c(t, ans, c_and_lower, b, overwrite_b=False, check_finite=True):
    c, lower = c_and_lower
    _one_matrix("cho_solve", c)
    vector = ndim(b) == 1
    dc, f = t[0], _factor(c, lower)
    if lower:  # dA x = dL (L^H x) + L (dL^H x)
        dc = _tril(dc)
        rhs = (_mv(dc, _mv(_cj(_T(f)), ans, vector), vector)
               + _mv(f, _mv(_cj(_T(dc)), ans, vector), vector))
    else:  # dA x = dU^H (U x) + U^H (dU x)
        dc = _triu(dc)
        rhs = (_mv(_cj(_T(dc)), _mv(f, ans, vector), vector)
               + _mv(_cj(_T(f)), _mv(dc, ans, vector), vector))
    return -_columns(lambda y: _cs(c, lower, y), rhs, vector)


def _cho_jvp_b(t, ans, c_and_lower, b, overwrite_b=False, check_finite=True):
    c, lower = c_and_lower
    _one_matrix("cho_solve", c)
    return _columns(lambda y: _cs(c, lower, y), t, ndim(b) == 1)


defvjp(sla.cho_solve, _cho_vjp_c, _cho_vjp_b)
defjvp(sla.cho_solve, _cho_jvp_c, _cho_jvp_b)


# -- expm -------------------------------------------------------------------------------------
def _frechet(a, e):
    """``L(a, e)``, the derivative of ``expm`` at ``a`` along ``e``: the upper-right block
    of ``expm([[a, e], [0, a]])`` (``a`` broadcast against ``e``'s batch axes)."""
    full = np.broadcast_shapes(shape(a), shape(e))
    if shape(a) != full:
        a = np.broadcast_to(a, full)
    if shape(e) != full:
        e = np.broadcast_to(e, full)
    n = full[-1]
    top = np.concatenate([a, e], axis=-1)
    bottom = np.concatenate([np.zeros_like(e), a], axis=-1)
    block = call(sla.expm, np.concatenate([top, bottom], axis=-2))
    return block[..., :n, n:]


defvjp(sla.expm, lambda ans, A: lambda g: _cast(_frechet(_T(A), g), A))
defjvp(sla.expm, lambda t, ans, A: _frechet(A, t))


# -- solve_sylvester and sqrtm ----------------------------------------------------------------
def _sylvester(a, b, q):
    """``x`` with ``a x + x b = q``, ``a`` and ``b`` broadcast against ``q``'s batch axes."""
    batch = np.broadcast_shapes(shape(a)[:-2], shape(b)[:-2], shape(q)[:-2])
    a, b, q = (x if shape(x)[:-2] == batch else np.broadcast_to(x, batch + shape(x)[-2:])
               for x in (a, b, q))
    return call(sla.solve_sylvester, a, b, q)


def _sqrtm_vjp(ans, A, **kwargs):
    return lambda g: _cast(_sylvester(_T(ans), _T(ans), g), A)


def _sqrtm_jvp(t, ans, A, **kwargs):
    return _sylvester(ans, ans, t)


defvjp(sla.sqrtm, _sqrtm_vjp)
defjvp(sla.sqrtm, _sqrtm_jvp)


def _sylvester_vjp(argnum):
    def maker(ans, a, b, q):
        def vjp(g):
            y = _sylvester(_T(a), _T(b), g)
            nb = ndim(g) - ndim(ans)
            c = (-(y @ _T(ans)), -(_T(ans) @ y), y)[argnum]
            x = (a, b, q)[argnum]
            return _cast(unbroadcast_to(c, nb, shape(x)), x)

        return vjp

    return maker


defvjp(sla.solve_sylvester, _sylvester_vjp(0), _sylvester_vjp(1), _sylvester_vjp(2))
defjvp(sla.solve_sylvester,
       lambda t, ans, a, b, q: _sylvester(a, b, -(t @ ans)),
       lambda t, ans, a, b, q: _sylvester(a, b, -(ans @ t)),
       lambda t, ans, a, b, q: _sylvester(a, b, t))


# -- solve_banded -----------------------------------------------------------------------------
def _shift(v, s, axis):
    """``out[i] = v[i + s]`` along ``axis`` (``-1`` or ``-2``), zero where ``i + s`` is outside."""
    n = shape(v)[axis]
    if s == 0:
        return v
    if abs(s) >= n:
        return np.zeros_like(v)
    tail = (slice(None),) * (-axis - 1)

    def part(sl):
        return v[(Ellipsis, sl) + tail]

    if s > 0:
        return np.concatenate([part(slice(s, None)), np.zeros_like(part(slice(None, s)))], axis)
    return np.concatenate([np.zeros_like(part(slice(None, -s))), part(slice(None, s))], axis)


def _band_transposed(ab, l, u):
    """The diagonal ordered form of ``A^T`` (``u`` lower, ``l`` upper diagonals):
    ``abT[r, j] = ab[u + l - r, j + r - l]``."""
    return np.stack([_shift(ab[..., u + l - r, :], r - l, -1) for r in range(l + u + 1)],
                    axis=-2)


def _sb(l_and_u, ab, b):
    return call(sla.solve_banded, l_and_u, ab, b)


def _band_parts(name, l_and_u, ab, b):
    _one_matrix(name, ab)
    l, u = (int(v) for v in l_and_u)
    return l, u, ndim(b) == 1


def _banded_vjp(argnum):
    def maker(ans, l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
        l, u, vector = _band_parts("solve_banded", l_and_u, ab, b)

        def vjp(g):
            abt = _band_transposed(ab, l, u)
            gb = _columns(lambda y: _sb((u, l), abt, y), g, vector)  # A^-T g
            if argnum == 2:
                return _cast(gb, b)
            axis = -1 if vector else -2
            rows = []
            for r in range(l + u + 1):
                p = _shift(gb, r - u, axis) * ans
                rows.append(-(p if vector else np.sum(p, axis=-1)))
            return _cast(np.stack(rows, axis=-2), ab)

        return vjp

    return maker


def _banded_jvp_ab(t, ans, l_and_u, ab, b, overwrite_ab=False, overwrite_b=False,
                   check_finite=True):
    l, u, vector = _band_parts("solve_banded", l_and_u, ab, b)
    rhs = None
    for r in range(l + u + 1):
        if vector:
            term = _shift(t[..., r, :] * ans, u - r, -1)
        else:
            term = _shift(t[..., r, :, None] * ans, u - r, -2)
        rhs = term if rhs is None else rhs + term
    return -_columns(lambda y: _sb((l, u), ab, y), rhs, vector)


def _banded_jvp_b(t, ans, l_and_u, ab, b, overwrite_ab=False, overwrite_b=False,
                  check_finite=True):
    l, u, vector = _band_parts("solve_banded", l_and_u, ab, b)
    return _columns(lambda y: _sb((l, u), ab, y), t, vector)


defvjp(sla.solve_banded, _banded_vjp(1), _banded_vjp(2), argnums=(1, 2))
defjvp(sla.solve_banded, _banded_jvp_ab, _banded_jvp_b, argnums=(1, 2))
