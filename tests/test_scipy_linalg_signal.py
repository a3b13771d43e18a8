"""udiff.scipy.linalg and udiff.scipy.signal: values are SciPy's (value, shape, dtype), on
NumPy and on Dask split into several chunks where Dask runs the function; derivatives
pass ``udiff.testing.check_grads`` to second order in both modes (forward over forward,
reverse over forward, forward over reverse, reverse over reverse), on well-conditioned
inputs; elsewhere a clear error names the function and the library.

``test_rules.test_every_rule_has_a_case`` counts ``COVERED_KEYS``.
"""
import doctest
from typing import Callable, NamedTuple

import numpy
import pytest
import scipy.linalg as sl
import scipy.signal as ss

import udiff
from udiff.scipy import linalg as L, signal as S
from udiff.testing import check_grads

from conftest import chunked, compute, rule_keys


# -- inputs ---------------------------------------------------------------------------------
def _rng(seed):
    return numpy.random.default_rng(seed)


def tri(n, lower=False, seed=0, complex_=False):
    """A triangular matrix with a dominant diagonal (well conditioned)."""
    r = _rng(seed)
    a = r.uniform(-1, 1, (n, n)) + (1j * r.uniform(-1, 1, (n, n)) if complex_ else 0)
    return (numpy.tril(a) if lower else numpy.triu(a)) + (n + 1) * numpy.eye(n)


def spd(n, seed=0):
    a = _rng(seed).uniform(-1, 1, (n, n))
    return a @ a.T + n * numpy.eye(n)


def factor(n, lower, seed=0, complex_=False):
    """A Cholesky factor as ``cho_factor`` leaves it: the other triangle holds garbage."""
    c = numpy.linalg.cholesky(spd(n, seed))
    if complex_:
        c = c + 0.3j * numpy.tril(_rng(seed + 1).uniform(-1, 1, (n, n)), -1)
    c = c if lower else c.conj().T
    garbage = _rng(seed + 2).uniform(-1, 1, (n, n))
    return c + (numpy.triu(garbage, 1) if lower else numpy.tril(garbage, -1))


def band(l, u, n, seed=0):
    """``ab`` of a diagonally dominant band matrix."""
    ab = _rng(seed).uniform(-1, 1, (l + u + 1, n))
    ab[u] += l + u + 2
    return ab


def vec(*shape, seed=1, complex_=False):
    r = _rng(seed)
    return r.uniform(-1, 1, shape) + (1j * r.uniform(-1, 1, shape) if complex_ else 0)


class Case(NamedTuple):
    name: str
    fun: Callable  # udiff's
    ref: Callable  # SciPy's
    args: tuple  # NumPy arrays
    dask: bool = False  # the function runs on Dask


def _st(**kw):
    return (lambda a, b: L.solve_triangular(a, b, **kw),
            lambda a, b: sl.solve_triangular(a, b, **kw))


def _cho(lower):
    return (lambda c, b: L.cho_solve((c, lower), b), lambda c, b: sl.cho_solve((c, lower), b))


def _banded(l, u):
    return (lambda ab, b: L.solve_banded((l, u), ab, b),
            lambda ab, b: sl.solve_banded((l, u), ab, b))


def _conv(mode):
    return (lambda x, k: S.convolve(x, k, mode), lambda x, k: ss.convolve(x, k, mode))


