"""``udiff.numpy.linalg``: every rule against finite differences, from one table.

A case is a function written with ``udiff.numpy`` and generators of
well-conditioned arguments (SPD matrices for ``cholesky``, distinct
eigenvalues for ``eigh``, distinct singular values for ``svd``, full rank for
``inv``/``solve``/``lstsq``).  Eigenvectors and singular vectors are only
defined up to sign, so their cases differentiate sign-invariant functions of
them (``V * V``, ``U @ diag(s) @ Vt``).  Every case runs through
:func:`udiff.testing.check_grads` in forward and reverse mode to second
order, on NumPy and on Dask with two or more chunks on every axis (udiff's
Dask backend puts each matrix in one chunk itself, keeping the chunks of the
stack axes).
"""
import re
import zlib
from typing import Callable, NamedTuple

import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as np
from udiff._machinery import registry as _registry
from udiff.backends._base import key_name
from udiff.testing import check_grads

from conftest import OWN_JVP, OWN_VJP, chunked, compute, rule_keys

nan = numpy.nan
la = np.linalg


# -- argument generators --------------------------------------------------------------------
def real(*shape):
    return lambda rng: rng.uniform(-2.0, 2.0, shape)


def nonzero(*shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def well_conditioned(*shape):
    """Square (stacks of) matrices near ``3 I``: invertible, condition number < 5."""
    n = shape[-1]
    return lambda rng: rng.uniform(-0.5, 0.5, shape) + 3.0 * numpy.eye(n)


def spd(*shape):
    """Symmetric positive-definite (stacks of) matrices."""
    def gen(rng):
        a = rng.uniform(-1.0, 1.0, shape)
        return a @ numpy.swapaxes(a, -1, -2) + shape[-1] * numpy.eye(shape[-1])

    return gen


def distinct_eigenvalues(*shape):
    """Symmetric matrices with eigenvalues at least 1 apart (perturbations stay far from ties)."""
    def gen(rng):
        n = shape[-1]
        q, _ = numpy.linalg.qr(rng.standard_normal(shape))
        w = numpy.arange(n) * 1.5 - 0.7 * n + rng.uniform(-0.2, 0.2, shape[:-2] + (n,))
        return (q * w[..., None, :]) @ numpy.swapaxes(q, -1, -2)

    return gen


def distinct_singular_values(*shape):
    """Matrices with singular values at least 1 apart and at least 1."""
    def gen(rng):
        m, n = shape[-2:]
        k = min(m, n)
        u, _ = numpy.linalg.qr(rng.standard_normal(shape[:-2] + (m, k)))
        v, _ = numpy.linalg.qr(rng.standard_normal(shape[:-2] + (n, k)))
        s = 1.0 + numpy.arange(k)[::-1] * 1.0 + rng.uniform(0.0, 0.3, k)
        return (u * s) @ numpy.swapaxes(v, -1, -2)

    return gen


def full_rank(*shape):
    """(Stacks of) matrices of full rank: singular values at least 1."""
    return distinct_singular_values(*shape)


# -- the table ------------------------------------------------------------------------------
class Case(NamedTuple):
    name: str
    fun: Callable
    args: tuple
    order: int = 2

    def make_args(self, inner):
        rng = numpy.random.default_rng(zlib.crc32(self.name.encode()))
        return [chunked(gen(rng), inner) for gen in self.args]


CASES = []


def case(name, fun, *args, order=2):
    CASES.append(Case(name, fun, args, order))


# norm: vector orders ----------------------------------------------------------------------------
for _ord in (None, 2, 1, 3, numpy.inf, -numpy.inf):
    case(f"norm_vec_ord{_ord}", lambda x, o=_ord: la.norm(x, o), nonzero(5))
    case(f"norm_vec_ord{_ord}_axis1", lambda x, o=_ord: la.norm(x, o, axis=1), nonzero(3, 4))
case("norm_vec_ord0", lambda x: la.norm(x, 0) * x, nonzero(4))  # a constant
case("norm_default_3d", la.norm, real(2, 3, 2))
case("norm_axis0_keepdims", lambda x: la.norm(x, axis=0, keepdims=True), real(3, 2))
case("norm_axis_tuple1", lambda x: la.norm(x, 2, axis=(-1,)), real(3, 2))
# norm: matrix orders
for _ord in ("fro", 1, -1, numpy.inf, -numpy.inf):
    case(f"norm_mat_ord{_ord}", lambda x, o=_ord: la.norm(x, o), nonzero(3, 4))
    case(f"norm_mat_ord{_ord}_stack", lambda x, o=_ord: la.norm(x, o, axis=(1, 2)),
         nonzero(2, 3, 3))
for _ord in ("nuc", 2, -2):
    case(f"norm_mat_ord{_ord}", lambda x, o=_ord: la.norm(x, o), distinct_singular_values(4, 3))
    case(f"norm_mat_ord{_ord}_stack_keepdims",
         lambda x, o=_ord: la.norm(x, o, axis=(-1, -2), keepdims=True),
         distinct_singular_values(2, 3, 3))
case("norm_mat_axes_swapped", lambda x: la.norm(x, 1, axis=(1, 0)), nonzero(3, 4))
case("norm_mat_ordnuc_axes_0_2", lambda x: la.norm(x, "nuc", axis=(0, 2)), nonzero(3, 2, 4))
case("norm_mat_ord2_stack_4d", lambda x: la.norm(x, 2, axis=(-2, -1)),
     distinct_singular_values(2, 3, 4, 3))

# inverses, determinants, solves ---------------------------------------------------------------
case("inv", la.inv, well_conditioned(3, 3))
case("inv_stack", la.inv, well_conditioned(2, 3, 3))
case("pinv_tall", la.pinv, full_rank(4, 3))
case("pinv_wide", la.pinv, full_rank(2, 3))
case("pinv_stack", la.pinv, full_rank(2, 3, 3))
case("det", la.det, well_conditioned(3, 3))
case("det_stack", la.det, well_conditioned(2, 3, 3))
case("slogdet", lambda a: la.slogdet(a)[1], well_conditioned(3, 3))
case("slogdet_negative_stack", lambda a: la.slogdet(-a)[1], well_conditioned(2, 3, 3))
case("solve_vector", la.solve, well_conditioned(3, 3), real(3))
case("solve_matrix", la.solve, well_conditioned(3, 3), real(3, 2))
case("solve_stack", la.solve, well_conditioned(2, 3, 3), real(2, 3, 2))
case("solve_stack_vector", la.solve, well_conditioned(2, 3, 3), real(3))
case("solve_broadcast", la.solve, well_conditioned(3, 3), real(2, 3, 2))
case("solve_broadcast_size1", la.solve, well_conditioned(1, 3, 3), real(2, 3, 2))
case("lstsq_vector", lambda a, b: la.lstsq(a, b)[0], full_rank(4, 3), real(4))
case("lstsq_matrix", lambda a, b: la.lstsq(a, b)[0], full_rank(4, 2), real(4, 3))
case("lstsq_underdetermined", lambda a, b: la.lstsq(a, b)[0], full_rank(2, 3), real(2))
case("multi_dot", lambda a, b, c: la.multi_dot([a, b, c]), real(2, 3), real(3, 4), real(4, 2))
case("multi_dot_vectors", lambda a, b, c: la.multi_dot([a, b, c]), real(3), real(3, 4), real(4))
case("multi_dot_two", lambda a, b: la.multi_dot((a, b)), real(2, 3), real(3))
case("multi_dot_constant", lambda a: la.multi_dot([a, numpy.ones((3, 2))]), real(2, 3))
for _n in (0, 1, 2, 3, 5):
    case(f"matrix_power_{_n}", lambda a, n=_n: la.matrix_power(a, n) + a, real(2, 3, 3))
case("matrix_power_-2", lambda a: la.matrix_power(a, -2), well_conditioned(3, 3))

# decompositions -----------------------------------------------------------------------------------
# cholesky, eigh and eigvalsh are differentiated as functions of (A + A^T) / 2 (JAX's convention,
# see test_symmetric_input_conventions): finite differences see them through sym().
def sym(a):
    return 0.5 * (a + np.swapaxes(a, -1, -2))


case("cholesky", lambda a: la.cholesky(sym(a)), spd(3, 3))
case("cholesky_stack", lambda a: la.cholesky(sym(a)), spd(2, 3, 3))
case("cholesky_upper", lambda a: la.cholesky(sym(a), upper=True), spd(3, 3))
case("qr_q", lambda a: la.qr(a)[0], full_rank(4, 3))
case("qr_r", lambda a: la.qr(a)[1], full_rank(4, 3))
case("qr_complete_square", lambda a: la.qr(a, mode="complete")[0], full_rank(3, 3))
case("qr_stack", lambda a: np.sum(la.qr(a)[0], axis=-1) + la.qr(a)[1][..., 0],
     full_rank(2, 3, 3))
case("eigh_values", lambda a: la.eigh(sym(a))[0], distinct_eigenvalues(3, 3))
case("eigh_vectors", lambda a: la.eigh(sym(a))[1] ** 2, distinct_eigenvalues(3, 3))
case("eigh_stack_upper", lambda a: (lambda s: la.eigh(s, UPLO="U")[1] ** 2
                                    + la.eigh(s, "U")[0][..., None])(sym(a)),
     distinct_eigenvalues(2, 3, 3))
case("eigvalsh", lambda a: la.eigvalsh(sym(a)), distinct_eigenvalues(3, 3))
case("eigvalsh_stack_upper", lambda a: la.eigvalsh(sym(a), UPLO="U"),
     distinct_eigenvalues(2, 3, 3))
for _shape in ((4, 3), (3, 4), (3, 3)):
    _gen = distinct_singular_values(*_shape)
    _tag = "x".join(map(str, _shape))
    case(f"svd_s_{_tag}", lambda a: la.svd(a, full_matrices=False)[1], _gen)
    case(f"svd_u_{_tag}", lambda a: la.svd(a, full_matrices=False)[0] ** 2, _gen)
    case(f"svd_vt_{_tag}", lambda a: la.svd(a, full_matrices=False)[2] ** 2, _gen)
case("svd_reconstruct", lambda a: np.sum(
    (lambda u, s, vt: (u * s[..., None, :]) @ vt)(*la.svd(a, full_matrices=False)), axis=0),
     distinct_singular_values(4, 3))
case("svd_stack_square_default", lambda a: la.svd(a)[0] * la.svd(a)[0],
     distinct_singular_values(2, 3, 3))
case("svd_values_only", lambda a: la.svd(a, compute_uv=False), distinct_singular_values(2, 4, 3))

# det at singular matrices: the adjugate, from an SVD (rank n-1 and n-2, distinct singular values)
def singular(*shape, rank=None):
    """(Stacks of) matrices of rank ``rank`` (default n - 1) with distinct singular values."""
    def gen(rng):
        n = shape[-1]
        a = distinct_singular_values(*shape)(rng)
        u, s, vt = numpy.linalg.svd(a)
        s[..., (n - 1 if rank is None else rank):] = 0.0
        return (u * s[..., None, :]) @ vt

    return gen


case("det_singular", la.det, singular(3, 3))
case("det_singular_rank1_stack", la.det, singular(2, 3, 3, rank=1))
case("det_1x1", la.det, real(2, 1, 1))
case("det_empty_matrices", lambda a: la.det(a @ np.swapaxes(a, -1, -2)), real(2, 0, 3))
case("slogdet_empty_matrices", lambda a: la.slogdet(a)[1], real(3, 0, 0))
case("inv_empty_stack", la.inv, well_conditioned(0, 2, 2))
case("adjugate", la._adjugate, well_conditioned(2, 3, 3))
case("adjugate_singular", la._adjugate, singular(3, 3))
case("svd_reduced", lambda a: la._svd_reduced(a)[1] + np.sum(la._svd_reduced(a)[0] ** 2, -2),
     distinct_singular_values(2, 4, 3))
case("slogdet_sign_real", lambda a: la.slogdet(-a)[0][..., None, None] * a,
     well_conditioned(2, 3, 3))

# cond: s_max / s_min, or norm(x, p) * norm(inv(x), p)
for _p in (None, 2, -2, "fro", "nuc", 1, -1, numpy.inf, -numpy.inf):
    case(f"cond_{_p}", lambda a, p=_p: la.cond(a, p), distinct_singular_values(3, 3))
case("cond_stack", la.cond, distinct_singular_values(2, 3, 3))
COVERED_COMPOSITES = {  # composites the cases exercise (see test_rules)
    la.cond, la.tensorsolve, la.tensorinv, la.matmul, la.outer, la.tensordot, la.vecdot,
    la.matrix_transpose, la.cross, la.diagonal, la.trace}

# non-differentiable: constants
case("matrix_rank", lambda a: a * la.matrix_rank(a), well_conditioned(3, 3))

# eig, eigvals: JAX's derivatives (test_eig_matches_jax).  The eigenvectors are differentiated in
# LAPACK's gauge (unit 2-norm, largest-magnitude component real), in which NumPy returns them, so
# they are checked themselves, and also through gauge-invariant functions (|v|^2, v v^H).
def general(*shape, eigen="pair"):
    """Non-symmetric (stacks of) matrices ``Q diag(w) Q^-1`` with eigenvalues at least 1 apart:
    real with a complex-conjugate pair (``"pair"``), real with real eigenvalues (``"real"``),
    or complex (``"complex"``)."""
    def gen(rng):
        n = shape[-1]
        q = 2.0 * numpy.eye(n) + rng.uniform(-0.5, 0.5, shape)
        w = numpy.arange(n) * 1.5 - 0.7 * n + rng.uniform(-0.2, 0.2, shape[:-2] + (n,))
        if eigen == "complex":
            q = q + 1j * rng.uniform(-0.5, 0.5, shape)
            w = w + 1j * rng.uniform(-1.0, 1.0, w.shape)
        b = w[..., :, None] * numpy.eye(n)
        if eigen == "pair":  # the first two as 0.5 +- 1.5i: a rotation-scaling block
            b[..., :2, :2] = [[0.5, -1.5], [1.5, 0.5]]
        return q @ b @ numpy.linalg.inv(q)

    return gen


def _vvh(v):
    return v @ np.conj(np.swapaxes(v, -1, -2))


case("eigvals_pair", la.eigvals, general(3, 3))
case("eigvals_real", la.eigvals, general(3, 3, eigen="real"))
case("eigvals_complex", la.eigvals, general(3, 3, eigen="complex"))
case("eigvals_1x1", la.eigvals, real(2, 1, 1))
case("eigvals_empty_stack", la.eigvals, real(0, 2, 2))
case("eig_values", lambda a: la.eig(a)[0], general(2, 3, 3, eigen="complex"))
case("eig_vectors_pair", lambda a: la.eig(a)[1], general(3, 3))
case("eig_vectors_real_stack", lambda a: la.eig(a)[1], general(2, 3, 3, eigen="real"))
case("eig_vectors_complex", lambda a: la.eig(a)[1], general(3, 3, eigen="complex"))
case("eig_vectors_gauge_invariant", lambda a: (lambda v: np.abs(v) ** 2 + _vvh(v))(la.eig(a)[1]),
     general(3, 3, eigen="complex"))
case("eig_both", lambda a: (lambda w, v: v * w[..., None, :])(*la.eig(a)), general(2, 2))

# tensorsolve, tensorinv (solve and inv of a reshaped a), and NumPy 2's linalg spellings
def reshaped(gen, *shape):
    return lambda rng: gen(rng).reshape(shape)


def cplx(*shape):
    return lambda rng: rng.uniform(-2.0, 2.0, shape) + 1j * rng.uniform(-2.0, 2.0, shape)


case("tensorsolve_axes", lambda a, b: la.tensorsolve(a, b, axes=(0,)),
     reshaped(well_conditioned(6, 6), 6, 2, 3), real(2, 3))
case("tensorinv", la.tensorinv, reshaped(well_conditioned(6, 6), 2, 3, 6))
case("tensorinv_ind1", lambda a: la.tensorinv(a, ind=1), reshaped(well_conditioned(6, 6), 6, 3, 2))
case("linalg_matmul", la.matmul, real(2, 3, 4), real(4, 2))
case("linalg_outer", la.outer, real(3), real(4))
case("linalg_tensordot", la.tensordot, real(2, 3, 4), real(3, 4, 2))
case("linalg_vecdot_complex_axis0", lambda a, b: la.vecdot(a, b, axis=0), cplx(3, 2), cplx(3, 1))
case("linalg_matrix_transpose", la.matrix_transpose, real(2, 3, 4))
case("linalg_cross_axis0", lambda a, b: la.cross(a, b, axis=0), real(3, 2), real(3, 1))
case("linalg_diagonal", lambda a: la.diagonal(a, offset=1), real(2, 3, 4))
case("linalg_trace", lambda a: la.trace(a, offset=-1), real(2, 3, 4))

CASES_BY_NAME = {c.name: c for c in CASES}
assert len(CASES_BY_NAME) == len(CASES), "case names must be unique"


# -- the rule keys the cases record ---------------------------------------------------------
def _is_linalg(key):
    key = _registry.key_of(key)
    key = key[0] if isinstance(key, tuple) else key
    return key.startswith("numpy.linalg.")


COVERED_KEYS = {
    k for c in CASES for k in rule_keys(c.fun, c.make_args(udiff.numpy_backend)) if _is_linalg(k)
} | {(la._svd_reduced, i) for i in range(3)}  # svd's rules (full_matrices=False), by svd's cases


# -- tests ----------------------------------------------------------------------------------
# Every case runs on NumPy and on multi-chunk Dask.
RUNS = [pytest.param(c, inner, id=f"{inner.name}-{c.name}")
        for inner in (udiff.numpy_backend, udiff.dask_backend) for c in CASES]


@pytest.mark.parametrize("case, inner", RUNS)
def test_rule(case, inner):
    check_grads(case.fun, case.make_args(inner), modes=("fwd", "rev"), order=case.order,
                inner=inner)


def test_every_function_runs_on_dask():
    """Dask has each linalg function (udiff's blockwise ones, or a default written with
    others): none is missing on one inner backend only."""
    for name, mm in la.MULTIMETHODS.items():
        assert udiff.dask_backend.native(mm.key) is not None or mm.default is not None, name


def test_every_linalg_rule_is_covered_with_a_jvp():
    linalg_keys = {k for k in OWN_VJP if _is_linalg(k)}
    missing = sorted(map(key_name, linalg_keys - set(map(_registry.key_of, COVERED_KEYS))))
    assert not missing, f"linalg rules with no case in CASES: {missing}"
    no_jvp = sorted(key_name(k) for k in linalg_keys if k not in OWN_JVP)
    assert not no_jvp, f"linalg rules with no JVP: {no_jvp}"


def test_every_function_is_classified():
    for name, mm in la.MULTIMETHODS.items():
        keys = {mm.key} | {(mm.key, i) for i in range(4)}
        assert keys & (_registry._VJP.keys() | _registry._NONDIFF | _registry._COMPOSITE), name
        assert mm.__name__ == name and mm.domain == "numpy.linalg"
        assert _registry.key_of(getattr(numpy.linalg, name)) == mm.key == f"numpy.linalg.{name}"


@pytest.mark.parametrize("name, make", [("inv", well_conditioned(3, 3)),
                                        ("det", well_conditioned(2, 3, 3))])
def test_jacobian_matches_finite_differences(name, make):
    a = make(numpy.random.default_rng(1))
    func = getattr(la, name)
    ref = getattr(numpy.linalg, name)
    eps = 1e-6
    numeric = numpy.stack(
        [(ref(a + eps * e.reshape(a.shape)) - ref(a - eps * e.reshape(a.shape))) / (2 * eps)
         for e in numpy.eye(a.size)],
        axis=-1,
    ).reshape(numpy.shape(ref(a)) + a.shape)
    for mode in ("vjp", "jvp"):
        backend = udiff.DiffArrayBackend(udiff.numpy_backend, mode)
        with ua.set_backend(backend, coerce=True):
            x = np.asarray(a)
            jac = func(x).to(x, jacobian=True)
        numpy.testing.assert_allclose(compute(jac), numeric, rtol=1e-6, atol=1e-8)


def test_plain_inner_backends(inner):
    """Without DiffArrayBackend the namespace simply runs on the inner library."""
    a = well_conditioned(3, 3)(numpy.random.default_rng(2))
    with ua.set_backend(inner, coerce=True):
        x = chunked(a, inner)
        numpy.testing.assert_allclose(compute(la.norm(x, 1)), numpy.linalg.norm(a, 1))
        numpy.testing.assert_allclose(compute(la.multi_dot([x, x, x])), a @ a @ a)
        numpy.testing.assert_allclose(compute(la.matrix_power(x, 3)), a @ a @ a)
        numpy.testing.assert_allclose(compute(la.matrix_power(x, 0)), numpy.eye(3))
    with ua.set_backend(udiff.numpy_backend, coerce=True):
        numpy.testing.assert_allclose(la.inv(a), numpy.linalg.inv(a))
        numpy.testing.assert_allclose(la.eigvalsh(a + a.T), numpy.linalg.eigvalsh(a + a.T))


def test_norm_gradient_at_zero(inner):
    # NaN for the 2-norm and Frobenius norm (0/0, as JAX and autograd), 0 for ord=3
    for ord_, shape, want in [(None, (3,), nan), (2, (3,), nan), (3, (3,), 0.0),
                              ("fro", (2, 2), nan), (None, (2, 2), nan)]:
        with ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True):
            x = np.asarray(chunked(numpy.zeros(shape), inner))
            g = la.norm(x, ord_).to(x)
        numpy.testing.assert_array_equal(compute(g), numpy.full(shape, want), str((ord_, shape)))


