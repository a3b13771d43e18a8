"""udiff.scipy.special: values against SciPy's own, derivatives against finite differences.

``FORWARD`` compares value, shape and dtype of every function with SciPy's on
NumPy and on Dask split into several chunks per axis (0-d, vectors, matrices,
broadcast pairs, float32).  ``CASES`` (test_rules.py's ``Case``) drives every
rule through :func:`udiff.testing.check_grads` in both modes to order 2 on
NumPy; on Dask every case is checked to order 1 and the cases in
``DASK_ORDER_2`` (each way a function runs on Dask: SciPy's ufuncs, the
blockwise ``polygamma``/``multigammaln``/``zeta``, the reductions) to order 2, as Dask
graphs of second derivatives are slow to build.  test_rules.py's
``test_every_rule_has_a_case`` counts ``COVERED_KEYS``.
"""
import zlib

import numpy
import pytest
import scipy.special as sp
import uarray as ua

import udiff
import udiff.numpy as np
from udiff._machinery import registry as _registry
from udiff.scipy import special as S
from udiff.testing import check_grads

from conftest import INNERS, chunked, compute, rule_keys
from test_rules import Case, _check_single_precision, _s, _single, pos, real, unit


@pytest.fixture(autouse=True, scope="module")
def _synchronous_dask():
    import dask

    with dask.config.set(scheduler="synchronous"):
        yield


def between(lo, hi):
    return lambda *shape: lambda rng: rng.uniform(lo, hi, shape)


prob = between(0.05, 0.95)
away0 = between(0.5, 3.0)  # Bessel functions of the second kind, gamma's positive side


def ints(*values):
    """A fixed integer array (orders): never differentiated."""
    return lambda *shape: lambda rng: numpy.asarray(values, dtype=numpy.int64).reshape(shape)


# -- forward values: name -> argument generators (each called with a shape) ----------------------
UNARY = {
    "erf": real, "erfc": real, "erfcinv": between(0.1, 1.9), "erfinv": unit, "erfcx": real,
    "expit": real, "logit": prob, "gamma": real, "gammaln": real, "gammasgn": real,
    "rgamma": real, "digamma": pos, "psi": pos, "i0": real, "i1": real, "j0": real, "j1": real,
    "y0": away0, "y1": away0, "entr": real, "log_ndtr": real, "ndtr": real, "ndtri": prob,
}
BINARY = {
    "beta": (pos, pos), "betaln": (pos, pos), "gammainc": (pos, pos), "gammaincc": (pos, pos),
    "iv": (real, pos), "ive": (real, pos), "jv": (real, pos), "xlogy": (real, pos),
    "xlog1py": (real, between(-0.5, 2.0)), "zeta": (between(1.2, 4.0), pos),
}
ORDERS = {"jn": (real, away0), "yn": (away0, away0), "polygamma": (None, pos)}
UNARY_SHAPES = [(), (3,), (3, 2)]
BINARY_SHAPES = [((3, 1), (1, 2)), ((), (3,)), ((2,), (3, 2))]


def _order_gen(shape):
    n = int(numpy.prod(shape, dtype=int))
    return ints(*range(n))(*shape)


FORWARD = []  # (id, name, generators, kwargs, on Dask)
# Every shape on NumPy; on Dask, where SciPy's ufuncs all run alike, one each in rotation.
for _k, (_name, _gen) in enumerate(UNARY.items()):
    for _j, _shape in enumerate(UNARY_SHAPES):
        FORWARD.append((f"{_name}_{_s(_shape)}", _name, (_gen(*_shape),), {}, _j == _k % 3))
for _k, (_name, (_g1, _g2)) in enumerate({**BINARY, **ORDERS}.items()):
    for _j, (_s1, _s2) in enumerate(BINARY_SHAPES):
        _first = _order_gen(_s1) if _name in ORDERS else _g1(*_s1)
        FORWARD.append((f"{_name}_{_s(_s1)}_{_s(_s2)}", _name, (_first, _g2(*_s2)), {},
                        _j == _k % 3 or _name in ("polygamma", "zeta")))