CASES = [
    Case("solve_triangular", *_st(), (tri(4), vec(4)), dask=True),
    Case("solve_triangular lower", *_st(lower=True), (tri(4, True), vec(4, 2)), dask=True),
    Case("solve_triangular trans T", *_st(trans="T"), (tri(4), vec(4)), dask=True),
    Case("solve_triangular trans 1 lower", *_st(trans=1, lower=True), (tri(3, True), vec(3, 2)),
         dask=True),
    Case("solve_triangular trans C", *_st(trans="C"), (tri(3), vec(3)), dask=True),
    Case("solve_triangular unit_diagonal", *_st(unit_diagonal=True, lower=True),
         (tri(4, True) * 0.3, vec(4, 2)), dask=True),
    Case("solve_triangular 1x1", *_st(), (numpy.array([[2.0]]), numpy.array([3.0])),
         dask=True),
    Case("solve_triangular complex", *_st(lower=True),
         (tri(3, True, complex_=True), vec(3, complex_=True)), dask=True),
    Case("solve_triangular complex trans C", *_st(trans=2),
         (tri(3, complex_=True), vec(3, 2, complex_=True)), dask=True),
    Case("cho_solve lower", *_cho(True), (factor(4, True), vec(4)), dask=True),
    Case("cho_solve upper", *_cho(False), (factor(4, False), vec(4, 2)), dask=True),
    Case("cho_solve 1x1", *_cho(True), (numpy.array([[1.5]]), numpy.array([[2.0, -1.0]])),
         dask=True),
    Case("cho_solve complex", *_cho(False),
         (factor(3, False, complex_=True), vec(3, complex_=True)), dask=True),
    Case("expm", L.expm, sl.expm, (vec(3, 3) * 0.8,)),
    Case("expm stack", L.expm, sl.expm, (vec(2, 3, 3),)),
    Case("expm 1x1", L.expm, sl.expm, (numpy.array([[0.3]]),)),
    Case("expm complex", L.expm, sl.expm, (vec(3, 3, complex_=True) * 0.8,)),
    Case("sqrtm", L.sqrtm, sl.sqrtm, (spd(3),)),
    Case("sqrtm non-symmetric", L.sqrtm, sl.sqrtm, (spd(3) + 0.5 * vec(3, 3),)),
    Case("sqrtm 1x1", L.sqrtm, sl.sqrtm, (numpy.array([[2.0]]),)),
    Case("solve_sylvester", L.solve_sylvester, sl.solve_sylvester,
         (spd(3), spd(2, 1), vec(3, 2))),
    Case("solve_sylvester 1x1", L.solve_sylvester, sl.solve_sylvester,
         (numpy.array([[2.0]]), numpy.array([[1.0]]), numpy.array([[3.0]]))),
    Case("solve_sylvester complex", L.solve_sylvester, sl.solve_sylvester,
         (spd(3) + 0.3j * vec(3, 3), spd(2, 1), vec(3, 2, complex_=True))),
    Case("solve_banded", *_banded(1, 1), (band(1, 1, 5), vec(5))),
    Case("solve_banded lower only", *_banded(2, 0), (band(2, 0, 4), vec(4, 2))),
    Case("solve_banded upper", *_banded(1, 2), (band(1, 2, 5), vec(5, 2))),
    Case("solve_banded 1x1", *_banded(0, 0), (numpy.array([[2.0]]), numpy.array([3.0]))),
    Case("convolve full", *_conv("full"), (vec(5), vec(3, seed=2)), dask=True),
    Case("convolve valid", *_conv("valid"), (vec(5), vec(3, seed=2)), dask=True),
    Case("convolve valid in2 larger", *_conv("valid"), (vec(3), vec(5, seed=2)), dask=True),
    Case("convolve same", *_conv("same"), (vec(5), vec(4, seed=2)), dask=True),
    Case("convolve same in2 larger", *_conv("same"), (vec(3), vec(4, seed=2)), dask=True),
    Case("convolve 2d full", *_conv("full"), (vec(3, 4), vec(2, 2, seed=2)), dask=True),
    Case("convolve 2d valid", *_conv("valid"), (vec(4, 4), vec(2, 3, seed=2)), dask=True),
    Case("convolve 2d same", *_conv("same"), (vec(3, 4), vec(2, 3, seed=2)), dask=True),
    Case("convolve 3d same", *_conv("same"), (vec(2, 3, 2), vec(2, 2, 1, seed=2)), dask=True),
    Case("convolve size 1", *_conv("same"), (vec(1), vec(1, seed=2)), dask=True),
    Case("convolve 0-d", *_conv("full"), (numpy.array(2.0), numpy.array(-3.0)), dask=True),
    Case("convolve complex", *_conv("same"), (vec(4, complex_=True), vec(3, seed=2)),
         dask=True),
]
IDS = [c.name for c in CASES]
DASK_CASES = [c for c in CASES if c.dask]
# Second-order checks on Dask for one case of each way a function runs there (the
# others to first order: Dask's graphs make each check slower).
DASK_ORDER_2 = {"solve_triangular", "solve_triangular trans C", "cho_solve upper",
                "convolve same"}
