"""Rules for ``numpy.linalg``.

Formulas follow autograd's and JAX's: ``inv`` ``-A^-T g A^-T``; ``det``
``g adj(A)^T`` (the adjugate, from an SVD: finite at singular matrices);
``cholesky`` Murray (arXiv:1602.07527); ``eigh`` with
``F_ij = 1/(w_j - w_i)``; ``svd`` the standard reduced-SVD formulas;
``qr`` Walter-Lehmann / Townsend; ``pinv`` Golub-Pereyra.

Complex numbers follow udiff's convention (JAX's and autograd's): a VJP is
the transpose of the Jacobian under the pairing ``Re sum(a * b)``.  For a
real-valued function of a complex matrix (``norm``, ``slogdet``'s
``logabsdet``, eigenvalues, singular values) the VJP of ``g`` is
``Re(g) * W`` and the JVP of ``t`` is ``Re sum(W * t)``, where ``W`` is the
conjugate of the steepest-ascent direction (``conj(x) / |x|`` for
``norm(x)``).  ``inv``, ``solve``, ``det``, ``multi_dot`` and
``matrix_power`` are holomorphic; ``pinv``, ``cholesky``, ``eigh`` and
``eigvalsh`` are written with conjugate transposes; the singular vectors of
``svd`` are differentiated in JAX's gauge (see ``_svd_phase``).  ``qr`` and
``lstsq`` raise for complex input.

Every rule addresses matrix axes from the end (``swapaxes(-1, -2)``,
``matmul``), so stacked matrices ``(..., n, n)`` and leading batch axes on
cotangents and tangents (Jacobians) both work.  Rules that need another
output of a decomposition (the eigenvectors in the rule for the
eigenvalues) compute the decomposition again through its multimethod, so a
recorded sweep records it and higher derivatives exist.  Inverses and
solves also go through udiff's multimethods (``udiff._machinery.dispatch.call``).

Functions that take a symmetric (Hermitian) input (``cholesky``, ``eigh``,
``eigvalsh``) are differentiated as JAX, autograd and PyTorch do: as
functions of ``(A + A^H) / 2``, so their gradients are symmetric (Hermitian).
NumPy reads one triangle only; both agree for symmetric ``A`` and symmetric
perturbations.

Derivatives have their variable's dtype: constant matrices (identities,
triangle masks) are made in the real dtype of the array they multiply.
"""
import operator

import numpy as np

from .._machinery.batched_array import BatchedArray
from .._machinery.diff_array import DiffArray
from .._machinery.dispatch import call
from .._machinery.registry import defjvp, defnondiff, defvjp
from ..backends import backend_for_value
from ..numpy import linalg as la
from ..backends._base import exclusive_prod as _exclusive_prod
from ..backends._base import to_numpy
from ._helpers import from_end, ndim, normalize_axes, restore_reduced, shape, unbroadcast_to


# -- helpers --------------------------------------------------------------------------------
def _T(x):
    return np.swapaxes(x, -1, -2)


def _is_complex(x):
    return np.dtype(x.dtype).kind == "c"


def _H(x):
    """The conjugate transpose of the last two axes."""
    return np.conj(_T(x)) if _is_complex(x) else _T(x)


def _cj(x):
    return np.conj(x) if _is_complex(x) else x


def _re(x):
    return np.real(x) if _is_complex(x) else x


def _real_dtype(ref):
    """The real floating dtype of ``ref``'s dtype (float64 for integers)."""
    dtype = np.dtype(ref.dtype)
    return np.finfo(dtype).dtype if dtype.kind in "fc" else np.dtype(np.float64)


def _like(ref, value):
    """``value`` (a NumPy array) on the inner library of ``ref``, in ``ref``'s real dtype."""
    value = np.asarray(value, dtype=_real_dtype(ref))
    if type(ref) is DiffArray:
        return ref._backend.inner.asarray(value)
    return backend_for_value(ref).asarray(value)


def _eye(ref, n):
    return _like(ref, np.eye(n))


def _tril_mask(ref, n, k=0):
    return _like(ref, np.tril(np.ones((n, n)), k))


def _triu_mask(ref, n, k=0):
    return _like(ref, np.triu(np.ones((n, n)), k))


def _hermitian_part(m):
    """``(m + m^H) / 2``: the symmetrization JAX applies to the inputs of ``eigh``/``cholesky``."""
    return 0.5 * (m + _H(m))


def _no_complex(a, name):
    if _is_complex(a):
        raise NotImplementedError(f"udiff does not differentiate linalg.{name} of complex input")


def _nb(g, ans):
    """Leading batch axes of ``g`` beyond the rank of ``ans``."""
    return ndim(g) - ndim(ans)


def _inv(a):
    return call(la.inv, a)


def _solve(a, b):
    return call(la.solve, a, b)


def _diag_embed(v):
    """``(..., k)`` -> ``(..., k, k)`` with ``v`` on the diagonal."""
    return v[..., :, None] * _eye(v, shape(v)[-1])