FORWARD += [
    ("betainc", "betainc", (pos(3, 1), pos(2), prob(3, 2)), {}, True),
    ("betainc_0d", "betainc", (pos(), pos(), prob()), {}, False),
    ("multigammaln", "multigammaln", (between(2.0, 4.0)(3, 2),), dict(d=3), True),
    ("multigammaln_0d", "multigammaln", (between(2.0, 4.0)(),), dict(d=2), True),
    ("zeta_riemann", "zeta", (between(1.2, 4.0)(3, 2),), {}, True),
]
LSE_KWARGS = [{}, dict(axis=0), dict(axis=1, keepdims=True), dict(axis=(0, 1)), dict(axis=-1),
              dict(keepdims=True), dict(axis=1, return_sign=True)]
for _k, _kw in enumerate(LSE_KWARGS):
    FORWARD.append((f"logsumexp_{_k}", "logsumexp", (real(3, 4),), _kw, True))
FORWARD += [(*_f, True) for _f in [
    ("logsumexp_0d", "logsumexp", (real(),), {}),
    ("logsumexp_0d_keepdims", "logsumexp", (real(),), dict(keepdims=True)),
    ("logsumexp_b", "logsumexp", (real(3, 4), real(4)), dict(axis=0)),
    ("logsumexp_b_sign", "logsumexp", (real(3, 4), real(3, 1)), dict(axis=1, return_sign=True)),
    ("logsumexp_size0", "logsumexp", (real(0, 3),), dict(axis=0)),
    ("softmax", "softmax", (real(3, 4),), {}),
    ("softmax_axis1", "softmax", (real(3, 4),), dict(axis=1)),
    ("softmax_0d", "softmax", (real(),), {}),
    ("log_softmax", "log_softmax", (real(3, 4),), {}),
    ("log_softmax_axis0", "log_softmax", (real(3, 4),), dict(axis=0)),
]]
# What Dask runs with udiff's own code (reductions, blockwise) is checked in float32 there too.
DASK_OWN = {"logsumexp_0", "logsumexp_2", "logsumexp_0d_keepdims", "logsumexp_b",
            "logsumexp_b_sign", "softmax_axis1", "log_softmax", "polygamma_3x1_1x2",
            "multigammaln", "zeta_3x1_1x2", "zeta_riemann"}
FORWARD_PARAMS = [
    pytest.param(ident, name, gens, kwargs, single, inner_name,
                 id=f"{inner_name}-{ident}-{'float32' if single else 'float64'}")
    for ident, name, gens, kwargs, on_dask in FORWARD
    for single in (False, True)
    for inner_name in INNERS
    if inner_name != "dask" or on_dask and (not single or ident in DASK_OWN)
]


def _forward_args(gens, name):
    rng = numpy.random.default_rng(zlib.crc32(name.encode()))
    return [g(rng) for g in gens]


def _b_keyword(name, args, kwargs):
    """logsumexp's second array is its ``b=``."""
    if name == "logsumexp" and len(args) == 2:
        return args[:1], {**kwargs, "b": args[1]}
    return args, kwargs