def test_numpy_functions_on_diffarrays_are_recorded():
    a = well_conditioned(3, 3)(numpy.random.default_rng(3))
    with ua.set_backend(udiff.DiffArrayBackend(), coerce=True):
        x = np.asarray(a)
        y = numpy.linalg.det(numpy.linalg.inv(x))
        expected = -numpy.linalg.inv(a).T / numpy.linalg.det(a)
        numpy.testing.assert_allclose(compute(y.to(x)), expected, rtol=1e-10)


def test_svd_full_matrices_of_non_square_raises():
    a = distinct_singular_values(4, 3)(numpy.random.default_rng(4))
    with ua.set_backend(udiff.DiffArrayBackend(), coerce=True):
        x = np.asarray(a)
        u = la.svd(x)[0]
        with pytest.raises(NotImplementedError, match="full_matrices=False"):
            u.to(x)


def _hpd(a):
    """A Hermitian positive-definite (stack of) matrices from ``a``."""
    return a @ numpy.conj(numpy.swapaxes(a, -1, -2)) + a.shape[-1] * numpy.eye(a.shape[-1])


# name -> (function of a (stack of) matrices, the matrices it takes: "square", "any" or "hpd")
DASK_FUNCTIONS = {
    "det": (la.det, "square"), "slogdet": (la.slogdet, "square"), "inv": (la.inv, "square"),
    "solve_vector": (lambda a: la.solve(a, np.sum(a, axis=tuple(range(a.ndim - 1)))), "square"),
    "solve_stack": (lambda a: la.solve(a, a[..., :2]), "square"),
    "cholesky": (la.cholesky, "hpd"),
    "cholesky_upper": (lambda a: la.cholesky(a, upper=True), "hpd"),
    "eigh": (la.eigh, "hpd"), "eigh_U": (lambda a: la.eigh(a, "U"), "square"),
    "eigvalsh": (la.eigvalsh, "hpd"),
    "_adjugate": (la._adjugate, "square"), "_svd_reduced": (la._svd_reduced, "any"),
    "svd": (la.svd, "any"), "svd_reduced": (lambda a: la.svd(a, full_matrices=False), "any"),
    "svd_values": (lambda a: la.svd(a, compute_uv=False), "any"), "svdvals": (la.svdvals, "any"),
    "qr": (la.qr, "any"), "qr_complete": (lambda a: la.qr(a, "complete"), "any"),
    "qr_r": (lambda a: la.qr(a, "r"), "any"), "qr_raw": (lambda a: la.qr(a, "raw"), "any"),
    "pinv": (la.pinv, "any"), "pinv_rcond": (lambda a: la.pinv(a, rcond=0.5), "any"),
    "matrix_rank": (la.matrix_rank, "any"),
    "matrix_rank_tol": (lambda a: la.matrix_rank(a, tol=1.0), "any"),
    "norm_nuc": (lambda a: la.norm(a, "nuc", axis=(-2, -1), keepdims=True), "any"),
    "norm_2": (lambda a: la.norm(a, 2, axis=(-1, -2)), "any"),
    "norm_-2": (lambda a: la.norm(a, -2, axis=(-2, -1)), "any"),
    "norm_inf": (lambda a: la.norm(a, numpy.inf, axis=(-2, -1)), "any"),
    "norm": (la.norm, "any"), "matrix_norm_nuc": (lambda a: la.matrix_norm(a, ord="nuc"), "any"),
    "cond": (la.cond, "square"), "matrix_power_-1": (lambda a: la.matrix_power(a, -1), "square"),
}
STACK_SHAPES = [(3, 3), (4, 3, 3), (2, 3, 2, 2), (0, 3, 3), (1, 1), (3, 0, 0), (4, 3), (2, 3, 4),
                (3, 1, 2)]