def _diag(m):
    """The diagonal of the last two axes, ``(..., k, k)`` -> ``(..., k)``."""
    return np.sum(m * _eye(m, shape(m)[-1]), axis=-1)


def _safe_reciprocal_of_differences(d, ref):
    """``1 / d`` off the diagonal of the last two axes, 0 on it (``d`` is 0 there)."""
    eye = _eye(ref, shape(d)[-1])
    return (1.0 - eye) / (d + eye)


# -- inv ------------------------------------------------------------------------------------
defvjp(la.inv, lambda ans, a: lambda g: -(_T(ans) @ g @ _T(ans)))
defjvp(la.inv, lambda t, ans, a: -(ans @ t @ ans))


# -- pinv -----------------------------------------------------------------------------------
def _check_pinv_cutoff(a, rcond=None, *args, **kwargs):
    """Raise where ``pinv``'s cutoff drops a singular value that is not zero.

    The Golub-Pereyra formula is the derivative where the dropped singular values are
    zero (a rank-deficient matrix); where ``rcond``/``rtol`` drops larger ones, the
    derivative also couples the kept and dropped singular vectors, which the formula
    lacks, and its numbers would be wrong.
    """
    values = a
    while type(values) in (DiffArray, BatchedArray):
        values = values.value
    values = to_numpy(values)
    if values.size == 0:
        return
    s = np.linalg.svd(values, compute_uv=False)
    while type(rcond) in (DiffArray, BatchedArray):
        rcond = rcond.value
    rc = np.asarray(1e-15 if rcond is None else to_numpy(rcond), dtype=float)
    cut = s <= rc[..., None] * s.max(axis=-1, keepdims=True)
    # The formula's relative error is about the largest dropped singular value over the
    # smallest kept one: refuse it above 1e-5 (a dropped zero is rank deficiency; the
    # values check_grads perturbs it to, about 1e-6, stay below).
    kept = np.where(cut, np.inf, s).min(axis=-1, keepdims=True)
    dropped = cut & (s > _PINV_GAP * kept)
    if dropped.any():
        raise ValueError(
            "udiff: the derivative of linalg.pinv where its cutoff (rcond or rtol) drops a "
            f"singular value that is not zero ({float(s[dropped].max()):.3g}, where the "
            f"smallest kept is {float(np.min(np.where(dropped, kept, np.inf))):.3g}) is not "
            "implemented: the formula udiff (and JAX) use holds where the dropped singular "
            "values are zero, and is off by about their ratio.  Pass a smaller rtol, or write "
            "the truncated pseudo-inverse with np.linalg.svd, whose derivative udiff has")


_PINV_GAP = 1e-5


def _pinv_vjp(ans, a, *args, **kwargs):
    _check_pinv_cutoff(a, *args, **kwargs)
    p = ans  # the terms in dA^H are antilinear: their transposes conjugate P and A

    def vjp(g):
        gh, pc, ac = _H(g), _cj(p), _cj(a)
        pp_t = pc @ _T(p)
        pt_p = _T(p) @ pc
        return (-(_T(p) @ g @ _T(p)) + gh @ pp_t - ac @ (pc @ (gh @ pp_t))
                + pt_p @ gh - ((pt_p @ gh) @ pc) @ ac)

    return vjp


def _pinv_jvp(t, ans, a, *args, **kwargs):
    _check_pinv_cutoff(a, *args, **kwargs)
    p = ans
    th = _H(t)
    return (-(p @ t @ p) + (p @ _H(p)) @ (th - (th @ a) @ p)
            + (th - (p @ a) @ th) @ (_H(p) @ p))


defvjp(la.pinv, _pinv_vjp)
defjvp(la.pinv, _pinv_jvp)


# -- det, slogdet ---------------------------------------------------------------------------
def _det_vjp(ans, a):
    cof = _T(call(la._adjugate, a))  # the cofactor matrix: d det / dA, even for singular A
    return lambda g: g[..., None, None] * cof


def _det_jvp(t, ans, a):
    return np.sum(_T(call(la._adjugate, a)) * t, axis=(-2, -1))


defvjp(la.det, _det_vjp)
defjvp(la.det, _det_jvp)


def _svd_parts(a):
    """``(U, V, q_off, phase)`` for the adjugate's derivative at ``A = U diag(s) V^H``.

    ``q_off[i, k] = prod_{l not in {i, k}} s_l`` off the diagonal, 0 on it.
    """
    u, s, vh = call(la._svd_reduced, a)
    n = shape(s)[-1]
    eye = _eye(s, n)
    q = _exclusive_prod(np.where(eye == 1, np.ones_like(s)[..., None, :], s[..., None, :]))
    return u, vh, q * (1.0 - eye), call(la.det, u) * call(la.det, vh)


