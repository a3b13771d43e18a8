"""Numerics at the edges (issue 18, "silent wrong numbers"): SciPy's functions far in their tails,
at their poles and outside their domains, on NumPy and on Dask split into several chunks.

* ``stats.t``: ``cdf``/``sf``/``logcdf``/``logsf``/``pdf``/``logpdf`` against SciPy on a grid of
  ``df`` up to 1e8 and ``x`` far into both tails; beyond SciPy (where its ``logcdf`` underflows
  to ``-inf``, and ``logpdf`` at large ``df``) against mpmath (50 digits); derivatives against
  the density, mpmath and finite differences.
* ``rgamma`` at its poles, ``gammainc``/``entr`` where their values are NaN or ``-inf``,
  ``log_ndtr``'s second derivative far in the lower tail, and invalid distribution parameters.

The mpmath values were computed once (mpmath 1.3, ``mp.dps = 50``: ``betainc``, or ``quad`` of
the density where ``betainc`` does not converge) and are written here.
"""
import math

import numpy
import pytest
import scipy.special as sp
import scipy.stats
import uarray as ua

import udiff
import udiff.numpy as np
from udiff.scipy import special as S, stats
from udiff.testing import check_grads

from conftest import chunked, compute

A = numpy.array
MODES = ["vjp", "jvp"]


@pytest.fixture(autouse=True, scope="module")
def _synchronous_dask():
    import dask

    with dask.config.set(scheduler="synchronous"):
        yield


def _derivatives(f, x, inner, mode, order=1):
    """The elementwise derivatives of ``f`` at ``x`` (orders 1..``order``) in ``mode``."""
    backend = udiff.DiffArrayBackend(inner, mode)
    out = []
    with ua.set_backend(backend, coerce=True):
        v = np.asarray(chunked(x, inner))
        y = f(v)
        value = y
        for _ in range(order):
            y = y.to(v, grad_variables=numpy.ones(numpy.shape(x)), create_graph=True)
            out.append(compute(y))
    return compute(value), out


# -- stats.t against SciPy on a grid ----------------------------------------------------------
T_DF = A([1.0, 2.5, 30.0, 200.0, 1e3, 1e4, 1e6, 1e8])[:, None]
T_X = A([-1e3, -60.0, -37.0, -10.0, -3.0, -0.5, 0.5, 3.0, 10.0, 37.0, 60.0, 1e3])
# SciPy's stdtr is right to 5e-14 here; x carries a condition number x**2 into the tails
# (2e-13 at x = 37).  SciPy's t.logpdf is off by up to 2e-12 (log(poch(df/2, 1/2)) at df = 1e4).
T_RTOL = {"cdf": 1e-12, "sf": 1e-12, "logcdf": 1e-12, "logsf": 1e-12, "pdf": 5e-12,
          "logpdf": 5e-12}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("method", list(T_RTOL))
def test_t_matches_scipy_for_every_df(method, inner):
    # Issue 18: t.cdf(-10, 1000) was 0.0 (8.335e-23) and t.logcdf(-10, 1000) -inf (-50.839).
    got = compute(getattr(stats.t, method)(chunked(T_X, inner), chunked(T_DF, inner)))
    want = getattr(scipy.stats.t, method)(T_X, T_DF)
    assert got.shape == want.shape
    if method.startswith("log"):
        exact = numpy.isfinite(want)
        # where SciPy's log underflows to -inf, udiff's is finite, and below log(1e-300)
        assert numpy.isfinite(got).all()
        assert (got[~exact] < -690).all()
    else:
        exact = want != 0
        assert (numpy.abs(got[~exact]) <= 1e-300).all()
    numpy.testing.assert_allclose(got[exact], want[exact], rtol=T_RTOL[method], atol=1e-300)


def test_t_issue_values():
    assert float(stats.t.cdf(-10.0, 1000.0)) == pytest.approx(8.335351479300069e-23, rel=1e-12)
    assert float(stats.t.logcdf(-10.0, 1000.0)) == pytest.approx(-50.83895145446719, rel=1e-14)
    g = udiff.grad(lambda x: stats.t.logcdf(x, 1000.0))(-10.0)
    assert float(g) == pytest.approx(9.179914852285433, rel=1e-12)  # pdf / cdf