def _on(inner, fun, x):
    with ua.set_backend(inner, coerce=True):
        return fun(chunked(x, inner))


STACK_RUNS = [  # square-only functions get the square stacks
    pytest.param(name, shape, id=f"{name}-{'x'.join(map(str, shape))}")
    for name, (_, kind) in DASK_FUNCTIONS.items() for shape in STACK_SHAPES
    if kind == "any" or shape[-1] == shape[-2]
]


@pytest.mark.parametrize("name, shape", STACK_RUNS)
def test_dask_stacks_match_numpy(name, shape):
    """Blockwise over chunked leading axes, each matrix whole: NumPy's values (the same signs
    of singular vectors and eigenvectors), dtypes and shapes, or NumPy's error, computed with
    Dask's threads outside any backend (the tasks need no uarray state)."""
    import dask

    fun, kind = DASK_FUNCTIONS[name]
    rng = numpy.random.default_rng(6)
    a = rng.uniform(-1.0, 1.0, shape) + 2.0 * numpy.eye(*shape[-2:])
    for dtype in (numpy.float64, numpy.float32, numpy.complex128):
        x = (a + 0.5j * a[..., ::-1] if dtype is numpy.complex128 else a).astype(dtype)
        x = _hpd(x) if kind == "hpd" else x
        try:
            want = _on(udiff.numpy_backend, fun, x)
        except (numpy.linalg.LinAlgError, ValueError) as error:  # NumPy's, on empty matrices
            with pytest.raises(type(error)), dask.config.set(scheduler="threads"):
                dask.compute(_on(udiff.dask_backend, fun, x))
            continue
        got = _on(udiff.dask_backend, fun, x)
        wants, gots = (want, got) if isinstance(want, tuple) else ((want,), (got,))
        assert isinstance(got, tuple) == isinstance(want, tuple) and len(gots) == len(wants)
        assert not isinstance(want, tuple) or type(got) is type(want)  # SVDResult, QRResult...
        with dask.config.set(scheduler="threads"):
            values = dask.compute(*gots)
        for g, value, w in zip(gots, values, map(numpy.asarray, wants)):
            assert g.dtype == w.dtype and g.shape == w.shape, (dtype, g.dtype, g.shape, w.shape)
            assert value.dtype == w.dtype and value.shape == w.shape
            tol = 1e-5 if dtype is numpy.float32 else 1e-10
            numpy.testing.assert_allclose(value, w, rtol=tol, atol=tol)