def _adjugate_d(e, q_off):
    """The derivative of ``adj`` at a diagonal matrix, in direction ``e`` (self-adjoint in ``e``).

    ``adj(S + E)`` to first order: ``sum_{k != i} E_kk q_ik`` on the diagonal,
    ``-E_ij q_ij`` off it.
    """
    d = (q_off @ _diag(e)[..., :, None])[..., 0]
    return _diag_embed(d) - e * q_off


def _adjugate_vjp(ans, a):
    u, vh, q_off, phase = _svd_parts(a)
    ph = phase[..., None, None]
    # d adj = phase V D(U^H dA V) U^H; its transpose conjugates U and V.
    return lambda g: _cj(u) @ _adjugate_d(ph * (_cj(vh) @ g @ _cj(u)), q_off) @ _cj(vh)


def _adjugate_jvp(t, ans, a):
    u, vh, q_off, phase = _svd_parts(a)
    return phase[..., None, None] * (_H(vh) @ _adjugate_d(_H(u) @ t @ _H(vh), q_off) @ _H(u))


defvjp(la._adjugate, _adjugate_vjp)
defjvp(la._adjugate, _adjugate_jvp)


def _inv_t(a):
    """``A^-T`` (undefined where ``A`` is singular, as ``log|det A|``'s derivative)."""
    return _T(_inv(a))


def _i_imag(z):
    """``1j * imag(z)``, as ``(z - conj(z)) / 2``: no Python complex meets a real 0-d Dask
    array, whose block may be a NumPy scalar (``1j * float64(x)`` is a Python complex, which
    Dask cannot hold as a block)."""
    return 0.5 * (z - np.conj(z))


def _slogdet_vjp(which):
    def maker(ans, a):
        if which == 0 and not _is_complex(a):  # a real determinant's sign is piecewise constant
            return lambda g: g[..., None, None] * np.zeros_like(a)
        ai_t = _inv_t(a)
        if which == 1:  # d log|det A| = Re tr(A^-1 dA)
            return lambda g: _re(g)[..., None, None] * ai_t
        sign = ans  # output 0 of this node: the sign
        # d sign = sign * i Im tr(A^-1 dA): the transpose is i Im(g sign) A^-T.
        return lambda g: _i_imag(g * sign)[..., None, None] * ai_t

    return maker


def _slogdet_jvp(which):
    def rule(t, ans, a):
        if which == 0 and not _is_complex(a):
            return np.sum(t, axis=(-2, -1)) * 0.0
        d = np.sum(_inv_t(a) * t, axis=(-2, -1))
        if which == 1:
            return _re(d)
        return ans * _i_imag(d)

    return rule


for _i in (0, 1):
    defvjp((la.slogdet, _i), _slogdet_vjp(_i))
    defjvp((la.slogdet, _i), _slogdet_jvp(_i))


# -- solve ----------------------------------------------------------------------------------
def _is_vector_rhs(b):
    return ndim(b) == 1


def _solve_adjoint(a, b, g):
    """``a^-T g``: the cotangent of ``b`` before unbroadcasting."""
    if _is_vector_rhs(b):
        return _solve(_T(a), g[..., None])[..., 0]
    return _solve(_T(a), g)


def _solve_vjp_b(ans, a, b):
    return lambda g: unbroadcast_to(_solve_adjoint(a, b, g), _nb(g, ans), shape(b))


def _solve_vjp_a(ans, a, b):
    def vjp(g):
        gb = _solve_adjoint(a, b, g)
        if _is_vector_rhs(b):
            ga = -(gb[..., :, None] * ans[..., None, :])
        else:
            ga = -(gb @ _T(ans))
        return unbroadcast_to(ga, _nb(g, ans), shape(a))

    return vjp


def _lift(t, nb, rank):
    """``t``, with ``nb`` leading batch axes, given size-1 axes after them up to
    ``nb + rank`` axes, so that broadcasting against an array of rank ``rank``
    (which a stack of matrices may have more of than ``t``'s primal) never
    aligns a batch axis with one of the array's own."""
    k = rank - (ndim(t) - nb)
    if k <= 0 or not nb:
        return t
    s = shape(t)
    return np.reshape(t, s[:nb] + (1,) * k + s[nb:])


def _solve_jvp_a(t, ans, a, b):
    if _is_vector_rhs(b):
        return -_solve(a, t @ ans[..., None])[..., 0]
    return -_solve(a, _lift(t, ndim(t) - ndim(a), ndim(ans)) @ ans)


def _solve_jvp_b(t, ans, a, b):
    nb = ndim(t) - ndim(b)
    if _is_vector_rhs(b):
        return _solve(a, _lift(t[..., None], nb, ndim(ans) + 1))[..., 0]
    return _solve(a, _lift(t, nb, ndim(ans)))


defvjp(la.solve, _solve_vjp_a, _solve_vjp_b)
defjvp(la.solve, _solve_jvp_a, _solve_jvp_b)


# -- cholesky (Murray, arXiv:1602.07527) ----------------------------------------------------
def _phi(x):
    """Lower triangle of the last two axes, diagonal halved."""
    n = shape(x)[-1]
    return x * (_tril_mask(x, n) - 0.5 * _eye(x, n))