def _pairs(got, want, what):
    """``(got, want, what)`` for each output (logsumexp's sign is a second one)."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), what
        return [(g, w, f"{what}, output {i}") for i, (g, w) in enumerate(zip(got, want))]
    return [(got, want, what)]


def _check_same(pairs):
    values = [getattr(g, "value", g) for g, _, _ in pairs]
    if any(hasattr(v, "dask") for v in values):
        import dask

        values = dask.compute(*values)  # one pass over every graph
    for got, (_, want, what) in zip(values, pairs):
        got = compute(got)
        assert got.shape == numpy.shape(want), f"{what}: shape {got.shape}"
        assert got.dtype == numpy.result_type(want), f"{what}: dtype {got.dtype}"
        rtol = 1e-12 if got.dtype.itemsize >= 8 else 2e-6  # sums in another order on Dask
        numpy.testing.assert_allclose(got, want, rtol=rtol, atol=1e-300, err_msg=what)


@pytest.mark.parametrize("ident, name, gens, kwargs, single, inner_name", FORWARD_PARAMS)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_values_match_scipy(ident, name, gens, kwargs, single, inner_name):
    inner = INNERS[inner_name]
    args = _forward_args(gens, ident)
    if single:
        args = [_single(a) for a in args]
    args, kwargs = _b_keyword(name, args, kwargs)
    want = getattr(sp, name)(*args, **kwargs)
    f = getattr(S, name)
    inner_args = [chunked(a, inner) for a in args]
    inner_kwargs = {k: chunked(v, inner) if k == "b" else v for k, v in kwargs.items()}
    # outside any backend (the arrays' own library), under the inner backend, and recorded
    pairs = _pairs(f(*inner_args, **inner_kwargs), want, "no backend")
    with ua.set_backend(inner, coerce=True):
        pairs += _pairs(f(*inner_args, **inner_kwargs), want, "inner backend")
    with ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True):
        xs = [np.asarray(a) for a in inner_args]
        pairs += _pairs(f(*xs, **inner_kwargs), want, "DiffArrayBackend")
    _check_same(pairs)


def test_dask_stays_lazy_and_chunked():
    import dask.array as da

    x = chunked(numpy.linspace(0.5, 2.0, 6).reshape(3, 2), udiff.dask_backend)
    for y in (S.gammaln(x), S.polygamma(1, x), S.multigammaln(x + 1.0, 2), S.iv(0.5, x)):
        assert isinstance(y, da.Array) and y.chunks == x.chunks
    assert isinstance(S.logsumexp(x, axis=0), da.Array)


# -- derivatives --------------------------------------------------------------------------
CASES = []


def case(name, fun, *args, order=2):
    CASES.append(Case(name, fun, args, order))


_SHAPES = [(3, 2), (), (3,), (1, 2)]
_DERIV_DOMAINS = {**UNARY, "gamma": pos, "gammaln": pos, "rgamma": pos, "entr": pos}
for _k, (_name, _gen) in enumerate(_DERIV_DOMAINS.items()):
    if _name != "gammasgn":
        case(_name, getattr(S, _name), _gen(*_SHAPES[_k % len(_SHAPES)]))
for _name, (_g1, _g2) in {"beta": (pos, pos), "betaln": (pos, pos),
                          "xlogy": (real, pos), "xlog1py": (real, between(-0.5, 2.0))}.items():
    case(f"{_name}_broadcast", getattr(S, _name), _g1(3, 1), _g2(1, 2))
    case(f"{_name}_0d_vector", getattr(S, _name), _g1(), _g2(3))
_A, _B = numpy.array([[0.5], [2.0], [3.5]]), numpy.array([1.5, 4.0])
case("betainc", lambda x: S.betainc(_A, _B, x), prob(3, 2))
case("gammainc", lambda x: S.gammainc(_B, x), pos(3, 2))
case("gammaincc", lambda x: S.gammaincc(1.5, x), pos(3))
_V = numpy.array([[0.0], [1.0], [3.0]])  # integer orders: defined at negative z
case("iv", lambda z: S.iv(_V, z), real(3, 2))
case("iv_half", lambda z: S.iv(1.5, z), pos(3))
case("ive", lambda z: S.ive(_V, z), real(1, 2))
case("jv", lambda z: S.jv(1.5, z), pos(3))
case("jn", S.jn, ints(0, 1, 2)(3, 1), real(2))
case("yn", S.yn, ints(0, 3)(2), away0(3, 2))
case("polygamma", S.polygamma, ints(0, 1, 2)(3, 1), pos(2))
case("polygamma_0d", lambda x: S.polygamma(3, x), pos())
case("multigammaln", lambda a: S.multigammaln(a, 3), between(2.0, 4.0)(3, 2))
_X = numpy.array([[1.5], [2.0], [3.5]])  # exponents: constants
case("zeta", lambda q: S.zeta(_X, q), pos(3, 2))
case("zeta_0d_keyword", lambda q: S.zeta(2.5, q=q), pos())
for _k, _kw in enumerate(LSE_KWARGS):
    case(f"logsumexp_{_k}", lambda a, kw=_kw: _first(S.logsumexp(a, **kw)), real(3, 4))
case("logsumexp_0d", S.logsumexp, real())
case("logsumexp_0d_keepdims", lambda a: S.logsumexp(a, axis=0, keepdims=True), real())
case("logsumexp_b", lambda a, b: S.logsumexp(a, axis=0, b=b), real(3, 4), pos(4))
case("logsumexp_b_keepdims", lambda a, b: S.logsumexp(a, axis=1, b=b, keepdims=True),
     real(1, 4), pos(3, 1))


def _signed_weights(rng):
    return numpy.array([[2.0, -1.0, 0.5], [-3.0, 1.0, -0.5]])


case("logsumexp_b_sign", lambda a, b: S.logsumexp(a, axis=1, b=b, return_sign=True)[0],
     real(2, 3), _signed_weights)
for _kw in ({}, dict(axis=1), dict(axis=(0, 1))):
    case(f"softmax_{'_'.join(map(str, _kw.values()))}", lambda x, kw=_kw: S.softmax(x, **kw),
         real(3, 2))
    case(f"log_softmax_{'_'.join(map(str, _kw.values()))}",
         lambda x, kw=_kw: S.log_softmax(x, **kw), real(3, 2))
case("softmax_0d", S.softmax, real())


def _first(y):
    return y[0] if isinstance(y, tuple) else y


CASES_BY_NAME = {c.name: c for c in CASES}
assert len(CASES_BY_NAME) == len(CASES), "case names must be unique"
COVERED_KEYS = {k for c in CASES for k in rule_keys(c.fun, c.make_args(udiff.numpy_backend))}
# Each way a function runs on Dask, to order 2 there (the others to order 1).
DASK_ORDER_2 = {"gammaln", "iv", "multigammaln", "zeta", "logsumexp_1", "softmax_1"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_rule(case, inner):
    order = case.order if inner.name != "dask" or case.name in DASK_ORDER_2 else 1
    check_grads(case.fun, case.make_args(inner), modes=("fwd", "rev"), order=order, inner=inner)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_rule_keeps_single_precision(case):
    """float32 variables get float32 derivatives (orders 1 and 2); values have SciPy's dtype."""
    args = [_single(a) for a in case.make_args(udiff.numpy_backend)]
    with ua.set_backend(udiff.numpy_backend):
        want = numpy.result_type(case.fun(*args))
    _check_single_precision(case.fun, args, udiff.numpy_backend, want)