def test_dask_lstsq_matches_numpy():
    """lstsq on Dask: NumPy's four results; the residuals are empty unless ``a`` is tall and of
    full rank, known only once computed (their length is NaN before)."""
    rng = numpy.random.default_rng(8)
    for a, b in [(rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, 4)),
                 (rng.uniform(-1, 1, (4, 2)), rng.uniform(-1, 1, (4, 3))),
                 (rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, 2)),
                 (numpy.ones((4, 3)), numpy.ones(4)), (numpy.ones((4, 3), numpy.float32),
                                                       numpy.ones((4, 2), numpy.float32))]:
        want = numpy.linalg.lstsq(a, b)
        with ua.set_backend(udiff.dask_backend, coerce=True):
            got = la.lstsq(chunked(a, udiff.dask_backend), chunked(b, udiff.dask_backend))
        for g, w in zip(got, map(numpy.asarray, want)):
            value = compute(g)
            assert g.dtype == w.dtype and value.dtype == w.dtype and value.shape == w.shape
            numpy.testing.assert_allclose(value, w, rtol=1e-5, atol=1e-6)


def test_dask_array_tolerances_raise():
    """An array tolerance would meet one block's stack only: the error names it."""
    a = chunked(numpy.ones((2, 3, 3)), udiff.dask_backend)
    with ua.set_backend(udiff.dask_backend, coerce=True):
        with pytest.raises(NotImplementedError, match="linalg.pinv with an array rcond.*dask"):
            la.pinv(a, rcond=numpy.ones(2))
        with pytest.raises(NotImplementedError, match="linalg.matrix_rank with an array tol"):
            la.matrix_rank(a, tol=numpy.ones(2))