# -- beyond SciPy: log tails where the tail underflows, against mpmath ----------------------------
# (df, z, log P(T <= -z), d/dx logcdf at x = -z = pdf / cdf)
T_LOG_TAILS = [
    (3.0, 1e+150, -1036.065568408276, 3e-150),
    (30.0, 1e+150, -10313.242826764483, 3e-149),
    (1000.0, 1000.0, -3458.749957078099, 0.9990019960059999),
    (1000.0, 1000000.0, -10366.00598514536, 0.000999999999000998),
    (1000.0, 1e+150, -341938.25937578845, 1e-147),
    (100000.0, 40.0, -798.2679656412455, 39.394653887196135),
    (100000.0, 1000.0, -119901.3913895943, 90.90918181618187),
    (100000.0, 1000000.0, -805911.4629516314, 0.099999990000101),
    (100000.0, 1e+150, -33963136.797065936, 1e-145),
    (100000000.0, 40.0, -804.6020340845712, 40.02432845745412),
    (100000000.0, 1000.0, -497524.3643780534, 990.099999998),
    (100000000.0, 1000000.0, -460522028.4780547, 99.990001),
    (100000000.0, 1e+150, -33617742367.842346, 1e-142),
    (10000000000000.0, 40.0, -804.6084419496738, 40.02496884080326),
    (10000000000000.0, 1000.0, -500007.8016947638, 1000.00089999791),
    (10000000000000.0, 1000000.0, -476550899036.3111, 909090.9090918181),
    (10000000000000.0, 1e+150, -3304209608446471.5, 1.0000000000000005e-137),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mode", MODES)
def test_t_log_tails_beyond_underflow(mode, inner):
    df, z, log_p, slope = (A(c) for c in zip(*T_LOG_TAILS))
    value, (d,) = _derivatives(lambda x: stats.t.logcdf(x, df), -z, inner, mode)
    numpy.testing.assert_allclose(value, log_p, rtol=1e-14)
    numpy.testing.assert_allclose(d, slope, rtol=1e-12)
    value, (d,) = _derivatives(lambda x: stats.t.logsf(x, df), z, inner, mode)
    numpy.testing.assert_allclose(value, log_p, rtol=1e-14)
    numpy.testing.assert_allclose(d, -slope, rtol=1e-12)


# (df, x, logpdf, d logpdf / d df), mpmath: SciPy's gammaln difference cancels to 1e-10 at 1e6
T_LOGPDF = [
    (10000.0, 0.0, -0.9189635332046311, 2.4999999875000003e-09),
    (10000.0, 1.5, -2.0439494770314512, 1.0950152210497563e-09),
    (10000.0, 10.0, -50.675592964471626, -2.4172827574152936e-05),
    (1000000.0, 0.0, -0.9189387832046727, 2.49999999999875e-13),
    (1000000.0, 1.5, -2.0439386425803057, 1.0937626562095948e-13),
    (1000000.0, 10.0, -50.91648894735901, -2.449421703662717e-09),
    (100000000.0, 0.0, -0.9189385357046728, 2.5e-17),
    (100000000.0, 1.5, -2.0439385342984226, 1.0937501265624959e-17),
    (100000000.0, 10.0, -50.91891403572109, -2.4497467166703666e-13),
]


@pytest.mark.parametrize("mode", MODES)
def test_t_logpdf_at_large_df(mode, inner):
    df, x, want, slope = (A(c) for c in zip(*T_LOGPDF))
    value, (d,) = _derivatives(lambda d: stats.t.logpdf(x, d), df, inner, mode)
    numpy.testing.assert_allclose(value, want, rtol=1e-14)
    numpy.testing.assert_allclose(d, slope, rtol=1e-13)


# -- derivatives of the t cdf family ----------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mode", MODES)
def test_t_cdf_derivatives_are_the_density(mode, inner):
    df = numpy.broadcast_to(T_DF, (T_DF.size, T_X.size))
    x = numpy.broadcast_to(T_X, df.shape).copy()
    pdf = compute(stats.t.pdf(x, df))
    _, (d1, d2) = _derivatives(lambda v: stats.t.cdf(v, df), x, inner, mode, order=2)
    _, (dpdf,) = _derivatives(lambda v: stats.t.pdf(v, df), x, inner, mode)
    numpy.testing.assert_allclose(d1, pdf, rtol=1e-12, atol=1e-300)
    numpy.testing.assert_allclose(d1, scipy.stats.t.pdf(x, df), rtol=5e-12, atol=1e-300)
    numpy.testing.assert_allclose(d2, dpdf, rtol=1e-12, atol=1e-300)
    # d/dx logcdf = pdf / cdf, where SciPy's logs are finite
    _, (d,) = _derivatives(lambda v: stats.t.logcdf(v, df), x, inner, mode)
    want = numpy.exp(scipy.stats.t.logpdf(x, df) - scipy.stats.t.logcdf(x, df))
    finite = numpy.isfinite(want)
    numpy.testing.assert_allclose(d[finite], want[finite], rtol=1e-11)
    assert numpy.isfinite(d).all()


T_FD_POINTS = [(3.0, -40.0), (3.0, 0.0), (1e3, -40.0), (1e3, -5.0), (1e6, -0.3), (1e6, 2.0),
               (1e8, -5.0), (1e13, -5.0), (numpy.inf, -3.0)]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("method", ["cdf", "sf", "logcdf", "logsf", "logpdf"])
def test_t_derivatives_against_finite_differences(method, inner):
    df, x = (A(c) for c in zip(*T_FD_POINTS))
    f = getattr(stats.t, method)
    order = 2 if inner is not udiff.dask_backend else 1  # Dask: second-order graphs are slow
    check_grads(lambda x: f(x, df), (chunked(x, inner),), order=order, inner=inner,
                rtol=1e-6)
    if method == "logpdf":  # and in df, at moderate df (finite differences resolve it there)
        check_grads(lambda d: f(A([0.5, -4.0]), d), (chunked(A([3.0, 40.0]), inner),),
                    order=order, inner=inner)


# -- rgamma at its poles ------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_rgamma_slope_at_its_poles(mode, inner):
    # rgamma(-n + e) = (-1)^n n! e (1 - psi(n + 1) e + ...): slope (-1)^n n!, and
    # second derivative -2 (-1)^n n! psi(n + 1)
    n = numpy.arange(6.0)
    value, (d1, d2) = _derivatives(S.rgamma, -n, inner, mode, order=2)
    sign = (-1.0) ** n
    fact = A([math.factorial(int(k)) for k in n])
    numpy.testing.assert_array_equal(value, 0.0)
    numpy.testing.assert_allclose(d1, sign * fact, rtol=1e-15)  # 1, -1, 2, -6, 24, -120
    numpy.testing.assert_allclose(d2, -2.0 * sign * fact * sp.digamma(n + 1.0), rtol=1e-14)


def test_rgamma_against_finite_differences_at_and_near_poles(inner):
    check_grads(S.rgamma, (chunked(A([0.0, -2.5, 0.5]), inner),), order=2, inner=inner)
    # at the negative poles, to order 1: the finite differences of the first derivative
    # (-rgamma psi, beside the pole) lose 1e-10 to rounding there, 1e-4 once divided by eps
    check_grads(S.rgamma, (chunked(A([-1.0, -2.0, -3.0]), inner),), order=1, inner=inner)


# -- NaN values have NaN derivatives ----------------------------------------------------------------
NAN_VALUES = [  # (name, f, x: NaN value at x[0], finite at x[1])
    ("gammainc_a1", lambda x: S.gammainc(1.0, x), A([-1.0, 0.5])),
    ("gammainc", lambda x: S.gammainc(2.5, x), A([-1.0, 0.5])),
    ("gammaincc_a1", lambda x: S.gammaincc(1.0, x), A([-2.0, 0.5])),
    ("betainc", lambda x: S.betainc(1.0, 2.0, x), A([1.5, 0.5])),
    ("logit", S.logit, A([2.0, 0.5])),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name, f, x", NAN_VALUES, ids=[c[0] for c in NAN_VALUES])
def test_nan_values_have_nan_derivatives(name, f, x, mode, inner):
    # gammainc(1, x) at x < 0 was NaN with derivative e^-x
    value, derivatives = _derivatives(f, x, inner, mode, order=2)
    assert numpy.isnan(value[0]) and numpy.isfinite(value[1])
    for d in derivatives:
        assert numpy.isnan(d[0]) and numpy.isfinite(d[1])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mode", MODES)
def test_entr_below_zero_is_nan_at_every_order(mode, inner):
    # entr is -inf below 0: grad was NaN but grad(grad) 1.0; now NaN at every order
    x = A([-1.0, -1e-3, 0.5, 2.0])
    value, (d1, d2, d3) = _derivatives(S.entr, x, inner, mode, order=3)
    numpy.testing.assert_array_equal(value[:2], -numpy.inf)
    for d in (d1, d2, d3):
        assert numpy.isnan(d[:2]).all()
    numpy.testing.assert_allclose(d1[2:], -(numpy.log(x[2:]) + 1.0))
    numpy.testing.assert_allclose(d2[2:], -1.0 / x[2:])
    numpy.testing.assert_allclose(d3[2:], 1.0 / x[2:] ** 2)


# -- log_ndtr's second derivative far in the lower tail -----------------------------------------
# (x, pdf / cdf, -r (x + r)), mpmath
LOG_NDTR = [
    (-100000.0, 100000.00001, -0.9999999999),
    (-1000.0, 1000.000999998, -0.999999000006),
    (-150.0, 150.00666607420573, -0.9999555674030198),
    (-99.0, 99.01009894993145, -0.9998980320031088),
    (-50.0, 50.019984031905636, -0.999600956813196),
    (-20.0, 20.04975306852785, -0.9975367383849478),
]


@pytest.mark.parametrize("mode", MODES)
def test_log_ndtr_second_derivative_far_in_the_tail(mode, inner):
    # at -1e5 the second derivative was off by 4e-7 (erfcx's derivative cancels); the asymptotic
    # series of the inverse Mills ratio is used below -100
    x, r, d2 = (A(c) for c in zip(*LOG_NDTR))
    _, (g1, g2) = _derivatives(S.log_ndtr, x, inner, mode, order=2)
    numpy.testing.assert_allclose(g1, r, rtol=1e-15)
    numpy.testing.assert_allclose(g2, d2, rtol=2e-12)  # 1.4e-12 at -99 (erfcx's side)
    numpy.testing.assert_allclose(g2[:3], d2[:3], rtol=1e-15)


# -- invalid distribution parameters: NaN, and NaN derivatives -----------------------------------
INVALID = [  # (name, f(module, x, p), x, p): p[0] invalid, p[1] valid
    *[(f"norm.{m} bad scale", lambda s, x, p, m=m: getattr(s.norm, m)(x, 0.0, p),
       A([0.5, 0.5]), A([-1.0, 2.0])) for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")],
    ("norm.logpdf zero scale", lambda s, x, p: s.norm.logpdf(x, 1.0, p), A([0.5, 0.5]),
     A([0.0, 1.0])),
    ("t.logpdf bad df", lambda s, x, p: s.t.logpdf(x, p), A([0.5, 1.0]), A([-1.0, 3.0])),
    ("t.cdf bad scale", lambda s, x, p: s.t.cdf(x, 3.0, 0.0, p), A([0.5, 1.0]), A([-1.0, 3.0])),
    ("gamma.logpdf bad a", lambda s, x, p: s.gamma.logpdf(x, p), A([0.5, 1.0]), A([-1.0, 3.0])),
    ("beta.logsf bad scale", lambda s, x, p: s.beta.logsf(x, 2.0, 3.0, 0.0, p),
     A([0.25, 0.25]), A([-1.0, 1.0])),
    ("poisson.logpmf bad mu", lambda s, k, p: s.poisson.logpmf(k, p), A([2.0, 2.0]),
     A([-1.0, 3.0])),
    ("poisson.cdf bad mu", lambda s, k, p: s.poisson.cdf(k, p), A([2.0, 2.0]), A([-1.0, 3.0])),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name, f, x, p", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_parameters_have_nan_derivatives(name, f, x, p, mode, inner):
    # norm.logpdf(x, 0, -1) was NaN with derivative 0 in scale
    backend = udiff.DiffArrayBackend(inner, mode)
    xs, ps = (udiff.DiffArray(chunked(a, inner), backend) for a in (x, p))
    with ua.set_backend(backend, coerce=True):
        y = f(stats, xs, ps)
        numpy.testing.assert_allclose(compute(y), f(scipy.stats, x, p), rtol=1e-14)
        for v in (ps,) if name.startswith("poisson") else (xs, ps):
            d = y.to(v, grad_variables=numpy.ones(2), create_graph=True)
            d2 = d.to(v, grad_variables=numpy.ones(2))
            for order, g in enumerate((compute(d), compute(d2)), 1):
                assert numpy.isnan(g[0]), f"order {order}: {g}"
                assert numpy.isfinite(g[1]), f"order {order}: {g}"