def test_every_special_rule_has_a_case_and_every_function_a_class():
    keys = {k[0] if isinstance(k, tuple) else k for k in COVERED_KEYS}
    special = {f.key for f in S._NAMES.values()}
    missing = sorted(k for k in special if k not in keys and k not in _registry._NONDIFF)
    assert not missing, f"functions with neither a case nor a constant declaration: {missing}"


# -- arguments with no derivative -----------------------------------------------------------------
REFUSED = [
    ("polygamma", "n", lambda n, x: S.polygamma(n, x)),
    ("jn", "n", lambda n, x: S.jn(n, x)),
    ("yn", "n", lambda n, x: S.yn(n, x)),
    ("iv", "v", lambda v, x: S.iv(v, x)),
    ("ive", "v", lambda v, x: S.ive(v, x)),
    ("jv", "v", lambda v, x: S.jv(v, x)),
    ("betainc", "a", lambda a, x: S.betainc(a, 2.0, x)),
    ("betainc", "b", lambda b, x: S.betainc(2.0, b, x)),
    ("gammainc", "a", lambda a, x: S.gammainc(a, x)),
    ("gammaincc", "a", lambda a, x: S.gammaincc(a, x)),
    ("zeta", "x", lambda x, q: S.zeta(x + 1.0, q)),
]


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
@pytest.mark.parametrize("name, argname, f", REFUSED, ids=[f"{r[0]}_{r[1]}" for r in REFUSED])
def test_orders_and_shapes_are_not_differentiated(name, argname, f, mode, inner):
    backend = udiff.DiffArrayBackend(inner, mode)
    p = udiff.DiffArray(chunked(numpy.array([1.0, 2.0]), inner), backend)
    x = udiff.DiffArray(chunked(numpy.array([0.3, 0.6]), inner), backend)
    with ua.set_backend(backend, coerce=True):
        y = f(p, x)
        y.to(x)  # the other argument is differentiated
        with pytest.raises(NotImplementedError, match=rf"scipy\.special\.{name} .*{argname}"):
            y.to(p)


