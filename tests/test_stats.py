"""``udiff.scipy.stats``: SciPy's values, derivatives checked against finite differences.

Three tables drive the tests, each run on NumPy and on Dask split into
several chunks per axis:

* ``VALUES``: a method at a point (inside and outside the support, at its
  edges, with invalid parameters, NaN and infinities, 0-d, broadcast and
  size-0 arguments, float32 and integer inputs) must give SciPy's value,
  shape and dtype;
* ``CASES`` (:class:`test_rules.Case`): every method, differentiated with
  respect to the variable and every parameter that has a closed-form
  derivative, through :func:`udiff.testing.check_grads` in both modes to order
  2;
* ``NO_CLOSED_FORM``: the shape parameters of the ``cdf`` family, whose
  derivative must raise the error of ``gammainc``/``betainc``.
"""
import numpy
import pytest
import scipy.stats
import uarray as ua

import udiff
import udiff.numpy as np
from udiff.scipy import stats
from udiff.testing import check_grads

from conftest import INNERS, chunked, compute
from test_rules import Case, const, pos, real


def frac(*shape):
    """In (0.1, 0.9): beta's variable."""
    return lambda rng: rng.uniform(0.1, 0.9, shape)


def below(*shape):
    """In (-0.4, -0.05): a loc that keeps pos() inside a support [0, ...)."""
    return lambda rng: rng.uniform(-0.4, -0.05, shape)


def spd(n):
    def gen(rng):
        a = rng.uniform(-1.0, 1.0, (n, n))
        return a @ a.T + n * numpy.eye(n)

    return gen


def sym(a):
    return 0.5 * (a + np.swapaxes(a, -1, -2))


# -- values: SciPy's ------------------------------------------------------------------------------
A = numpy.array
X = A([[-3.0, -0.5], [0.0, 0.25], [1.0, 4.0]])          # (3, 2): negative, zero, inside
U = A([-0.5, 0.0, 0.3, 1.0, 1.5])                       # around beta's support [0, 1]
SPECIAL = A([numpy.nan, numpy.inf, -numpy.inf, 0.0, 2.0])
K = A([-1.0, 0.0, 1.0, 2.5, 3.0, 7.0, numpy.inf, numpy.nan])
CONTINUOUS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
DISCRETE = ("logpmf", "pmf", "cdf", "logcdf", "sf", "logsf")

VALUES = []  # (id, distribution name, method, args, kwargs)


def values(name, methods, *args, dask=False, **kwargs):
    """Rows checked on NumPy; on Dask too with ``dask=True`` (the suite's time is short)."""
    for method in methods:
        VALUES.append((f"{name}.{method}-{len(VALUES)}", name, method, args, kwargs, dask))


values("norm", CONTINUOUS, X)
values("norm", CONTINUOUS, X, A([0.5, -1.0]), A([[2.0], [0.5], [1.0]]), dask=True)
values("norm", CONTINUOUS, SPECIAL, 0.0, A([1.0, 1.0, 1.0, -1.0, 0.0]), dask=True)  # bad scale
values("norm", CONTINUOUS, A(40.0), loc=1.0)                             # 0-d, far tail
values("norm", ("logpdf", "cdf"), X.astype(numpy.float32), numpy.float32(0.5))
values("norm", ("logpdf", "sf"), numpy.arange(3), scale=2)               # integers
values("norm", ("logpdf", "cdf"), numpy.zeros((0, 2)), A([1.0, 2.0]))   # size 0
values("t", CONTINUOUS, X, A([0.7, 3.0]))
values("t", CONTINUOUS, X, A([[1.0], [25.0], [numpy.inf]]), 0.5, 2.0, dask=True)
values("t", CONTINUOUS, SPECIAL, A([-1.0, 2.0, 2.0, 0.0, numpy.nan]))
values("t", ("cdf", "sf", "logcdf"), A([-30.0, -1e-3, 1e-3, 0.1, 8.0]), 4.5)
values("gamma", CONTINUOUS, X, A([0.5, 1.0]))
values("gamma", CONTINUOUS, X, A([[3.0], [1.0], [0.8]]), -1.0, 0.5, dask=True)
values("gamma", CONTINUOUS, SPECIAL, A([1.0, 2.0, 2.0, -1.0, 0.5]))
values("gamma", ("logpdf", "cdf"), A(0.0), A([0.5, 1.0, 2.0]))           # the edge
values("beta", CONTINUOUS, U, A([[0.5], [2.0]]), A([1.0, 1.0, 3.0, 0.7, 2.0]), dask=True)
values("beta", CONTINUOUS, A([0.0, 1.0]), A([[0.5], [1.0], [2.0]]), A([[1.0], [2.0], [0.5]]))
values("beta", CONTINUOUS, X, 2.0, 3.0, -4.0, 9.0)
values("beta", CONTINUOUS, U, A([-1.0, 1.0, 2.0, 2.0, 0.0]), 2.0)
values("chi2", CONTINUOUS, X, A([1.0, 4.0]))
values("chi2", CONTINUOUS, X, A([[2.0], [7.5], [0.3]]), 1.0, 3.0, dask=True)
values("chi2", CONTINUOUS, SPECIAL, A([3.0, 3.0, 3.0, 2.0, -2.0]))
values("poisson", DISCRETE, K, 3.5)
values("poisson", DISCRETE, K[:6, None], A([0.0, 1.0, 4.0, -1.0]), dask=True)  # mu <= 0
values("poisson", DISCRETE, numpy.arange(6), A([[0.5], [20.0]]), 1)     # loc
values("poisson", ("logpmf", "cdf"), A(2), 1.5)                         # 0-d