SINGLE = [
    ("norm_inf", lambda a: la.norm(a[0], numpy.inf)),
    ("norm_-inf", lambda a: la.norm(a[0], -numpy.inf)),
    ("norm_1", lambda a: la.norm(a, 1)), ("norm_inf_mat", lambda a: la.norm(a, numpy.inf)),
    ("norm_2", lambda a: la.norm(a, 2)), ("norm_nuc", lambda a: la.norm(a, "nuc")),
    ("norm_3", lambda a: la.norm(a[0], 3)), ("det", la.det),
    ("slogdet", lambda a: la.slogdet(a)[1]),
    ("inv", la.inv), ("solve", lambda a: la.solve(a, a[0])), ("pinv", la.pinv),
    ("cholesky", lambda a: la.cholesky(sym(a))), ("eigh", lambda a: la.eigh(sym(a))[1] ** 2),
    ("eigvalsh", lambda a: la.eigvalsh(sym(a))), ("svd", lambda a: la.svd(a)[0] ** 2),
    ("qr", lambda a: la.qr(a)[1]), ("cond", la.cond),
    ("matrix_power", lambda a: la.matrix_power(a, -2)),
    ("eigvals", la.eigvals), ("eig", lambda a: la.eig(a)[1] ** 2),
]


@pytest.mark.parametrize("fun", [f for _, f in SINGLE], ids=[n for n, _ in SINGLE])
@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_single_precision_derivatives(fun, mode):
    """A float32 variable gets a float32 gradient (and float32 tangents), to order 2."""
    a = spd(3, 3)(numpy.random.default_rng(7)).astype(numpy.float32)
    with ua.set_backend(udiff.DiffArrayBackend(mode=mode), coerce=True):
        x = np.asarray(a)
        y = fun(x)
        assert y.dtype == numpy.float32
        seed = x if mode == "jvp" else y
        d = y.to(x, grad_variables=numpy.ones(seed.shape, numpy.float32), create_graph=True)
        assert d.dtype == numpy.float32
        seed = x if mode == "jvp" else d
        dd = d.to(x, grad_variables=numpy.ones(seed.shape, numpy.float32))
        assert dd.dtype == numpy.float32