# -- logsumexp and logaddexp.reduce at -inf: derivative 0, never NaN ---------------------------
NINF = -numpy.inf
LOG_ZERO = [
    # (function, input, value, Jacobian)
    (lambda a: S.logsumexp(a, axis=1), [[NINF, NINF], [NINF, 0.0]], [NINF, 0.0],
     [[[0, 0], [0, 0]], [[0, 0], [0, 1]]]),
    (lambda a: S.logsumexp(a), [NINF, NINF, NINF], NINF, [0, 0, 0]),
    (lambda a: S.logsumexp(a, b=numpy.array([0.0, 1.0, 1.0])), [numpy.inf, 0.0, 0.0],
     numpy.log(2.0), [0, 0.5, 0.5]),
    (lambda a: S.logsumexp(a, axis=0, b=numpy.array([0.0, 0.0]), return_sign=True)[0],
     [0.5, 1.0], NINF, [0, 0]),
    (lambda a: np.logaddexp.reduce(a, axis=1), [[NINF, NINF], [NINF, 1.0]], [NINF, 1.0],
     [[[0, 0], [0, 0]], [[0, 0], [0, 1]]]),
    (lambda a: np.logaddexp2.reduce(a, axis=None), [[NINF, NINF]], NINF, [[0, 0]]),
]


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
@pytest.mark.parametrize("k", range(len(LOG_ZERO)))
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_log_zero_has_zero_derivative(k, mode, inner):
    f, x, value, jac = LOG_ZERO[k]
    backend = udiff.DiffArrayBackend(inner, mode)
    with ua.set_backend(backend, coerce=True):
        x = np.asarray(chunked(x, inner))
        y = f(x)
        numpy.testing.assert_allclose(compute(y), value)
        numpy.testing.assert_allclose(compute(y.to(x, jacobian=True)), jac, atol=1e-15)
        d = y.to(x, grad_variables=numpy.ones(y.shape if mode == "vjp" else x.shape),
                 create_graph=True)
        assert numpy.isfinite(compute(d.to(x, jacobian=True))).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_logsumexp_cancelled_terms_give_nan():
    # b e^a summing to exactly 0: log|S| = -inf, its derivative unbounded (not 0)
    a, b = numpy.array([0.5, 0.5, NINF]), numpy.array([1.0, -1.0, 1.0])
    for argnums in (0, 1):
        g = udiff.grad(lambda a, b: S.logsumexp(a, b=b, return_sign=True)[0], argnums)(a, b)
        assert numpy.isnan(g[:2]).all()


def test_logsumexp_b_derivative_where_b_is_zero():
    # d/db log(sum b e^a) = e^a / S even where b == 0 (JAX gives 0 there; finite differences
    # agree with e^a / S)
    a, b = numpy.array([1.0, 2.0]), numpy.array([1.0, 0.0])
    g = udiff.grad(lambda b: S.logsumexp(a, b=b))(b)
    numpy.testing.assert_allclose(g, [1.0, numpy.e])