def _run(method, args, kwargs, inner):
    args = [chunked(a, inner) if isinstance(a, numpy.ndarray) else a for a in args]
    return getattr(getattr(stats, method[0]), method[1])(*args, **kwargs)


def _check_same(got, want, what):
    got = compute(got) if not numpy.isscalar(got) else got
    assert numpy.shape(got) == numpy.shape(want), f"{what}: shape {numpy.shape(got)}"
    assert numpy.result_type(got) == numpy.result_type(want), f"{what}: {numpy.result_type(got)}"
    numpy.testing.assert_allclose(got, want, rtol=1e-11, atol=0, err_msg=what)


def runs(items, ids, on_dask):
    """``(item, inner)`` parameters: every item on NumPy (and CuPy), those ``on_dask``
    admits on Dask too.  Each Dask operation costs about 1.5 ms to build, and the whole
    tables on Dask took about 600 s: a case of each kind runs there (the special functions
    the distributions are made of are each checked on Dask in tests/test_special.py)."""
    return [pytest.param(item, inner, id=f"{name}-{inner_id}")
            for item, name in zip(items, ids) for inner_id, inner in INNERS.items()
            if inner is not udiff.dask_backend or on_dask(item)]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case, inner", runs(VALUES, [v[0] for v in VALUES], lambda v: v[-1]))
def test_values_are_scipys(case, inner):
    _, name, method, args, kwargs, dask = case
    want = getattr(getattr(scipy.stats, name), method)(*args, **kwargs)
    got = _run((name, method), args, kwargs, inner)
    _check_same(got, want, f"{name}.{method}")
    if inner is udiff.numpy_backend and numpy.ndim(want) == 0:
        assert numpy.isscalar(got), "SciPy returns a NumPy scalar for a 0-d result"


MULTIVARIATE = [
    ("dirichlet", A([0.2, 0.3, 0.5]), A([1.5, 2.0, 3.0])),
    ("dirichlet", A([0.2, 0.3]), A([0.5, 2.0, 3.0])),                      # K - 1 entries
    ("dirichlet", A([[0.2, 0.1], [0.3, 0.6], [0.5, 0.3]]), A([1.5, 0.8, 3.0])),
    ("dirichlet", A([[0.2, 0.1, 0.4], [0.3, 0.6, 0.5]]), A([1.0, 2.0, 3.0])),
    ("dirichlet", A([0.0, 0.5, 0.5]), A([1.0, 2.0, 3.0])),                 # a zero where alpha = 1
    ("multivariate_normal", A([[0.5, -1.0, 0.2], [1.0, 2.0, 0.0]]), A([0.0, 1.0, -1.0]),
     A([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]])),
    ("multivariate_normal", numpy.linspace(-1, 1, 24).reshape(2, 4, 3), A([0.0, 1.0, 0.0]),
     A([1.0, 2.0, 0.5])),                                                  # cov: a diagonal
    ("multivariate_normal", A([0.5, -1.0, 2.0]), 0.5, 2.0),                # d = 1, a batch of 3
    ("multivariate_normal", A([0.5, -1.0]), A([0.0, 1.0])),                 # one point, cov 1
    ("multivariate_normal", A(0.3), None, None),
    ("multivariate_normal", A([[0.5, -1.0]]), A([0.0, 1.0]), 3.0),          # squeezed to 0-d
]