NOT_ON_DASK = {"expm": (vec(3, 3),), "sqrtm": (spd(3),),
               "solve_sylvester": (spd(3), spd(2), vec(3, 2)),
               "solve_banded": ((1, 1), band(1, 1, 4), vec(4))}

COVERED_KEYS = {k for c in CASES for k in rule_keys(c.fun, c.args)}


# -- values ---------------------------------------------------------------------------------
def _same(got, want, where=""):
    got = compute(got)
    assert got.shape == want.shape, f"{where}: shape {got.shape}, SciPy {want.shape}"
    assert got.dtype == want.dtype, f"{where}: dtype {got.dtype}, SciPy {want.dtype}"
    numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=where)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_values_are_scipys_on_numpy(case):
    _same(case.fun(*case.args), numpy.asarray(case.ref(*case.args)), case.name)


@pytest.mark.parametrize("case", DASK_CASES, ids=[c.name for c in DASK_CASES])
def test_values_are_scipys_on_dask(case):
    import dask.array as da

    out = case.fun(*(chunked(a, udiff.dask_backend) for a in case.args))
    assert isinstance(out, da.Array), "the result is lazy"
    _same(out, numpy.asarray(case.ref(*case.args)), case.name)


@pytest.mark.parametrize("name", ["solve_triangular", "cho_solve lower", "expm", "sqrtm",
                                  "solve_sylvester", "solve_banded", "convolve same"])
def test_float32_values_and_derivatives_stay_float32(name):
    case = next(c for c in CASES if c.name == name)
    args = tuple(a.astype(numpy.float32) for a in case.args)
    want = numpy.asarray(case.ref(*args))
    got = case.fun(*args)
    assert got.dtype == want.dtype == numpy.float32
    numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    grads = udiff.grad(lambda *xs: case.fun(*xs).sum(), argnums=tuple(range(len(args))))(*args)
    assert all(g.dtype == numpy.float32 for g in grads), [g.dtype for g in grads]