def _cholesky_vjp(ans, a, upper=False):
    def vjp(g):
        low = _H(ans) if upper else ans
        gl = _H(g) if upper else g  # the transpose of X -> X^H is G -> G^H
        li = _inv(low)
        # The transpose of dA -> L phi(L^-1 herm(dA) L^-H): herm of L^-T phi(L^T G) conj(L^-1)
        return _hermitian_part(_T(li) @ _phi(_T(low) @ gl) @ _cj(li))

    return vjp


def _cholesky_jvp(t, ans, a, upper=False):
    low = _H(ans) if upper else ans
    li = _inv(low)
    dl = low @ _phi(li @ _hermitian_part(t) @ _H(li))
    return _H(dl) if upper else dl


defvjp(la.cholesky, _cholesky_vjp)
defjvp(la.cholesky, _cholesky_jvp)


# -- qr -------------------------------------------------------------------------------------
def _check_qr(a, mode):
    _no_complex(a, "qr")
    m, n = shape(a)[-2:]
    if mode not in ("reduced", "complete") or m < n or (mode == "complete" and m != n):
        raise NotImplementedError(
            f"udiff differentiates linalg.qr in mode 'reduced' with at least as many rows as "
            f"columns only (got mode={mode!r}, shape {shape(a)})"
        )


def _copyltu(m):
    """Lower triangle mirrored to the upper one."""
    n = shape(m)[-1]
    low = m * _tril_mask(m, n, -1)
    return low + _T(low) + m * _eye(m, n)


def _qr_vjp(which):
    def maker(ans, a, mode="reduced"):
        _check_qr(a, mode)
        q, r = call(la.qr, a)

        def vjp(g):
            # gA = [gQ + Q copyltu(M)] R^-T with M = R gR^T - gQ^T Q (one of gQ, gR is zero)
            if which == 0:
                b = g - q @ _copyltu(_T(g) @ q)
            else:
                b = q @ _copyltu(r @ _T(g))
            return _T(_solve(r, _T(b)))

        return vjp

    return maker


def _qr_jvp(which):
    def rule(t, ans, a, mode="reduced"):
        _check_qr(a, mode)
        q, r = call(la.qr, a)
        t_rinv = _T(_solve(_T(r), _T(t)))  # t R^-1
        qt_t_rinv = _T(q) @ t_rinv
        low = qt_t_rinv * _tril_mask(t, shape(r)[-1], -1)
        omega = low - _T(low)
        if which == 0:
            return q @ (omega - qt_t_rinv) + t_rinv
        return (qt_t_rinv - omega) @ r

    return rule


for _i in (0, 1):
    defvjp((la.qr, _i), _qr_vjp(_i))
    defjvp((la.qr, _i), _qr_jvp(_i))


# -- eigh, eigvalsh -------------------------------------------------------------------------
# As functions of herm(A) = (A + A^H) / 2 (JAX's symmetrize_input): with V^H herm(dA) V = C,
# dw = Re diag(C) and dV = V (F * C), F_ij = 1 / (w_j - w_i) off the diagonal.
def _eigh_f(w):
    d = w[..., None, :] - w[..., :, None]  # d_ij = w_j - w_i
    return _safe_reciprocal_of_differences(d, w)


def _eigh_vjp(which):
    def maker(ans, a, UPLO="L"):
        w, v = call(la.eigh, a, UPLO)

        def vjp(g):
            # The transpose of dA -> V X(V^H dA V) V^H conjugates V.
            if which == 0:
                inner = _diag_embed(_re(g))
            else:
                inner = _eigh_f(w) * (_T(v) @ g)
            return _hermitian_part(_cj(v) @ inner @ _T(v))

        return vjp

    return maker


def _eigh_jvp(which):
    def rule(t, ans, a, UPLO="L"):
        w, v = call(la.eigh, a, UPLO)
        c = _H(v) @ _hermitian_part(t) @ v
        if which == 0:
            return _re(_diag(c))
        return v @ (_eigh_f(w) * c)

    return rule


for _i in (0, 1):
    defvjp((la.eigh, _i), _eigh_vjp(_i))
    defjvp((la.eigh, _i), _eigh_jvp(_i))


def _eigvalsh_vjp(ans, a, UPLO="L"):
    return _eigh_vjp(0)(ans, a, UPLO)


def _eigvalsh_jvp(t, ans, a, UPLO="L"):
    return _eigh_jvp(0)(t, ans, a, UPLO)


defvjp(la.eigvalsh, _eigvalsh_vjp)
defjvp(la.eigvalsh, _eigvalsh_jvp)