@pytest.mark.parametrize("method", ["logpdf", "pdf"])
@pytest.mark.parametrize("k", range(len(MULTIVARIATE)))
def test_multivariate_values_are_scipys(k, method, inner):
    name, *args = MULTIVARIATE[k]
    want = getattr(getattr(scipy.stats, name), method)(*args)
    _check_same(_run((name, method), args, {}, inner), want, f"{name}.{method}")


# allow_singular=True: SciPy's pseudo-inverse and pseudo-determinant.  _B spans a plane of R^3.
_B = A([[1.0, 0.2], [0.5, -1.0], [0.3, 0.4]])
_SINGULAR = _B @ _B.T                                     # rank 2 of 3
_ON = A([[0.3, -0.7], [1.0, 0.5], [0.0, 0.0]]) @ _B.T     # points of the plane (the support)
_OFF = _ON + A([[0.0, 0.0, 0.0], [1e-3, 0.0, 0.0], [0.0, 2.0, -1.0]])  # two of them off it
_DIAG0 = numpy.diag([2.0, 0.0, 0.0])                      # exact zeros, repeated
SINGULAR = [
    (_OFF, A([0.1, -0.2, 0.3]) * 0, _SINGULAR),
    (_ON + A([0.1, -0.2, 0.3]), A([0.1, -0.2, 0.3]), _SINGULAR),
    (numpy.stack([_ON, _OFF]), None, _SINGULAR),          # a batch of (2, 3) points
    (_ON[1], None, _SINGULAR),                             # one point: a scalar
    (A([[0.5, 0.0, 0.0], [0.5, 1e-3, 0.0], [-1.0, 0.0, 0.0]]), None, _DIAG0),
    (A([[0.5, -1.0, 0.2], [1.0, 2.0, 0.0]]), A([0.0, 1.0, -1.0]),      # full rank
     A([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]])),
    (A([0.5, -1.0, 2.0]), 0.5, 2.0),                       # d = 1
    (A([0.5, -1.0, 2.0]), 0.5, 0.0),                       # d = 1, cov 0: only x == mean
    (A([[0.5, 0.0], [0.5, -1.0]]), A([0.0, 0.0]), A([1.0, 0.0])),  # a singular diagonal
]


@pytest.mark.parametrize("method", ["logpdf", "pdf"])
@pytest.mark.parametrize("k", range(len(SINGULAR)))
def test_multivariate_normal_allow_singular_is_scipys(k, method, inner):
    x, mean, cov = SINGULAR[k]
    want = getattr(scipy.stats.multivariate_normal, method)(x, mean, cov, allow_singular=True)
    got = _run(("multivariate_normal", method), (x, mean, cov), dict(allow_singular=True), inner)
    _check_same(got, want, f"multivariate_normal.{method}")
    if inner is udiff.numpy_backend and numpy.ndim(want) == 0:
        assert numpy.isscalar(got)


ENTROPY = [
    (None, A([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]])),
    (A([0.0, 1.0]), A([2.0, 0.5])),                        # cov: a diagonal
    (A([0.0, 1.0, 2.0]), 3.0),                             # cov: a scalar
    (None, 2.0),
    (None, None),
    (None, _SINGULAR),
    (None, _DIAG0),
    (A([1.0, 2.0]), A([1.0, 0.0])),
]


@pytest.mark.parametrize("k", range(len(ENTROPY)))
def test_multivariate_normal_entropy_is_scipys(k, inner):
    mean, cov = ENTROPY[k]
    want = scipy.stats.multivariate_normal.entropy(mean, cov)
    got = _run(("multivariate_normal", "entropy"), (mean, cov), {}, inner)
    _check_same(got, want, "multivariate_normal.entropy")
    if inner is udiff.numpy_backend:
        assert numpy.isscalar(got)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("cov", [numpy.diag([2.0, -1.0]), A([[1.0, 2.0], [2.0, 1.0]])])