# -- derivatives ----------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_derivatives_to_second_order(case):
    check_grads(case.fun, case.args, order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("case", DASK_CASES, ids=[c.name for c in DASK_CASES])
def test_derivatives_on_dask(case):
    args = [chunked(a, udiff.dask_backend) for a in case.args]
    order = 2 if case.name in DASK_ORDER_2 else 1
    check_grads(case.fun, args, order=order, modes=("fwd", "rev"), inner=udiff.dask_backend)


REAL_CASES = [c for c in CASES if all(numpy.isrealobj(a) for a in c.args)]


@pytest.mark.parametrize("case", REAL_CASES, ids=[c.name for c in REAL_CASES])
def test_jacobians_agree_in_both_modes(case):
    # Jacobians push a stack of seeds through one sweep: the rules see leading batch axes.
    # (Real inputs: a function that is not holomorphic has no complex Jacobian.)
    argnums = tuple(range(len(case.args)))
    rev = udiff.jacobian(case.fun, argnums=argnums, mode="rev")(*case.args)
    fwd = udiff.jacobian(case.fun, argnums=argnums, mode="fwd")(*case.args)
    for r, f in zip(rev, fwd):
        numpy.testing.assert_allclose(r, f, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular_gradient_is_zero_where_a_is_not_read(lower, unit):
    a = tri(4, lower) + (numpy.triu if lower else numpy.tril)(vec(4, 4, seed=5), 1 if lower else -1)
    g = udiff.grad(lambda a: L.solve_triangular(a, vec(4), lower=lower,
                                                unit_diagonal=unit).sum())(a)
    unread = ~numpy.tril(numpy.ones((4, 4), bool), -1 if unit else 0)
    unread = unread if lower else unread.T
    assert numpy.all(g[unread] == 0) and numpy.all(g[~unread] != 0)


def test_cho_solve_gradient_is_zero_in_the_other_triangle():
    for lower in (True, False):
        g = udiff.grad(lambda c: L.cho_solve((c, lower), vec(4)).sum())(factor(4, lower))
        other = numpy.triu(g, 1) if lower else numpy.tril(g, -1)
        assert numpy.all(other == 0)


def test_solve_banded_gradient_is_zero_on_the_corners_outside_the_matrix():
    g = udiff.grad(lambda ab: L.solve_banded((2, 1), ab, vec(5)).sum())(band(2, 1, 5))
    assert g[0, 0] == 0 and g[2, -1] == g[3, -1] == g[3, -2] == 0
    assert numpy.count_nonzero(g) == g.size - 4


def test_expm_derivative_is_scipys_frechet_derivative():
    a, e = vec(3, 3) * 0.8, vec(3, 3, seed=4)
    _, tangent = udiff.jvp(L.expm, (a,), (e,))
    numpy.testing.assert_allclose(tangent, sl.expm_frechet(a, e, compute_expm=False),
                                  rtol=1e-10)
    # and the VJP is its transpose: <G, L(A, E)> = <L(A^T, G), E>
    g = vec(3, 3, seed=6)
    _, pullback = udiff.vjp(L.expm, a)
    numpy.testing.assert_allclose(numpy.sum(pullback(g)[0] * e), numpy.sum(g * tangent),
                                  rtol=1e-10)


def test_vjp_of_convolve_is_a_correlation_with_the_flipped_kernel():
    x, k = vec(6), vec(3, seed=2)
    g = vec(4, seed=3)
    _, pullback = udiff.vjp(lambda x: S.convolve(x, k, "valid"), x)
    numpy.testing.assert_allclose(pullback(g)[0], ss.correlate(g, k, "full"), rtol=1e-12)


# -- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(NOT_ON_DASK))
def test_functions_dask_cannot_run_name_themselves_and_dask(name):
    args = [chunked(a, udiff.dask_backend) if hasattr(a, "shape") else a
            for a in NOT_ON_DASK[name]]
    with pytest.raises(NotImplementedError, match=rf"scipy\.linalg\.{name}.*dask"):
        getattr(L, name)(*args)
    with pytest.raises(NotImplementedError, match=rf"scipy\.linalg\.{name}.*dask"):
        udiff.grad(lambda *xs: getattr(L, name)(*xs).sum(),
                   argnums=1 if name == "solve_banded" else 0,
                   inner=udiff.dask_backend)(*args)


def test_derivatives_of_stacked_triangular_solves_name_the_function():
    a = numpy.stack([tri(3), tri(3, seed=1)])
    b = vec(2, 3, 1)
    _same(L.solve_triangular(a, b), sl.solve_triangular(a, b))  # the values run
    with pytest.raises(NotImplementedError, match="solve_triangular for one matrix"):
        udiff.grad(lambda a: L.solve_triangular(a, b).sum())(a)


def test_bad_trans_is_a_value_error():
    with pytest.raises(ValueError, match="trans"):
        udiff.grad(lambda a: L.solve_triangular(a, vec(3), trans="X").sum())(tri(3))


# -- vmap and the namespace ----------------------------------------------------------------
def test_vmap_of_grad_batches_without_looping():
    import warnings

    a = numpy.stack([tri(3), tri(3, seed=1), tri(3, seed=2)])
    b = vec(3, 3)
    per_example = udiff.vmap(udiff.grad(lambda a, b: L.solve_triangular(a, b).sum()))
    with warnings.catch_warnings():
        warnings.simplefilter("error", udiff.BatchingFallbackWarning)
        got = per_example(a, b)
    want = numpy.stack([udiff.grad(lambda a: L.solve_triangular(a, y).sum())(x)
                        for x, y in zip(a, b)])
    numpy.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("module", [L, S], ids=["linalg", "signal"])
def test_every_function_has_a_docstring_whose_examples_run(module):
    for name in module.__all__:
        func = getattr(module, name)
        doc = func.__doc__ or ""
        for section in ("Parameters", "Returns", "Examples"):
            assert section in doc, f"{name} has no {section} section"
        test = doctest.DocTestParser().get_doctest(doc, {}, name, None, 0)
        runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
        runner.run(test)
        assert runner.failures == 0 and runner.tries > 0, name
        assert func.__module__ == module.__name__