# -- eig, eigvals (JAX's jax.lax.linalg.eig with enable_eigvec_derivs=True) ---------------------
# With P = V^-1 dA V and F_ij = 1 / (w_j - w_i) off the diagonal: dw = diag(P), and
# dV = U + V diag(c) with U = V (F * P), where c fixes LAPACK geev's gauge (unit 2-norm, the
# largest-magnitude component k_j of each eigenvector real):
#   c_j = -Re(v_j^H u_j) - i Im(U_kj) / Re(V_kj).
# For real V (a real matrix whose eigenvalues are all real) c_j = -v_j^T u_j.
def _eig_parts(a):
    """``(w, V, V^-1, F)`` of ``a``, recomputed through ``eig`` (recorded in recorded sweeps)."""
    w, v = call(la.eig, a)
    return w, v, _inv(v), _safe_reciprocal_of_differences(w[..., None, :] - w[..., :, None], w)


def _largest(v):
    """One-hot (float) masks of each column's largest-magnitude component (LAPACK's ``k_j``)."""
    n = shape(v)[-1]
    k = np.argmax(np.abs(v), axis=-2)
    return (_like(v, np.arange(n))[:, None] == k[..., None, :]) * np.ones((), _real_dtype(v))


def _real_for(a, x):
    """``x``, or its real part where ``a`` is real: a real variable's derivative."""
    return x if _is_complex(a) else _re(x)


def _eigvals_vjp(ans, a):
    _, v, vi, _ = _eig_parts(a)
    return lambda g: _real_for(a, _T(vi) @ (g[..., :, None] * _T(v)))


def _eigvals_jvp(t, ans, a):
    _, v, vi, _ = _eig_parts(a)
    return np.sum(vi * _T(t @ v), axis=-1)  # diag(V^-1 t V)


def _eig_vectors_vjp(ans, a):
    _, v, vi, f = _eig_parts(a)

    def vjp(g):
        h = np.sum(g * v, axis=-2)[..., None, :]  # the cotangent of c
        if _is_complex(v):  # the transpose of U -> c (Re and Im are real-linear)
            mask = _largest(v)
            vk = _re(np.sum(mask * v, axis=-2))[..., None, :]
            gu = g - np.conj(v) * _re(h) - mask * _i_imag(h) / vk
        else:
            gu = g - v * h
        return _real_for(a, _T(vi) @ (f * (_T(v) @ gu)) @ _T(v))

    return vjp


def _eig_vectors_jvp(t, ans, a):
    _, v, vi, f = _eig_parts(a)
    u = v @ (f * (vi @ t @ v))
    if not _is_complex(v):
        return u - v * np.sum(v * u, axis=-2)[..., None, :]
    mask = _largest(v)
    vk = _re(np.sum(mask * v, axis=-2))
    c = -_re(np.sum(np.conj(v) * u, axis=-2)) - _i_imag(np.sum(mask * u, axis=-2)) / vk
    return u + v * c[..., None, :]


defvjp(la.eigvals, _eigvals_vjp)
defjvp(la.eigvals, _eigvals_jvp)
defvjp((la.eig, 0), _eigvals_vjp)
defjvp((la.eig, 0), _eigvals_jvp)
defvjp((la.eig, 1), _eig_vectors_vjp)
defjvp((la.eig, 1), _eig_vectors_jvp)


# -- svd ------------------------------------------------------------------------------------
def _reduced_svd(a, full_matrices=True, compute_uv=True, hermitian=False, svd=la.svd):
    """The reduced SVD, recomputed by ``svd`` (the function whose output is differentiated, so
    the singular vectors' signs are those of the output)."""
    m, n = shape(a)[-2:]
    if compute_uv and full_matrices and m != n:
        raise NotImplementedError(
            "udiff differentiates linalg.svd of a non-square matrix with "
            "full_matrices=False only"
        )
    if hermitian:
        raise NotImplementedError("udiff does not differentiate linalg.svd with hermitian=True")
    if svd is la._svd_reduced:
        return call(svd, a)
    return call(svd, a, full_matrices=False)


def _svd_f(s):
    s_row = s[..., None, :]
    s_col = s[..., :, None]
    # F_ij = 1 / (s_j^2 - s_i^2) off the diagonal
    return _safe_reciprocal_of_differences((s_row + s_col) * (s_row - s_col), s)


def _safe_inv(s):
    """``1 / s``, 0 where ``s`` is 0 (JAX's ``s_inv``)."""
    zero = (s == 0) * np.ones((), _real_dtype(s))
    return 1.0 / (s + zero) - zero


def _svd_phase(d, s):
    """``diag(i Im(d_ii) / s_i)``: for complex matrices, the part of ``U^H dU`` on its diagonal
    in JAX's gauge (``V^H dV`` is 0 there), which keeps ``dA = dU S V^H + U dS V^H + U S dV^H``
    on the diagonal of ``U^H dA V``; its own transpose in ``d``, up to the ``diag``."""
    return _diag_embed(_i_imag(_diag(d)) * _safe_inv(s))