def test_multivariate_normal_is_nan_where_scipy_raises_for_an_indefinite_cov(cov, inner):
    for call in (lambda s: s.multivariate_normal.entropy(cov=cov),
                 lambda s: s.multivariate_normal.logpdf(A([0.5, 1.0]), None, cov,
                                                        allow_singular=True)):
        with pytest.raises(ValueError):
            call(scipy.stats)
        assert numpy.isnan(compute(call(stats)))


def test_multivariate_normal_singular_gradients_are_the_pseudo_inverses():
    """Where the rank is locally constant, d logpdf/dx = -cov^+ (x - mean) and
    d entropy/dcov = cov^+ / 2, with 0 on the null space, whose small perturbations stay below
    SciPy's cutoff: its pseudo-determinant does not change."""
    plus = numpy.linalg.pinv(_SINGULAR)
    g = udiff.grad(lambda c: stats.multivariate_normal.entropy(cov=c))(_SINGULAR)
    numpy.testing.assert_allclose(g, plus / 2, atol=1e-12)
    g = udiff.grad(lambda c: stats.multivariate_normal.entropy(cov=c))(_DIAG0)
    numpy.testing.assert_allclose(g, numpy.diag([0.25, 0.0, 0.0]), atol=1e-15)
    g = udiff.grad(lambda x: np.sum(stats.multivariate_normal.logpdf(
        x, None, _SINGULAR, allow_singular=True)))(_ON)
    numpy.testing.assert_allclose(g, -_ON @ plus, atol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("x, alpha", [
    (A([0.2, 0.3, 0.6]), A([1.0, 2.0, 3.0])),    # off the simplex
    (A([-0.2, 0.6, 0.6]), A([1.0, 2.0, 3.0])),   # negative
    (A([0.0, 0.5, 0.5]), A([0.5, 2.0, 3.0])),    # a zero where alpha < 1
    (A([0.2, 0.3, 0.5]), A([1.0, -2.0, 3.0])),   # alpha <= 0
])
def test_dirichlet_is_nan_where_scipy_raises(x, alpha, inner):
    with pytest.raises(ValueError):
        scipy.stats.dirichlet.logpdf(x, alpha)
    assert numpy.isnan(compute(stats.dirichlet.logpdf(chunked(x, inner), chunked(alpha, inner))))


@pytest.mark.parametrize("call", [
    lambda s: s.dirichlet.logpdf(A([[0.2, 0.3, 0.5]]), A([1.0, 2.0, 3.0])),
    lambda s: s.dirichlet.logpdf(A([0.2, 0.3, 0.5]), A([[1.0, 2.0, 3.0]])),
    lambda s: s.dirichlet.logpdf(A([[[0.2]], [[0.3]]]), A([1.0, 2.0, 3.0])),
    lambda s: s.multivariate_normal.logpdf(A([0.5, 1.0]), A([[0.0, 1.0]])),
    lambda s: s.multivariate_normal.logpdf(A([0.5, 1.0]), A([0.0, 1.0]), numpy.ones((2, 3))),
    lambda s: s.multivariate_normal.logpdf(A([0.5, 1.0]), A([0.0, 1.0]), numpy.eye(3)),
    lambda s: s.multivariate_normal.logpdf(A([0.5, 1.0]), A([0.0, 1.0]), numpy.ones((2, 2, 2))),
    lambda s: s.norm.logpdf(1.0, 0.0, 1.0, 2.0),
    lambda s: s.t.cdf(1.0),
    lambda s: s.poisson.pmf(1, mu=1.0, scale=2.0),
])
def test_bad_arguments_raise_as_scipys(call):
    with pytest.raises(Exception) as want:
        call(scipy.stats)
    with pytest.raises(type(want.value)):
        call(stats)


def test_arguments_by_position_and_name():
    x = A([0.5, 1.5])
    for name, args, kwargs in [("t", (3.0, 0.5, 2.0), {}), ("t", (), dict(df=3.0, scale=2.0)),
                               ("gamma", (2.0,), dict(loc=0.1)), ("beta", (2.0,), dict(b=3.0)),
                               ("poisson", (2.0, 1), {})]:
        method = "logpmf" if name == "poisson" else "logpdf"
        want = getattr(getattr(scipy.stats, name), method)(x, *args, **kwargs)
        numpy.testing.assert_allclose(getattr(getattr(stats, name), method)(x, *args, **kwargs),
                                      want, rtol=1e-12)


# -- derivatives ----------------------------------------------------------------------------------
CASES = []


def case(name, fun, *args, order=2):
    CASES.append(Case(name, fun, args, order))


def method(dist, name, *fixed, **kwargs):
    """``dist.name`` with the constant arguments ``fixed`` after the differentiated ones."""
    fun = getattr(getattr(stats, dist), name)
    return lambda *args: fun(*args, *fixed, **kwargs)


for _m in CONTINUOUS:
    case(f"norm.{_m}", method("norm", _m), real(3, 2), real(2), pos(3, 1))
case("norm.logpdf_0d", method("norm", "logpdf"), real(), real(), pos())
case("norm.cdf_tails", lambda x: stats.norm.logcdf(x * 15.0) + stats.norm.logsf(x * 15.0),
     real(3))
# t: x, df, loc and scale in logpdf and pdf; x, loc and scale in the cdf family
case("t.logpdf", method("t", "logpdf"), real(3, 2), pos(2), real(3, 1), pos(2))
case("t.pdf", method("t", "pdf"), real(3), pos(3), real(), pos())
for _m in ("cdf", "logcdf", "sf", "logsf"):
    case(f"t.{_m}", lambda x, loc, scale, _m=_m: getattr(stats.t, _m)(x, A([0.8, 3.5]), loc, scale),
         real(3, 2), real(2), pos(3, 1))
case("t.cdf_at_loc", lambda x: stats.t.cdf(x, A([0.8, 3.5, 12.0])), const([0.0, 0.0, 0.0]))
case("t.cdf_at_zero", lambda x: stats.t.cdf(x - 1.5, 2.5), const([1.5, 1.5]))
case("gamma.logpdf", method("gamma", "logpdf"), pos(3, 2), pos(2), below(3, 1), pos(2))
case("gamma.pdf", method("gamma", "pdf"), pos(3), pos(3), const(0.0), pos())
for _m in ("cdf", "logcdf", "sf", "logsf"):
    case(f"gamma.{_m}", lambda x, loc, scale, _m=_m: getattr(stats.gamma, _m)(
        x, A([0.7, 2.5]), loc, scale), pos(3, 2), const([0.1, -0.2]), pos(3, 1))
case("beta.logpdf", method("beta", "logpdf"), frac(3, 2), pos(2), pos(3, 1), const(0.0), pos())
case("beta.pdf", method("beta", "pdf"), frac(3), pos(3), pos(), const(0.0), const(1.0))
case("beta.logpdf_loc_scale", lambda x, loc, scale: stats.beta.logpdf(x, 2.0, 3.0, loc, scale),
     frac(3), const([-0.05, 0.0, 0.05]), const([1.2, 1.5, 1.3]))
for _m in ("cdf", "logcdf", "sf", "logsf"):
    case(f"beta.{_m}", lambda x, _m=_m: getattr(stats.beta, _m)(x, A([0.8, 2.0]), A([[3.0], [0.6],
         [1.0]])), frac(3, 2))
case("chi2.logpdf", method("chi2", "logpdf"), pos(3, 2), pos(2), below(3, 1), pos(2))
case("chi2.pdf", method("chi2", "pdf"), pos(3), pos(3), const(0.0), pos())
for _m in ("cdf", "logcdf", "sf", "logsf"):
    case(f"chi2.{_m}", lambda x, scale, _m=_m: getattr(stats.chi2, _m)(x, A([1.5, 4.0]), 0.0, scale),
         pos(3, 2), pos(3, 1))
for _m in DISCRETE:
    case(f"poisson.{_m}", lambda mu, _m=_m: getattr(stats.poisson, _m)(
        A([[0, 1, 3], [2, 5, 4]]), mu), pos(2, 1))
case("dirichlet.logpdf", lambda y, alpha: stats.dirichlet.logpdf(y / np.sum(y, axis=0), alpha),
     pos(3, 4), pos(3))
case("dirichlet.pdf_k_minus_1", lambda y, alpha: stats.dirichlet.pdf(y / 4, alpha),
     pos(2), pos(3))
case("multivariate_normal.logpdf", lambda x, mean, cov: stats.multivariate_normal.logpdf(
    x, mean, sym(cov)), real(4, 3), real(3), spd(3))
case("multivariate_normal.logpdf_batch", lambda x, cov: stats.multivariate_normal.logpdf(
    x, None, sym(cov)), real(2, 3, 2), spd(2))
case("multivariate_normal.pdf_diagonal", lambda x, mean, var: stats.multivariate_normal.pdf(
    x, mean, var), real(3), real(3), pos(3))
case("multivariate_normal.logpdf_1d", lambda x, mean, var: stats.multivariate_normal.logpdf(
    x, mean, var), real(4), real(), pos())


def _plane(b, z, mean, method="logpdf"):
    """The density of ``N(mean, b b^T)`` (rank 2 in R^3) at ``mean + b z``: ``b`` moves the
    support with the points on it, keeping the rank (the finite differences stay on it)."""
    bt = np.swapaxes(b, -1, -2)
    return getattr(stats.multivariate_normal, method)(mean + z @ bt, mean, b @ bt,
                                                      allow_singular=True)


case("multivariate_normal.logpdf_singular", _plane, real(3, 2), real(4, 2), real(3))
case("multivariate_normal.pdf_singular_rank_1", lambda b, z: _plane(b, z, numpy.zeros(3), "pdf"),
     real(3, 1), real(2, 1))
case("multivariate_normal.logpdf_allow_singular_full_rank", lambda x, mean, cov:
     stats.multivariate_normal.logpdf(x, mean, sym(cov), allow_singular=True),
     real(4, 3), real(3), spd(3))
case("multivariate_normal.entropy", lambda cov: stats.multivariate_normal.entropy(cov=sym(cov)),
     spd(3))
case("multivariate_normal.entropy_diagonal", lambda var: stats.multivariate_normal.entropy(
    numpy.zeros(3), var), pos(3))
case("multivariate_normal.entropy_singular", lambda b: stats.multivariate_normal.entropy(
    cov=b @ np.swapaxes(b, -1, -2)), real(3, 2))


# On Dask (about 60 times slower per operation): a case of each kind, every argument at order 1
# and the last one at order 2, in both modes.  NumPy checks every case at order 2.
DASK_CASES = ["norm.logpdf", "norm.logcdf", "t.logpdf", "t.cdf", "gamma.logpdf", "gamma.logsf",
              "beta.logpdf", "beta.cdf", "chi2.pdf", "poisson.logpmf", "poisson.cdf",
              "dirichlet.logpdf", "multivariate_normal.logpdf", "multivariate_normal.logpdf_batch",
              "multivariate_normal.logpdf_singular", "multivariate_normal.entropy_singular"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case, inner", runs(CASES, [c.name for c in CASES],
                                             lambda c: c.name in DASK_CASES))