# -- numerically delicate points, against JAX's numbers -----------------------------------------
STABLE = [
    ("expit", [-800.0, -40.0, 40.0, 800.0], [0.0, 4.24835425529159e-18, 4.24835425529159e-18,
                                              0.0]),
    ("log_ndtr", [-1e3, -40.0, 0.0, 40.0], [1000.0010000081995, 40.02496884784338,
                                             0.7978845608028654, 0.0]),
    ("logit", [1e-300, 0.5, 1.0 - 1e-16], [1e300, 4.0, 9007199254740994.0]),
    ("ndtri", [0.5, 1e-300], [2.5066282746310002, 2.697304465042612e+298]),
]


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
@pytest.mark.parametrize("name, x, want", STABLE, ids=[s[0] for s in STABLE])
def test_derivatives_in_the_tails(name, x, want, mode, inner):
    backend = udiff.DiffArrayBackend(inner, mode)
    with ua.set_backend(backend, coerce=True):
        v = np.asarray(chunked(numpy.array(x), inner))
        d = compute(getattr(S, name)(v).to(v))
    numpy.testing.assert_allclose(d, want, rtol=1e-7)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_xlogy_at_x_zero():
    # x log y is 0 along y where x == 0: its y-derivative is 0 there (x/y would be NaN at y == 0)
    gx, gy = udiff.grad(lambda x, y: np.sum(S.xlogy(x, y)), argnums=(0, 1))(
        numpy.array([0.0, 0.0, 2.0]), numpy.array([0.0, 3.0, 4.0]))
    numpy.testing.assert_allclose(gy, [0.0, 0.0, 0.5])
    numpy.testing.assert_allclose(gx, [-numpy.inf, numpy.log(3.0), numpy.log(4.0)])


def test_gammasgn_is_constant():
    x = numpy.array([-1.5, 0.5, 2.0])
    numpy.testing.assert_allclose(udiff.grad(lambda x: np.sum(S.gammasgn(x) * x))(x),
                                  sp.gammasgn(x))


# -- CuPy ------------------------------------------------------------------------------------
def test_cupy_runs_what_cupyx_has():  # pragma: no cover - needs a GPU
    cupy = pytest.importorskip("cupy")
    import cupyx.scipy.special as cs

    x = numpy.linspace(0.6, 1.8, 6).reshape(3, 2)
    for name in ("erf", "gammaln", "digamma", "expit", "logit", "ndtr", "log_ndtr", "i0", "j0"):
        if not hasattr(cs, name):
            continue
        arg = x / 2 if name == "logit" else x
        numpy.testing.assert_allclose(getattr(S, name)(cupy.asarray(arg)).get(),
                                      getattr(sp, name)(arg), rtol=1e-10)
    numpy.testing.assert_allclose(S.logsumexp(cupy.asarray(x), axis=0).get(),
                                  sp.logsumexp(x, axis=0), rtol=1e-12)
    for case in ("gammaln", "logsumexp_b", "softmax_1"):
        c = CASES_BY_NAME[case]
        check_grads(c.fun, c.make_args(udiff.cupy_backend), inner=udiff.cupy_backend)


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_log_ndtr_second_derivative_in_both_tails(mode):
    # d2/dx2 log_ndtr = -r (x + r), r = pdf / cdf: finite where erfcx(-x / sqrt 2) overflows.
    x = numpy.array([-1000.0, -40.0, -3.0, 0.0, 2.0, 30.0, 40.0])
    backend = udiff.DiffArrayBackend(udiff.numpy_backend, mode)
    with ua.set_backend(backend, coerce=True):
        v = np.asarray(x)
        d2 = compute(S.log_ndtr(v).to(v).to(v))
    r = numpy.exp(-x * x / 2 - sp.log_ndtr(x)) / numpy.sqrt(2 * numpy.pi)
    numpy.testing.assert_allclose(d2[1:], -r[1:] * (x[1:] + r[1:]), rtol=1e-9, atol=1e-300)
    assert d2[0] == pytest.approx(-1.0 + 1.0 / x[0] ** 2, rel=1e-9)  # the asymptote