# With dS = U^H dA V, F_ij = 1 / (s_j^2 - s_i^2) off the diagonal (antisymmetric), JAX's
# svd_jvp_rule:
#   ds = Re diag(dS)
#   dU = U (F * (dS S + (dS S)^H) + phase(dS)) + (I - U U^H) dA V S^-1          (m > n)
#   dV = V (F * (S dS + (S dS)^H))              + (I - V V^H) dA^H U S^-1        (n > m)
# and dV^H for the output V^H.  The VJPs are their transposes under Re sum(a * b): the transpose
# of dA -> U^H dA V is G -> conj(U) G V^T, that of X -> X^H is G -> G^H, and that of X -> F * X
# is G -> F * G.  The singular vectors are defined up to a phase per pair (U Phi, V Phi), so
# only functions invariant under it (|U|^2, U S V^H, projectors) have derivatives, as in JAX.
def _svd_vjp(which):
    def maker(ans, a, *args, **kwargs):
        u, s, vt = _reduced_svd(a, *args, **kwargs)

        def vjp(g):
            m, n = shape(a)[-2:]
            uc, vtc = _cj(u), _cj(vt)  # conj(U) and V^T
            s_row = s[..., None, :]
            if which == 1:  # ds = Re diag(U^H dA V)
                return (uc * _re(g)[..., None, :]) @ vtc
            f = _svd_f(s)
            if which == 0:
                k = _T(u) @ g
                core = (f * (k - _H(k))) * s_row
                if _is_complex(a):
                    core = core + _svd_phase(k, s)
                grad = uc @ core @ vtc
                if m > n:
                    grad = grad + ((g - uc @ k) / s_row) @ vtc  # (I - conj(U) U^T) gU S^-1 V^T
                return grad
            gv = _H(g)  # the cotangent of V
            vtgv = vtc @ gv  # V^T gV
            core = s[..., :, None] * (f * (vtgv - _H(vtgv)))
            grad = uc @ core @ vtc
            if m < n:  # conj(U) S^-1 ((I - conj(V) V^T) gV)^H
                grad = grad + (uc / s_row) @ _H(gv - _T(vt) @ vtgv)
            return grad

        return vjp

    return maker


def _svd_jvp(which):
    def rule(t, ans, a, *args, **kwargs):
        u, s, vt = _reduced_svd(a, *args, **kwargs)
        m, n = shape(a)[-2:]
        v = _H(vt)
        ds = _H(u) @ t @ v
        if which == 1:
            return _re(_diag(ds))
        f = _svd_f(s)
        s_row = s[..., None, :]
        if which == 0:
            dss = ds * s_row
            inner = f * (dss + _H(dss))
            if _is_complex(a):
                inner = inner + _svd_phase(ds, s)
            du = u @ inner
            if m > n:
                tv = t @ v
                du = du + (tv - u @ (_H(u) @ tv)) / s_row
            return du
        sds = s[..., :, None] * ds
        dv = v @ (f * (sds + _H(sds)))
        if n > m:
            thu = _H(t) @ u
            dv = dv + (thu - v @ (vt @ thu)) / s_row
        return _H(dv)

    return rule


for _i in (0, 1, 2):
    defvjp((la.svd, _i), _svd_vjp(_i))
    defjvp((la.svd, _i), _svd_jvp(_i))


def _check_values_only(kwargs, args):
    compute_uv = args[1] if len(args) > 1 else kwargs.get("compute_uv", True)
    if compute_uv:  # unreachable: with compute_uv the outputs are keyed (svd, i)
        raise NotImplementedError("linalg.svd with compute_uv=True has one rule per output")


def _svd_values_vjp(ans, a, *args, **kwargs):
    _check_values_only(kwargs, args)
    return _svd_vjp(1)(ans, a, full_matrices=False)


def _svd_values_jvp(t, ans, a, *args, **kwargs):
    _check_values_only(kwargs, args)
    return _svd_jvp(1)(t, ans, a, full_matrices=False)


defvjp(la.svd, _svd_values_vjp)  # compute_uv=False: one output, keyed by svd itself
defjvp(la.svd, _svd_values_jvp)

# _svd_reduced: svd(a, full_matrices=False) as the rules' own node
for _i in (0, 1, 2):
    defvjp((la._svd_reduced, _i),
           lambda ans, a, i=_i: _svd_vjp(i)(ans, a, full_matrices=False, svd=la._svd_reduced))
    defjvp((la._svd_reduced, _i), lambda t, ans, a, i=_i: _svd_jvp(i)(
        t, ans, a, full_matrices=False, svd=la._svd_reduced))


# -- lstsq: x = pinv(a) b, differentiated as pinv -------------------------------------------
def _as_matrix_rhs(b, ans):
    return (b[..., None], ans[..., None]) if ndim(b) == 1 else (b, ans)


def _lstsq_vjp_a(ans, a, b, rcond=None):
    _no_complex(a, "lstsq")
    p = call(la.pinv, a)
    b2, x = _as_matrix_rhs(b, ans)
    r = b2 - a @ x

    def vjp(g):
        g2 = g[..., None] if ndim(b) == 1 else g
        gt = _T(g2)
        return (-(_T(p) @ g2 @ _T(x)) + r @ (gt @ (p @ _T(p)))
                + (_T(p) @ x) @ (gt - (gt @ p) @ a))

    return vjp