def test_derivatives(case, inner):
    args = case.make_args(inner)
    if inner is not udiff.dask_backend:
        check_grads(case.fun, args, order=case.order, inner=inner)
    else:  # every argument to order 1, the last one to order 2
        check_grads(case.fun, args, order=1, inner=inner)
        check_grads(case.fun, args, order=case.order, inner=inner, argnums=[len(args) - 1])


def test_derivatives_keep_single_precision():
    x = numpy.float32([0.5, 1.5])
    for f in (lambda x: stats.norm.logpdf(x, 0.5, 2.0), lambda x: stats.gamma.cdf(x, 2.0)):
        assert f(x).dtype == numpy.float64  # SciPy's values are at least float64
        assert udiff.grad(lambda x: np.sum(f(x)))(x).dtype == numpy.float32


# -- no closed form: an error naming the function, never a number --------------------------------
NO_CLOSED_FORM = [
    ("gamma.cdf wrt a", lambda a: stats.gamma.cdf(A([0.5, 2.0]), a), "gammainc"),
    ("gamma.sf wrt a", lambda a: stats.gamma.sf(A([0.5, 2.0]), a), "gammaincc"),
    ("gamma.logcdf wrt a", lambda a: stats.gamma.logcdf(A([0.5, 2.0]), a), "gammaincc?"),
    ("chi2.cdf wrt df", lambda df: stats.chi2.cdf(A([0.5, 2.0]), df), "gammainc"),
    ("chi2.logsf wrt df", lambda df: stats.chi2.logsf(A([0.5, 2.0]), df), "gammaincc?"),
    ("t.cdf wrt df", lambda df: stats.t.cdf(A([0.0, 0.5, 4.0]), df), "betainc"),
    ("t.sf wrt df", lambda df: stats.t.sf(A([-0.5, 2.0]), df), "betainc"),
    ("beta.cdf wrt a", lambda a: stats.beta.cdf(A([0.2, 0.7]), a, 2.0), "betainc"),
    ("beta.logsf wrt b", lambda b: stats.beta.logsf(A([0.2, 0.7]), 2.0, b), "betainc"),
]