# -- JAX's numbers --------------------------------------------------------------------------
# Made with jax 0.10.2 (jax_enable_x64) by jax.grad of the expression named in each entry, with
#   A = [[4.0, 1.0, 0.5], [1.2, 3.0, -0.3], [0.4, -0.2, 2.0]]
#   S = [[4.0, 1.0, 0.5], [1.0, 3.0, -0.3], [0.5, -0.3, 2.0]]   (symmetric positive definite)
#   Sing = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]  (rank 2)
#   W = [[0.3, -1.0, 0.2], [0.5, 0.1, -0.7], [1.1, 0.4, 0.9]]
A_ = numpy.array([[4.0, 1.0, 0.5], [1.2, 3.0, -0.3], [0.4, -0.2, 2.0]])
S_ = numpy.array([[4.0, 1.0, 0.5], [1.0, 3.0, -0.3], [0.5, -0.3, 2.0]])
SING = numpy.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
W_ = numpy.array([[0.3, -1.0, 0.2], [0.5, 0.1, -0.7], [1.1, 0.4, 0.9]])
JAX = [
    ("det(A)", la.det, A_, [[5.94, -2.52, -1.44], [-2.1, 7.8, 1.2], [-1.8, 1.8, 10.8]]),
    ("det(Sing)", la.det, SING, [[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]]),
    ("det(zeros)", la.det, numpy.zeros((3, 3)), numpy.zeros((3, 3))),
    ("sum(grad(det)(Sing) * W)", lambda a: np.sum(udiff.grad(la.det)(a) * W_), SING,
     [[1.3, 3.6, -3.7], [0.4, -2.3, 0.8], [-8.5, 0.8, 2.3]]),
    ("slogdet(A)[1]", lambda a: la.slogdet(a)[1], A_,
     [[0.2894736842105263, -0.12280701754385964, -0.07017543859649122],
      [-0.1023391812865497, 0.38011695906432746, 0.05847953216374269],
      [-0.08771929824561403, 0.08771929824561402, 0.5263157894736842]]),
    ("sum(cholesky(S) * W)", lambda a: np.sum(la.cholesky(a) * W_), S_,
     [[0.02876940968588862, 0.08940897006911523, 0.19102678237466048],
      [0.08940897006911523, 0.05664586708997033, 0.17143650526713738],
      [0.19102678237466048, 0.17143650526713738, 0.32891273046844194]]),
    ("sum(eigvalsh(S) * [1, 2, 3])", lambda a: np.sum(la.eigvalsh(a) * numpy.arange(1.0, 4.0)),
     S_, [[2.6085081646650377, 0.5883930326956706, 0.38534320808402434],
          [0.5883930326956706, 2.0590882001600117, -0.30915206123170785],
          [0.38534320808402434, -0.30915206123170785, 1.3324036351749529]]),
    ("sum(eigvalsh(I) * [1, 2, 3]) (repeated eigenvalues)",
     lambda a: np.sum(la.eigvalsh(a) * numpy.arange(1.0, 4.0)), numpy.eye(3),
     numpy.diag([1.0, 2.0, 3.0])),
    ("sum(eigh(S)[1] ** 2 * W)", lambda a: np.sum(la.eigh(a)[1] ** 2 * W_), S_,
     [[0.28852096183652515, -0.19170212471743792, 0.13330065796270874],
      [-0.19170212471743792, -0.30145473972813464, 0.04247265412124843],
      [0.13330065796270874, 0.04247265412124843, 0.01293377789160945]]),
    ("cond(A)", la.cond, A_,
     [[0.19922537427330894, 0.5554126068853459, 0.5523932557206971],
      [0.552902236758529, -0.18593348658906492, -0.5721703347545029],
      [0.5685704656371734, -0.6357806305326155, -1.1302141844848577]]),
    ("cond(A, 1)", lambda a: la.cond(a, 1), A_,
     [[0.4647583871960603, 0.23699599876885194, 1.421975992613112],
      [0.967477172463322, -0.2657227864984097, -1.5943367189904585],
      [1.046475838719606, -0.3447214527546937, -2.0683287165281623]]),
    ("cond(A, -2)", lambda a: la.cond(a, -2), A_,
     [[-0.02446303778407891, -0.06819954354484198, -0.06782879508022682],
      [-0.06789129325549834, 0.02283091661564117, 0.07025723790999905],
      [-0.06981520719701288, 0.07806799532356853, 0.13877987379873208]]),
]


@pytest.mark.parametrize("expr, fun, x, expected", JAX, ids=[e[0] for e in JAX])
def test_matches_jax(expr, fun, x, expected):
    numpy.testing.assert_allclose(udiff.grad(fun)(x), numpy.asarray(expected), rtol=1e-10,
                                  atol=1e-12)


def test_symmetric_input_conventions():
    """cholesky/eigh/eigvalsh gradients are symmetric, as JAX's, autograd's and PyTorch's."""
    for fun in (lambda a: np.sum(la.cholesky(a) * W_), lambda a: np.sum(la.eigh(a)[1] ** 2 * W_),
                lambda a: np.sum(la.eigvalsh(a, UPLO="U") * numpy.arange(1.0, 4.0))):
        g = udiff.grad(fun)(S_)
        numpy.testing.assert_allclose(g, g.T, rtol=1e-12)