def _lstsq_vjp_b(ans, a, b, rcond=None):
    _no_complex(a, "lstsq")
    p = call(la.pinv, a)
    return lambda g: _T(p) @ g if ndim(b) == 2 else (_T(p) @ g[..., None])[..., 0]


def _lstsq_jvp_a(t, ans, a, b, rcond=None):
    _no_complex(a, "lstsq")
    p = call(la.pinv, a)
    b2, x = _as_matrix_rhs(b, ans)
    r = b2 - a @ x
    tt = _T(t)
    dx = -(p @ (t @ x)) + p @ (_T(p) @ (tt @ r)) + (tt - p @ (a @ tt)) @ (_T(p) @ x)
    return dx[..., 0] if ndim(b) == 1 else dx


def _lstsq_jvp_b(t, ans, a, b, rcond=None):
    _no_complex(a, "lstsq")
    p = call(la.pinv, a)
    return p @ t if ndim(b) == 2 else (p @ t[..., None])[..., 0]


defvjp((la.lstsq, 0), _lstsq_vjp_a, _lstsq_vjp_b)
defjvp((la.lstsq, 0), _lstsq_jvp_a, _lstsq_jvp_b)
defnondiff((la.lstsq, 2))  # the rank


# -- multi_dot ------------------------------------------------------------------------------
def _chain(arrays):
    """``arrays`` promoted to matrices (1-D ends as row/column vectors)."""
    arrays = list(arrays)
    if ndim(arrays[0]) == 1:
        arrays[0] = arrays[0][None, :]
    if ndim(arrays[-1]) == 1:
        arrays[-1] = arrays[-1][:, None]
    return arrays


def _product(arrays):
    out = arrays[0]
    for x in arrays[1:]:
        out = out @ x
    return out


def _multi_dot_vjp(ans, arrays, **kwargs):
    mats = _chain(arrays)

    def vjp(g):
        nb = _nb(g, ans)
        batch = shape(g)[:nb]
        g2 = np.reshape(g, batch + (shape(mats[0])[0], shape(mats[-1])[1]))
        out = []
        for i, x in enumerate(arrays):
            c = g2
            if i > 0:
                c = _T(_product(mats[:i])) @ c
            if i < len(mats) - 1:
                c = c @ _T(_product(mats[i + 1:]))
            out.append(np.reshape(c, batch + shape(x)))
        return out

    return vjp


def _multi_dot_jvp(tangents, ans, arrays, **kwargs):
    mats = _chain(arrays)
    total = None
    for i, t in enumerate(tangents):
        if t is None:
            continue
        batch = shape(t)[: ndim(t) - ndim(arrays[i])]
        t2 = np.reshape(t, batch + shape(mats[i]))
        if i > 0:
            t2 = _product(mats[:i]) @ t2
        if i < len(mats) - 1:
            t2 = t2 @ _product(mats[i + 1:])
        t2 = np.reshape(t2, batch + shape(ans))
        total = t2 if total is None else total + t2
    return total


defvjp(la.multi_dot, _multi_dot_vjp)
defjvp(la.multi_dot, _multi_dot_jvp)


# -- matrix_power ---------------------------------------------------------------------------
def _powers(base, m):
    """``[I, B, B^2, ..., B^(m-1)]`` (the identity as None)."""
    out = [None]
    for _ in range(1, m):
        out.append(base if out[-1] is None else out[-1] @ base)
    return out


def _matrix_power_vjp(ans, a, n):
    n = operator.index(n)
    base = a if n >= 0 else _inv(a)
    m = abs(n)
    pw = _powers(base, m)

    def vjp(g):
        if m == 0:
            return unbroadcast_to(g * 0.0, _nb(g, ans), shape(a))
        total = None
        for k in range(m):
            c = g
            if pw[k] is not None:
                c = _T(pw[k]) @ c
            if pw[m - 1 - k] is not None:
                c = c @ _T(pw[m - 1 - k])
            total = c if total is None else total + c
        if n < 0:
            total = -(_T(base) @ total @ _T(base))
        return total

    return vjp


def _matrix_power_jvp(t, ans, a, n):
    n = operator.index(n)
    if n == 0:
        return t * 0.0
    base = a if n >= 0 else _inv(a)
    m = abs(n)
    dbase = t if n > 0 else -(base @ t @ base)
    pw = _powers(base, m)
    total = None
    for k in range(m):
        c = dbase
        if pw[k] is not None:
            c = pw[k] @ c
        if pw[m - 1 - k] is not None:
            c = c @ pw[m - 1 - k]
        total = c if total is None else total + c
    return total


defvjp(la.matrix_power, _matrix_power_vjp)
defjvp(la.matrix_power, _matrix_power_jvp)