@pytest.mark.parametrize("case, inner", runs(
    [c + (m,) for c in NO_CLOSED_FORM for m in ("vjp", "jvp")],
    [f"{c[0]}-{m}" for c in NO_CLOSED_FORM for m in ("vjp", "jvp")], lambda c: c[-1] == "vjp"))
def test_shape_parameters_without_closed_form_raise(case, inner):
    name, f, special, mode = case
    backend = udiff.DiffArrayBackend(inner, mode)
    p = udiff.DiffArray(chunked(A([1.5, 2.5]) if "t." not in name else A(3.0), inner), backend)
    with ua.set_backend(backend, coerce=True):
        y = f(p)
        seed = numpy.ones(y.shape if mode == "vjp" else p.shape)
        with pytest.raises(NotImplementedError, match=f"{special} with respect to [ab]"):
            compute(y.to(p, grad_variables=seed))


# -- outside the support: SciPy's values, zero derivatives, no NaN --------------------------------
# (invalid parameters give NaN derivatives: test_numerics_edges.py's test_invalid_parameters_*)
OUTSIDE = [  # (name, f(module, x, p), x, p): x outside the support
    ("gamma.logpdf", lambda s, x, p: s.gamma.logpdf(x, p), A([-1.0, -0.5]), A([0.5, 2.0])),
    ("gamma.pdf", lambda s, x, p: s.gamma.pdf(x, p), A([-1.0, -0.5]), A([0.5, 2.0])),
    # the cdf family raises for a, b and df, even where not used: p is scale or loc there
    ("gamma.cdf", lambda s, x, p: s.gamma.cdf(x, 0.5, 0.0, p), A([-1.0, 0.0]), A([0.5, 2.0])),
    ("gamma.logsf", lambda s, x, p: s.gamma.logsf(x, 2.0, p), A([-1.0, 0.0]), A([0.5, 0.0])),
    ("beta.logpdf", lambda s, x, p: s.beta.logpdf(x, p, 0.5), A([-0.5, 1.5]), A([0.5, 2.0])),
    ("beta.cdf", lambda s, x, p: s.beta.cdf(x, 2.0, 0.5, 0.0, p), A([-0.5, 1.5]), A([0.5, 1.0])),
    ("chi2.logpdf", lambda s, x, p: s.chi2.logpdf(x, p), A([-1.0, -2.0]), A([1.0, 3.0])),
    ("poisson.logpmf", lambda s, k, p: s.poisson.logpmf(k, p), A([-1.0, 2.5]), A([1.0, 3.0])),
    ("poisson.cdf", lambda s, k, p: s.poisson.cdf(k, p), A([-1.0, -2.5]), A([1.0, 3.0])),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case, inner", runs(
    [c + (m,) for c in OUTSIDE for m in ("vjp", "jvp")],
    [f"{c[0]}-{m}" for c in OUTSIDE for m in ("vjp", "jvp")], lambda c: c[-1] == "vjp"))