@pytest.mark.parametrize("name, fun", [
    ("eigvalsh", lambda m, a: m.sum(m.linalg.eigvalsh(a) * numpy.array([1.0, 2.0, 3.0]))),
    ("eigvalsh_U", lambda m, a: m.sum(m.linalg.eigvalsh(a, UPLO="U") * numpy.array([1.0, 2.0, 3.0]))),
    ("eigh", lambda m, a: m.sum(m.linalg.eigh(a)[1] ** 2 * W_)),
    ("cholesky", lambda m, a: m.sum(m.linalg.cholesky(a) * W_)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_symmetric_gradient_is_the_symmetric_part_of_the_one_sided_derivative(name, fun):
    """On a non-symmetric input NumPy reads one triangle; udiff's gradient is (G + G^T) / 2 of
    the one-sided derivative G of the function NumPy computes (docs/conventions.md)."""
    a = S_ + numpy.triu(numpy.full((3, 3), 0.3), 1)  # the upper triangle differs from the lower
    eps, one_sided = 1e-6, numpy.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            e = numpy.zeros((3, 3))
            e[i, j] = eps
            one_sided[i, j] = (fun(numpy, a + e) - fun(numpy, a - e)) / (2 * eps)
    numpy.testing.assert_allclose(udiff.grad(lambda a: fun(np, a))(a),
                                  (one_sided + one_sided.T) / 2, rtol=1e-6, atol=1e-8)


# -- eig, eigvals: JAX's numbers, dtypes, Dask ----------------------------------------------
# Made with jax 0.10.2 (jax_enable_x64) by jax.grad, with jax.lax.linalg.eig(a,
# compute_left_eigenvectors=False, enable_eigvec_derivs=True) for the eigenvectors (vecs(a)):
#   A_EIG = [[1.0, 2.0, 0.5], [-1.5, 0.3, 1.0], [0.2, -0.7, 2.0]]  (eigenvalues 0.61 +- 1.89i, 2.07)
#   C_EIG = A_EIG + 1j * [[0.3, -0.2, 0.1], [0.5, 0.4, -0.6], [-0.1, 0.2, 0.7]]
#   "vals": sum(real(eigvals(a)) * [1, 2, 3] + imag(eigvals(a)) * [0.5, -1, 0.25])
#   "vecs": sum(real(vecs(a)) * W + imag(vecs(a)) * W2)
#   "abs2": sum(abs(vecs(a)) ** 2 * W)
#   "hess": grad of sum(grad(a -> sum(real(eigvals(a)) * [1, 2, 3]))(a) * W)
A_EIG = numpy.array([[1.0, 2.0, 0.5], [-1.5, 0.3, 1.0], [0.2, -0.7, 2.0]])
C_EIG = A_EIG + 1j * numpy.array([[0.3, -0.2, 0.1], [0.5, 0.4, -0.6], [-0.1, 0.2, 0.7]])
W2_ = numpy.array([[0.7, 0.2, -0.4], [-0.3, 0.8, 0.6], [0.1, -0.5, 0.3]])
_K1, _K2 = numpy.array([1.0, 2.0, 3.0]), numpy.array([0.5, -1.0, 0.25])
EIG_FUNCTIONS = {
    "vals": lambda a: np.sum(np.real(la.eigvals(a)) * _K1 + np.imag(la.eigvals(a)) * _K2),
    "vecs": lambda a: np.sum(np.real(la.eig(a)[1]) * W_ + np.imag(la.eig(a)[1]) * W2_),
    "abs2": lambda a: np.sum(np.abs(la.eig(a)[1]) ** 2 * W_),
    "hess": lambda a: np.sum(udiff.grad(lambda b: np.sum(np.real(la.eigvals(b)) * _K1))(a) * W_),
}
JAX_EIG = [
    ("vals", A_EIG, [[1.648400913490492, 0.6283311461247992, 0.43237167302722],
                     [-0.8681365767454494, 1.6161445275813078, 0.14991390556512119],
                     [0.8532163182251713, -0.279223540619567, 2.735454558928201]]),
    ("vals", C_EIG, [[1.7345437908609898 + 0.014352128700228284j,
                      -0.5663191783734828 + 0.4149263347926025j,
                      0.26702544925737687 - 0.2578023809475565j],
                     [0.7873386440980893 - 0.3852842851827955j,
                      1.3503057956881654 + 0.3076016133182758j,
                      -0.3575328202302104 + 0.160410816504191j],
                     [0.653378566185699 - 0.3267001674640416j,
                      0.4163798028445697 - 0.4573339894810591j,
                      2.9151504134508444 - 0.07195374201850419j]]),
    ("vecs", A_EIG, [[-0.14396182703407978, 0.07583276953019971, 0.17745494880374743],
                     [-0.09558404487790825, 0.07117179385172348, -0.2183370418854968],
                     [-0.42857413927207455, 0.146695697893391, 0.07279003318235625]]),
    ("vecs", C_EIG, [[-0.03335730412669381 + 0.21269330358378463j,
                      -0.011420760384826194 + 0.1393082093105269j,
                      0.13822986265958237 + 0.12881514514678807j],
                     [-0.35160119031938364 + 0.016303143810131017j,
                      0.13279970258147406 - 0.15541990896868144j,
                      -0.0824017043823265 - 0.104517680588471j],
                     [-0.04408917720715519 + 0.040883693934049864j,
                      0.31210588278384493 + 0.29118506615272977j,
                      -0.0994423984547802 - 0.05727339461510323j]]),
    ("abs2", A_EIG, [[-0.0062645515045758465, -0.20441428676227005, -0.12853944751188925],
                     [-0.29609537657603047, -0.007420383960900147, -0.17021277488322129],
                     [0.1982863204981031, -0.20090219851704824, 0.013684935465476016]]),
    ("abs2", C_EIG, [[0.002372210190675128 + 0.10242446155592463j,
                      -0.20822101801151258 + 0.02428954899958477j,
                      -0.10038547346071106 - 0.12261130954017165j],
                     [-0.2803210166127178 - 0.09116100912590809j,
                      0.020290459146989626 - 0.09058996359546259j,
                      -0.1630095668474729 - 0.09213491885231176j],
                     [0.17837607592003724 + 0.2006785084740802j,
                      -0.256502528078755 + 0.05238709906720869j,
                      -0.022662669337664754 - 0.011834497960462162j]]),
    ("hess", A_EIG, [[0.000991473994292419, 0.03823831823233466, 0.2518350531015656],
                     [0.3000136479870029, 0.023946830476663142, 0.44690655888363084],
                     [-0.5287424695221501, 0.07404381458504175, -0.02493830447095556]]),
]


@pytest.mark.parametrize("name, x, expected", JAX_EIG,
                         ids=[f"{n}-{'complex' if x.dtype.kind == 'c' else 'real'}"
                              for n, x, _ in JAX_EIG])
def test_eig_matches_jax(name, x, expected):
    """JAX's eig derivatives: the eigenvalues, and the eigenvectors in LAPACK's gauge (unit
    2-norm, largest-magnitude component real), for real input with complex results (the real
    part of the pull-back) and for complex input; the Hessian of the eigenvalues."""
    got = udiff.grad(EIG_FUNCTIONS[name])(x)
    assert got.dtype == x.dtype
    numpy.testing.assert_allclose(got, numpy.asarray(expected), rtol=1e-9, atol=1e-12)


def test_eig_dtypes_are_numpys(inner):
    """Real eigenvalues of a real matrix: NumPy's real results (Dask's are complex), complex
    ones complex; tangents have the value's dtype, gradients the variable's (float32 in, float32
    out)."""
    for eigen, kind in (("real", "f"), ("pair", "c")):
        for dtype in (numpy.float64, numpy.float32):
            a = general(3, 3, eigen=eigen)(numpy.random.default_rng(9)).astype(dtype)
            want = numpy.linalg.eigvals(a).dtype
            assert want.kind == kind
            if inner is udiff.dask_backend:
                want = numpy.result_type(want, numpy.complex64)
            with ua.set_backend(udiff.DiffArrayBackend(inner, "jvp"), coerce=True):
                x = np.asarray(chunked(a, inner))
                y = la.eigvals(x)
                t = y.to(x, grad_variables=numpy.ones((3, 3), dtype))
            assert y.dtype == t.dtype == want
            g = udiff.grad(lambda b: np.sum(np.real(la.eig(b)[1]) ** 2), inner=inner)(
                chunked(a, inner))
            assert g.dtype == dtype


def test_dask_eig_is_complex():
    """Dask's eig/eigvals are NumPy's values, always complex (the dtype of a lazy result cannot
    depend on the values), blockwise over chunked stacks; computed outside any backend."""
    import dask

    rng = numpy.random.default_rng(10)
    for shape in [(3, 3), (4, 3, 3), (2, 3, 2, 2), (0, 3, 3), (1, 1)]:
        for dtype, cdtype in [(numpy.float64, numpy.complex128), (numpy.float32, numpy.complex64),
                              (numpy.complex128, numpy.complex128)]:
            a = rng.uniform(-1.0, 1.0, shape).astype(dtype)
            with ua.set_backend(udiff.dask_backend, coerce=True):
                got = la.eig(chunked(a, udiff.dask_backend))
                vals = la.eigvals(chunked(a, udiff.dask_backend))
            want = numpy.linalg.eig(a)
            assert type(got) is type(want)
            with dask.config.set(scheduler="threads"):
                computed = dask.compute(*got, vals)
            for g, value, w in zip((*got, vals), computed, (*want, want[0])):
                assert g.dtype == value.dtype == cdtype and value.shape == w.shape
                tol = 1e-5 if dtype is numpy.float32 else 1e-10
                numpy.testing.assert_allclose(value, w, rtol=tol, atol=tol)


# -- NumPy's errors for the array-API spellings and the tensor functions ------------------------
ERRORS = [
    ("outer of a matrix", lambda m: m.linalg.outer(numpy.ones((2, 2)), numpy.ones(2))),
    ("cross of 2-vectors", lambda m: m.linalg.cross(numpy.ones((3, 2)), numpy.ones(2))),
    ("matrix_transpose of a vector", lambda m: m.linalg.matrix_transpose(numpy.ones(3))),
    ("tensorinv with ind=0", lambda m: m.linalg.tensorinv(numpy.ones((2, 2)), 0)),
    ("tensorsolve of a non-square a", lambda m: m.linalg.tensorsolve(numpy.ones((2, 3)),
                                                                     numpy.ones(2))),
]


@pytest.mark.parametrize("fun", [f for _, f in ERRORS], ids=[n for n, _ in ERRORS])
def test_errors_are_numpys(fun, inner):
    """The same exception and message as NumPy's (up to runs of spaces), on DiffArrays and on
    the plain inner backend."""
    with pytest.raises(Exception) as want:
        fun(numpy)
    message = r"\s+".join(map(re.escape, str(want.value).split()))
    for backend in (udiff.DiffArrayBackend(inner), inner):
        with ua.set_backend(backend, coerce=True):
            with pytest.raises(type(want.value), match=message):
                fun(np)


def test_eig_at_repeated_eigenvalues_is_jaxs():
    """At repeated eigenvalues (not differentiable) udiff returns JAX's numbers: the eigenvalue
    formula's finite value, and NaN for the eigenvectors (it divides by w_j - w_i = 0), never a
    finite guess for them."""
    weights = numpy.array([[1.0, 2.0], [3.0, 4.0]])
    with numpy.errstate(all="ignore"):
        vals = udiff.grad(lambda a: np.sum(np.real(la.eigvals(a)) * _K1[:2]))(numpy.eye(2))
        vecs = udiff.grad(lambda a: np.sum(np.abs(la.eig(a)[1]) ** 2 * weights))(numpy.eye(2))
    numpy.testing.assert_array_equal(vals, [[1.0, 0.0], [0.0, 2.0]])
    assert numpy.isnan(vecs).all()


PLAIN = [  # NumPy 2's spellings and the tensor functions, with NumPy's own arguments
    ("matmul", (real(2, 3, 4), real(4)), {}), ("outer", (real(3), real(2)), {}),
    ("tensordot", (real(2, 3), real(3, 2)), {"axes": 1}),
    ("vecdot", (real(3, 2), real(3, 1)), {"axis": 0}), ("matrix_transpose", (real(2, 3, 4),), {}),
    ("cross", (real(2, 3), real(3)), {}), ("diagonal", (real(2, 3, 4),), {"offset": -1}),
    ("trace", (real(2, 4, 3),), {"offset": 1}),
    ("tensorsolve", (reshaped(well_conditioned(6, 6), 2, 3, 6), real(2, 3)), {}),
    ("tensorinv", (reshaped(well_conditioned(6, 6), 6, 2, 3),), {"ind": 1}),
]


@pytest.mark.parametrize("name, gens, kwargs", PLAIN, ids=[p[0] for p in PLAIN])
def test_plain_inner_backends_match_numpy(name, gens, kwargs, inner):
    """On a plain inner backend (NumPy's own function, Dask's default written with udiff's),
    NumPy's values, shapes and dtypes."""
    rng = numpy.random.default_rng(11)
    args = [gen(rng) for gen in gens]
    want = getattr(numpy.linalg, name)(*args, **kwargs)
    with ua.set_backend(inner, coerce=True):
        got = getattr(la, name)(*(chunked(a, inner) for a in args), **kwargs)
    value = compute(got)
    assert value.dtype == want.dtype and value.shape == want.shape
    numpy.testing.assert_allclose(value, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["grad", "jacfwd"])
def test_pinv_refuses_a_cutoff_that_drops_a_nonzero_singular_value(mode):
    """The Golub-Pereyra formula would give wrong numbers there (0.08 off here); a
    dropped zero singular value (rank deficiency) keeps the formula, checked against
    finite differences along directions that keep the rank."""
    rng = numpy.random.default_rng(3)
    u, _ = numpy.linalg.qr(rng.normal(size=(3, 3)))
    v, _ = numpy.linalg.qr(rng.normal(size=(3, 3)))
    a = u @ numpy.diag([3.0, 1.0, 0.2]) @ v.T
    op = udiff.grad if mode == "grad" else udiff.jacfwd
    with pytest.raises(ValueError, match=r"linalg\.pinv.*drops a singular value that is not zero"):
        op(lambda m: np.sum(np.linalg.pinv(m, 0.1)))(a)
    # rcond below 0.2/3: nothing is dropped, and the derivative is the formula's
    g = udiff.grad(lambda m: np.sum(np.linalg.pinv(m, 0.01)))(a)
    eps = 1e-6
    fd = numpy.array([[(numpy.sum(numpy.linalg.pinv(a + eps * e, 0.01))
                        - numpy.sum(numpy.linalg.pinv(a - eps * e, 0.01))) / (2 * eps)
                       for e in numpy.eye(9)[3 * i:3 * i + 3].reshape(3, 3, 3)]
                      for i in range(3)])
    numpy.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