# -- norm -----------------------------------------------------------------------------------
def _norm_axes(x, ord, axis):
    """``(axes, matrix?)``: the reduced axes of ``x`` (non-negative); is it a matrix norm?"""
    nd = ndim(x)
    if axis is None:
        if ord is None or nd == 1:
            return tuple(range(nd)), False
        if nd == 2:
            return (0, 1), True
        raise ValueError("Improper number of dimensions to norm.")
    if isinstance(axis, (tuple, list)) and len(axis) == 2:
        return tuple(a % nd for a in axis), True  # keep the order: (row axis, column axis)
    return normalize_axes(axis, nd), False


def _safe(den):
    return np.where(den == 0, 1.0, den)


def _nan_at_zero(w, norm):
    """``w`` with NaN where the norm is 0: ``x / ||x||`` is 0/0 there (JAX and autograd agree;
    docs/conventions.md)."""
    return np.where(norm == 0, np.nan, w)


def _csign(x):
    """``conj(x) / |x|`` (``sign(x)`` for real ``x``), 0 at 0: d|x| is ``Re(_csign(x) dx)``."""
    if not _is_complex(x):
        return np.sign(x)
    ax = np.abs(x)
    return np.conj(x) / _safe(ax)


def _shares(hit, axes, ref):
    """``hit`` (a boolean mask) divided by the number of hits along ``axes``, in ``ref``'s real
    dtype."""
    hit = hit * np.ones((), _real_dtype(ref))
    return hit / np.sum(hit, axis=axes, keepdims=True)


def _vector_weight(x, p, kept, axes):
    """``W`` with ``d ||x||_p = Re sum(W dx)`` along ``axes``; ``kept`` the norm broadcastable
    against ``x``."""
    if p is None or p == 2:
        return _nan_at_zero(_cj(x) / _safe(kept), kept)
    if p == np.inf or p == -np.inf:
        ax = np.abs(x)
        return _csign(x) * _shares(ax == kept, axes, x)
    if p == 0:
        return np.abs(x) * 0.0
    if p < 1:
        raise NotImplementedError(f"udiff differentiates vector norms with ord >= 1 only, not {p}")
    if p == 1:
        return _csign(x)
    ax = np.abs(x)
    return _csign(x) * (ax / _safe(kept)) ** (p - 1)


def _matrix_weight(x, ord, kept, rc):
    """``W`` with ``d ||x||_ord = Re sum(W dx)`` for the matrix axes ``rc = (row, col)``."""
    row, col = rc
    if ord is None or ord == "fro":
        return _nan_at_zero(_cj(x) / _safe(kept), kept)
    if ord in (1, -1, np.inf, -np.inf):
        summed, other = (row, col) if ord in (1, -1) else (col, row)  # column sums: over rows
        sums = np.sum(np.abs(x), axis=summed, keepdims=True)
        # The extreme sum, recomputed here: the norm's own may be summed in another order
        # (Dask's blockwise norm) and differ in the last bit, matching no sum.
        extreme = (np.max if ord in (1, np.inf) else np.min)(sums, axis=other, keepdims=True)
        return _csign(x) * _shares(sums == extreme, (other,), x)
    if ord in ("nuc", 2, -2):
        xm = np.moveaxis(x, (row, col), (-2, -1))
        u, s, vt = call(la._svd_reduced, xm)
        if ord == "nuc":
            w = u @ vt
        else:
            k = shape(s)[-1]
            pick = 0 if ord == 2 else k - 1
            w = u[..., :, pick:pick + 1] @ vt[..., pick:pick + 1, :]
        return np.moveaxis(_cj(w), (-2, -1), (row, col))  # d s = Re(u^H dx v)
    raise ValueError(f"Invalid norm order {ord!r} for matrices.")


def _norm_weight(ans, x, ord, axis, keepdims):
    axes, matrix = _norm_axes(x, ord, axis)
    nd = ndim(x)
    kept = ans
    if not keepdims and axes:
        kept = np.expand_dims(ans, from_end(tuple(sorted(axes)), nd))
    if matrix:
        return _matrix_weight(x, ord, kept, axes), axes
    return _vector_weight(x, ord, kept, from_end(axes, nd)), axes


def _norm_vjp(ans, x, ord=None, axis=None, keepdims=False):
    w, axes = _norm_weight(ans, x, ord, axis, keepdims)
    # The norm is real: only the real part of its cotangent carries a derivative.
    return lambda g: restore_reduced(_re(g), x, tuple(sorted(axes)), keepdims) * w


def _norm_jvp(t, ans, x, ord=None, axis=None, keepdims=False):
    w, axes = _norm_weight(ans, x, ord, axis, keepdims)
    return _re(np.sum(t * w, axis=from_end(tuple(sorted(axes)), ndim(x)), keepdims=keepdims))


defvjp(la.norm, _norm_vjp)
defjvp(la.norm, _norm_jvp)


# -- non-differentiable ---------------------------------------------------------------------
defnondiff(la.matrix_rank)