def test_outside_the_support_derivatives_are_zero(case, inner):
    name, f, x, p, mode = case
    backend = udiff.DiffArrayBackend(inner, mode)
    xs, ps = (udiff.DiffArray(chunked(a, inner), backend) for a in (x, p))
    with ua.set_backend(backend, coerce=True):
        y = f(stats, xs, ps)
        numpy.testing.assert_array_equal(compute(y), f(scipy.stats, x, p))
        for v in (xs, ps):
            seed = numpy.ones(y.shape if mode == "vjp" else v.shape)
            d = y.to(v, grad_variables=seed, create_graph=True)
            numpy.testing.assert_array_equal(compute(d), 0.0, err_msg="first derivative")
            seed = numpy.ones(d.shape if mode == "vjp" else v.shape)
            numpy.testing.assert_array_equal(compute(d.to(v, grad_variables=seed)), 0.0,
                                             err_msg="second derivative")


def test_derivatives_at_the_edge_of_the_support_are_finite(inner):
    # gamma with a == 1 (the exponential): logpdf(0) = 0, right derivatives -1 in x, 0 in x twice
    x = chunked(A([0.0, 0.0]), inner)
    g = udiff.grad(lambda x: np.sum(stats.gamma.logpdf(x, 1.0)), inner=inner)(x)
    numpy.testing.assert_array_equal(compute(g), [-1.0, -1.0])
    g = udiff.grad(lambda x: np.sum(stats.beta.logpdf(x, 1.0, 2.0)), inner=inner)(
        chunked(A([0.0, 0.5]), inner))
    numpy.testing.assert_allclose(compute(g), [-1.0, -2.0])
    g = udiff.grad(lambda mu: np.sum(stats.poisson.logpmf(A([0, 0]), mu)), inner=inner)(
        chunked(A([0.0, 1.0]), inner))
    numpy.testing.assert_array_equal(compute(g), [-1.0, -1.0])


def test_poisson_count_is_a_constant(inner):
    k = chunked(A([0.0, 1.0, 3.0]), inner)
    for m in DISCRETE:
        g = udiff.grad(lambda k: np.sum(getattr(stats.poisson, m)(k, 2.0)), inner=inner)(k)
        numpy.testing.assert_array_equal(compute(g), 0.0)


def test_multivariate_normal_on_chunked_points():
    import dask.array as da

    rng = numpy.random.default_rng(3)
    x = rng.normal(size=(40, 3))
    mean, cov = A([0.1, -0.2, 0.3]), spd(3)(rng)
    xd = da.from_array(x, chunks=(7, 2))
    y = stats.multivariate_normal.logpdf(xd, mean, cov)
    assert isinstance(y, da.Array)
    numpy.testing.assert_allclose(y.compute(), scipy.stats.multivariate_normal.logpdf(x, mean, cov),
                                  rtol=1e-12)
    g = udiff.grad(lambda m: np.sum(stats.multivariate_normal.logpdf(xd, m, cov)))(mean)
    numpy.testing.assert_allclose(compute(g), numpy.linalg.solve(cov, (x - mean).sum(0)),
                                  rtol=1e-10)


# -- a statistical model ------------------------------------------------------------------------
def fit_normal(x, steps=200, rate=0.1):
    """Maximum likelihood of a normal's ``[loc, log(scale)]`` by gradient descent."""
    def loss(params):
        return -np.mean(stats.norm.logpdf(x, params[0], np.exp(params[1])))

    params = numpy.zeros(2)
    step = udiff.value_and_grad(loss)
    for _ in range(steps):
        value, g = step(params)
        params = params - rate * g
    return params, value


def fit_poisson_regression(features, counts, steps=300, rate=0.2):
    """Maximum likelihood of ``log mu = features @ w`` by gradient descent."""
    def loss(w):
        return -np.mean(stats.poisson.logpmf(counts, np.exp(features @ w)))

    w = numpy.zeros(features.shape[1])
    step = udiff.value_and_grad(loss)
    for _ in range(steps):
        value, g = step(w)
        w = w - rate * g
    return w, value


def test_maximum_likelihood_by_gradient_descent():
    rng = numpy.random.default_rng(0)
    x = rng.normal(1.5, 0.5, 200)
    params, _ = fit_normal(x)
    numpy.testing.assert_allclose(params[0], x.mean(), rtol=1e-6)
    numpy.testing.assert_allclose(numpy.exp(params[1]), x.std(), rtol=1e-6)

    features = numpy.column_stack([numpy.ones(100), rng.uniform(-1, 1, 100)])
    counts = rng.poisson(numpy.exp(features @ A([0.5, 1.0])))
    w, _ = fit_poisson_regression(features, counts)
    # at the maximum the score vanishes: features^T (counts - mu) = 0
    numpy.testing.assert_allclose(features.T @ (counts - numpy.exp(features @ w)), 0.0, atol=1e-6)
